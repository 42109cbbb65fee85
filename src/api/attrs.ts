/**
 * The attribute operations (API.md section 2), as descriptors a family table fills in with its
 * paths (families.ts). Each pins its body shape and reads its answer into per-account results;
 * tests assert path and body against the emulator's request log, because a peer SDK shipped "get
 * attributes" wired to the wrong path.
 */
import type { AttrRecord, Entry } from '../model.js';
import { kindOf, printable, warnInvalidUtf8, type Envelope } from './envelope.js';
import { MAX_ACCOUNTS_PER_CALL, TARGETING_CALLS_PER_SECOND } from './facts.js';
import { shapeError } from './envelope.js';
import {
  batchOperation,
  batchWrite,
  commandOf,
  errorListReasons,
  failuresByAccount,
  operation,
  RETURNED,
  type ApiFamily,
  type BatchOperation,
  type BatchOutcome,
  type Operation,
  type ReadContext,
} from './operation.js';


/** Error codes each attribute endpoint documents (PUSH-FAMILY.md, Corrections to API.md 7). */
export const ATTR_CODES = {
  getAttrNames: [90001, 90009, 90018, 91000],
  setAttrNames: [90001, 90009, 91000],
  getAttrs: [90001, 90018, 91000],
  setAttrs: [90001, 90009, 90018, 90030, 90033, 91000],
  removeAttrs: [90001, 90009, 90018, 90033, 91000],
} as const;

export interface AccountFailure {
  account: string;
  reason: string;
  code?: number | undefined;
}

export interface GetAttrsResult {
  /** One record per requested account that came back, in the order requested. */
  records: AttrRecord[];
  /** Requested accounts the server did not answer for, with the server's reason when it gave one. */
  missing: AccountFailure[];
}

/** What `parseGetAttrs` ignored, for a `--debug` line: nothing an honest server sends. */
export interface IgnoredEntries {
  /** Entries for accounts that were not in the request: never ours to print. */
  unrequested: number;
  /** Second and later entries for one account: the first one is kept. */
  duplicates: number;
}

/**
 * The pure half of reading a get-attributes answer to a request for `accounts`, matched by
 * `To_Account` and returned in request order. Every requested account ends in exactly one of
 * `records` or `missing`; an account that was not requested never appears in either.
 *
 * - `UserAttrs` that is not an array, or an entry that is not an object with a string
 *   `To_Account`: the whole answer is unusable, ApiError (the policy retries it).
 * - `Attrs` that is not an object, or a value that is an object, array or null: that account
 *   alone fails, with the reason; the others are kept. Numbers and booleans are kept as text.
 * - Unrequested and duplicated entries are ignored (counted in `ignored`).
 * - An account missing from `UserAttrs` fails with its `ErrorList` reason (TIMPush: 70107 not
 *   imported) or "not in the response".
 *
 * `clean` makes server-supplied text (ErrorInfo of ErrorList entries, attribute names) fit for a
 * message: `ImClient.serverText` redacts the UserSig as well.
 */
export function parseGetAttrs(
  command: string,
  envelope: Record<string, unknown>,
  accounts: readonly string[],
  clean: (text: string) => string = printable,
): GetAttrsResult & { ignored: IgnoredEntries } {
  const userAttrs = envelope.UserAttrs ?? [];
  if (!Array.isArray(userAttrs)) throw shapeError(command, 'UserAttrs is not an array');
  const inOrder = inRequestOrder(userAttrs, accounts, clean);
  if (inOrder) return { records: inOrder, missing: [], ignored: { unrequested: 0, duplicates: 0 } };
  const requested = new Set(accounts);
  const answers = new Map<string, { attrs: Record<string, string> } | { problem: string }>();
  const ignored: IgnoredEntries = { unrequested: 0, duplicates: 0 };
  for (const entry of userAttrs as unknown[]) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw shapeError(command, 'an entry of UserAttrs is not an object');
    const { To_Account: account, Attrs: attrs } = entry as { To_Account?: unknown; Attrs?: unknown };
    if (typeof account !== 'string') throw shapeError(command, 'an entry of UserAttrs has no To_Account string');
    if (!requested.has(account)) {
      ignored.unrequested++;
      continue;
    }
    if (answers.has(account)) {
      ignored.duplicates++;
      continue;
    }
    answers.set(account, normalizeAttrs(attrs, clean));
  }
  const reasons = errorListReasons(envelope.ErrorList, clean);
  const records: AttrRecord[] = [];
  const missing: AccountFailure[] = [];
  for (const account of accounts) {
    const answer = answers.get(account);
    if (answer === undefined) {
      const listed = reasons.get(account);
      missing.push({ account, reason: listed?.reason ?? 'not in the response (account not imported?)', code: listed?.code });
    } else if ('problem' in answer) missing.push({ account, reason: `unexpected response shape: ${answer.problem}` });
    else records.push({ To_Account: account, Attrs: answer.attrs });
  }
  return { records, missing, ignored };
}

