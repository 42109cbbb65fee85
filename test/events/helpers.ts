/**
 * Runs `push events …` in-process before the lead wires it under `push`: a small program with the
 * root's options that matter here (-v, -q, --debug, --sdkappid, --config) and main.ts's handling
 * of typed errors (message, hint, exit code). Also a real HTTP sender of signed callbacks.
 */
import http from 'node:http';
import { Command, CommanderError } from 'commander';
import { eventsListenRun, newPushEventsCommand, type EventsListenOptions } from '../../src/commands/push-events.js';
import type { EventsListener } from '../../src/events/server.js';
import type { GlobalOptions } from '../../src/runtime/runtime.js';
import { createTestSignals, type Deps } from '../../src/deps.js';
import { ExitCode, ImAttrsError } from '../../src/errors.js';
import { callbackSign, PUSH_CALLBACK_COMMAND } from '../../src/events/sign.js';
import { createTestIO, type TestIO, type TestIOOptions } from '../../src/io.js';
import { Runtime } from '../../src/runtime/runtime.js';

export const TOKEN = 'cb-token-0123456789abcdef';
export const APP = 1400000000;

export interface EventsRunOptions extends TestIOOptions {
  env?: Record<string, string | undefined>;
  cwd: string;
  now?: () => number;
  /** Called once the run has started, with its signals and its Runtime. */
  onStart?: (signals: ReturnType<typeof createTestSignals>, rt: Runtime) => void;
}

export interface EventsRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `im-attrs [global options] events <args>` in-process, errors reported as main.ts does. */
export async function runEvents(args: readonly string[], options: EventsRunOptions, io: TestIO = createTestIO(options)): Promise<EventsRunResult> {
  const signals = createTestSignals();
  const deps: Deps = { io, env: { XDG_CONFIG_HOME: `${options.cwd}/.config`, ...options.env }, cwd: options.cwd, homeDir: options.cwd, now: options.now ?? (() => Date.now()), signals };
  const rt = new Runtime(deps);
  const program = new Command('im-attrs')
    .option('--sdkappid <id>')
    .option('--config <path>')
    .option('-q, --quiet')
    .option('-v, --verbose')
    .option('--debug')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void io.stdout.write(t), writeErr: (t) => void io.stderr.write(rt.secrets.redact(t)) });
  program.hook('preAction', () => rt.setGlobals(program.opts()));
  const events = newPushEventsCommand(rt);
  for (const command of [events, ...events.commands]) command.exitOverride().configureOutput(program.configureOutput());
  program.addCommand(events);
  options.onStart?.(signals, rt);
  let code: number = ExitCode.ok;
  try {
    await program.parseAsync(['node', 'im-attrs', ...args]);
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    else if (error instanceof ImAttrsError) {
      rt.stderr(`im-attrs: ${error.message}`);
      if (error.hint) rt.stderr(`hint: ${error.hint}`);
      code = error.exitCode;
    } else throw error;
  }
  return { code, stdout: io.out(), stderr: io.err() };
}

/** A running `events listen`: its URL, listener, Runtime, and how to stop it. */
export interface RunningListen {
  url: string;
  listener: EventsListener;
  rt: Runtime;
  stop(signal?: 'SIGINT' | 'SIGTERM'): Promise<EventsRunResult>;
  /** Stderr so far. */
  stderr(): string;
}

/**
 * Starts eventsListenRun (what `events listen` runs) on 127.0.0.1 port 0 with these options and
 * globals; resolves once it listens. Errors before that reject.
 */
export async function startListen(
  options: Partial<EventsListenOptions>,
  run: EventsRunOptions & { globals?: GlobalOptions },
): Promise<RunningListen> {
  const io = createTestIO(run);
  const signals = createTestSignals();
  const deps: Deps = { io, env: { XDG_CONFIG_HOME: `${run.cwd}/.config`, ...run.env }, cwd: run.cwd, homeDir: run.cwd, now: run.now ?? (() => Date.now()), signals };
  const rt = new Runtime(deps);
  rt.setGlobals(run.globals ?? {});
  let listening!: (listener: EventsListener) => void;
  const started = new Promise<EventsListener>((resolve) => (listening = resolve));
  const running = eventsListenRun(rt, { host: '127.0.0.1', port: '0', path: '/', maxSkew: '60', ...options }, { onListening: (l) => listening(l) });
  const listener = await Promise.race([started, running.then(() => Promise.reject(new Error(`listen ended early: ${io.err()}`)))]);
  return {
    url: listener.url,
    listener,
    rt,
    stderr: () => io.err(),
    stop: async (signal = 'SIGTERM') => {
      signals.emit(signal);
      await running;
      return { code: 0, stdout: io.out(), stderr: io.err() };
    },
  };
}

/** Gives back the globals `--sdkappid` and the token through the environment, as a user would. */
export function envWithToken(extra: Record<string, string> = {}): Record<string, string> {
  return { IMADMIN_SDKAPPID: String(APP), IMADMIN_CALLBACK_TOKEN: TOKEN, ...extra };
}

/** The doc's sample event (F17/C8), with a batch TaskId. */
export function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    CallbackCommand: PUSH_CALLBACK_COMMAND,
    EventType: 1,
    TaskId: 'batch_695610d8_5f5fe251_200000e87f01f12_cf7963dc_386ba222',
    DataId: 'campaign-7',
    TaskTime: 1557481127,
    EventTime: 1557481128,
    To_Account: 'user2',
    PushPlatform: 1,
    DeviceType: 1,
    PushStage: 1,
    ErrCode: 0,
    ErrInfo: 'OK',
    ...overrides,
  };
}

export interface SendOptions {
  token?: string;
  sdkAppId?: string | number;
  requestTime?: number;
  /** Replaces the computed Sign. */
  sign?: string;
  method?: string;
  path?: string;
  command?: string | null;
  body?: string | Buffer;
  /** Extra query text (…&k=v). */
  extraQuery?: string;
}

export interface Answer {
  status: number;
  body: string;
  json: unknown;
}

/** The callback URL Tencent would call for this listener base and options. */
export function callbackUrl(base: string, options: SendOptions = {}): string {
  const time = String(options.requestTime ?? Math.floor(Date.now() / 1000));
  const sign = options.sign ?? callbackSign(options.token ?? TOKEN, time);
  const url = new URL(options.path ?? '/', base);
  url.searchParams.set('SdkAppid', String(options.sdkAppId ?? APP));
  if (options.command !== null) url.searchParams.set('CallbackCommand', options.command ?? PUSH_CALLBACK_COMMAND);
  url.searchParams.set('contenttype', 'json');
  url.searchParams.set('Sign', sign);
  url.searchParams.set('RequestTime', time);
  return url.toString() + (options.extraQuery ?? '');
}

/** Sends one callback over real HTTP (a fresh connection each time) and reads the answer. */
export function sendCallback(base: string, events: unknown[] | undefined, options: SendOptions = {}): Promise<Answer> {
  const body = options.body ?? JSON.stringify({ Events: events });
  return request(callbackUrl(base, options), options.method ?? 'POST', body);
}

/** One HTTP request with `body`; resolves with the status and body. */
export function request(url: string, method: string, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
