/**
 * The retry policy: which failures are worth another attempt, how long to wait, and which ones
 * end the whole run. One table (codes.ts) and one function here; the engine asks, never decides.
 * Back-off is exponential with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"); base and cap are options so tests run in milliseconds.
 */
import { ApiError, AuthError, ConfigError, ImAttrsError, NetworkError } from '../errors.js';
import { codeInfo, type CodeAction } from './codes.js';

/** Attempts after the first (`--retries`). */
export const DEFAULT_RETRIES = 5;
/** First back-off ceiling (`--retry-delay`, ms). */
export const DEFAULT_RETRY_BASE_MS = 250;
/** Largest back-off (`--retry-max-delay`, ms). */
export const DEFAULT_RETRY_CAP_MS = 8_000;

export interface RetryOptions {
  retries: number;
  baseMs: number;
  capMs: number;
  /** Random in [0, 1); injectable for tests. */
  random?: () => number;
}

/** What to do about one failed attempt. */
export interface Verdict {
  action: CodeAction;
  /**
   * The server cannot have acted on the request: the connection never opened, or the server
   * answered that it refused it (rate limit). Such a failure is retried even for an operation
   * that is not safe to repeat.
   */
  notSent?: boolean;
  /** The server answered with an error code: it refused the request and did nothing with it. */
  refused?: boolean;
  /** Short reason for summaries and --save-failed reports: "91000 internal service error". */
  reason: string;
}

/** Classifies a failed attempt. */
export function classify(error: unknown): Verdict {
  if (error instanceof NetworkError) {
    if (error.netCode === 'ABORTED') return { action: 'fatal', reason: 'aborted' };
    if (error.netCode?.startsWith('ERR_TLS') || /CERT|SELF_SIGNED/.test(error.netCode ?? '')) {
      return { action: 'config', reason: error.message };
    }
    return { action: 'retry', reason: withoutCommand(error.message), notSent: error.netCode !== undefined && NOT_SENT.has(error.netCode) };
  }
  if (error instanceof ApiError) {
    if (error.apiCode !== undefined) {
      const info = codeInfo(error.apiCode);
      return { action: info.action, reason: `${error.apiCode} ${error.errorInfo || info.meaning}`, notSent: info.action === 'throttle', refused: true };
    }
    if (error.status !== undefined) {
      if (error.status >= 500) return { action: 'retry', reason: `HTTP ${error.status}` };
      if (error.status === 429) return { action: 'throttle', reason: 'HTTP 429', notSent: true };
      // A redirect or a 4xx from whatever answered: the request was turned away, not served.
      return { action: 'fatal', reason: `HTTP ${error.status}`, refused: true };
    }
    // Not JSON, not an envelope: a proxy hiccup or a truncated body. Worth another try.
    return { action: 'retry', reason: withoutCommand(error.message) };
  }
  return { action: 'fatal', reason: error instanceof Error ? error.message : String(error) };
}

/**
 * Whether another attempt is allowed after `attempt` failures (1-based) with this verdict. An
 * operation that is not safe to repeat (a push) is retried only when the server cannot have
 * acted on the failed attempt.
 */
export function shouldRetry(verdict: Verdict, attempt: number, options: RetryOptions, retrySafe = true): boolean {
  if (!retrySafe && !verdict.notSent) return false;
  return (verdict.action === 'retry' || verdict.action === 'throttle') && attempt <= options.retries;
}

/**
 * Whether a failed request may have been acted on by the server: it got no answer that says it
 * was refused (a timeout, a reset, a 5xx, an unreadable body) and it did not fail before leaving.
 * A `retrySafe: false` call that fails this way is "may have been sent", never retried.
 */
export function mayHaveArrived(verdict: Verdict): boolean {
  return !verdict.notSent && !verdict.refused;
}

/** Network errors raised before the request could reach the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Full-jitter delay before retry number `attempt` (1-based): random in [0, min(cap, base·2^(attempt-1))]. */
export function backoffMs(attempt: number, options: RetryOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** (attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/**
 * The error that ends a run after a verdict of auth/config/fatal: typed, with the table's hint
 * (or, when a freshly signed UserSig was refused as expired, one about the clock).
 */
export function toRunError(error: unknown, verdict: Verdict, options: { renewed?: boolean } = {}): ImAttrsError {
  const code = error instanceof ApiError ? error.apiCode : undefined;
  let hint = code !== undefined ? codeInfo(code).hint : error instanceof ImAttrsError ? error.hint : undefined;
  if (verdict.action === 'renew' && options.renewed) {
    // A UserSig signed a moment ago and already "expired": the clocks disagree.
    hint = "the server rejected a freshly signed UserSig too: check this machine's clock (and that `secretKey` belongs to this app)";
  }
  const message = error instanceof Error ? error.message : String(error);
  switch (verdict.action) {
    case 'auth':
    case 'renew':
      return new AuthError(message, { hint, apiCode: code });
    case 'config':
      return new ConfigError(message, { hint });
    default:
      // An API error keeps its code and text, and gets the table's hint when it had none.
      if (error instanceof ApiError && !error.hint && hint) return new ApiError(message, { hint, apiCode: error.apiCode, errorInfo: error.errorInfo, status: error.status });
      return error instanceof ImAttrsError ? error : new ApiError(message, { hint });
  }
}

/** "im_get_attr: the connection was reset (host)" → what went wrong, without the command. */
function withoutCommand(message: string): string {
  return message.replace(/^[a-z_]+: /, '');
}
