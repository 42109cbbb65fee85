/**
 * `im-attrs names`: the app's attribute names (slot "0".."9" → name), listed, and `names set`
 * to define, rename or clear them.
 *
 * `names set` always sends the complete resulting map (the current names merged with the
 * changes; a cleared slot as ""), because whether im_set_attr_name merges or replaces a partial
 * map is not documented: with the whole map, both readings give the same result. It then reads
 * the names back and fails if the server's differ from what was asked.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { readAll } from '../util/fs.js';
import { MAX_ATTR_BYTES, MAX_ATTR_SLOTS } from '../api/facts.js';
import { ApiError, UsageError } from '../errors.js';
import { writeRows, type Projection } from '../output/index.js';
import type { Runtime } from '../runtime/runtime.js';
import { withRun, type Run } from '../jobs/run.js';

export const NAMES_FORMATS = ['table', 'tsv', 'csv', 'json', 'ndjson'] as const;
export type NamesFormat = (typeof NAMES_FORMATS)[number];

export interface NamesOptions {
  output?: NamesFormat;
  json?: boolean;
}

export interface NamesSetOptions {
  from?: string;
  types?: string;
  clear?: string;
  yes?: boolean;
  dryRun?: boolean;
}

/** A names file is a small JSON object; anything bigger is the wrong file. */
const MAX_NAMES_FILE_BYTES = 64 * 1024;

const LIST_EXAMPLES = `
Examples:
  $ im-attrs names
  $ im-attrs names --json > names.json
  $ im-attrs names set 0=sex 1=city 2=level
  $ im-attrs names set --from names.json --profile prod
`;

const SET_EXAMPLES = `
Examples:
  $ im-attrs names set 0=sex 1=city
  $ im-attrs names set 1=town --yes
  $ im-attrs names set --clear 2 --dry-run
  $ im-attrs names --json --profile test | im-attrs names set --from - --profile prod --yes
  $ im-attrs names set 3=device --types 3=1 --api timpush
`;

export function newNamesCommand(rt: Runtime): Command {
  const command = new Command('names')
    .summary("list the app's attribute names; `names set` defines them")
    .description(
      "List the app's attribute names: slot (0-9) and name. Users' attributes are addressed by these names, " +
        'so they must be defined (`im-attrs names set`) before anything can be set.',
    )
    .addOption(new Option('-o, --output <format>', 'table, tsv, csv, json or ndjson (default: table on a terminal, tsv otherwise)').choices(NAMES_FORMATS))
    .option('--json', 'short for --output json: the AttrNames object, as `names set --from` reads it');
  command.addHelpText('after', LIST_EXAMPLES);
  command.action(async (options: NamesOptions) => {
    await namesRun(rt, options);
  });

  const set = new Command('set')
    .summary('define, rename or clear attribute names')
    .description(
      'Define, rename or clear attribute names. SLOT=NAME pairs change those slots and keep the others; ' +
        '--from takes a complete AttrNames object ({"0":"sex","1":"city"}, what `names --json` prints) and ' +
        'clears every slot it leaves out. Slots are 0-9; names are non-empty, at most 50 bytes (UTF-8) and ' +
        'unique. Everything is checked before anything is sent.\n\n' +
        'The complete resulting map is sent (a cleared slot as ""), so the result is the same whether the ' +
        'server merges or replaces, and read back afterwards. Renaming or clearing a name that exists shows ' +
        'the change and asks for confirmation on a terminal; without a terminal it needs --yes.\n\n' +
        'On TIMPush (--api timpush) every slot also has an account type (AttrTypes: 0 = UserID, 1 = RegistrationID), ' +
        'shown by `names`; --types gives the type of new slots, and a change of an existing slot\'s type is refused before ' +
        'anything is sent (the API does not allow it: clear the slot and define it again).',
    )
    .argument('[slot=name...]', 'slots to (re)name, e.g. 0=sex 1=city')
    .option('--from <file.json>', 'the complete names from a JSON file ("-" is stdin) (default: none)')
    .option('--clear <slots>', 'comma-separated slots to clear, e.g. 2,3 (default: none)')
    .option('--types <slot=type,...>', 'TIMPush only: account types of new slots, 0 = UserID, 1 = RegistrationID, e.g. 3=1 (default: 0; a slot\'s type never changes once set)')
    .option('-y, --yes', 'rename and clear without asking (default: ask on a terminal, refuse otherwise)')
    .option('--dry-run', 'show the change and the request it would send; send nothing');
  set.addHelpText('after', SET_EXAMPLES);
  set.action(async (pairs: string[], options: NamesSetOptions) => {
    await namesSetRun(rt, pairs, options);
  });
  command.addCommand(set);
  return command;
}

