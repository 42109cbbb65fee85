/**
 * Attribute records for `set` and `remove`: read from ndjson, json, csv or tsv (what `get
 * --output …` prints), checked against the app's attribute names, with the line number of every
 * record so that a bad one can be named.
 *
 * Inputs are read twice. The first pass (`scan`) checks every record and reports the bad ones
 * before anything is sent, so that `--strict` can refuse to run at all and a broken file (an
 * unclosed quote at line 90,000) fails before the first request instead of half-way. The second
 * pass (`entries`) yields what to send. stdin cannot be read twice, so it is first copied to a
 * private temporary file (`openRecordInputs`).
 *
 * Memory: ndjson, csv and tsv are streamed line by line (a line is at most
 * MAX_RECORD_LINE_BYTES); a json array is read whole (at most MAX_JSON_INPUT_BYTES; use ndjson
 * for more). Both passes also keep the set of account IDs, to find duplicates.
 *
 * Duplicates: an account on several lines gets one request, at the position of its last line,
 * with the lines merged in input order (later values win, per attribute): exactly what applying
 * the lines one after the other would leave, which parallel batches could not guarantee.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fsReason, readTextLines, utf16Error } from './accounts.js';
import { readHead } from '../util/fs.js';
import { kindOf } from '../api/envelope.js';
import { MAX_ATTR_BYTES } from '../api/facts.js';
import { UsageError } from '../errors.js';
import type { Entry } from '../model.js';
import { ACCOUNT_COLUMN, splitTagsCell, TAGS_COLUMN } from '../model.js';
import { parseCsv } from './csv.js';
import { parseTsvLine } from './tsv.js';
import { didYouMean } from '../util/suggest.js';
import { collect } from '../util/text.js';
import type { Command } from 'commander';

/** Input formats of `set` and `remove`, as `get --output` writes them. */
export const RECORD_FORMATS = ['ndjson', 'json', 'csv', 'tsv'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];

/** What the records are for: `set` needs name → value, `remove` only names. */
export type RecordMode = 'set' | 'remove';

/**
 * Longest ndjson or tsv line accepted. A record is at most 10 attributes of 50 bytes (a few
 * hundred bytes, a few KB with JSON escapes); a longer line is not a record file.
 */
export const MAX_RECORD_LINE_BYTES = 64 * 1024;

/** A json array is parsed whole; larger inputs should come as ndjson (streamed). */
export const MAX_JSON_INPUT_BYTES = 64 * 1024 * 1024;

/** How much of an input format detection looks at. */
const SNIFF_BYTES = 4096;

export type { Entry } from '../model.js';

/** A record that cannot be sent, with everything wrong with it. */
export interface BadLine {
  /** "line 7" or "line 7 of b.csv" (with several inputs). */
  where: string;
  line: number;
  problems: string[];
}

/** An opened input: a readable file (stdin copied to one) and how to name it in messages. */
export interface RecordSource {
  path: string;
  /** The path as given, or `<stdin>`. */
  label: string;
  format: RecordFormat;
}

export type RecordInputSpec = { kind: 'file'; path: string; label: string } | { kind: 'stdin'; stream: NodeJS.ReadableStream };

export interface OpenedInputs {
  sources: RecordSource[];
  /** Removes the copy of stdin, if any. */
  close(): Promise<void>;
}

const RECORDS_HINT = 'give ndjson, json, csv or tsv records, as `im-attrs get --output ndjson|json|csv|tsv` prints them';

/**
 * Opens every input: files are checked for readability, stdin is copied to a temporary file
 * (mode 0600, removed by `close`) so it can be read twice. The format is `format` when given,
 * else detected from the content (see detectFormat).
 */
