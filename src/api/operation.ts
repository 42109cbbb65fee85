/**
 * An API operation as data: which URL path it posts to, how many accounts one call may carry,
 * how to build its body and how to read its answer into per-account results and failures,
 * whether a failed call may be sent again, and the error codes its page documents.
 *
 * This is the "table of endpoints, one generic path" of ../shared/STYLE.md: octokit generates
 * every method from one route table (`@octokit/plugin-rest-endpoint-methods`), the AWS SDK v3
 * sends small `Command` objects through one `client.send()`. Here `ImClient.call(operation,
 * input)` sends any operation, and the job runner (src/jobs/runner.ts) splits, paces, retries and
 * reports any batch operation. Adding an endpoint is adding a descriptor to a family table
 * (families.ts), not a function, a command and a runner of its own.
 */
import { codeInfo, UNKNOWN_MEANING } from './codes.js';
import type { Envelope } from './envelope.js';

/** The two REST API families that serve push targeting (PUSH-FAMILY.md sections 1 and 3). */
export const API_FAMILIES = ['all_member_push', 'timpush'] as const;
export type ApiFamily = (typeof API_FAMILIES)[number];

/** The family a run uses when nothing says otherwise: the API this tool was made for. */
export const DEFAULT_API_FAMILY: ApiFamily = 'all_member_push';

/** Parses an `api` value. */
export function parseApiFamily(text: string): ApiFamily | undefined {
  return (API_FAMILIES as readonly string[]).includes(text) ? (text as ApiFamily) : undefined;
}

/** What a reader needs besides the envelope: a way to make server text fit for a message. */
export interface ReadContext {
  /** Redacts secrets and neutralises control characters in server-supplied text. */
  clean(text: string): string;
  /** A `--debug` line (already redacted by the client). */
  trace(line: string): void;
  /** A warning for the user (redacted by the client), e.g. a value that came as invalid UTF-8. */
  warn(line: string): void;
}

/** What a descriptor says about its endpoint, for single and batch operations alike. */
export interface Endpoint {
  /** The family whose URL prefix the path carries. */
  readonly family: ApiFamily;
  /** `v4/all_member_push/im_get_attr`: the URL path after the domain, without a leading slash. */
  readonly path: string;
  /** The last segment of the path (`im_get_attr`), used in messages. */
  readonly command: string;
  /**
   * Whether the same request may be sent again after a failure that may have reached the server
   * (timeout, reset, 5xx). True for reads and for writes that set a value (idempotent); false for
   * anything that creates something each time (a push). Rate-limit answers and connections that
   * never opened are retried either way: the server did nothing. A failure that may have reached
   * the server ends a `retrySafe: false` call as "may have been sent", never as "failed".
   */
  readonly retrySafe: boolean;
  /** Whether the call changes data on the server (writes can be previewed with --dry-run). */
  readonly writes: boolean;
  /** Error codes the endpoint's page documents, beyond the public 60000-79999 set (for tests and docs). */
  readonly codes: readonly number[];
  /**
   * Calls per second the endpoint's page documents: the pacing a run starts from and never
   * exceeds (`--rate` and the `rate` setting may only ask for less).
   */
  readonly callsPerSecond: number;
}

/** Any single call: path, body, answer. */
export interface Operation<In, Out> extends Endpoint {
  body(input: In): object;
  /** Reads a successful envelope (ErrorCode 0). Throws ApiError for an answer of the wrong shape. */
  read(envelope: Envelope, input: In, ctx: ReadContext): Out;
}

/** One item of a call the server did not serve, by its position in the call, and why. */
export interface ItemFailure {
  /** Index of the item in the call's items. */
  index: number;
  reason: string;
  /** The API's code for this item (an ErrorList entry), when it gave one. */
  code?: number | undefined;
}

/**
 * What one call of a batch operation came to: the results to print (reads) or keep (a push's
 * TaskId), and the items that failed, by index. Every item not named in `failures` is done.
 */
export interface BatchOutcome<R> {
  results: R[];
  failures: ItemFailure[];
}

/** How a run's messages speak of what an operation does to an item. */
export interface Wording {
  /** Past participle for an item that succeeded: "returned", "updated", "sent". */
  readonly done: string;
  /** What an item is, singular: "account" (the default), "task". */
  readonly noun?: string;
}

/**
 * An operation over a list of items, split by the runner into calls of at most `maxItems`. The
 * row is the whole endpoint: its limits (`maxItems`, `callsPerSecond`) bound and default the
 * run's `--batch-size` and `--rate`; request-level parameters (`P`: a push's message) travel once
 * per call in `body(items, params)`; the reader names failed items by index; `wording` is how
 * the summary speaks of it.
 */
export interface BatchOperation<I, R, P = void> extends Endpoint {
  /** Most items one call may carry (the endpoint's documented limit). */
  readonly maxItems: number;
  readonly wording: Wording;
  /** The account an item is about: for failure reports and --save-failed. */
  accountOf(item: I): string;
  /**
   * The body element of one item (`{"To_Account":"a","Attrs":{…}}`), for write operations: what
   * --dry-run prints per account, and what --save-failed keeps so the same command re-runs it.
   */
  itemBody?(item: I): object;
  /**
   * Per-item caps below the per-call account limit (e.g. at most 10 tags per user in one add
   * call): splits one item into several that each fit, in order. The runner sends the parts in
   * successive calls.
   */
  split?(item: I): I[];
  /** The body of one call: its items, and the run's request-level parameters. */
  body(items: readonly I[], params: P): object;
  /** Reads a successful envelope. Throws ApiError for an answer of the wrong shape. */
  read(envelope: Envelope, items: readonly I[], ctx: ReadContext, params: P): BatchOutcome<R>;
  /**
   * A composite: an operation whose one call is several requests over the same accounts (the
   * attributes and the tags of a batch, for `get --tags` and `audience`). The runner sends it with
   * `send` instead of `callBatch`; `send` calls `onSent` once its first request is on the wire.
   * Each further request to another endpoint acquires a turn of that endpoint's own pacer
   * (`options.pace`). The batch is retried whole when it throws (reads only).
   */
  send?(caller: OperationCaller, items: readonly I[], options: SendOptions): Promise<BatchOutcome<R>>;
}