/**
 * The usual answer: one entry per account asked for, in the same order, each with well-formed
 * attributes. Its records, read without the lookups below (a Set and a Map per call were a
 * twentieth of the unpaced CPU); undefined for any other answer, which the general path reads.
 * A batch's accounts are distinct (the input is deduplicated), so the two paths agree.
 */
function inRequestOrder(userAttrs: readonly unknown[], accounts: readonly string[], clean: (text: string) => string): AttrRecord[] | undefined {
  if (userAttrs.length !== accounts.length) return undefined;
  const records: AttrRecord[] = [];
  for (let i = 0; i < accounts.length; i++) {
    const entry = userAttrs[i];
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { To_Account: account, Attrs: attrs } = entry as { To_Account?: unknown; Attrs?: unknown };
    const expected = accounts[i]!;
    if (account !== expected) return undefined;
    const normalized = normalizeAttrs(attrs, clean);
    if ('problem' in normalized) return undefined;
    records.push({ To_Account: expected, Attrs: normalized.attrs });
  }
  return records;
}

function normalizeAttrs(attrs: unknown, clean: (text: string) => string): { attrs: Record<string, string> } | { problem: string } {
  if (attrs === undefined || attrs === null) return { attrs: {} };
  if (typeof attrs !== 'object' || Array.isArray(attrs)) return { problem: `Attrs is ${kindOf(attrs)}, not an object` };
  // The common case, every value a string: JSON.parse made a plain object of own data properties
  // ("__proto__" included), which is already the record's shape; copying it cost a tenth of the
  // unpaced CPU.
  let allStrings = true;
  for (const name in attrs) {
    if (Object.hasOwn(attrs, name) && typeof (attrs as Record<string, unknown>)[name] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings && Object.getPrototypeOf(attrs) === Object.prototype) return { attrs: attrs as Record<string, string> };
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(attrs as Record<string, unknown>)) {
    // Every documented sample has string values; keep numbers and booleans readable as text.
    if (typeof value === 'string') out.push([name, value]);
    else if (typeof value === 'number' || typeof value === 'boolean') out.push([name, String(value)]);
    else return { problem: `attribute "${clean(name)}" is ${kindOf(value)}, not a string` };
  }
  // fromEntries defines own properties, so even a "__proto__" attribute survives as data.
  return { attrs: Object.fromEntries(out) };
}

/** Reads a get-attributes answer (see parseGetAttrs), tracing what an honest server never sends. */
function readGetAttrs(command: string, envelope: Envelope, accounts: readonly string[], ctx: ReadContext): BatchOutcome<AttrRecord> {
  let parsed: ReturnType<typeof parseGetAttrs>;
  try {
    parsed = parseGetAttrs(command, envelope, accounts, ctx.clean);
  } catch (error) {
    ctx.trace((error as Error).message);
    throw error;
  }
  const { unrequested, duplicates } = parsed.ignored;
  if (unrequested || duplicates) {
    ctx.trace(`${command}: ignored ${unrequested} entr${unrequested === 1 ? 'y' : 'ies'} for accounts not requested and ${duplicates} duplicate${duplicates === 1 ? '' : 's'}`);
  }
  for (const m of parsed.missing) {
    if (m.reason.startsWith('unexpected response shape')) ctx.trace(`${command}: "${printable(m.account)}": ${m.reason}`);
  }
  warnInvalidUtf8(envelope, parsed.records.map((r) => ({ account: r.To_Account, values: [...Object.keys(r.Attrs), ...Object.values(r.Attrs)] })), ctx.warn);
  if (parsed.missing.length === 0) return { results: parsed.records, failures: [] };
  const missing = new Map(parsed.missing.map((m) => [m.account, m]));
  return { results: parsed.records, failures: failuresByAccount(accounts, (a) => a, (a) => missing.get(a)) };
}

/** Reads `AttrNames` (slot "0".."9" → name), dropping empty names. */
export function readAttrNames(command: string, envelope: Envelope): Record<string, string> {
  const names = envelope.AttrNames ?? {};
  if (typeof names !== 'object' || names === null || Array.isArray(names)) throw shapeError(command, 'AttrNames is not an object');
  const out: Record<string, string> = {};
  for (const [slot, name] of Object.entries(names as Record<string, unknown>)) {
    if (typeof name === 'string' && name !== '') out[slot] = name;
  }
  return out;
}

/** Names ordered by slot number. */
export function namesInSlotOrder(names: Record<string, string>): string[] {
  return Object.entries(names)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, name]) => name);
}

/** An attribute map as a plain object, safe for any name (`__proto__` included). */
export function attrsObject(attrs: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of attrs) Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** The `UserAttrs` entry of a set-attributes request. */
export function setEntry(entry: Entry): { To_Account: string; Attrs: Record<string, string> } {
  return { To_Account: entry.account, Attrs: attrsObject(entry.attrs) };
}

/** The `UserAttrs` entry of a remove-attributes request. */
export function removeEntry(entry: Entry): { To_Account: string; Attrs: string[] } {
  return { To_Account: entry.account, Attrs: [...entry.attrs.keys()] };
}

/** An app's attribute slots with their account types (TIMPush `AttrTypes`: 0 = UserID, 1 = RegistrationID). */
export interface AttrSchema {
  names: Record<string, string>;
  types: Record<string, number>;
}