export async function openRecordInputs(specs: readonly RecordInputSpec[], format: RecordFormat | undefined): Promise<OpenedInputs> {
  const sources: RecordSource[] = [];
  const temporary: string[] = [];
  const close = async (): Promise<void> => {
    for (const dir of temporary.splice(0)) await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const spec of specs) {
      let file: string;
      let label: string;
      if (spec.kind === 'stdin') {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'im-attrs-stdin-'));
        temporary.push(dir);
        file = path.join(dir, 'stdin');
        await pipeline(spec.stream, createWriteStream(file, { mode: 0o600 }));
        label = '<stdin>';
      } else {
        file = spec.path;
        label = spec.label;
        try {
          const info = await stat(file);
          if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
        } catch (error) {
          throw new UsageError(`cannot read records from ${label}: ${fsReason(error)}`, { hint: 'check the path', cause: error });
        }
      }
      sources.push({ path: file, label, format: format ?? detectFormat(await head(file, label), label) });
    }
    return { sources, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function head(file: string, label: string): Promise<string> {
  try {
    return await readHead(file, SNIFF_BYTES);
  } catch (error) {
    throw new UsageError(`cannot read records from ${label}: ${fsReason(error)}`, { hint: 'check the path', cause: error });
  }
}

/**
 * The format of an input from its first bytes: `[` is a json array, `{` ndjson; otherwise a
 * header line with a tab is tsv, with a comma csv; a one-column header goes by the file's
 * extension, then tsv (what `get` prints into a pipe).
 */
export function detectFormat(text: string, label = ''): RecordFormat {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('[')) return 'json';
  if (start.startsWith('{')) return 'ndjson';
  const firstLine = start.split('\n', 1)[0] ?? '';
  if (firstLine.includes('\t')) return 'tsv';
  if (firstLine.includes(',')) return 'csv';
  switch (path.extname(label).toLowerCase()) {
    case '.csv':
      return 'csv';
    case '.json':
      return 'json';
    case '.ndjson':
    case '.jsonl':
      return 'ndjson';
    default:
      return 'tsv';
  }
}

/** One record as read, before it is checked: a JSON value, or a csv/tsv row shaped like one. */
export interface RawRecord {
  line: number;
  value?: unknown;
  /** Why the line could not be read as a record at all. */
  error?: string;
}

/** What a record is checked against: the app's attribute names. */
export interface AppNames {
  /** In slot order, for messages. */
  list: readonly string[];
  set: ReadonlySet<string>;
}

export function appNames(names: readonly string[]): AppNames {
  return { list: names, set: new Set(names) };
}

/** `unknown attribute "citty" (did you mean "city"?)` */
export function unknownAttribute(name: string, names: AppNames): string {
  return `unknown attribute ${JSON.stringify(name)}${didYouMean(name, names.list)}`;
}

/** `the value of "city" is 57 bytes, over the limit of 50`, or undefined when the value is fine. */
export function valueProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `the value of ${JSON.stringify(name)} must be a string, not ${kindOf(value)}`;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_ATTR_BYTES) return `the value of ${JSON.stringify(name)} is ${bytes} bytes, over the limit of ${MAX_ATTR_BYTES}`;
  return undefined;
}

/**
 * Checks one record. ndjson/json: `{"To_Account": "alice", "Attrs": {...}}`; for remove, Attrs
 * may also be a list of names (an object's values are ignored, so `get` output can be fed to
 * remove). Other keys are ignored. Every problem of the record is listed.
 */
export function checkRecord(value: unknown, mode: RecordMode, names: AppNames): { entry: Entry } | { problems: string[] } {
  const example = mode === 'set' ? '{"To_Account":"alice","Attrs":{"city":"Paris"}}' : '{"To_Account":"alice","Attrs":["city"]}';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [`expected an object like ${example}, not ${kindOf(value)}`] };
  }
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  const keys = Object.keys(record);
  const account = record.To_Account;
  if (!Object.hasOwn(record, 'To_Account')) problems.push(`"To_Account" is missing${didYouMean('To_Account', keys)}`);
  else if (typeof account !== 'string') problems.push(`"To_Account" must be a string, not ${kindOf(account)}`);
  else if (account.trim() === '') problems.push('the account is empty');
  const attrs = new Map<string, string>();
  const given = record.Attrs;
  if (!Object.hasOwn(record, 'Attrs')) {
    problems.push(`"Attrs" is missing${didYouMean('Attrs', keys)}`);
  } else if (mode === 'set') {
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      problems.push(`"Attrs" must be an object of name → value, not ${kindOf(given)}`);
    } else {
      for (const [name, v] of Object.entries(given)) {
        if (!names.set.has(name)) problems.push(unknownAttribute(name, names));
        const problem = valueProblem(name, v);
        if (problem) problems.push(problem);
        else attrs.set(name, v as string);
      }
    }
  } else if (Array.isArray(given) || (typeof given === 'object' && given !== null)) {
    for (const name of Array.isArray(given) ? (given as unknown[]) : Object.keys(given)) {
      if (typeof name !== 'string') problems.push(`attribute names must be strings, not ${kindOf(name)}`);
      else if (!names.set.has(name)) problems.push(unknownAttribute(name, names));
      else attrs.set(name, '');
    }
  } else {
    problems.push(`"Attrs" must be a list of names or an object, not ${kindOf(given)}`);
  }
  if (problems.length > 0) return { problems };
  // Trimmed, as account IDs are everywhere in im-attrs (`get` trims its input, so its output
  // never has edge spaces); a CRM export's "alice " means alice.
  return { entry: { account: (account as string).trim(), attrs } };
}

