/**
 * The REST client: one POST per call (`call(operation, input)`: any descriptor of operation.ts),
 * the envelope of ../shared/reference/API.md section 1, and a typed error for everything whose
 * `ErrorCode` is not 0 (envelope.ts: success is decided on the code alone).
 * It makes exactly one attempt per call (two when the primary domain is unreachable and the
 * region has a backup): retries, pacing and back-off live in `policy.ts` and the batch engine, so
 * that every attempt is visible to the pacer. It never prints; debug lines go to the `debug`
 * callback with the UserSig redacted.
 *
 * What it will not do, whatever the server or the network says: follow a redirect (the UserSig
 * is in the URL), talk plain http:// to anything but loopback, skip certificate verification
 * (NODE_TLS_REJECT_UNAUTHORIZED included), buffer a response over MAX_RESPONSE_BYTES, or put
 * server-supplied text into a message without redacting the UserSig and neutralising control
 * characters.
 */
import { isUtf8 } from 'node:buffer';
import { randomInt } from 'node:crypto';
import type http from 'node:http';
import type https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Got } from 'got';
import { ApiError, ConfigError, NetworkError } from '../errors.js';
import { Secrets } from '../redact.js';
import { isLoopbackHost } from '../util/net.js';
import { markInvalidUtf8, MAX_SERVER_TEXT, parseEnvelope, printable, type Envelope } from './envelope.js';
import { commandOf, type BatchOperation, type BatchOutcome, type Operation, type ReadContext } from './operation.js';
import { createProxyAgent, describeProxy, proxySettings, usesProxy, type ProxySettings } from './proxy.js';

/** Tencent's backend gives up after 3 s; ours must wait longer (API.md section 1). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** A response larger than this is refused instead of buffered: a batch of 100 accounts is ~100 KB. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;


/** `random` is a fresh unsigned 32-bit integer per request (API.md section 1). */
const RANDOM_LIMIT = 2 ** 32;

/** Network error codes after which the region's backup domain is worth trying. */
const DNS_OR_CONNECT = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Node's codes for a certificate that does not verify. */
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

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
  /** Extra CA certificates (PEM) for private CAs: they replace the built-in ones. */
  ca?: string | Buffer | undefined;
  /** The environment to read HTTPS_PROXY / NO_PROXY from (runtime deps.env); no proxy when absent. */
  proxyEnv?: Readonly<Record<string, string | undefined>> | undefined;
  /** Host name resolution, as net.connect's `lookup`: tests inject one that never leaves the machine. */
  lookup?: LookupFunction | undefined;
  /** Per-request trace lines (`--debug`), UserSig already redacted. */
  debug?: ((line: string) => void) | undefined;
  /** Other secrets (the secret key, a UserSig given by the user) to redact from server-supplied text. */
  secrets?: Secrets | undefined;
  /** One-off notices for the user (switching to the backup domain). */
  notice?: ((line: string) => void) | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /**
   * Why the request is made, when it is not the command's own work: `before-state` for the reads
   * a write journals before it sends (sent as the X-Im-Attrs-Purpose header, which the API
   * ignores and the emulator logs).
   */
  purpose?: string | undefined;
  /** Called once the request body is on the wire (the pacer counts from then). */
  onSent?: (() => void) | undefined;
}

/** What came back from one POST, before it is judged. */
interface RawAnswer {
  status: number;
  text: string;
  /** The body was not valid UTF-8: its bad bytes read as U+FFFD. */
  invalidUtf8: boolean;
  location: string | undefined;
}

/** The header naming a request's purpose, when it has one. */
function purposeHeader(options: CallOptions): Record<string, string> {
  return options.purpose === undefined ? {} : { 'x-im-attrs-purpose': options.purpose };
}

/** A body as text; bytes that are not UTF-8 become U+FFFD, and the answer says so. */
function decodeBody(bytes: Buffer): { text: string; invalidUtf8: boolean } {
  return { text: bytes.toString('utf8'), invalidUtf8: !isUtf8(bytes) };
}

