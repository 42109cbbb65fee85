/**
 * Hostile servers for the hostile-input tests: a scripted node:http (or node:https) server on
 * 127.0.0.1 port 0 that answers whatever a case scripts and logs what it received, a CONNECT
 * proxy that counts its tunnels, a port that refuses connections, and a self-signed certificate
 * made with openssl. Nothing here reaches beyond loopback.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

/** A recognisable secret key: any output that contains it has leaked it. */
export const LEAK_SECRET_KEY = 'LEAKCANARY-secret-key-0123456789abcdef0123456789abcdef';

export interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Script = (req: http.IncomingMessage, res: http.ServerResponse, received: Received) => void;

export interface ScriptedServer {
  url: string;
  port: number;
  requests: Received[];
  /** The UserSigs the server was sent: none of them may appear in any output. */
  userSigs(): string[];
  close(): Promise<void>;
}

function listen(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Tracks sockets so that close() does not wait for kept-alive or stalled connections. */
function trackSockets(server: net.Server): () => void {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return () => {
    for (const socket of sockets) socket.destroy();
  };
}

/** Starts a scripted server; with `tls` it speaks https with that key and certificate. */
export async function startScripted(script: Script, tls?: { key: Buffer; cert: Buffer }): Promise<ScriptedServer> {
  const requests: Received[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://scripted');
      const received: Received = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(received);
      script(req, res, received);
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
  const destroyAll = trackSockets(server);
  const port = await listen(server);
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    userSigs: () => requests.map((r) => r.query.usersig).filter((s): s is string => s !== undefined),
    close: () =>
      new Promise<void>((resolve) => {
        destroyAll();
        server.close(() => resolve());
      }),
  };
}

/** Answers JSON with status 200. */
export function json(res: http.ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The accounts an im_get_attr request asked for. */
export function requestedAccounts(received: Received): string[] {
  return (JSON.parse(received.body) as { To_Account: string[] }).To_Account;
}

/** A loopback port that refuses connections (it was open a moment ago, and nothing listens now). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Certificate {
  key: Buffer;
  cert: Buffer;
  certPath: string;
}

/**
 * A self-signed certificate for 127.0.0.1 and `names`, made with openssl in `dir`; undefined
 * (with the reason) when openssl is not installed.
 */
export function selfSignedCertificate(dir: string, names: readonly string[]): Certificate | string {
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  const san = ['IP:127.0.0.1', ...names.map((n) => `DNS:${n}`)].join(',');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
        '-subj', '/CN=im-attrs test', '-addext', `subjectAltName=${san}`, '-keyout', keyPath, '-out', certPath],
      { stdio: 'pipe' },
    );
  } catch (error) {
    return `openssl could not make a self-signed certificate (${(error as NodeJS.ErrnoException).code ?? 'failed'}): TLS cases skipped`;
  }
  return { key: readFileSync(keyPath), cert: readFileSync(certPath), certPath };
}

export interface ConnectProxy {
  url: string;
  port: number;
  /** One entry per CONNECT: the requested "host:port" and its Proxy-Authorization header. */
  tunnels: Array<{ target: string; authorization: string | undefined }>;
  /** Plain (non-CONNECT) requests: a proxy must never see an API URL in clear. */
  plainRequests: string[];
  close(): Promise<void>;
}

/**
 * A minimal forward proxy: CONNECT host:port opens a tunnel to 127.0.0.1:port (whatever the host
 * name: no DNS, nothing leaves the machine), or answers `refuse` instead of 200.
 */
export async function startConnectProxy(options: { refuse?: number } = {}): Promise<ConnectProxy> {
  const tunnels: ConnectProxy['tunnels'] = [];
  const plainRequests: string[] = [];
  const server = http.createServer((req, res) => {
    plainRequests.push(req.url ?? '');
    res.writeHead(405).end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push({ target, authorization: req.headers['proxy-authorization'] });
    if (options.refuse !== undefined) {
      client.end(`HTTP/1.1 ${options.refuse} ${http.STATUS_CODES[options.refuse] ?? 'No'}\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const port = Number(target.slice(target.lastIndexOf(':') + 1));
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const destroyAll = trackSockets(server);
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    plainRequests,
    close: () =>
      new Promise<void>((resolve) => {
        destroyAll();
        server.close(() => resolve());
      }),
  };
}