/**
 * How the columns of the files people have become attributes (`set`, `plan`, `apply`): the
 * account column by name (`--id-column user_id`), columns renamed to attribute names (`--map
 * crm_city=city`) and a pick of columns (`--columns city,level`; every other column is left out).
 * Without any of them a csv/tsv header is `account,<name>,<name>…` as `get` prints it.
 */
export interface ColumnOptions {
  /** The column (csv/tsv) or key (ndjson/json) holding the account; default `account`/`To_Account` first. */
  idColumn?: string | undefined;
  /** Column → attribute name. */
  map?: ReadonlyMap<string, string> | undefined;
  /** Only these columns (by column or attribute name); the others are ignored. */
  columns?: readonly string[] | undefined;
}

/** The flags as commander gives them: `--id-column`, `--map a=b` (repeatable), `--columns a,b`. */
export interface ColumnFlags {
  idColumn?: string | undefined;
  map?: string[] | undefined;
  columns?: string | undefined;
}

/** Checks and parses the column flags; a UsageError names the one that does not fit. */
export function parseColumnFlags(flags: ColumnFlags): ColumnOptions {
  const map = new Map<string, string>();
  for (const pair of flags.map ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new UsageError(`--map ${JSON.stringify(pair)} is not COLUMN=ATTRIBUTE`, { hint: 'e.g. --map crm_city=city' });
    const column = pair.slice(0, eq).trim();
    if (map.has(column)) throw new UsageError(`--map: the column ${JSON.stringify(column)} is mapped twice`);
    map.set(column, pair.slice(eq + 1).trim());
  }
  const columns = flags.columns === undefined ? undefined : [...new Set(flags.columns.split(',').map((c) => c.trim()).filter(Boolean))];
  if (columns !== undefined && columns.length === 0) throw new UsageError('--columns names no column', { hint: 'e.g. --columns city,level' });
  const idColumn = flags.idColumn?.trim();
  if (idColumn === '') throw new UsageError('--id-column is empty', { hint: 'name the column that holds the account IDs, e.g. --id-column user_id' });
  return { idColumn, map: map.size ? map : undefined, columns };
}

/** Adds --map and --columns (records); --id-column is added by the command (id-files.ts addIdColumnOption or its own). */
export function addColumnOptions(command: Command): Command {
  return command
    .option('--map <col=attr>', 'records: read a csv/tsv column (or ndjson Attrs key) as this attribute, e.g. --map crm_city=city (repeatable)', collect)
    .option('--columns <names>', 'records: read only these columns (comma-separated, column or attribute names); the others, e.g. email, are left out');
}

/** Whether any column option was given (the default header rules apply otherwise). */
function hasColumnOptions(options: ColumnOptions | undefined): options is ColumnOptions {
  return options !== undefined && (options.idColumn !== undefined || options.map !== undefined || options.columns !== undefined);
}

/** What each column of a csv/tsv header is: the account, an attribute, the tags, or left out. */
export interface HeaderLayout {
  account: number;
  /** [column index, attribute name], in column order. */
  attrs: Array<readonly [number, string]>;
  /** Index of the tags column (desired state only), or -1. */
  tags: number;
  /** The attribute names of `attrs` (what a row of this header speaks for). */
  managed: readonly string[];
}

/**
 * Reads a csv/tsv header (checked once, for the whole input) into a layout; throws a UsageError
 * naming the line and every column that does not fit. `tags`: whether a `tags` column is taken
 * (the desired state of `plan`); `--columns` must then name it too, when given.
 */
