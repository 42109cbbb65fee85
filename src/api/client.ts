/**
 * The REST client: one POST per call, the envelope of ../shared/reference/API.md section 1, and a
 * typed error for everything that is not `ActionStatus: "OK"` with `ErrorCode: 0`.
 * It makes exactly one attempt per call: retries, pacing and back-off live in `policy.ts` and the
 * batch engine, so that every attempt is visible to the pacer. It never prints; debug lines go to
 * the `debug` callback with the UserSig redacted.
 */
import { randomInt } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Got } from 'got';
import { ApiError, NetworkError } from '../errors.js';
import { redactUrl } from '../redact.js';

/** Path prefix of the push-attribute commands (API.md section 2). */
export const SERVICE_PATH = 'v4/all_member_push';

/** Tencent's backend gives up after 3 s; ours must wait longer (API.md section 1). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** A response larger than this is refused instead of buffered: a batch of 100 accounts is ~100 KB. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** `random` is a fresh unsigned 32-bit integer per request (API.md section 1). */
const RANDOM_LIMIT = 2 ** 32;

/** Network error codes after which the region's backup domain is worth trying. */
const DNS_OR_CONNECT = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Where the UserSig comes from: a fixed one, or one signed (and re-signed) from the secret key. */
export interface Credentials {
  /** The UserSig to send now. */
  current(): string;
  /** The server said the UserSig expired: make a new one. False when that is not possible. */
  renew(): boolean;
}

/** A fixed UserSig from config: it cannot be renewed. */
export function staticCredentials(userSig: string): Credentials {
  return { current: () => userSig, renew: () => false };
}

export interface ClientOptions {
  /** `https://adminapisgp.im.qcloud.com` or an endpoint override, without trailing slash. */
  baseUrl: string;
  /** The region's backup domain, tried once the primary fails to resolve or connect. */
  backupBaseUrl?: string | undefined;
  sdkAppId: number;
  identifier: string;
  credentials: Credentials;
  timeoutMs?: number | undefined;
  userAgent: string;
  /** Sockets kept per host; should cover the engine's concurrency. */
  maxSockets?: number | undefined;
  /** Extra CA certificates (PEM) for private CAs. */
  ca?: string | Buffer | undefined;
  /** Per-request trace lines (`--debug`), UserSig already redacted. */
  debug?: ((line: string) => void) | undefined;
  /** One-off notices for the user (switching to the backup domain). */
  notice?: ((line: string) => void) | undefined;
}

/** The parsed envelope; command-specific fields stay on it. */
export interface Envelope {
  ActionStatus: string;
  ErrorCode: number;
  ErrorInfo: string;
  [field: string]: unknown;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Called once the request body is on the wire (the pacer counts from then). */
  onSent?: (() => void) | undefined;
}

export class ImClient {
  readonly options: ClientOptions;
  private baseUrl: string;
  private got: Got | undefined;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private switchedToBackup = false;

  constructor(options: ClientOptions) {
    this.options = options;
    this.baseUrl = options.baseUrl;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.agents = {
      http: new http.Agent(agentOptions),
      https: new https.Agent({ ...agentOptions, ca: options.ca }),
    };
  }

  /** Closes kept-alive sockets so the process can exit. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** The full URL of a command, UserSig included: never print it, use `redactUrl`. */
  url(command: string): string {
    const query = new URLSearchParams({
      sdkappid: String(this.options.sdkAppId),
      identifier: this.options.identifier,
      usersig: this.options.credentials.current(),
      random: String(randomInt(0, RANDOM_LIMIT)),
      contenttype: 'json',
    });
    return `${this.baseUrl}/${SERVICE_PATH}/${command}?${query.toString()}`;
  }

  private async gotInstance(): Promise<Got> {
    // got is loaded on first use so that `--help` and `--version` stay fast.
    this.got ??= (await import('got')).default;
    return this.got;
  }

  /**
   * One POST of `body` to `command`. Resolves with the envelope when it says OK; rejects with
   * ApiError (error envelope, HTTP status, not JSON, wrong shape) or NetworkError.
   */
  async call(command: string, body: object, options: CallOptions = {}): Promise<Envelope> {
    try {
      return await this.attempt(command, body, options);
    } catch (error) {
      if (
        error instanceof NetworkError &&
        error.netCode !== undefined &&
        DNS_OR_CONNECT.has(error.netCode) &&
        this.options.backupBaseUrl !== undefined &&
        !this.switchedToBackup
      ) {
        this.switchedToBackup = true;
        this.baseUrl = this.options.backupBaseUrl;
        this.options.notice?.(`${new URL(this.options.baseUrl).host} is unreachable (${error.netCode}); using the backup domain ${new URL(this.baseUrl).host}`);
        return await this.attempt(command, body, options);
      }
      throw error;
    }
  }