/** Reads `AttrTypes` (slot → 0 or 1); absent on all_member_push, where every attribute is for UserIDs. */
export function readAttrTypes(command: string, envelope: Envelope): Record<string, number> {
  const types = envelope.AttrTypes ?? {};
  if (typeof types !== 'object' || types === null || Array.isArray(types)) throw shapeError(command, 'AttrTypes is not an object');
  const out: Record<string, number> = {};
  for (const [slot, type] of Object.entries(types as Record<string, unknown>)) {
    if (type === 0 || type === 1) out[slot] = type;
  }
  return out;
}

/** The attribute operations of one family. */
export interface AttrOperations {
  getAttrNames: Operation<void, Record<string, string>>;
  setAttrNames: Operation<Record<string, string>, void>;
  /** TIMPush only: names and account types of the slots (get_attr_name's `AttrTypes`). */
  getAttrSchema?: Operation<void, AttrSchema>;
  /** TIMPush only: set_attr_name with `AttrTypes` (a slot's type cannot change once set). */
  setAttrSchema?: Operation<AttrSchema, void>;
  getAttrs: BatchOperation<string, AttrRecord>;
  setAttrs: BatchOperation<Entry, never>;
  removeAttrs: BatchOperation<Entry, never>;
}

/** The paths of one family's attribute commands. */
export type AttrPaths = Record<'getAttrNames' | 'setAttrNames' | 'getAttrs' | 'setAttrs' | 'removeAttrs', string>;

/**
 * The attribute operations over `paths`: same bodies and readers in both families; `types` adds
 * the TIMPush AttrTypes operations.
 */
export function attrOperations(family: ApiFamily, paths: AttrPaths, options: { types: boolean } = { types: false }): AttrOperations {
  const accountOfEntry = (entry: Entry): string => entry.account;
  const nameCommand = commandOf(paths.getAttrNames);
  /** get_attr_name, read as names only or (TIMPush) names and types. */
  const readNames = <Out>(read: (envelope: Envelope) => Out): Operation<void, Out> =>
    operation({ family, path: paths.getAttrNames, retrySafe: true, writes: false, codes: ATTR_CODES.getAttrNames, callsPerSecond: TARGETING_CALLS_PER_SECOND, body: () => ({}), read });
  const typed: Pick<AttrOperations, 'getAttrSchema' | 'setAttrSchema'> = options.types
    ? {
        getAttrSchema: readNames((envelope) => ({ names: readAttrNames(nameCommand, envelope), types: readAttrTypes(nameCommand, envelope) })),
        setAttrSchema: operation({
          family,
          path: paths.setAttrNames,
          retrySafe: true,
          writes: true,
          codes: ATTR_CODES.setAttrNames,
          callsPerSecond: TARGETING_CALLS_PER_SECOND,
          body: (schema: AttrSchema) => ({ AttrNames: schema.names, AttrTypes: schema.types }),
          read: () => undefined,
        }),
      }
    : {};
  return {
    ...typed,
    getAttrNames: readNames((envelope) => readAttrNames(nameCommand, envelope)),
    setAttrNames: operation({
      family,
      path: paths.setAttrNames,
      // The full map is sent each time: sending it again leaves the same names.
      retrySafe: true,
      writes: true,
      codes: ATTR_CODES.setAttrNames,
      callsPerSecond: TARGETING_CALLS_PER_SECOND,
      body: (names) => ({ AttrNames: names }),
      read: () => undefined,
    }),
    getAttrs: batchOperation({
      family,
      path: paths.getAttrs,
      maxItems: MAX_ACCOUNTS_PER_CALL,
      callsPerSecond: TARGETING_CALLS_PER_SECOND,
      retrySafe: true,
      writes: false,
      codes: ATTR_CODES.getAttrs,
      wording: RETURNED,
      accountOf: (account) => account,
      body: (accounts) => ({ To_Account: accounts }),
      read: (envelope, accounts, ctx) => readGetAttrs(commandOf(paths.getAttrs), envelope, accounts, ctx),
    }),
    setAttrs: batchWrite({
      family,
      path: paths.setAttrs,
      maxItems: MAX_ACCOUNTS_PER_CALL,
      callsPerSecond: TARGETING_CALLS_PER_SECOND,
      // Setting a value again leaves the same value.
      retrySafe: true,
      codes: ATTR_CODES.setAttrs,
      accountOf: accountOfEntry,
      itemBody: setEntry,
      body: (entries) => ({ UserAttrs: entries.map(setEntry) }),
    }),
    removeAttrs: batchWrite({
      family,
      path: paths.removeAttrs,
      maxItems: MAX_ACCOUNTS_PER_CALL,
      callsPerSecond: TARGETING_CALLS_PER_SECOND,
      // Removing an attribute an account does not have is not an error.
      retrySafe: true,
      codes: ATTR_CODES.removeAttrs,
      accountOf: accountOfEntry,
      itemBody: removeEntry,
      body: (entries) => ({ UserAttrs: entries.map(removeEntry) }),
    }),
  };
}