/** Network errors that came from the proxy rather than the API host: no backup domain for them. */
const proxyFailures = new WeakSet<Error>();

/** Refuses a base URL that would send the UserSig in clear text off this machine. */
function checkBaseUrl(baseUrl: string): void {
  const url = new URL(baseUrl);
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
  throw new ConfigError(`${url.protocol}//${url.host} is not an https:// address on another machine or an http:// one on this machine`, {
    hint: 'the UserSig travels in the URL: use https://, or http:// only for 127.0.0.1/localhost (the emulator)',
  });
}

export class ImClient {
  readonly options: ClientOptions;
  private baseUrl: string;
  private got: Got | undefined;
  private agents: { https: https.Agent; proxy: https.Agent | undefined } | undefined;
  private plain: { http: typeof http; agent: http.Agent } | undefined;
  private readonly proxy: ProxySettings | undefined;
  private switchedToBackup = false;
  /** Every UserSig sent so far (one, or a few after renewals): redacted, in part too, from server-supplied text. */
  private readonly sentSigs = new Secrets();

  /** Throws ConfigError for a plain-http non-loopback base URL or an unusable HTTPS_PROXY. */
  constructor(options: ClientOptions) {
    this.options = options;
    checkBaseUrl(options.baseUrl);
    if (options.backupBaseUrl !== undefined) checkBaseUrl(options.backupBaseUrl);
    this.baseUrl = options.baseUrl;
    // Plain http (loopback only) never goes through a proxy, so a proxy setting it would not use
    // must not stop it either.
    const anyHttps = [options.baseUrl, options.backupBaseUrl].some((u) => u?.startsWith('https:'));
    this.proxy = options.proxyEnv && anyHttps ? proxySettings(options.proxyEnv) : undefined;
  }

  /**
   * got and the keep-alive agents (TLS, proxy tunnel), made on the first https request: got loads
   * node:tls, node:https and http2-wrapper as it is imported, which costs more start-up time than
   * everything `--help` needs and is never used for a plain-http loopback endpoint.
   */
  private async transport(): Promise<{ got: Got; agents: NonNullable<ImClient['agents']> }> {
    if (!this.got || !this.agents) {
      const [{ default: got }, https] = await Promise.all([import('got'), import('node:https')]);
      const agentOptions = { keepAlive: true, maxSockets: this.options.maxSockets ?? 100 };
      const proxy = this.proxy ? await createProxyAgent(this.proxy, { ...agentOptions, ca: this.options.ca }) : undefined;
      // Another call may have got here first while this one awaited the imports.
      if (!this.got || !this.agents) {
        this.got = got;
        this.agents = {
          https: new https.Agent({ ...agentOptions, ca: this.options.ca, rejectUnauthorized: true }),
          proxy,
        };
      } else {
        proxy?.destroy();
      }
    }
    return { got: this.got, agents: this.agents };
  }

  /** node:http and its keep-alive agent, for plain http (loopback only: checkBaseUrl). */
  private async plainTransport(): Promise<{ http: typeof http; agent: http.Agent }> {
    if (!this.plain) {
      const { default: nodeHttp } = await import('node:http');
      this.plain ??= { http: nodeHttp, agent: new nodeHttp.Agent({ keepAlive: true, maxSockets: this.options.maxSockets ?? 100 }) };
    }
    return this.plain;
  }

  /** Closes kept-alive sockets so the process can exit. */
  close(): void {
    this.plain?.agent.destroy();
    this.agents?.https.destroy();
    this.agents?.proxy?.destroy();
  }

  /** The full URL of an API path (`v4/all_member_push/im_get_attr`), UserSig included: never print it, use `redactUrl`. */
  url(apiPath: string, baseUrl = this.baseUrl): string {
    const userSig = this.options.credentials.current();
    this.sentSigs.add(userSig);
    const query = new URLSearchParams({
      sdkappid: String(this.options.sdkAppId),
      identifier: this.options.identifier,
      usersig: userSig,
      random: String(randomInt(0, RANDOM_LIMIT)),
      contenttype: 'json',
    });
    return `${baseUrl}/${apiPath}?${query.toString()}`;
  }

