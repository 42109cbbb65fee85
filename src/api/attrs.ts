/**
 * One typed function per all_member_push attribute command (API.md section 2). Each pins its
 * command path and body shape; tests assert both against the emulator's request log, because a
 * peer SDK shipped "get attributes" wired to the wrong path.
 */
import { ApiError } from '../errors.js';
import type { AttrRecord } from '../output/types.js';
import { printable, type CallOptions, type ImClient } from './client.js';

export const COMMANDS = {
  getAttrNames: 'im_get_attr_name',
  setAttrNames: 'im_set_attr_name',
  getAttrs: 'im_get_attr',
  setAttrs: 'im_set_attr',
  removeAttrs: 'im_remove_attr',
} as const;

/** An app has at most 10 attributes, in slots "0".."9" (API.md section 2). */
export const MAX_ATTR_SLOTS = 10;

/** Attribute names and values are at most 50 bytes (API.md section 2). */
export const MAX_ATTR_BYTES = 50;

export interface AccountFailure {
  account: string;
  reason: string;
}

export interface GetAttrsResult {
  /** One record per requested account that came back, in the order requested. */
  records: AttrRecord[];
  /** Requested accounts the server did not answer for, with the server's reason when it gave one. */
  missing: AccountFailure[];
}

function shapeError(command: string, what: string): ApiError {
  return new ApiError(`${command}: unexpected response shape: ${what}`, {
    hint: 'the server is not answering like the Chat REST API: check `endpoint`',
  });
}

/** What `parseGetAttrs` ignored, for a `--debug` line: nothing an honest server sends. */
export interface IgnoredEntries {
  /** Entries for accounts that were not in the request: never ours to print. */
  unrequested: number;
  /** Second and later entries for one account: the first one is kept. */
  duplicates: number;
}

/**
 * The pure half of `getAttrs`: the `im_get_attr` answer to a request for `accounts`, matched by
 * `To_Account` and returned in request order. Every requested account ends in exactly one of
 * `records` or `missing`; an account that was not requested never appears in either.
 *
 * - `UserAttrs` that is not an array, or an entry that is not an object with a string
 *   `To_Account`: the whole answer is unusable, ApiError (the policy retries it).
 * - `Attrs` that is not an object, or a value that is an object, array or null: that account
 *   alone fails, with the reason; the others are kept. Numbers and booleans are kept as text.
 * - Unrequested and duplicated entries are ignored (counted in `ignored`).
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
  // Newer endpoints list accounts they could not serve, with a code (70107 not imported).
  const reasons = errorListReasons(envelope.ErrorList, clean);
  const records: AttrRecord[] = [];
  const missing: AccountFailure[] = [];
  for (const account of accounts) {
    const answer = answers.get(account);
    if (answer === undefined) missing.push({ account, reason: reasons.get(account) ?? 'not in the response (account not imported?)' });
    else if ('problem' in answer) missing.push({ account, reason: `unexpected response shape: ${answer.problem}` });
    else records.push({ To_Account: account, Attrs: answer.attrs });
  }
  return { records, missing, ignored };
}

/**
 * `im_get_attr` for at most 100 accounts. The API does not keep request order, so results are
 * matched by `To_Account` and returned in request order (see `parseGetAttrs`). A requested account
 * missing from `UserAttrs` is reported in `missing`, never dropped; one that was not requested is
 * ignored (it cannot be ours to print), and a duplicate keeps its first answer.
 */
export async function getAttrs(client: ImClient, accounts: readonly string[], options: CallOptions = {}): Promise<GetAttrsResult> {
  const command = COMMANDS.getAttrs;
  const envelope = await client.call(command, { To_Account: accounts }, options);
  let parsed: ReturnType<typeof parseGetAttrs>;
  try {
    parsed = parseGetAttrs(command, envelope, accounts, (text) => client.serverText(text));
  } catch (error) {
    client.trace(`${(error as Error).message}`);
    throw error;
  }
  const { unrequested, duplicates } = parsed.ignored;
  if (unrequested || duplicates) {
    client.trace(`${command}: ignored ${unrequested} entr${unrequested === 1 ? 'y' : 'ies'} for accounts not requested and ${duplicates} duplicate${duplicates === 1 ? '' : 's'}`);
  }
  for (const m of parsed.missing) {
    if (m.reason.startsWith('unexpected response shape')) client.trace(`${command}: "${printable(m.account)}": ${m.reason}`);
  }
  return { records: parsed.records, missing: parsed.missing };
}

function normalizeAttrs(attrs: unknown, clean: (text: string) => string): { attrs: Record<string, string> } | { problem: string } {
  if (attrs === undefined || attrs === null) return { attrs: {} };
  if (typeof attrs !== 'object' || Array.isArray(attrs)) return { problem: `Attrs is ${kindOf(attrs)}, not an object` };
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

/** "an array", "an object", "null", "a number": what a JSON value is, for a message. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function errorListReasons(errorList: unknown, clean: (text: string) => string): Map<string, string> {
  const reasons = new Map<string, string>();
  if (!Array.isArray(errorList)) return reasons;
  for (const entry of errorList as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { To_Account: account, ErrorCode: code, ErrorInfo: info } = entry as Record<string, unknown>;
    if (typeof account === 'string' && !reasons.has(account)) {
      reasons.set(account, `${typeof code === 'number' && Number.isSafeInteger(code) ? code : 'error'}${typeof info === 'string' && info ? ` ${clean(info)}` : ''}`);
    }
  }
  return reasons;
}

/** `im_get_attr_name`: slot ("0".."9") → name. */
export async function getAttrNames(client: ImClient, options: CallOptions = {}): Promise<Record<string, string>> {
  const command = COMMANDS.getAttrNames;
  const envelope = await client.call(command, {}, options);
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

/** `im_set_attr_name` with the full slot → name map. */
export async function setAttrNames(client: ImClient, names: Record<string, string>, options: CallOptions = {}): Promise<void> {
  await client.call(COMMANDS.setAttrNames, { AttrNames: names }, options);
}

/** `im_set_attr` for at most 100 accounts. */
export async function setAttrs(client: ImClient, records: readonly AttrRecord[], options: CallOptions = {}): Promise<void> {
  await client.call(COMMANDS.setAttrs, { UserAttrs: records.map((r) => ({ To_Account: r.To_Account, Attrs: r.Attrs })) }, options);
}

/** `im_remove_attr` for at most 100 accounts: each with the attribute names to remove. */
export async function removeAttrs(
  client: ImClient,
  entries: readonly { To_Account: string; Attrs: readonly string[] }[],
  options: CallOptions = {},
): Promise<void> {
  await client.call(COMMANDS.removeAttrs, { UserAttrs: entries.map((e) => ({ To_Account: e.To_Account, Attrs: [...e.Attrs] })) }, options);
}
