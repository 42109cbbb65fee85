/**
 * Account IDs from the files people have: a plain list (one ID per line), or records — CSV/TSV
 * with a header (a CRM export, `get`'s own tsv/csv), ndjson or a json array (`get --output
 * ndjson|json`, a `--failures` report) — from which only the account column is read:
 * `To_Account`, `account`, or the column `--id-column NAME` names.
 *
 * This wraps the account reader (input/accounts.ts) without touching it: a plain file stays a
 * `file` source (its fast line reader, unchanged behaviour); a record file becomes a stream of
 * the IDs it holds, one per line, handed to the same reader as a stream source, so trimming,
 * blank skipping, de-duplication and the ID warnings stay in one place.
 *
 * Detection, from the first 64 KiB: `[` a json array, `{` ndjson; a first line with a tab or a
 * comma is a tsv or csv header when one of its cells is the ID column; a first line that is
 * exactly an ID column name (`account`: what `get` prints for an app with no attributes) is a
 * one-column header. Anything else is a plain list. Stdin is a plain list unless --id-column is
 * given (sniffing it would have to consume it), then it is detected the same way.
 */
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { openInputStream, type AccountSource } from './accounts.js';
import { UsageError } from '../errors.js';
import { CsvParser } from './csv.js';
import { parseTsvLine } from './tsv.js';
import { fsReason, readHead } from '../util/fs.js';

/** The column names an account is read from, in order of preference, unless --id-column says. */
export const ID_COLUMNS = ['To_Account', 'account'] as const;

/** Bytes read to tell a record file from a plain list. */
const SNIFF_BYTES = 64 * 1024;

/** Largest json array read whole (as records.ts allows for `set`). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** What a file holds. */
export type IdFileKind = 'plain' | 'header' | 'csv' | 'tsv' | 'ndjson' | 'json';

/** Adds `--id-column` to a command that reads account IDs from files. */
export function addIdColumnOption(command: Command): Command {
  return command.option(
    '--id-column <name>',
    `the account column of CSV/TSV/ndjson/json files given to --file (default: ${ID_COLUMNS.join(' or ')}; plain ID lists need none)`,
  );
}

/**
 * What the first bytes of an input say it is, and (for csv/tsv) the index of the ID column.
 * Throws when --id-column names a column a header lacks.
 */
export function detectIdFile(head: string, label: string, idColumn: string | undefined): { kind: IdFileKind; column?: number } {
  const text = head.replace(/^\uFEFF/, '');
  const start = text.trimStart();
  if (start.startsWith('[')) return { kind: 'json' };
  if (start.startsWith('{')) return { kind: 'ndjson' };
  const firstLine = (text.split('\n', 1)[0] ?? '').replace(/\r$/, '');
  const wanted: readonly string[] = idColumn !== undefined ? [idColumn] : ID_COLUMNS;
  for (const [kind, cells] of [
    ['tsv', firstLine.includes('\t') ? parseTsvLine(firstLine) : undefined],
    ['csv', firstLine.includes(',') ? csvCells(firstLine) : undefined],
  ] as const) {
    if (!cells) continue;
    const trimmed = cells.map((c) => c.trim());
    for (const name of wanted) {
      const column = trimmed.indexOf(name);
      if (column >= 0) return { kind, column };
    }
    if (idColumn !== undefined) {
      throw new UsageError(`${label}: no column "${idColumn}" in its header (${trimmed.map((c) => JSON.stringify(c)).join(', ')})`, {
        hint: 'name the column that holds the account IDs with --id-column',
      });
    }
  }
  if (wanted.includes(firstLine.trim())) return { kind: 'header' };
  if (idColumn !== undefined) {
    throw new UsageError(`${label}: --id-column ${idColumn} is for CSV/TSV with a header, ndjson or json; this looks like a plain list of IDs`, {
      hint: 'leave out --id-column to read one ID per line',
    });
  }
  return { kind: 'plain' };
}

function csvCells(line: string): string[] | undefined {
  try {
    const parser = new CsvParser({ source: 'header' });
    const rows = [...parser.push(`${line}\n`), ...parser.end()];
    return rows[0]?.fields;
  } catch {
    return undefined;
  }
}