  /** The text with `usersig=` values and every UserSig this client has sent replaced. */
  redact(text: string): string {
    const out = this.sentSigs.redact(text);
    return this.options.secrets ? this.options.secrets.redact(out) : out;
  }

  /**
   * Server-supplied text made fit for a message: redacted (whole, before it is cut, so that a
   * cut never leaves a piece of a secret too short to recognise), control characters escaped, cut short.
   */
  serverText(text: string, max = MAX_SERVER_TEXT): string {
    return printable(this.redact(text), max);
  }

  /** A trace line for `--debug` (redacted), from code that parses this client's responses. */
  trace(line: string): void {
    if (this.options.debug) this.options.debug(this.redact(line));
  }

  /** Whether requests to this base URL go through the HTTPS_PROXY. */
  private proxied(baseUrl: string): boolean {
    return usesProxy(this.proxy, new URL(baseUrl));
  }

  /**
   * One POST of `body` to `apiPath`. Resolves with the envelope when it says OK; rejects with
   * ApiError (error envelope, HTTP status, not JSON, wrong shape), NetworkError, or ConfigError
   * (a proxy that wants credentials). When the primary domain does not resolve or refuses the
   * connection, the same request goes once to the backup domain, which then serves every later
   * call; the switch is announced once through `notice`.
   */
  async post(apiPath: string, body: object, options: CallOptions = {}): Promise<Envelope> {
    const base = this.baseUrl;
    try {
      return await this.attempt(base, apiPath, body, options);
    } catch (error) {
      const backup = this.options.backupBaseUrl;
      if (
        backup === undefined ||
        base !== this.options.baseUrl ||
        !(error instanceof NetworkError) ||
        error.netCode === undefined ||
        !DNS_OR_CONNECT.has(error.netCode) ||
        proxyFailures.has(error) ||
        options.signal?.aborted
      ) {
        throw error;
      }
      if (!this.switchedToBackup) {
        this.switchedToBackup = true;
        this.baseUrl = backup;
        const what = error.netCode === 'ENOTFOUND' || error.netCode === 'EAI_AGAIN' ? 'does not resolve' : 'is unreachable';
        this.options.notice?.(`${new URL(base).host} ${what} (${error.netCode}); using the backup domain ${new URL(backup).host} from now on`);
      }
      return await this.attempt(backup, apiPath, body, options);
    }
  }

  /**
   * Sends one operation (operation.ts): its body for `input`, its reader over the answer. The
   * one generic path every endpoint takes; which endpoint is data.
   */
  async call<In, Out>(op: Operation<In, Out>, input: In, options: CallOptions = {}): Promise<Out> {
    const envelope = await this.post(op.path, op.body(input), options);
    return op.read(envelope, input, this.readContext);
  }

  /** Sends one call of a batch operation: its items and the run's request-level parameters. */
  async callBatch<I, R, P>(op: BatchOperation<I, R, P>, items: readonly I[], params: P, options: CallOptions = {}): Promise<BatchOutcome<R>> {
    const envelope = await this.post(op.path, op.body(items, params), options);
    return op.read(envelope, items, this.readContext, params);
  }

  /** What readers get: server text made fit for a message, and `--debug` traces. */
  private readonly readContext: ReadContext = {
    clean: (text) => this.serverText(text),
    trace: (line) => this.trace(line),
    warn: (line) => this.options.notice?.(this.redact(line)),
  };