  private async attempt(command: string, body: object, options: CallOptions): Promise<Envelope> {
    const got = await this.gotInstance();
    const url = this.url(command);
    const started = Date.now();
    const payload = JSON.stringify(body);
    let status: number;
    let text: string;
    try {
      const request = got.post(url, {
        body: payload,
        headers: { 'content-type': 'application/json', 'user-agent': this.options.userAgent },
        timeout: { request: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS },
        retry: { limit: 0 },
        followRedirect: false,
        throwHttpErrors: false,
        responseType: 'text',
        agent: this.agents,
        https: this.options.ca === undefined ? {} : { certificateAuthority: this.options.ca },
        signal: options.signal,
      });
      if (options.onSent) {
        const onSent = options.onSent;
        request.on('uploadProgress', (progress: { percent: number }) => {
          if (progress.percent === 1) onSent();
        });
      }
      request.on('downloadProgress', (progress: { transferred: number }) => {
        if (progress.transferred > MAX_RESPONSE_BYTES) request.cancel('response too large');
      });
      const response = await request;
      status = response.statusCode;
      text = response.body;
    } catch (error) {
      const err = error as Error & { code?: string; name?: string; isCanceled?: boolean };
      const elapsed = Date.now() - started;
      if (err.name === 'CancelError' && !options.signal?.aborted) {
        this.trace(url, command, `refused: response over ${MAX_RESPONSE_BYTES} bytes`, elapsed);
        throw new ApiError(`${command}: the response is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MB; refused`, {
          hint: 'is `endpoint` really the Chat REST API?',
        });
      }
      const netCode = options.signal?.aborted ? 'ABORTED' : err.code;
      this.trace(url, command, `network error ${netCode ?? err.name}`, elapsed);
      const host = new URL(this.baseUrl).host;
      throw new NetworkError(`${command}: ${describeNetworkError(netCode, err)} (${host})`, {
        netCode,
        hint: `check that ${host} is reachable from here (network, proxy, firewall), or set \`region\`/\`endpoint\``,
      });
    }
    const elapsed = Date.now() - started;
    if (status !== 200) {
      this.trace(url, command, `HTTP ${status}`, elapsed);
      const hint =
        status >= 300 && status < 400
          ? 'the endpoint redirects; im-attrs does not follow redirects with the UserSig attached: set `endpoint` to the final address'
          : status === 404
            ? 'check `endpoint`: it must be the API origin, e.g. https://adminapisgp.im.qcloud.com'
            : undefined;
      throw new ApiError(`${command}: HTTP ${status} from the server`, { status, hint });
    }
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch {
      this.trace(url, command, 'body is not JSON', elapsed);
      const looksHtml = /^\s*</.test(text);
      throw new ApiError(`${command}: the response is not JSON${looksHtml ? ' (an HTML page)' : ''}`, {
        hint: looksHtml ? 'a proxy or captive portal may be answering instead of the API: check `endpoint`' : undefined,
      });
    }
    const checked = checkEnvelope(command, envelope);
    this.trace(url, command, `${checked.ActionStatus} ${checked.ErrorCode}`, elapsed);
    if (checked.ActionStatus !== 'OK' || checked.ErrorCode !== 0) {
      const info = checked.ErrorInfo ?? '';
      throw new ApiError(`${command}: error ${checked.ErrorCode}${info ? `: ${info}` : ''}`, {
        apiCode: checked.ErrorCode === 0 ? undefined : checked.ErrorCode,
        errorInfo: info,
      });
    }
    return checked;
  }

  private trace(url: string, command: string, outcome: string, elapsedMs: number): void {
    this.options.debug?.(`POST ${redactUrl(url)} (${command}) → ${outcome} in ${elapsedMs} ms`);
  }
}

/** Validates the envelope's shape; tolerates unknown fields (RequestId and the like). */
function checkEnvelope(command: string, value: unknown): Envelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(`${command}: the response is JSON but not an API envelope`);
  }
  const v = value as Record<string, unknown>;
  if (typeof v.ActionStatus !== 'string') {
    throw new ApiError(`${command}: the response has no ActionStatus`);
  }
  const code = v.ErrorCode === undefined ? 0 : v.ErrorCode;
  if (typeof code !== 'number' || !Number.isInteger(code)) {
    throw new ApiError(`${command}: the response's ErrorCode is not an integer`);
  }
  if (v.ActionStatus !== 'OK' && code === 0) {
    // FAIL without a code: keep the failure, with a code no table entry claims.
    return { ...v, ActionStatus: v.ActionStatus, ErrorCode: -1, ErrorInfo: typeof v.ErrorInfo === 'string' ? v.ErrorInfo : '' };
  }
  return { ...v, ActionStatus: v.ActionStatus, ErrorCode: code, ErrorInfo: typeof v.ErrorInfo === 'string' ? v.ErrorInfo : '' };
}

function describeNetworkError(code: string | undefined, err: Error): string {
  switch (code) {
    case 'ABORTED':
      return 'request aborted';
    case 'ETIMEDOUT':
      return 'no answer before the timeout';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve (DNS)';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS certificate rejected (${code}); use --ca <file> for a private CA`;
    default:
      // got's messages embed the URL (and so the UserSig): never pass them through unredacted.
      return code ? `network error ${code}` : redactUrl(err.message);
  }
}
