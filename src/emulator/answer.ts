/**
 * What an emulator handler answers, and the small helpers every handler shares: the envelopes,
 * the per-account ErrorList items of the TIMPush family, and the reading of a JSON null as an
 * absent field.
 */
import { byteLength, isPlainObject } from '../push/condition.js';

export { byteLength, isPlainObject };

/** What an emulator handler answers: an HTTP status (200 unless given) and the JSON envelope. */
export interface Answer {
  status?: number;
  body: Record<string, unknown>;
}

/** The documented "Invalid format of <Field>" wording (R1, F12 of PUSH-FAMILY.md). */
export function invalidFormat(field: string, detail?: string): string {
  return detail ? `Invalid format of ${field}: ${detail}` : `Invalid format of ${field}`;
}

/** A FAIL envelope; `extra` adds fields such as F12's `"TaskId": ""` or C2's `"TaskID": 0`. */
export function fail(code: number, info: string, extra: Record<string, unknown> = {}): Answer {
  return { body: { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, ...extra } };
}

/** An OK envelope with `extra`. */
export function ok(extra: Record<string, unknown> = {}): Answer {
  return { body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...extra } };
}

/** The OK envelope of the statistics endpoints, which say "sucess" in ErrorInfo (F14, F15, C4). */
export function okSucess(extra: Record<string, unknown>): Answer {
  return { body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: 'sucess', ...extra } };
}

/** One entry of a TIMPush `ErrorList` (F5–F9, F12). */
export interface ErrorItem {
  To_Account: string;
  ErrorCode: number;
  ErrorInfo: string;
}

/** "account not imported" (F5, F12). */
export const NOT_IMPORTED_CODE = 70107;

export function notImported(account: string): ErrorItem {
  return { To_Account: account, ErrorCode: NOT_IMPORTED_CODE, ErrorInfo: 'account not imported' };
}

/** OK with `extra`, plus `ErrorList` when there are per-account errors (partial success). */
export function okWithErrors(extra: Record<string, unknown>, errors: ErrorItem[]): Answer {
  return ok(errors.length ? { ...extra, ErrorList: errors } : extra);
}

/**
 * `value` with every object key whose value is null removed, at any depth (arrays keep their
 * items: a null among accounts is still a malformed account). Where the docs are silent the
 * emulator reads a JSON null as an absent field (NULL_FIELDS_NOTE in ../push/condition.ts), and
 * doing it once here, before any handler, makes that true of every endpoint at once.
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== null) out[key] = withoutNulls(item);
  return out;
}
