/**
 * The REST envelope (API.md section 1, PUSH-FAMILY.md "Corrections to API.md" 5): parsing a
 * response body into one, and making server-supplied text fit for a terminal. No network here.
 */
import { ApiError } from '../errors.js';

/** Longest piece of server-supplied text (ErrorInfo, a body excerpt) put into a message. */
export const MAX_SERVER_TEXT = 200;

/** The parsed envelope; command-specific fields stay on it. */
export interface Envelope {
  ActionStatus: string;
  ErrorCode: number;
  ErrorInfo: string;
  [field: string]: unknown;
}

/**
 * Parses a 200 response body into an envelope, or throws ApiError saying what it is instead:
 * empty, an HTML page, cut short, JSON of another shape. Tolerates unknown fields (RequestId,
 * ErrorDisplay, ErrorList) and an ErrorCode sent as a numeric string.
 *
 * Success is `ErrorCode === 0` (PUSH-FAMILY.md, Corrections to API.md 5): real responses have come
 * without `ActionStatus`, TIMPush statistics answer `"ErrorInfo": "sucess"` on success, and some
 * samples have no `ErrorInfo`. Two answers are failures (code -1, which no table entry claims):
 * one with no ErrorCode, whatever its ActionStatus says, and one that contradicts itself,
 * `ActionStatus: "FAIL"` with `ErrorCode: 0` (nothing in it is taken as done).
 */
export function parseEnvelope(command: string, text: string): Envelope {
  if (text.trim() === '') throw new ApiError(`${command}: the response is empty`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (/^\s*</.test(text)) {
      throw new ApiError(`${command}: the response is an HTML page, not JSON`, {
        hint: 'a proxy, firewall or captive portal may be answering instead of the API: check `endpoint` and the network',
      });
    }
    const json = /^\s*[[{]/.test(text);
    throw new ApiError(`${command}: the response is ${json ? 'cut short or not valid JSON' : 'not JSON'}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(`${command}: the response is JSON but not an API envelope (${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`})`);
  }
  const v = value as Record<string, unknown>;
  const status = typeof v.ActionStatus === 'string' ? v.ActionStatus : undefined;
  const info = typeof v.ErrorInfo === 'string' ? v.ErrorInfo : '';
  if (v.ErrorCode === undefined || v.ErrorCode === null) {
    // Neither a code nor any other envelope field: some other JSON document.
    if (status === undefined && typeof v.ErrorInfo !== 'string') {
      throw new ApiError(`${command}: the response is JSON but not an API envelope (no ErrorCode)`);
    }
    return { ...v, ActionStatus: status ?? 'FAIL', ErrorCode: -1, ErrorInfo: info || 'the response has no ErrorCode' };
  }
  let code: unknown = v.ErrorCode;
  if (typeof code === 'string' && /^-?[0-9]{1,15}$/.test(code.trim())) code = Number(code);
  if (typeof code !== 'number' || !Number.isSafeInteger(code)) {
    throw new ApiError(`${command}: the response's ErrorCode is not an integer`);
  }
  if (code === 0 && status === 'FAIL') {
    // An answer that contradicts itself is safer read as a failure (nothing is taken from it),
    // named with the server's own text: code -1, which no table entry claims.
    return { ...v, ActionStatus: 'FAIL', ErrorCode: -1, ErrorInfo: `ActionStatus "FAIL" with ErrorCode 0${info ? `: ${info}` : ''}` };
  }
  return { ...v, ActionStatus: status ?? (code === 0 ? 'OK' : 'FAIL'), ErrorCode: code, ErrorInfo: info };
}

/** Set (not enumerable) on an envelope whose body was not valid UTF-8. */
const INVALID_UTF8 = Symbol('invalid UTF-8');

/** Marks an envelope whose body had bytes that are not UTF-8 (read as U+FFFD). */
export function markInvalidUtf8(envelope: Envelope): void {
  Object.defineProperty(envelope, INVALID_UTF8, { value: true, enumerable: false });
}

/**
 * The accounts of an answer with bytes that were not UTF-8 whose values show U+FFFD: readers warn
 * about each, so that a value printed with "�" is never taken for what the server holds.
 */
export function warnInvalidUtf8(envelope: Envelope, records: ReadonlyArray<{ account: string; values: readonly string[] }>, warn: (line: string) => void): void {
  if (!(envelope as unknown as Record<symbol, unknown>)[INVALID_UTF8]) return;
  for (const { account, values } of records) {
    if (values.some((v) => v.includes('\ufffd'))) {
      warn(`the server sent bytes that are not UTF-8 for account ${JSON.stringify(printable(account))}: shown as U+FFFD (\ufffd), not what the server holds`);
    }
  }
}

/** An answer that is JSON and an envelope but not of the shape the command documents. */
export function shapeError(command: string, what: string): ApiError {
  return new ApiError(`${command}: unexpected response shape: ${what}`, {
    hint: 'the server is not answering like the Chat REST API: check `endpoint`',
  });
}

/** "an array", "an object", "null", "a number": what a JSON value is, for a message. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Text fit for one line of a terminal: control and bidi-override characters (which could move
 * the cursor, retitle the window or reorder what the user reads) become \u escapes, and anything
 * past `max` characters is cut with "…".
 */
export function printable(text: string, max = MAX_SERVER_TEXT): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

