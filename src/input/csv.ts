/**
 * A streaming RFC 4180 parser (quoted fields may span lines) for record and account files: what
 * `get --output csv` writes (output/csv.ts) reads back exactly. Accepts `\n` and `\r\n`.
 */
import { UsageError } from '../errors.js';
import { utf16Error } from './accounts.js';

/** One parsed CSV record. */
export interface CsvRow {
  fields: string[];
  /** 1-based line number where the record starts (a quoted field may run over several lines). */
  line: number;
}

export interface CsvParserOptions {
  /** Names the input in error messages: a file path or `<stdin>`. */
  source?: string | undefined;
}

const QUOTE_HINT = 'in CSV, a field that contains `"` must be quoted and each `"` inside it doubled: "say ""hi"""';

const enum State {
  /** At the start of a field, nothing read yet. */
  FieldStart,
  /** Inside an unquoted field. */
  Unquoted,
  /** Inside a quoted field. */
  Quoted,
  /** Just read a `"` inside a quoted field: a doubled quote or the closing one. */
  AfterQuote,
}

/**
 * An incremental RFC 4180 parser: push text chunks as they arrive (split anywhere, even inside
 * a field or between `\r` and `\n`), get back the rows completed so far; call end() at EOF.
 *
 * Accepts `\n` and `\r\n` line endings; skips blank lines; strips a leading BOM. A lone `\r`
 * or a `"` inside an unquoted field is kept literally (`5" screen`), as most readers do. Text after a closing quote
 * (`"a"b`) and an unterminated quoted field are errors: guessing would not be lossless.
 */
export class CsvParser {
  readonly #source: string;
  #state = State.FieldStart;
  #fields: string[] = [];
  #field = '';
  #quoted = false;
  /** A `\r` outside quotes, waiting to see whether a `\n` follows. */
  #pendingCR = false;
  #line = 1;
  #rowLine = 1;
  #started = false;
  #ended = false;

  constructor(options: CsvParserOptions = {}) {
    this.#source = options.source ?? 'the CSV input';
  }

  /** The current 1-based line number. */
  get line(): number {
    return this.#line;
  }

  /** Feed the next chunk of text; returns the rows it completed. */
  push(chunk: string): CsvRow[] {
    if (this.#ended) throw new Error('CsvParser: push() after end()');
    const rows: CsvRow[] = [];
    let text = chunk;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.#pendingCR) {
        this.#pendingCR = false;
        if (text[i] === '\n') {
          i++;
          this.#endRow(rows);
          continue;
        }
        // A lone CR: data in an unquoted field, garbage after a closing quote.
        if (this.#state === State.AfterQuote) throw this.#afterQuoteError('\r');
        this.#field += '\r';
      }
      switch (this.#state) {
        case State.FieldStart:
          if (text[i] === '"') {
            this.#quoted = true;
            this.#state = State.Quoted;
            i++;
          } else {
            this.#state = State.Unquoted;
          }
          break;
        case State.Unquoted: {
          const stop = indexOfAny(text, i, ',', '\n', '\r');
          this.#field += text.slice(i, stop);
          if (stop === n) {
            i = n;
          } else {
            this.#separator(text[stop], rows);
            i = stop + 1;
          }
          break;
        }
        case State.Quoted: {
          const quote = text.indexOf('"', i);
          const stop = quote === -1 ? n : quote;
          const part = text.slice(i, stop);
          this.#field += part;
          this.#line += countNewlines(part);
          if (quote === -1) {
            i = n;
          } else {
            this.#state = State.AfterQuote;
            i = quote + 1;
          }
          break;
        }
        case State.AfterQuote: {
          const c = text[i];
          if (c === '"') {
            this.#field += '"';
            this.#state = State.Quoted;
          } else if (c === ',' || c === '\n' || c === '\r') {
            this.#separator(c, rows);
          } else {
            throw this.#afterQuoteError(c);
          }
          i++;
          break;
        }
      }
    }
    return rows;
  }

  /** End of input: returns the last row, if it had no line break after it. */
  end(): CsvRow[] {
    if (this.#ended) return [];
    this.#ended = true;
    if (this.#state === State.Quoted) {
      throw new UsageError(
        `line ${this.#rowLine} of ${this.#source}: a quoted field starts in this record and is never closed`,
        { hint: QUOTE_HINT },
      );
    }
    this.#pendingCR = false;
    const rows: CsvRow[] = [];
    this.#endRow(rows);
    return rows;
  }

  /** Handle `,`, `\n` or `\r` outside quotes. */
  #separator(c: string | undefined, rows: CsvRow[]): void {
    if (c === ',') {
      this.#fields.push(this.#field);
      this.#field = '';
      this.#quoted = false;
      this.#state = State.FieldStart;
    } else if (c === '\n') {
      this.#endRow(rows);
    } else {
      // '\r': end of line if a '\n' follows (maybe in the next chunk), else data.
      this.#pendingCR = true;
    }
  }

  #endRow(rows: CsvRow[]): void {
    const blank = this.#fields.length === 0 && this.#field === '' && !this.#quoted;
    if (!blank) {
      this.#fields.push(this.#field);
      rows.push({ fields: this.#fields, line: this.#rowLine });
    }
    this.#fields = [];
    this.#field = '';
    this.#quoted = false;
    this.#state = State.FieldStart;
    this.#line++;
    this.#rowLine = this.#line;
  }

  #afterQuoteError(c: string | undefined): UsageError {
    return new UsageError(
      `line ${this.#line} of ${this.#source}: unexpected ${JSON.stringify(c)} after the closing quote of a field`,
      { hint: QUOTE_HINT },
    );
  }
}

function indexOfAny(text: string, from: number, a: string, b: string, c: string): number {
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === a || ch === b || ch === c) return i;
  }
  return text.length;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/**
 * Parse CSV. Given the whole text, returns all rows. Given chunks (a file or stdin stream, in
 * bytes or strings, split anywhere), yields rows as they complete, holding only the current
 * record in memory; bytes must be UTF-8.
 */
export function parseCsv(text: string, options?: CsvParserOptions): CsvRow[];
export function parseCsv(
  chunks: AsyncIterable<string | Uint8Array>,
  options?: CsvParserOptions,
): AsyncGenerator<CsvRow>;
export function parseCsv(
  input: string | AsyncIterable<string | Uint8Array>,
  options: CsvParserOptions = {},
): CsvRow[] | AsyncGenerator<CsvRow> {
  if (typeof input === 'string') {
    const parser = new CsvParser(options);
    return [...parser.push(input), ...parser.end()];
  }
  return parseCsvChunks(input, options);
}

async function* parseCsvChunks(
  chunks: AsyncIterable<string | Uint8Array>,
  options: CsvParserOptions,
): AsyncGenerator<CsvRow> {
  const parser = new CsvParser(options);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch (error) {
      throw new UsageError(`line ${parser.line} of ${options.source ?? 'the CSV input'} is not valid UTF-8`, {
        hint: 'save the file as UTF-8',
        cause: error,
      });
    }
  };
  let first = true;
  for await (const chunk of chunks) {
    if (first && typeof chunk !== 'string') {
      const utf16 = utf16Error(chunk.subarray(0, 128), options.source ?? 'the CSV input');
      if (utf16) throw utf16;
    }
    first = false;
    yield* parser.push(typeof chunk === 'string' ? chunk : decode(chunk));
  }
  yield* parser.push(decode());
  yield* parser.end();
}