/** The ID of one json record: its --id-column, else To_Account, else account. */
function idOfRecord(value: unknown, where: string, idColumn: string | undefined): string {
  if (typeof value === 'string' && idColumn === undefined) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${where}: not a record (an object with ${describeColumns(idColumn)})`);
  }
  const record = value as Record<string, unknown>;
  const names: readonly string[] = idColumn !== undefined ? [idColumn] : ID_COLUMNS;
  for (const name of names) {
    if (!Object.hasOwn(record, name)) continue;
    const id = record[name];
    if (typeof id !== 'string') throw new UsageError(`${where}: "${name}" is not a string`);
    return checkId(id, where);
  }
  throw new UsageError(`${where}: no ${describeColumns(idColumn)} field`, {
    hint: idColumn === undefined ? 'name the field that holds the account IDs with --id-column' : undefined,
  });
}

function describeColumns(idColumn: string | undefined): string {
  return idColumn !== undefined ? `"${idColumn}"` : ID_COLUMNS.map((c) => `"${c}"`).join(' or ');
}

/** An ID read from a record must stay one line when handed on. */
function checkId(id: string, where: string): string {
  if (/[\r\n]/.test(id)) throw new UsageError(`${where}: the account ID contains a line break`);
  return id;
}

/** Text lines of a byte stream (`\n`/`\r\n`), with their 1-based numbers. */
async function* lines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<[string, number]> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  let n = 0;
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const part of parts) yield [part.replace(/\r$/, ''), ++n];
  }
  rest += decoder.decode();
  if (rest !== '') yield [rest.replace(/\r$/, ''), ++n];
}

/** The IDs a record input holds, in order. */
async function* idsOf(
  kind: Exclude<IdFileKind, 'plain'>,
  column: number | undefined,
  stream: () => AsyncIterable<Buffer | string>,
  whole: () => Promise<string>,
  label: string,
  idColumn: string | undefined,
): AsyncGenerator<string> {
  if (kind === 'json') {
    let value: unknown;
    try {
      value = JSON.parse((await whole()).replace(/^\uFEFF/, ''));
    } catch (error) {
      throw new UsageError(`${label}: not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(value)) throw new UsageError(`${label}: a json input must be an array of records`);
    for (let i = 0; i < value.length; i++) yield idOfRecord(value[i], `${label} element ${i + 1}`, idColumn);
    return;
  }
  if (kind === 'csv') {
    const parser = new CsvParser({ source: label });
    let header = true;
    const rows = function* (batch: ReturnType<CsvParser['push']>): Generator<string> {
      for (const row of batch) {
        if (header) {
          header = false;
          continue;
        }
        yield checkId(row.fields[column!] ?? '', `${label} line ${row.line}`);
      }
    };
    const decoder = new TextDecoder('utf-8');
    for await (const chunk of stream()) yield* rows(parser.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })));
    yield* rows(parser.push(decoder.decode()));
    yield* rows(parser.end());
    return;
  }
  for await (const [line, n] of lines(stream())) {
    if (n === 1 && kind !== 'ndjson') continue; // the header
    if (line.trim() === '') continue;
    if (kind === 'tsv') yield parseTsvLine(line)[column!] ?? '';
    else if (kind === 'header') yield line;
    else {
      let value: unknown;
      try {
        value = JSON.parse(n === 1 ? line.replace(/^\uFEFF/, '') : line);
      } catch (error) {
        throw new UsageError(`${label} line ${n}: not valid JSON: ${(error as Error).message}`);
      }
      yield idOfRecord(value, `${label} line ${n}`, idColumn);
    }
  }
}

/** IDs as a byte stream of lines, for the account reader's stream source. */
function asLineStream(ids: AsyncIterable<string>): NodeJS.ReadableStream {
  return Readable.from(idsAsLines(ids), { objectMode: false });
}

/** IDs as newline-separated text, in chunks of about 16 KB. */
async function* idsAsLines(ids: AsyncIterable<string>): AsyncGenerator<Buffer> {
  {
    let batch = '';
    try {
      for await (const id of ids) {
        batch += `${id}\n`;
        if (batch.length >= 16 * 1024) {
          yield Buffer.from(batch);
          batch = '';
        }
      }
    } catch (error) {
      // The IDs before a bad record are read and sent, as for a bad line in a plain list.
      if (batch) yield Buffer.from(batch);
      throw error;
    }
    if (batch) yield Buffer.from(batch);
  }
}

/** The first bytes of a file (for detection). */
async function sniffFile(file: string): Promise<string> {
  try {
    return await readHead(file, SNIFF_BYTES);
  } catch (error) {
    throw new UsageError(`cannot read account IDs from ${file}: ${fsReason(error)}`);
  }
}

/** Reads a stream whole, refusing more than MAX_JSON_BYTES. */
async function readWhole(stream: AsyncIterable<Buffer | string>, label: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_JSON_BYTES) throw new UsageError(`${label}: a json array over ${MAX_JSON_BYTES / 1024 / 1024} MiB`, { hint: 'use ndjson (one record per line) for big inputs' });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Stdin's first bytes (up to a line end or SNIFF_BYTES), and the whole of it, head first. */
async function sniffStream(stream: NodeJS.ReadableStream): Promise<{ head: string; all: () => AsyncIterable<Buffer> }> {
  const iterator = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const buffer = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(buffer);
    size += buffer.length;
    if (buffer.includes(0x0a)) break;
  }
  return {
    head: Buffer.concat(head).toString('utf8'),
    all: async function* () {
      yield* head;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      }
    },
  };
}