  private async attempt(baseUrl: string, apiPath: string, body: object, options: CallOptions): Promise<Envelope> {
    const command = commandOf(apiPath);
    const url = this.url(apiPath, baseUrl);
    const host = new URL(baseUrl).host;
    const viaProxy = this.proxied(baseUrl);
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = Date.now();
    const payload = JSON.stringify(body);
    let status: number;
    let text: string;
    let invalidUtf8: boolean;
    let location: string | undefined;
    const cap = { tooLarge: false };
    // With --debug, each trace line says when the body left (ms, UTC), to line it up with a
    // server's own log: the bench reads the emulator's dating delay from it.
    let sentAt: number | undefined;
    const onSent = (): void => {
      sentAt = Date.now();
      options.onSent?.();
    };
    const call = this.options.debug ? { ...options, onSent } : options;
    const traceRequest = (outcome: string, elapsedMs: number): void => {
      // Built only with --debug: without it, this is every request of a run.
      if (this.options.debug) this.trace(`POST ${url} (${command})${sentAt === undefined ? '' : ` sent ${new Date(sentAt).toISOString()}`} → ${outcome} in ${elapsedMs} ms`);
    };
    try {
      ({ status, text, invalidUtf8, location } = baseUrl.startsWith('http:')
        ? await this.sendPlain(url, payload, timeoutMs, call, cap)
        : await this.sendGot(url, payload, timeoutMs, viaProxy, call, cap));
    } catch (error) {
      const err = error as Error & { code?: string };
      const elapsed = Date.now() - started;
      if (cap.tooLarge && !options.signal?.aborted) {
        traceRequest(`refused: response over ${MAX_RESPONSE_BYTES} bytes`, elapsed);
        throw new ApiError(`${command}: the response is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MB; refused (${host})`, {
          hint: 'is `endpoint` really the Chat REST API?',
        });
      }
      const netCode = options.signal?.aborted ? 'ABORTED' : err.code;
      traceRequest(`network error ${netCode ?? err.name}: ${this.serverText(err.message)}`, elapsed);
      throw this.networkError(command, host, netCode, err, viaProxy, timeoutMs);
    }
    const elapsed = Date.now() - started;
    if (status !== 200) {
      traceRequest(`HTTP ${status}${location === undefined ? '' : ` to ${this.serverText(location)}`}`, elapsed);
      throw httpError(command, host, status, location === undefined ? undefined : redirectTarget(location, url));
    }
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(command, text);
    } catch (error) {
      const what = (error as Error).message.replace(`${command}: `, '');
      traceRequest(`${what}; body starts "${this.serverText(text, 120)}"`, elapsed);
      throw error;
    }
    traceRequest(`${envelope.ActionStatus} ${envelope.ErrorCode}${invalidUtf8 ? ' (not valid UTF-8)' : ''}`, elapsed);
    if (invalidUtf8) markInvalidUtf8(envelope);
    if (envelope.ErrorCode !== 0) {
      const info = this.serverText(envelope.ErrorInfo);
      throw new ApiError(`${command}: error ${envelope.ErrorCode}${info ? `: ${info}` : ''}`, {
        apiCode: envelope.ErrorCode,
        errorInfo: info,
      });
    }
    return envelope;
  }

  /** One POST through got (https: TLS, the proxy tunnel, a private CA). */
  private async sendGot(
    url: string,
    payload: string,
    timeoutMs: number,
    viaProxy: boolean,
    options: CallOptions,
    cap: { tooLarge: boolean },
  ): Promise<RawAnswer> {
    const { got, agents } = await this.transport();
    const request = got.post(url, {
      body: payload,
      headers: { 'content-type': 'application/json', 'user-agent': this.options.userAgent, ...purposeHeader(options) },
      timeout: { request: timeoutMs },
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      // No gzip: a batch is a few kilobytes, and got stops reporting download progress once the
      // inflated size passes the compressed Content-Length, so a small gzip body could inflate
      // without bound behind the cap's back.
      decompress: false,
      // Bytes, decoded here: so that a body that is not valid UTF-8 is noticed (decodeBody).
      responseType: 'buffer',
      agent: { https: viaProxy ? agents.proxy! : agents.https },
      https: { rejectUnauthorized: true, ...(this.options.ca === undefined ? {} : { certificateAuthority: this.options.ca }) },
      ...(this.options.lookup ? { dnsLookup: this.options.lookup } : {}),
      signal: options.signal,
    });
    if (options.onSent) {
      const onSent = options.onSent;
      request.on('uploadProgress', (progress: { percent: number }) => {
        if (progress.percent === 1) onSent();
      });
    }
    // got's own 'response' event comes only once the body is in: watch the native request's.
    request.on('request', (native: http.ClientRequest) => {
      native.once('response', (response: http.IncomingMessage) => {
        if (Number(response.headers['content-length']) > MAX_RESPONSE_BYTES) {
          cap.tooLarge = true;
          request.cancel('response too large');
        }
      });
    });
    request.on('downloadProgress', (progress: { transferred: number }) => {
      if (progress.transferred > MAX_RESPONSE_BYTES) {
        cap.tooLarge = true;
        request.cancel('response too large');
      }
    });
    const response = await request;
    // A body with a Content-Encoding (never asked for) stays a Buffer: read it as it is.
    const raw: unknown = response.body;
    const header = response.headers.location;
    return {
      status: response.statusCode,
      ...decodeBody(typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.alloc(0)),
      location: Array.isArray(header) ? header[0] : header,
    };
  }

  /**
   * One POST over node:http, for plain http (only ever loopback: the emulator, a local gateway).
   * The same contract as sendGot, without its per-request option merging, hooks and progress
   * events: the unpaced benchmark spent a third of its CPU in got and Node's HTTP code. No
   * redirect is followed (node:http never does), no gzip is asked for, the answer is capped.
   * got was measured first (get of 1,000,000 IDs unpaced on loopback, two runs each, alternated,
   * /usr/bin/time): as configured in sendGot 12.8-15.2 CPU-s; its leanest form (no hooks, no
   * progress listeners, a keep-alive agent, text body, no retry, redirect or gzip) 12.7-13.9;
   * this path 7.3-7.8. The issue's target is 8 CPU-s for that run: no got configuration is near.
   */
  private async sendPlain(url: string, payload: string, timeoutMs: number, options: CallOptions, cap: { tooLarge: boolean }): Promise<RawAnswer> {
    const { http: nodeHttp, agent } = await this.plainTransport();
    return new Promise<RawAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const req = nodeHttp.request(url, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': this.options.userAgent, ...purposeHeader(options) },
        ...(this.options.lookup ? { lookup: this.options.lookup } : {}),
        signal: options.signal,
      });
      // got's timeout.request: the whole exchange, connection to last byte.
      const timer = setTimeout(() => fail(Object.assign(new Error(`Timeout awaiting 'request' for ${timeoutMs}ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      req.once('error', fail);
      req.once('response', (response) => {
        const header = response.headers.location;
        const location = Array.isArray(header) ? header[0] : header;
        if (Number(response.headers['content-length']) > MAX_RESPONSE_BYTES) {
          cap.tooLarge = true;
          return fail(new Error('response too large'));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            cap.tooLarge = true;
            fail(new Error('response too large'));
          } else chunks.push(chunk);
        });
        response.once('error', fail);
        response.once('aborted', () => fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
        response.once('end', () => {
          if (settled) return;
          if (!response.complete) return fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
          settled = true;
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, ...decodeBody(Buffer.concat(chunks, size)), location });
        });
      });
      req.end(payload, options.onSent);
    });
  }

  /** The typed error for a request that got no (complete) answer. */
  private networkError(
    command: string,
    host: string,
    netCode: string | undefined,
    err: Error,
    viaProxy: boolean,
    timeoutMs: number,
  ): NetworkError | ConfigError {
    const proxy = this.proxy;
    if (viaProxy && proxy) {
      const where = `the proxy ${describeProxy(proxy)} (${proxy.variable})`;
      // hpagent rejects a CONNECT that is not answered 200 with "Bad response: <status>".
      const refused = /^Bad response: (\d+)/.exec(err.message);
      if (refused) {
        const proxyStatus = Number(refused[1]);
        if (proxyStatus === 407) {
          return new ConfigError(`${command}: ${where} wants credentials (HTTP 407)`, {
            hint: `give them in ${proxy.variable}: http://user:password@host:port`,
          });
        }
        const failure = new NetworkError(`${command}: ${where} could not open a tunnel to ${host} (HTTP ${proxyStatus})`, {
          netCode: 'EPROXY',
          hint: `check that the proxy allows ${host}, or add it to NO_PROXY to connect directly`,
        });
        proxyFailures.add(failure);
        return failure;
      }
      if (netCode !== undefined && DNS_OR_CONNECT.has(netCode)) {
        const failure = new NetworkError(`${command}: cannot connect to ${where}: ${describeNetworkError(netCode, err, timeoutMs, this)}`, {
          netCode,
          hint: `check ${proxy.variable}, or unset it (or list ${host} in NO_PROXY) to connect directly`,
        });
        proxyFailures.add(failure);
        return failure;
      }
    }
    if (netCode !== undefined && CERT_CODES.has(netCode)) {
      const what =
        netCode === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? 'is for another host name'
          : netCode === 'CERT_HAS_EXPIRED'
            ? 'has expired'
            : netCode === 'CERT_NOT_YET_VALID'
              ? 'is not valid yet'
              : 'is not signed by a trusted CA';
      return new NetworkError(`${command}: the TLS certificate of ${host} ${what} (${netCode})`, {
        netCode,
        hint:
          netCode === 'ERR_TLS_CERT_ALTNAME_INVALID'
            ? 'check `endpoint`: the server answering is not the one named there'
            : 'for a private CA or a TLS-inspecting proxy, pass its CA certificate with --ca <file> (or NODE_EXTRA_CA_CERTS); im-attrs never skips verification',
      });
    }
    return new NetworkError(`${command}: ${describeNetworkError(netCode, err, timeoutMs, this)} (${host})`, {
      netCode,
      hint: `check that ${host} is reachable from here (network, proxy, firewall), or set \`region\`/\`endpoint\``,
    });
  }
}