export function headerLayout(fields: readonly string[], source: RecordSource, line: number, names: AppNames, options?: ColumnOptions, tags = false): HeaderLayout {
  const problems: string[] = [];
  const opts = hasColumnOptions(options) ? options : undefined;
  const trimmed = fields.map((f) => f.trim());
  let account: number;
  if (opts?.idColumn !== undefined) {
    account = trimmed.indexOf(opts.idColumn);
    if (account < 0) problems.push(`no column ${JSON.stringify(opts.idColumn)} (--id-column) in the header (${trimmed.map((c) => JSON.stringify(c)).join(', ')})`);
  } else {
    const first = fields[0] ?? '';
    account = first.trim().toLowerCase() === ACCOUNT_COLUMN || first === 'To_Account' ? 0 : -1;
    if (account < 0) problems.push(`the first column must be "${ACCOUNT_COLUMN}", not ${JSON.stringify(first)}${opts ? ' (or name the account column with --id-column)' : ''}`);
  }
  const layout: HeaderLayout = { account, attrs: [], tags: -1, managed: [] };
  const seen = new Set<string>();
  const unknown: string[] = [];
  const wanted = new Set(opts?.columns ?? []);
  const found = new Set<string>();
  fields.forEach((field, index) => {
    if (index === account || (account < 0 && index === 0 && !opts?.idColumn)) return;
    const column = opts ? field.trim() : field;
    const name = opts?.map?.get(column) ?? column;
    if (opts?.columns) {
      if (!wanted.has(column) && !wanted.has(name)) return;
      found.add(column).add(name);
    }
    if (column === '') problems.push('a column has no name');
    else if (seen.has(name)) problems.push(`the column ${JSON.stringify(name)} appears twice${name !== column ? ' (after --map)' : ''}`);
    else if (tags && name === TAGS_COLUMN) layout.tags = index;
    else if (!names.set.has(name)) {
      const suggestion = didYouMean(name, names.list);
      if (suggestion || !opts) problems.push(unknownAttribute(name, names));
      else unknown.push(column);
    } else layout.attrs.push([index, name]);
    seen.add(name);
  });
  layout.managed = layout.attrs.map(([, name]) => name);
  for (const column of wanted) {
    if (!found.has(column)) problems.push(`--columns: no column ${JSON.stringify(column)} in the header (${trimmed.map((c) => JSON.stringify(c)).join(', ')})`);
  }
  if (unknown.length > 0) {
    const fit = layout.attrs.map(([index]) => trimmed[index]!).concat(layout.tags >= 0 ? [trimmed[layout.tags]!] : []);
    const leaveOut = fit.length ? `: leave ${unknown.length === 1 ? 'it' : 'them'} out with --columns ${fit.join(',')}` : '';
    const which = unknown.length === 1 ? `${JSON.stringify(unknown[0])} is not one of the app's attributes` : `${unknown.map((c) => JSON.stringify(c)).join(', ')} are not among the app's attributes`;
    problems.push(`${which}${leaveOut}, or map ${unknown.length === 1 ? 'it' : 'each'} to one with --map ${unknown[0]}=NAME`);
  }
  if (problems.length > 0) {
    throw new UsageError(`line ${line} of ${source.label} (the ${source.format} header): ${problems.join('; ')}`, {
      hint: opts
        ? `the app's attributes are ${names.list.join(', ') || 'none'} (im-attrs names); pick columns with --columns, rename them with --map COLUMN=ATTRIBUTE`
        : `the header is \`${ACCOUNT_COLUMN}\` and then attribute names (the app's: ${names.list.join(', ') || 'none'}); ` +
          'define a missing one with `im-attrs names set SLOT=NAME`, or drop its column (or pick columns with --columns, the account column with --id-column)',
    });
  }
  return layout;
}

/** Marks a record a csv/tsv header already shaped (the column options applied). */
const SHAPED = Symbol('shaped');

/** The attributes a csv/tsv row speaks for (its header's attribute columns), on the records it shapes. */
export const MANAGED_ATTRS = Symbol('managed attributes');

