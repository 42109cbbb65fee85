/**
 * The push-result callback listener: a node:http server that checks every request (method, path,
 * Sign, RequestTime, SdkAppid, size, body) and appends the events of the good ones to a sink,
 * answering Tencent's `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}` (EN/67551) only once
 * they are durable. Anything else gets an error status and `"ActionStatus":"FAIL"`, and nothing is
 * written: 401 for authentication (Sign, RequestTime, SdkAppid), 400 for a body that is not a
 * callback, 413 too large, 405 not POST, 404 another path, 500 when the events could not be
 * written (Tencent sends them again), 503 once stopping. `GET /healthz` answers 200.
 *
 * It prints nothing itself: `onRequest` hears one line per request and `onWriteError` each failed
 * write, for the command to print (redacted) on stderr.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEventsBody } from './events.js';
import { SinkWriteError, type EventSink } from './appender.js';
import { checkSdkAppId, checkSignature, PUSH_CALLBACK_COMMAND } from './sign.js';

/**
 * The largest body accepted: 100 events of a few hundred bytes each are some 30 KB; 1 MiB leaves
 * room for long account IDs and fields Tencent may add, and bounds what one request can make us hold.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The health check's path (for a load balancer or a tunnel's probe). */
export const HEALTH_PATH = '/healthz';

/**
 * How long a request may take to arrive whole. Tencent gives up after two seconds (DELIVERY.md §5:
 * the webhook timeout is "two seconds"); a client that trickles a body for longer is not Tencent.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * How long a stop waits for the requests under way before it cuts their connections: longer
 * than Tencent's two-second timeout (after which it has given up on them anyway) plus a sync.
 */
export const STOP_GRACE_MS = 10_000;

/** Why a request was refused: the keys of ListenerStats.refused. */
export type RefusalReason =
  | 'missing-sign'
  | 'bad-sign'
  | 'bad-time'
  | 'stale-time'
  | 'wrong-app'
  | 'wrong-command'
  | 'malformed'
  | 'too-large'
  | 'method'
  | 'path'
  | 'write-failed'
  | 'stopping';

/** What each refusal reason is, in the exit summary's words. */
export const REFUSAL_WORDS: Readonly<Record<RefusalReason, string>> = {
  'missing-sign': 'without Sign',
  'bad-sign': 'bad Sign',
  'bad-time': 'bad RequestTime',
  'stale-time': 'RequestTime out of the window',
  'wrong-app': 'another SdkAppid',
  'wrong-command': 'another CallbackCommand',
  malformed: 'malformed body',
  'too-large': 'too large',
  method: 'not POST',
  path: 'another path',
  'write-failed': 'write failed',
  stopping: 'while stopping',
};

export interface ListenerOptions {
  host: string;
  port: number;
  /** The callback path ("/"); any other path is 404. */
  path: string;
  /** The callback token (never printed). */
  token: string;
  /** The app's SDKAppID: a callback for another is refused. */
  sdkAppId: number;
  maxSkewSeconds: number;
  sink: EventSink;
  /** Milliseconds since the epoch (injected clock: RequestTime is checked against it). */
  now: () => number;
  /** One line per request: status, events, reason, milliseconds. */
  onRequest?: (line: string) => void;
  /** A failed write, in words. */
  onWriteError?: (message: string) => void;
  maxBodyBytes?: number;
}

export interface ListenerStats {
  requests: number;
  /** Requests answered OK. */
  accepted: number;
  eventsWritten: number;
  refused: Map<RefusalReason, number>;
}

export interface EventsListener {
  /** http://host:port/path */
  readonly url: string;
  readonly port: number;
  readonly stats: ListenerStats;
  /** Group commits (write + sync) of the sink so far: requests per commit is the batching. */
  readonly commits: number;
  /** Stops accepting, answers the requests under way, waits for their writes, closes the sink. */
  close(): Promise<void>;
}

/** Tencent's success answer (EN/67551). */
const OK_BODY = JSON.stringify({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0 });

/** Tencent's "callback error" code (EN/67551: "1 means callback error"). */
const CALLBACK_ERROR_CODE = 1;