/**
 * The sources for the account reader with record files (and, with --id-column, stdin) turned
 * into streams of their IDs; plain lists are left as they are.
 */
export async function idSources(sources: readonly AccountSource[], idColumn: string | undefined): Promise<AccountSource[]> {
  const out: AccountSource[] = [];
  for (const source of sources) {
    if (source.kind === 'file' && !isRegularFile(source.path)) {
      // A pipe (`--file <(cut -f1 users.tsv)`) can be read once only: never sniffed, a plain list
      // unless --id-column says it holds records (then read as stdin is).
      if (idColumn === undefined) out.push(source);
      else {
        const { head, all } = await sniffStream(await openInputStream(source.path, source.signal));
        const { kind, column } = detectIdFile(head, source.path, idColumn);
        out.push({ kind: 'stdin', stream: asLineStream(idsOf(kind as Exclude<IdFileKind, 'plain'>, column, all, () => readWhole(all(), source.path), source.path, idColumn)) });
      }
    } else if (source.kind === 'file') {
      const { kind, column } = detectIdFile(await sniffFile(source.path), source.path, idColumn);
      if (kind === 'plain') out.push(source);
      else {
        const stream = (): AsyncIterable<Buffer> => createReadStream(source.path);
        const whole = (): Promise<string> => readFile(source.path, 'utf8');
        out.push({ kind: 'stdin', stream: asLineStream(idsOf(kind, column, stream, whole, source.path, idColumn)) });
      }
    } else if (source.kind === 'stdin' && idColumn !== undefined) {
      const { head, all } = await sniffStream(source.stream);
      // With --id-column, detectIdFile never calls an input plain (it throws instead).
      const { kind, column } = detectIdFile(head, '<stdin>', idColumn);
      out.push({ kind: 'stdin', stream: asLineStream(idsOf(kind as Exclude<IdFileKind, 'plain'>, column, all, () => readWhole(all(), '<stdin>'), '<stdin>', idColumn)) });
    } else if (source.kind === 'stdin') {
      out.push({ kind: 'stdin', stream: Readable.from(recordsOrLines(source.stream), { objectMode: false }) });
    } else {
      out.push(source);
    }
  }
  return out;
}

/**
 * stdin without --id-column: records when its first bytes open JSON (`audience -o ndjson | …`,
 * `get --json | …`: their To_Account), else the bytes as they come, a plain list. Decided on the
 * first chunk, when the run first reads it (never before: an idle stdin must not hold up a run
 * that has to stop). A plain list whose first ID starts with "{" or "[" must come from a file.
 */
async function* recordsOrLines(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  const iterator = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = typeof first.value === 'string' ? Buffer.from(first.value) : first.value;
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
  }
  const start = head.subarray(0, 64).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (!start.startsWith('{') && !start.startsWith('[')) {
    yield* all();
    return;
  }
  const kind = start.startsWith('[') ? 'json' : 'ndjson';
  yield* Readable.from(idsAsLines(idsOf(kind, undefined, all, () => readWhole(all(), '<stdin>'), '<stdin>', undefined))) as AsyncIterable<Buffer>;
}

/** Whether `file` is a regular file (which can be read twice: sniffed, counted, then read). */
function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Lines of a regular file (a last line without its newline counts), read once, linearly. */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  return last === 0x0a ? lines : lines + 1;
}

/**
 * How many accounts the sources hold, for the progress line's total and ETA: the arguments, and
 * each file's lines (less its header; blank lines and duplicates make it an upper bound). Unknown
 * (undefined) when stdin is among them, or a file is a json array or cannot be read.
 */
export async function countAccounts(sources: readonly AccountSource[], idColumn: string | undefined): Promise<number | undefined> {
  let total = 0;
  for (const source of sources) {
    if (source.kind === 'stdin') return undefined;
    if (source.kind === 'arg') {
      total += new Set(source.values).size;
      continue;
    }
    if (!isRegularFile(source.path)) return undefined;
    try {
      const { kind } = detectIdFile(await sniffFile(source.path), source.path, idColumn);
      if (kind === 'json') return undefined;
      const lines = await countLines(source.path);
      total += kind === 'csv' || kind === 'tsv' || kind === 'header' ? Math.max(0, lines - 1) : lines;
    } catch {
      return undefined;
    }
  }
  return total;
}
