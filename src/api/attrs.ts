/**
 * One typed function per all_member_push attribute command (API.md section 2). Each pins its
 * command path and body shape; tests assert both against the emulator's request log, because a
 * peer SDK shipped "get attributes" wired to the wrong path.
 */
import { ApiError } from '../errors.js';
import type { AttrRecord } from '../output/types.js';
import type { CallOptions, ImClient } from './client.js';

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
  return new ApiError(`${command}: unexpected response shape: ${what}`);
}

/**
 * `im_get_attr` for at most 100 accounts. The API does not keep request order, so results are
 * matched by `To_Account` and returned in request order. A requested account missing from
 * `UserAttrs` is reported in `missing`, never dropped; one that was not requested is ignored
 * (it cannot be ours to print), and a duplicate keeps its first answer.
 */
export async function getAttrs(client: ImClient, accounts: readonly string[], options: CallOptions = {}): Promise<GetAttrsResult> {
  const command = COMMANDS.getAttrs;
  const envelope = await client.call(command, { To_Account: accounts }, options);
  const userAttrs = envelope.UserAttrs ?? [];
  if (!Array.isArray(userAttrs)) throw shapeError(command, 'UserAttrs is not an array');
  const requested = new Set(accounts);
  const byAccount = new Map<string, Record<string, string>>();
  for (const entry of userAttrs) {
    if (typeof entry !== 'object' || entry === null) throw shapeError(command, 'an entry of UserAttrs is not an object');
    const { To_Account: account, Attrs: attrs } = entry as { To_Account?: unknown; Attrs?: unknown };
    if (typeof account !== 'string') throw shapeError(command, 'an entry of UserAttrs has no To_Account string');
    if (!requested.has(account) || byAccount.has(account)) continue;
    byAccount.set(account, normalizeAttrs(command, account, attrs));
  }
  // Newer endpoints list accounts they could not serve, with a code (70107 not imported).
  const reasons = errorListReasons(envelope.ErrorList);
  const records: AttrRecord[] = [];
  const missing: AccountFailure[] = [];
  for (const account of accounts) {
    const attrs = byAccount.get(account);
    if (attrs) records.push({ To_Account: account, Attrs: attrs });
    else missing.push({ account, reason: reasons.get(account) ?? 'not in the response (account not imported?)' });
  }
  return { records, missing };
}

function normalizeAttrs(command: string, account: string, attrs: unknown): Record<string, string> {
  if (attrs === undefined || attrs === null) return {};
  if (typeof attrs !== 'object' || Array.isArray(attrs)) throw shapeError(command, `Attrs of "${account}" is not an object`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attrs as Record<string, unknown>)) {
    // Every documented sample has string values; keep numbers and booleans readable as text.
    if (typeof value === 'string') out[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
    else throw shapeError(command, `attribute "${name}" of "${account}" is not a string`);
  }
  return out;
}

function errorListReasons(errorList: unknown): Map<string, string> {
  const reasons = new Map<string, string>();
  if (!Array.isArray(errorList)) return reasons;
  for (const entry of errorList) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { To_Account: account, ErrorCode: code, ErrorInfo: info } = entry as Record<string, unknown>;
    if (typeof account === 'string') {
      reasons.set(account, `${typeof code === 'number' ? code : 'error'}${typeof info === 'string' && info ? ` ${info}` : ''}`);
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