/** Slot → name, in slot order. */
function sortedNames(names: Record<string, string>): Array<[string, string]> {
  return Object.entries(names).sort(([a], [b]) => Number(a) - Number(b));
}

async function fetchNames(run: Run): Promise<Record<string, string>> {
  return run.call(await run.rt.operation('getAttrNames'), undefined);
}

/** Names and, on TIMPush, account types (undefined on all_member_push, which has none). */
async function fetchSchema(run: Run): Promise<{ names: Record<string, string>; types: Record<string, number> | undefined }> {
  if ((await run.rt.family()) !== 'timpush') return { names: await fetchNames(run), types: undefined };
  return run.call((await run.rt.operation('getAttrSchema'))!, undefined);
}

/** TIMPush AttrTypes: 0 = UserID, 1 = RegistrationID. */
const TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'UserID', 1: 'RegistrationID' };

export async function namesRun(rt: Runtime, options: NamesOptions): Promise<void> {
  if (options.json && options.output && options.output !== 'json') {
    throw new UsageError(`--json and --output ${options.output} contradict each other`, { hint: 'give one of them' });
  }
  const format: NamesFormat = options.json ? 'json' : (options.output ?? (rt.deps.io.stdoutIsTTY ? 'table' : 'tsv'));
  const schema = await withRun(rt, {}, fetchSchema);
  const rows = sortedNames(schema.names);
  const types = schema.types;
  const typeOf = (slot: string): string => TYPE_NAMES[types?.[slot] ?? 0] ?? String(types?.[slot]);
  const out = rt.deps.io.stdout;
  if (format === 'json') {
    // TIMPush: both objects, as get_attr_name answers them (and `names set --from` reads them).
    const names = Object.fromEntries(rows);
    const value = types ? { AttrNames: names, AttrTypes: Object.fromEntries(rows.map(([slot]) => [slot, types[slot] ?? 0])) } : names;
    out.write(`${JSON.stringify(value, null, 2)}\n`);
  } else {
    const projection: Projection<[string, string]> = {
      header: types ? ['slot', 'name', 'type'] : ['slot', 'name'],
      cells: (row) => (types ? [...row, typeOf(row[0])] : row),
      json: ([slot, name]) => (types ? { slot, name, type: typeOf(slot) } : { slot, name }),
    };
    writeRows(out, format, projection, rows, { width: rt.deps.io.stdoutIsTTY ? rt.deps.io.columns : undefined });
  }
  if (rows.length === 0) rt.info('the app has no attribute names yet; define them with `im-attrs names set 0=sex 1=city`');
}

/** Checks a slot: "0".."9" exactly. */
function checkSlot(slot: string, where: string): string {
  if (!/^[0-9]$/.test(slot) || Number(slot) >= MAX_ATTR_SLOTS) {
    throw new UsageError(`${where}: slot ${JSON.stringify(slot)} is not one of 0-${MAX_ATTR_SLOTS - 1}`, {
      hint: `an app has at most ${MAX_ATTR_SLOTS} attributes, in slots 0-${MAX_ATTR_SLOTS - 1}`,
    });
  }
  return slot;
}

/** Checks a name: a non-empty string of at most 50 bytes. */
function checkName(name: unknown, where: string): string {
  if (typeof name !== 'string') throw new UsageError(`${where}: the name must be a string`);
  if (name === '') throw new UsageError(`${where}: the name is empty`, { hint: 'to clear a slot, use --clear SLOT (or leave it out of --from)' });
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_ATTR_BYTES) throw new UsageError(`${where}: the name is ${bytes} bytes, over the limit of ${MAX_ATTR_BYTES}`);
  return name;
}

/** The requested change: slot → new name, or null to clear; `complete` when it is the whole map (--from). */
interface Request {
  changes: Map<string, string | null>;
  complete: boolean;
  /** TIMPush: slot → account type asked for (--types, or AttrTypes in --from). */
  types: Map<string, number>;
}

/** `--types 3=1,4=0`: slot → 0 (UserID) or 1 (RegistrationID). */
function parseTypes(text: string | undefined): Map<string, number> {
  const types = new Map<string, number>();
  for (const pair of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [slot = '', type = ''] = pair.split('=');
    checkSlot(slot, '--types');
    if (type !== '0' && type !== '1') throw new UsageError(`--types: "${pair}" is not SLOT=0 or SLOT=1`, { hint: '0 = UserID, 1 = RegistrationID, e.g. --types 3=1' });
    types.set(slot, Number(type));
  }
  return types;
}