/** What sends an operation: ImClient (kept structural here, so this module imports no client). */
export interface OperationCaller {
  call<In, Out>(op: Operation<In, Out>, input: In, options?: OperationCallOptions): Promise<Out>;
  callBatch<I, R, P>(op: BatchOperation<I, R, P>, items: readonly I[], params: P, options?: OperationCallOptions): Promise<BatchOutcome<R>>;
}

/** One request's options: cancel it, and hear when its body is on the wire. */
export interface OperationCallOptions {
  signal?: AbortSignal | undefined;
  /** Why the request is made, when not for the command's own work (see client.ts CallOptions). */
  purpose?: string | undefined;
  onSent?: (() => void) | undefined;
}

/** What a composite `send` gets from the runner. */
export interface SendOptions {
  signal: AbortSignal;
  /** Call once the first request is on the wire (the pacer counts the batch's first turn from then). */
  onSent: () => void;
  /** A turn of `endpoint`'s pacer, for a request to another endpoint than the batch's own: call what it returns when that request is sent. */
  pace(endpoint: Endpoint, signal?: AbortSignal): Promise<() => void>;
}

/** The command of an API path, as messages name it: `v4/all_member_push/im_get_attr` → `im_get_attr`. */
export function commandOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Defines an operation, deriving `command` from the path. */
export function operation<In, Out>(spec: Omit<Operation<In, Out>, 'command'>): Operation<In, Out> {
  return { ...spec, command: commandOf(spec.path) };
}

/** Defines a batch operation, deriving `command` from the path. */
export function batchOperation<I, R, P = void>(spec: Omit<BatchOperation<I, R, P>, 'command'>): BatchOperation<I, R, P> {
  return { ...spec, command: commandOf(spec.path) };
}

/** What a write's summary says of an item that succeeded. */
export const UPDATED: Wording = { done: 'updated' };
/** What a read's summary says of an item that came back. */
export const RETURNED: Wording = { done: 'returned' };

/** Defines a batch write: its answer read by writeOutcome (the ErrorList, by account). */
export function batchWrite<I>(spec: Omit<BatchOperation<I, never>, 'command' | 'writes' | 'read' | 'wording'> & { wording?: Wording }): BatchOperation<I, never> {
  return batchOperation<I, never>({
    wording: UPDATED,
    ...spec,
    writes: true,
    read: (envelope, items, ctx) => writeOutcome(envelope, items, spec.accountOf, ctx),
  });
}

/**
 * Failures by index from failures by account: `failed(account)` is asked once per item, in
 * order. Within a call the accounts are distinct (the input is deduplicated; split parts of one
 * account never share a call), so an account names exactly one item.
 */
export function failuresByAccount<I>(
  items: readonly I[],
  accountOf: (item: I) => string,
  failed: (account: string) => { reason: string; code?: number | undefined } | undefined,
): ItemFailure[] {
  const failures: ItemFailure[] = [];
  for (let index = 0; index < items.length; index++) {
    const failure = failed(accountOf(items[index]!));
    if (failure) failures.push({ index, reason: failure.reason, code: failure.code });
  }
  return failures;
}
/**
 * The `ErrorList` of a partially successful answer (the TIMPush family: 70107 account not
 * imported, 90035 another account type): account → code and reason. Entries that are not
 * objects with a string `To_Account` are ignored; the first entry for an account wins.
 */
export function errorListReasons(errorList: unknown, clean: (text: string) => string): Map<string, { code: number | undefined; reason: string }> {
  const reasons = new Map<string, { code: number | undefined; reason: string }>();
  if (!Array.isArray(errorList)) return reasons;
  for (const entry of errorList as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { To_Account: account, ErrorCode: rawCode, ErrorInfo: info } = entry as Record<string, unknown>;
    if (typeof account !== 'string' || reasons.has(account)) continue;
    const code = typeof rawCode === 'number' && Number.isSafeInteger(rawCode) ? rawCode : undefined;
    // A documented code gets the plain meaning from the table (the same words whatever the
    // server's ErrorInfo says: "70107 account not imported"); any other code the server's text.
    const meaning = code === undefined ? undefined : codeInfo(code).meaning;
    const known = meaning !== UNKNOWN_MEANING ? meaning : undefined;
    const text = known ?? (typeof info === 'string' && info ? clean(info) : (meaning ?? ''));
    reasons.set(account, { code, reason: `${code ?? 'error'}${text ? ` ${text}` : ''}` });
  }
  return reasons;
}

/**
 * The failures of a write call that succeeded as a whole: the accounts its `ErrorList` names
 * (TIMPush), every other item of the call being done. all_member_push never sends an
 * ErrorList, so there every item of a successful call is done.
 */
export function writeOutcome<I>(envelope: Envelope, items: readonly I[], accountOf: (item: I) => string, ctx: ReadContext): BatchOutcome<never> {
  const reasons = errorListReasons(envelope.ErrorList, ctx.clean);
  if (reasons.size === 0) return { results: [], failures: [] };
  return { results: [], failures: failuresByAccount(items, accountOf, (account) => reasons.get(account)) };
}