/** A csv/tsv row as a record under a layout: the account and the non-empty cells (an empty cell = no value given). */
export function layoutRecord(fields: readonly string[], width: number, layout: HeaderLayout, line: number): RawRecord {
  if (fields.length !== width) {
    return { line, error: `${fields.length} ${fields.length === 1 ? 'field' : 'fields'}, but the header has ${width}` };
  }
  const attrs: Record<string, string> = {};
  for (const [index, name] of layout.attrs) {
    const cell = fields[index]!;
    if (cell !== '') Object.defineProperty(attrs, name, { value: cell, enumerable: true, writable: true, configurable: true });
  }
  const value: Record<string, unknown> = { To_Account: fields[layout.account], Attrs: attrs };
  if (layout.tags >= 0) value.Tags = splitTagsCell(fields[layout.tags]!);
  // Already shaped by the header: the column options are not applied a second time.
  Object.defineProperty(value, SHAPED, { value: true });
  Object.defineProperty(value, MANAGED_ATTRS, { value: layout.managed });
  return { line, value };
}

/**
 * An ndjson/json record under the column options: the account from `--id-column`'s key, the
 * attributes renamed (`--map`) and picked (`--columns`). Records without options pass unchanged.
 */
export function applyColumnOptions(value: unknown, options: ColumnOptions | undefined): unknown {
  if (!hasColumnOptions(options) || typeof value !== 'object' || value === null || Array.isArray(value) || SHAPED in value) return value;
  const record = { ...(value as Record<string, unknown>) };
  if (options.idColumn !== undefined && options.idColumn !== 'To_Account') {
    if (Object.hasOwn(record, options.idColumn)) record.To_Account = record[options.idColumn];
    else delete record.To_Account;
  }
  const given = record.Attrs;
  if ((options.map || options.columns) && typeof given === 'object' && given !== null && !Array.isArray(given)) {
    const attrs: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(given)) {
      const name = options.map?.get(key) ?? key;
      if (options.columns && !options.columns.includes(key) && !options.columns.includes(name)) continue;
      Object.defineProperty(attrs, name, { value: v, enumerable: true, writable: true, configurable: true });
    }
    record.Attrs = attrs;
  }
  return record;
}

/** Re-throws line reader errors with a hint about records instead of account IDs. */
function asRecordError(error: unknown, source: RecordSource): unknown {
  if (!(error instanceof UsageError) || / is UTF-16(LE|BE) text, not UTF-8$/.test(error.message)) return error;
  const tooLong = /^line (\d+) of .* is over \d+ bytes long/.exec(error.message);
  if (tooLong) {
    return new UsageError(
      `line ${tooLong[1]} of ${source.label} is over ${MAX_RECORD_LINE_BYTES} bytes long; a record is a few hundred bytes. Is this a binary file?`,
      { hint: RECORDS_HINT },
    );
  }
  return new UsageError(error.message, { hint: RECORDS_HINT, cause: error.cause });
}

async function* lines(source: RecordSource): AsyncGenerator<{ line: number; text: string }> {
  let line = 0;
  try {
    for await (const text of readTextLines(createReadStream(source.path), source.label, MAX_RECORD_LINE_BYTES)) {
      line++;
      yield { line, text };
    }
  } catch (error) {
    throw asRecordError(error, source);
  }
}

/** Parsed json arrays, kept between passes (a json input is read whole anyway). */
const jsonCache = new WeakMap<RecordSource, RawRecord[]>();

async function readJsonArray(source: RecordSource): Promise<RawRecord[]> {
  const cached = jsonCache.get(source);
  if (cached) return cached;
  const info = await stat(source.path);
  if (info.size > MAX_JSON_INPUT_BYTES) {
    throw new UsageError(`${source.label} is ${info.size} bytes; a json array is read whole, up to ${MAX_JSON_INPUT_BYTES} bytes`, {
      hint: 'use ndjson for large inputs (im-attrs get --output ndjson), which is streamed',
    });
  }
  let text: string;
  const bytes = await readFile(source.path);
  const utf16 = utf16Error(bytes.subarray(0, 128), source.label);
  if (utf16) throw utf16;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch (error) {
    throw new UsageError(`${source.label} is not valid UTF-8`, { hint: 'save the file as UTF-8', cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message);
    const where = position ? `line ${lineAt(text, Number(position[1]))} of ${source.label}` : source.label;
    throw new UsageError(`${where}: not valid JSON`, {
      hint: 'a json input is one array of records, as `im-attrs get --output json` prints it; `jq . FILE` shows where it breaks',
      cause: error,
    });
  }
  if (!Array.isArray(parsed)) {
    throw new UsageError(`${source.label}: a json input must be an array of records, not ${kindOf(parsed)}`, {
      hint: 'for one object per line, use --format ndjson',
    });
  }
  const starts = elementLines(text);
  const records = parsed.map((value, i) => ({ line: starts[i] ?? 1, value }));
  jsonCache.set(source, records);
  return records;
}

function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The line on which each element of a (valid) JSON array starts. */
export function elementLines(text: string): number[] {
  const starts: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expecting = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '\n') {
      line++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (depth === 1 && c === ',') {
      expecting = true;
      continue;
    }
    if (depth === 1 && expecting && c !== ']') {
      starts.push(line);
      expecting = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expecting = true;
    } else if (c === ']' || c === '}') depth--;
  }
  return starts;
}