async function readRequest(rt: Runtime, pairs: readonly string[], options: NamesSetOptions): Promise<Request> {
  if (options.from !== undefined) {
    if (pairs.length > 0 || options.clear !== undefined) {
      throw new UsageError('--from gives the complete names: no SLOT=NAME or --clear with it');
    }
    return { ...(await readNamesFile(rt, options.from)), complete: true };
  }
  const changes = new Map<string, string | null>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new UsageError(`"${pair}" is not SLOT=NAME`, { hint: 'e.g. im-attrs names set 0=sex 1=city' });
    const slot = checkSlot(pair.slice(0, eq), `"${pair}"`);
    if (changes.has(slot)) throw new UsageError(`slot ${slot} is given twice`);
    changes.set(slot, checkName(pair.slice(eq + 1), `"${pair}"`));
  }
  for (const slot of (options.clear ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    checkSlot(slot, '--clear');
    if (changes.has(slot)) throw new UsageError(`slot ${slot} is both named and cleared`);
    changes.set(slot, null);
  }
  if (changes.size === 0) {
    throw new UsageError('no names given', { hint: 'im-attrs names set 0=sex 1=city, --clear 2, or --from names.json' });
  }
  return { changes, complete: false, types: parseTypes(options.types) };
}

/** `--from`: an AttrNames object, bare or as the request body `{"AttrNames": {...}}`. */
async function readNamesFile(rt: Runtime, from: string): Promise<{ changes: Map<string, string | null>; types: Map<string, number> }> {
  const label = from === '-' ? '<stdin>' : from;
  let text: string;
  try {
    if (from === '-') {
      text = await readAll(rt.deps.io.stdin, MAX_NAMES_FILE_BYTES);
    } else {
      text = await readFile(path.resolve(rt.deps.cwd, from), 'utf8');
      if (text.length > MAX_NAMES_FILE_BYTES) throw Object.assign(new Error('too big'), { code: 'EFBIG' });
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EFBIG' ? `over ${MAX_NAMES_FILE_BYTES} bytes` : (code ?? String(error));
    throw new UsageError(`--from ${label} cannot be read: ${reason}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new UsageError(`--from ${label} is not valid JSON`, { hint: 'it holds an object like {"0":"sex","1":"city"}, as `im-attrs names --json` prints it' });
  }
  const types = new Map<string, number>();
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'AttrNames' in parsed && Object.keys(parsed).every((k) => k === 'AttrNames' || k === 'AttrTypes')) {
    // The request body, or what `names --json` prints on TIMPush: {"AttrNames":…,"AttrTypes":…}.
    const given = (parsed as { AttrTypes?: unknown }).AttrTypes;
    if (given !== undefined) {
      if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new UsageError(`--from ${label}: AttrTypes must be an object like {"3":1}`);
      for (const [slot, type] of Object.entries(given as Record<string, unknown>)) {
        checkSlot(slot, `--from ${label}, AttrTypes`);
        if (type !== 0 && type !== 1) throw new UsageError(`--from ${label}, AttrTypes slot ${slot}: 0 (UserID) or 1 (RegistrationID), not ${JSON.stringify(type)}`);
        types.set(slot, type);
      }
    }
    parsed = (parsed as { AttrNames: unknown }).AttrNames;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--from ${label} must hold an object like {"0":"sex","1":"city"}`);
  }
  const changes = new Map<string, string | null>();
  for (const [slot, name] of Object.entries(parsed as Record<string, unknown>)) {
    changes.set(checkSlot(slot, `--from ${label}`), checkName(name, `--from ${label}, slot ${slot}`));
  }
  return { changes, types };
}

type ChangeKind = 'added' | 'renamed' | 'cleared';

interface Change {
  slot: string;
  before: string | undefined;
  after: string | undefined;
  kind: ChangeKind;
}

function diff(before: Record<string, string>, after: Record<string, string>): Change[] {
  const changes: Change[] = [];
  for (let i = 0; i < MAX_ATTR_SLOTS; i++) {
    const slot = String(i);
    const b = Object.hasOwn(before, slot) ? before[slot] : undefined;
    const a = Object.hasOwn(after, slot) ? after[slot] : undefined;
    if (b === a) continue;
    changes.push({ slot, before: b, after: a, kind: b === undefined ? 'added' : a === undefined ? 'cleared' : 'renamed' });
  }
  return changes;
}

function describe(change: Change): string {
  const show = (name: string | undefined): string => (name === undefined ? '(none)' : JSON.stringify(name));
  return `  slot ${change.slot}: ${show(change.before)} → ${show(change.after)} (${change.kind})`;
}

export async function namesSetRun(rt: Runtime, pairs: readonly string[], options: NamesSetOptions): Promise<void> {
  const request = await readRequest(rt, pairs, options);
  await withRun(rt, options, async (run) => {
    const schema = await fetchSchema(run);
    const before = schema.names;
    if (schema.types === undefined && request.types.size > 0) {
      throw new UsageError('account types (AttrTypes) exist only on the TIMPush family', { hint: 'leave out --types, or use --api timpush if the app runs on TIMPush' });
    }
    const after: Record<string, string> = request.complete ? {} : { ...before };
    for (const [slot, name] of request.changes) {
      if (name === null) delete after[slot];
      else after[slot] = name;
    }
    const bySlot = new Map<string, string>();
    for (const [slot, name] of sortedNames(after)) {
      const other = bySlot.get(name);
      if (other !== undefined) {
        throw new UsageError(`${JSON.stringify(name)} would be the name of slots ${other} and ${slot}; names must be unique`, {
          hint: `rename or clear slot ${request.changes.has(other) ? slot : other} as well`,
        });
      }
      bySlot.set(name, slot);
    }
    // TIMPush: every named slot's type; an existing slot keeps its own (the API refuses a change).
    let types: Record<string, number> | undefined;
    if (schema.types !== undefined) {
      types = {};
      const refused: string[] = [];
      for (const slot of Object.keys(after)) {
        const current = Object.hasOwn(before, slot) ? (schema.types[slot] ?? 0) : undefined;
        const asked = request.types.get(slot);
        if (current !== undefined && asked !== undefined && asked !== current) refused.push(`slot ${slot} (${JSON.stringify(before[slot])}) is ${TYPE_NAMES[current]}, not ${TYPE_NAMES[asked]}`);
        types[slot] = current ?? asked ?? 0;
      }
      for (const slot of request.types.keys()) {
        if (!Object.hasOwn(after, slot)) refused.push(`slot ${slot} has no name to give a type to`);
      }
      if (refused.length > 0) {
        throw new UsageError(`an attribute's account type cannot be changed: ${refused.join('; ')}; nothing was sent`, {
          hint: 'to change it, clear the slot (im-attrs names set --clear SLOT; its values are lost), then define it again with --types',
        });
      }
    }
    const typeChanges = types ? Object.keys(types).filter((slot) => !Object.hasOwn(before, slot) && types[slot] !== 0) : [];
    const changes = diff(before, after);
    if (changes.length === 0) {
      rt.info('the attribute names are already as asked; nothing to change');
      return;
    }
    const renamed = changes.filter((c) => c.kind === 'renamed').length;
    const cleared = changes.filter((c) => c.kind === 'cleared').length;
    const risky = renamed + cleared > 0;
    const asking = risky && !options.yes && !options.dryRun;
    const show = asking ? (line: string) => rt.stderr(line) : (line: string) => rt.info(line);
    show('attribute names, before → after:');
    for (const change of changes) show(`${describe(change)}${typeChanges.includes(change.slot) ? ', type RegistrationID' : ''}`);

    // Every slot of the result, and "" for each cleared one: see the file comment.
    const body: Record<string, string> = {};
    for (let i = 0; i < MAX_ATTR_SLOTS; i++) {
      const slot = String(i);
      if (Object.hasOwn(after, slot)) body[slot] = after[slot]!;
      else if (Object.hasOwn(before, slot)) body[slot] = '';
    }
    if (asking) {
      const what = [renamed ? `rename ${renamed}` : '', cleared ? `clear ${cleared}` : ''].filter(Boolean).join(' and ');
      const question = `${what[0]!.toUpperCase()}${what.slice(1)} attribute ${renamed + cleared === 1 ? 'name' : 'names'}? Inputs and push conditions using the old names stop working, and values under a cleared name are lost.`;
      if (!(await run.confirm(question, 'nothing was changed'))) throw new UsageError('not confirmed; nothing was changed');
    }
    const sent = types
      ? await run.write((await rt.operation('setAttrSchema'))!, { names: body, types }, 'names set')
      : await run.write(await rt.operation('setAttrNames'), body, 'names set');
    if (options.dryRun) return sent;
    const now = await fetchNames(run);
    const mismatch = diff(after, now);
    if (mismatch.length > 0) {
      throw new ApiError(`the server's attribute names differ from what was sent:\n${mismatch.map(describe).join('\n')}`, {
        hint: 'check them with `im-attrs names`; the server may not support clearing a slot with ""',
      });
    }
    rt.info(`attribute names updated: ${[['added', changes.length - renamed - cleared], ['renamed', renamed], ['cleared', cleared]]
      .filter(([, n]) => n)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ')}`);
  });
}
