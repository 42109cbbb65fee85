/**
 * Failure reporting for the job runner: what a person reads on stderr and what a script reads
 * from `--failures FILE`.
 *
 * - stderr gets one bounded block at the end of the run: a line per reason (at most
 *   MAX_REASON_LINES) with its count and its first MAX_LISTED_ACCOUNTS accounts, then
 *   "… and 99,990 more"; 100,000 failed accounts print a handful of lines, never one per batch
 *   (`--verbose` still prints each batch's failures as they happen). An ID that would be
 *   ambiguous in a space-separated list (spaces, quotes, empty) is printed as a JSON string.
 * - `--failures FILE` gets every failed and unsent account as ndjson, streamed:
 *   `{"account":"u1","code":70107,"reason":"70107 account not imported","retriable":false}`;
 *   `--file FILE` reads it back (its `account` field) for a re-run.
 */
import { codeInfo } from '../api/codes.js';
import type { SafeFile } from '../util/safe-file.js';
import { plural } from '../util/text.js';

/** Accounts named per reason on stderr before "… and N more". */
export const MAX_LISTED_ACCOUNTS = 5;

/** Reasons given a line of their own on stderr; the rest are counted on one line. */
export const MAX_REASON_LINES = 10;

/** The reason of an account that was never sent (interrupt, fatal error) in --failures. */
export const NOT_SENT = 'not sent';
/** The reason of an account whose request may have arrived without an answer (not safe to repeat). */
export const MAYBE_SENT = 'may have been sent';
/** The reason of an account whose result could not be printed (stdout failed). */
export const NOT_PRINTED = 'not printed';

/** One line of `--failures`. */
export interface FailureLine {
  account: string;
  /** The API's error code, when the failure came with one. */
  code: number | null;
  reason: string;
  /** Whether the same request may well succeed later (a transient error, or never sent). */
  retriable: boolean;
}

/** An account ID as stderr lists it: bare when unambiguous, else a JSON string. */
export function listedId(id: string): string {
  return id === '' || /[\s"'\\]/.test(id) || /[^\x20-\x7e\u00a0-\uffff]/.test(id) ? JSON.stringify(id) : id;
}

/**
 * The code of a failure: the API's per-account code, or the code at the head of a whole-call
 * reason ("90033 injected"; the engine's reasons start with it); null for network and shape errors.
 */
function codeOf(reason: string, code: number | undefined): number | null {
  if (code !== undefined) return code;
  const match = /^(\d{4,6}) /.exec(reason);
  return match ? Number(match[1]) : null;
}

/**
 * Whether a failure may go away by itself: a code the retry table calls transient (retry,
 * throttle, renew), or a call that failed after its retries without a code (network errors,
 * 5xx). A per-account code (70107 not imported) or a malformed answer is not.
 */
function isRetriable(reason: string, code: number | null): boolean {
  if (code !== null) return ['retry', 'throttle', 'renew'].includes(codeInfo(code).action);
  return /\(after \d+ attempts\)$/.test(reason) || /^HTTP 5\d\d/.test(reason);
}

interface ReasonEntry {
  count: number;
  listed: string[];
}

/** Collects failures: counts and first accounts per reason for stderr, every one for --failures. */
export class FailureReport {
  readonly #byReason = new Map<string, ReasonEntry>();
  readonly #sink: SafeFile | undefined;
  /** --failures as given, when there is one. */
  readonly file: string | undefined;
  /** Lines written to --failures. */
  written = 0;

  constructor(sink: SafeFile | undefined, file?: string) {
    this.#sink = sink;
    this.file = file;
  }

  /** Puts --failures in place (nothing is written when no account failed); idempotent. */
  async commit(): Promise<boolean> {
    return (await this.#sink?.commit()) ?? false;
  }

  /** Failed accounts (reason, and the API's code when it gave one), counted and written out. */
  async failed(failures: ReadonlyArray<{ account: string; reason: string; code?: number | undefined }>): Promise<void> {
    let text = '';
    for (const f of failures) {
      const entry = this.#byReason.get(f.reason) ?? { count: 0, listed: [] };
      entry.count++;
      if (entry.listed.length < MAX_LISTED_ACCOUNTS) entry.listed.push(f.account);
      this.#byReason.set(f.reason, entry);
      if (this.#sink) {
        const code = codeOf(f.reason, f.code);
        text += `${JSON.stringify({ account: f.account, code, reason: f.reason, retriable: isRetriable(f.reason, code) } satisfies FailureLine)}\n`;
      }
    }
    await this.#write(text, failures.length);
  }

  /** Accounts never sent (or not printed): in --failures only; the summary counts them. */
  async unsent(accounts: readonly string[], reason: string = NOT_SENT): Promise<void> {
    if (!this.#sink || accounts.length === 0) return;
    let text = '';
    for (const account of accounts) text += `${JSON.stringify({ account, code: null, reason, retriable: true } satisfies FailureLine)}\n`;
    await this.#write(text, accounts.length);
  }

  /**
   * Accounts whose request may have reached the server without an answer, for an operation not
   * safe to repeat: in --failures with `retriable: false` (a re-run could send twice).
   */
  async maybeSent(accounts: readonly string[], reason: string): Promise<void> {
    if (!this.#sink || accounts.length === 0) return;
    let text = '';
    for (const account of accounts) text += `${JSON.stringify({ account, code: null, reason: `${MAYBE_SENT}: ${reason}`, retriable: false } satisfies FailureLine)}\n`;
    await this.#write(text, accounts.length);
  }

  async #write(text: string, lines: number): Promise<void> {
    if (!this.#sink || text === '') return;
    this.written += lines;
    await this.#sink.write(text);
  }

  /** Failed accounts per reason, in first-seen order. */
  get reasons(): ReadonlyMap<string, number> {
    return new Map([...this.#byReason].map(([reason, e]) => [reason, e.count]));
  }

  /**
   * The stderr block: `failed: 3 accounts (reason): a b c`, one line per reason (the first
   * MAX_REASON_LINES), each naming at most MAX_LISTED_ACCOUNTS accounts.
   */
  lines(): string[] {
    const out: string[] = [];
    const entries = [...this.#byReason];
    for (const [reason, e] of entries.slice(0, MAX_REASON_LINES)) {
      const more = e.count - e.listed.length;
      out.push(`${plural(e.count, 'account')} (${reason}): ${e.listed.map(listedId).join(' ')}${more > 0 ? ` … and ${more.toLocaleString('en-US')} more` : ''}`);
    }
    const rest = entries.slice(MAX_REASON_LINES);
    if (rest.length > 0) {
      const n = rest.reduce((sum, [, e]) => sum + e.count, 0);
      out.push(`${plural(n, 'account')} for ${plural(rest.length, 'other reason')}`);
    }
    return out;
  }

  /** The reasons for an error message: "2 × 90033 injected; 1 × …", bounded like lines(). */
  why(): string {
    const entries = [...this.#byReason];
    const parts = entries.slice(0, MAX_REASON_LINES).map(([reason, e]) => `${e.count.toLocaleString('en-US')} × ${reason}`);
    if (entries.length > MAX_REASON_LINES) parts.push(`${plural(entries.length - MAX_REASON_LINES, 'other reason')}`);
    return parts.join('; ');
  }
}