/**
 * How csv/tsv rows become records: the header checked once (throws a UsageError naming the
 * line), then each row shaped like the ndjson record of the same data. Attribute records and
 * tag records (tag-records.ts) differ only here.
 */
export interface TableShape {
  header(fields: readonly string[], source: RecordSource, line: number): string[];
  row(fields: readonly string[], header: readonly string[], line: number): RawRecord;
}

/** Attribute records' table shape: `account,<name>,<name>…`, or what the column options say. */
export function attrTable(names: AppNames, options?: ColumnOptions, tags = false): TableShape {
  // Each input has its own header; the layout of the header last read shapes the rows that follow it.
  const layouts = new WeakMap<readonly string[], HeaderLayout>();
  return {
    header: (fields, source, line) => {
      const header = [...fields];
      layouts.set(header, headerLayout(fields, source, line, names, options, tags));
      return header;
    },
    row: (fields, header, line) => layoutRecord(fields, header.length, layouts.get(header)!, line),
  };
}

/** Every record of one input, in order, with its line; csv/tsv headers checked first. */
/** Every record of one input, in order, with its line, csv/tsv rows shaped by `table`. */
export async function* readRawRecords(source: RecordSource, table: TableShape): AsyncGenerator<RawRecord> {
  switch (source.format) {
    case 'json':
      yield* await readJsonArray(source);
      return;
    case 'ndjson':
      for await (const { line, text } of lines(source)) {
        if (text.trim() === '') continue;
        try {
          yield { line, value: JSON.parse(text) };
        } catch {
          yield { line, error: `not valid JSON${text.trimStart().startsWith('[') ? ' (a json array? use --format json)' : ''}` };
        }
      }
      return;
    case 'tsv': {
      let header: string[] | undefined;
      for await (const { line, text } of lines(source)) {
        if (text === '') continue;
        const fields = parseTsvLine(text);
        if (header === undefined) header = table.header(fields, source, line);
        else yield table.row(fields, header, line);
      }
      return;
    }
    case 'csv': {
      // The csv parser's own errors (quotes, UTF-8) already carry the right hint.
      let header: string[] | undefined;
      for await (const row of parseCsv(createReadStream(source.path), { source: source.label })) {
        if (header === undefined) header = table.header(row.fields, source, row.line);
        else yield table.row(row.fields, header, row.line);
      }
      return;
    }
  }
}

/** What the first pass found. */
export interface ScanReport {
  /** Records read (bad ones included). */
  records: number;
  bad: number;
  /** Distinct accounts among the good records. */
  accounts: number;
  /** Of those, accounts with nothing to set or remove (every record of theirs is empty). */
  empty: number;
  /** Good records merged into a later one for the same account. */
  duplicates: number;
}

/** One checked record, numbered across all inputs (its identity between the two passes). */
interface Checked<E> {
  index: number;
  source: RecordSource;
  line: number;
  entry?: E;
  problems?: string[];
}

/** What makes a two-pass reader read one kind of record (attributes for set/remove, tags). */
export interface RecordKind<E extends { account: string }> {
  /** How csv/tsv rows are shaped into records. */
  table: TableShape;
  /** Checks one parsed record. */
  check(value: unknown): { entry: E } | { problems: string[] };
  /** Whether an account has something to do, given this good record and what its earlier ones said. */
  hasSomething(entry: E, before: boolean | undefined): boolean;
  /** An account on several lines: `entry` (a later line) merged into what came before. */
  merge(before: E | undefined, entry: E): E;
}