/** Starts the listener; resolves once it listens (port 0: any free port). */
export async function startEventsListener(options: ListenerOptions): Promise<EventsListener> {
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const stats: ListenerStats = { requests: 0, accepted: 0, eventsWritten: 0, refused: new Map() };
  let stopping = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const started = options.now();
    stats.requests++;
    inFlight++;
    let done = false;
    const finish = (status: number, body: string, events: number, reason?: RefusalReason, detail?: string): void => {
      if (done) return;
      done = true;
      if (reason) stats.refused.set(reason, (stats.refused.get(reason) ?? 0) + 1);
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };
      // Once stopping, or after a body left unread, the connection is not kept for another request.
      if (stopping || reason === 'too-large') headers.connection = 'close';
      if (reason === 'method') headers.allow = 'POST';
      res.writeHead(status, headers);
      res.end(body);
      options.onRequest?.(`${req.method ?? '?'} ${status}${events ? ` ${events} event${events === 1 ? '' : 's'}` : ''}${detail ? `: ${detail}` : ''} (${options.now() - started} ms)`);
      inFlight--;
      if (inFlight === 0) idle?.();
    };
    const refuse = (status: number, reason: RefusalReason, detail: string): void => {
      finish(status, JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: CALLBACK_ERROR_CODE, ErrorInfo: detail }), 0, reason, detail);
    };
    // A connection that breaks before the answer: nothing acknowledged, the count still drops.
    res.on('close', () => {
      if (!done) {
        done = true;
        inFlight--;
        if (inFlight === 0) idle?.();
      }
    });

    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://listener');
    } catch {
      refuse(400, 'malformed', 'the request target is not a URL');
      return;
    }
    if (url.pathname === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      finish(200, JSON.stringify({ ok: true }), 0);
      return;
    }
    if (url.pathname !== options.path) return refuse(404, 'path', `no callback at ${url.pathname.slice(0, 100)}`);
    if (req.method !== 'POST') return refuse(405, 'method', `${(req.method ?? '').slice(0, 10)} is not POST`);
    if (stopping) return refuse(503, 'stopping', 'the listener is stopping; send it again');
    // Authentication before the body is read: an unsigned sender gets nothing buffered.
    const signature = checkSignature(url.searchParams, options.token, options.now(), options.maxSkewSeconds);
    if (!signature.ok) return refuse(401, signature.problem!, signature.detail);
    const app = checkSdkAppId(url.searchParams, options.sdkAppId);
    if (!app.ok) return refuse(401, 'wrong-app', app.detail);
    const command = url.searchParams.get('CallbackCommand');
    if (command !== null && command !== PUSH_CALLBACK_COMMAND) {
      return refuse(400, 'wrong-command', `CallbackCommand ${JSON.stringify(command.slice(0, 60))} is not ${PUSH_CALLBACK_COMMAND}`);
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBody) return refuse(413, 'too-large', `the body is ${declared} bytes; at most ${maxBody}`);

    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBody) {
        refuse(413, 'too-large', `the body is over ${maxBody} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (done) return;
      const parsed = parseEventsBody(Buffer.concat(chunks));
      if (!parsed.ok) return refuse(400, 'malformed', parsed.detail);
      let text = '';
      for (const event of parsed.events) text += `${JSON.stringify(event)}\n`;
      options.sink.append(text).then(
        () => {
          stats.accepted++;
          stats.eventsWritten += parsed.events.length;
          finish(200, OK_BODY, parsed.events.length);
        },
        (error: unknown) => {
          const why = error instanceof SinkWriteError ? error.message : String(error);
          options.onWriteError?.(`${parsed.events.length} events not written, answered 500 (Tencent sends them again): ${why}`);
          refuse(500, 'write-failed', 'the events could not be written; send them again');
        },
      );
    });
  };

  const server = http.createServer(handle);
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostInUrl}:${port}${options.path}`,
    port,
    stats,
    get commits() {
      return options.sink.commits;
    },
    close() {
      closing ??= (async () => {
        stopping = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Idle keep-alive connections go now; busy ones once their answer is out (Connection: close).
        server.closeIdleConnections();
        if (inFlight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            idle = resolve;
            timer = setTimeout(() => {
              // A sender that never finishes its body must not hold the stop forever.
              server.closeAllConnections();
              resolve();
            }, STOP_GRACE_MS);
          });
          clearTimeout(timer);
        }
        server.closeIdleConnections();
        await closed;
        await options.sink.close();
      })();
      return closing;
    },
  };
}