/** An HTTP status other than 200 as an ApiError; the policy retries 5xx and 429. */
function httpError(command: string, host: string, status: number, redirect: string | undefined): ApiError {
  if (status >= 300 && status < 400) {
    return new ApiError(`${command}: HTTP ${status} redirect${redirect ? ` to ${redirect}` : ''} from ${host}, not followed`, {
      status,
      hint: 'im-attrs does not follow redirects with the UserSig attached: set `endpoint` to the address that answers',
    });
  }
  const hint =
    status === 404
      ? 'check `endpoint`: it must be the API origin, e.g. https://adminapisgp.im.qcloud.com'
      : status === 401 || status === 403 || status === 407
        ? `something in front of the API refused the request: check \`endpoint\` and any gateway or proxy on the way to ${host}`
        : status >= 400 && status < 500 && status !== 429
          ? 'check `endpoint`: the Chat REST API answers 200 even to bad requests, so this is something else'
          : undefined;
  return new ApiError(`${command}: HTTP ${status} from ${host}`, { status, hint });
}

/** Where a redirect points, as an origin only: its query may carry the UserSig. */
function redirectTarget(location: string, requestUrl: string): string | undefined {
  try {
    const target = new URL(location, requestUrl);
    return printable(`${target.protocol}//${target.host}`);
  } catch {
    return undefined;
  }
}

function describeNetworkError(code: string | undefined, err: Error, timeoutMs: number, client: ImClient): string {
  switch (code) {
    case 'ABORTED':
      return 'request aborted';
    case 'ETIMEDOUT':
      return `no complete answer within ${timeoutMs / 1000} s`;
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return 'the connection closed before the response was complete';
    case 'EPIPE':
      return 'the connection closed while the request was being sent';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${code})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve (DNS)';
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `the TLS handshake failed (${code}): is it an https:// server?`;
    default:
      // got's messages embed the URL (and so the UserSig): never pass them through unredacted.
      return code ? `network error ${code}` : client.serverText(err.message);
  }
}