/**
 * Records from one or more inputs, checked: `scan` first (reports the bad ones, counts, finds
 * duplicates), then `entries` as often as needed. One mechanism for every kind of record.
 */
export class TwoPassReader<E extends { account: string }> {
  readonly #sources: readonly RecordSource[];
  readonly #kind: RecordKind<E>;
  /** Account → index of its last good record, for accounts on several lines. */
  #lastIndex: Map<string, number> | undefined;

  constructor(sources: readonly RecordSource[], kind: RecordKind<E>) {
    this.#sources = sources;
    this.#kind = kind;
  }

  async *#checked(): AsyncGenerator<Checked<E>> {
    let index = 0;
    for (const source of this.#sources) {
      for await (const raw of readRawRecords(source, this.#kind.table)) {
        const base = { index: index++, source, line: raw.line };
        if (raw.error !== undefined) {
          yield { ...base, problems: [raw.error] };
          continue;
        }
        const result = this.#kind.check(raw.value);
        yield 'entry' in result ? { ...base, entry: result.entry } : { ...base, problems: result.problems };
      }
    }
  }

  /** "line 7", or "line 7 of b.csv" when there are several inputs. */
  #where(checked: Checked<E>): string {
    return this.#sources.length > 1 ? `line ${checked.line} of ${checked.source.label}` : `line ${checked.line}`;
  }

  /**
   * The first pass: reads everything, reports each bad record, finds duplicates; `onGood` sees
   * each good record. Throws on a broken input.
   */
  async scan(onBad: (bad: BadLine) => void, onGood?: (entry: E) => void): Promise<ScanReport> {
    /** Account → whether any of its records has something in it. */
    const seen = new Map<string, boolean>();
    const lastIndex = new Map<string, number>();
    const report: ScanReport = { records: 0, bad: 0, accounts: 0, empty: 0, duplicates: 0 };
    for await (const checked of this.#checked()) {
      report.records++;
      if (!checked.entry) {
        report.bad++;
        onBad({ where: this.#where(checked), line: checked.line, problems: checked.problems ?? [] });
        continue;
      }
      onGood?.(checked.entry);
      const { account } = checked.entry;
      const before = seen.get(account);
      if (before !== undefined) {
        report.duplicates++;
        lastIndex.set(account, checked.index);
      }
      seen.set(account, this.#kind.hasSomething(checked.entry, before));
    }
    report.accounts = seen.size;
    for (const something of seen.values()) if (!something) report.empty++;
    this.#lastIndex = lastIndex;
    return report;
  }

  /**
   * The second pass: one entry per account, in input order; an account on several lines comes
   * at its last line, merged (RecordKind.merge). Entries with nothing in them are included.
   */
  async *entries(): AsyncGenerator<E> {
    const lastIndex = this.#lastIndex;
    if (!lastIndex) throw new Error('TwoPassReader: entries() before scan()');
    const pending = new Map<string, E>();
    for await (const checked of this.#checked()) {
      const entry = checked.entry;
      if (!entry) continue;
      const last = lastIndex.get(entry.account);
      if (last === undefined) {
        yield entry;
        continue;
      }
      const merged = this.#kind.merge(pending.get(entry.account), entry);
      if (checked.index === last) {
        pending.delete(entry.account);
        yield merged;
      } else {
        pending.set(entry.account, merged);
      }
    }
  }
}

/** Attribute records for set and remove, checked against the app's names. */
export class RecordReader extends TwoPassReader<Entry> {
  constructor(sources: readonly RecordSource[], mode: RecordMode, names: AppNames, columns?: ColumnOptions) {
    super(sources, {
      table: attrTable(names, columns),
      check: (value) => checkRecord(applyColumnOptions(value, columns), mode, names),
      hasSomething: (entry, before) => before === true || entry.attrs.size > 0,
      // Later values win, per attribute.
      merge: (before, entry) => ({ account: entry.account, attrs: new Map([...(before?.attrs ?? []), ...entry.attrs]) }),
    });
  }
}

export { attrsObject, removeEntry, setEntry } from '../api/attrs.js';
