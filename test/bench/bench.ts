/**
 * `npm run bench`: measures the CLI against the emulator (or, for the client's own cost, a
 * loopback server that answers at once), each in its own process, the way a user runs them, and
 * prints the tables (also written to test/bench/RESULTS.md).
 *
 * Every figure is a ratio taken in this run, so that a slower or busier machine moves both sides:
 * - paced runs: the steady-state rate, from the emulator's own log of accepted calls, leaving out
 *   the first and last second (100 calls fit in the first second for free): 100 calls over the
 *   median time the server took to accept 100 consecutive calls, as a share of the limit; calls rejected for rate; how late
 *   the emulator itself dated the calls (its log against the client's `--debug` send times) and, for each rejected call,
 *   whether the client had sent more than 100 calls in the second up to it; peak RSS;
 *   1. get 200,000 IDs, 60 ± 30 ms after the limiter (three runs, alternated with 2);
 *   2. the same with the jitter before the limiter (100 ± 50 ms in, 100 ± 50 ms out: 200 ± 100; three runs);
 *   3. set of 100,000 records, 60 ± 30 ms;
 *   4. 10,000 IDs at 200 ± 100 ms, default vs --concurrency 100 (wall time ratio, alternated);
 * - the limit shared: get of 30,000 IDs from an emulator allowing 50 calls/s, and get of 200,000
 *   IDs while another client (a loopback load generator here) takes 40 calls/s of the same
 *   endpoint from 10 s in: our calls rejected for rate, the steady rate against what is left;
 * - unpaced (`--rate 0`) against an instant loopback server: CPU seconds per 100,000 accounts and
 *   peak RSS at 100,000, 1,000,000 and 10,000,000 distinct IDs;
 * - cold start: each command and bare `node -e 0` in turn, 11 pairs: the median of the ratios.
 *
 * Not part of `npm test`: it takes several minutes and its figures depend on the machine.
 * BENCH_QUICK=1 leaves out the 10,000,000-ID run.
 */
import { SEED_CITIES } from '../../src/emulator/state.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '../../src/usersig.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin/im-attrs.js');
const rssHook = path.join(root, 'dist/test/bench/rss-hook.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'im-attrs-bench-'));
const secretKey = randomBytes(32).toString('hex');
const keyFile = path.join(work, 'key');
writeFileSync(keyFile, secretKey, { mode: 0o600 });
const quick = process.env.BENCH_QUICK === '1';
/** BENCH_ONLY=shared runs only the shared-limit cases and prints them (RESULTS.md is left alone). */
const only = process.env.BENCH_ONLY;

/** The documented limit: 100 calls/s (API.md section 2). */
const LIMIT = 100;

/** Runs of each get case at the limit. */
const GET_RUNS = 3;

interface Emu {
  url: string;
  child: ChildProcess;
}

async function startEmulator(args: string[]): Promise<Emu> {
  const child = spawn(process.execPath, [bin, 'emulator', '--secret-key-file', keyFile, '--quiet', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.trim());
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return { url, child };
}

async function stopEmulator(emu: Emu): Promise<void> {
  const exited = new Promise((resolve) => emu.child.once('exit', resolve));
  emu.child.kill('SIGTERM');
  await exited;
}

interface Logged {
  command: string;
  receivedAt: number;
  heldInMs?: number;
  outcome: string;
  query: { random?: string };
}

async function emulatorLog(emu: Emu): Promise<Logged[]> {
  const response = await fetch(`${emu.url}/_emulator/requests`);
  return (await response.json()) as Logged[];
}

/**
 * A server that answers every im_get_attr at once with two attributes per account: the floor
 * under the client's own cost (the emulator would add its UserSig checks to the machine's load).
 */
async function startInstantServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { To_Account?: string[] };
      const userAttrs = (body.To_Account ?? []).map((account) => ({ To_Account: account, Attrs: { sex: 'F', city: 'Paris' } }));
      const text = JSON.stringify(req.url?.includes('im_get_attr_name') ? { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AttrNames: { 0: 'sex', 1: 'city' } } : { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', UserAttrs: userAttrs });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function writeLines(file: string, count: number, line: (i: number) => string): Promise<string> {
  const out = createWriteStream(file);
  let chunk = '';
  for (let i = 1; i <= count; i++) {
    chunk += line(i);
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return file;
}

const idsFile = (count: number): Promise<string> => writeLines(path.join(work, `ids-${count}.txt`), count, (i) => `user${String(i).padStart(6, '0')}\n`);

interface RunFigures {
  seconds: number;
  lines: number;
  peakRssMb: number;
  cpuSeconds: number;
  code: number | null;
}

/** Runs the CLI with `input` on stdin, counts output lines, reads its peak RSS and CPU time. */
async function runCli(url: string, input: string, args: string[], stderrFile?: string, extraEnv: Record<string, string> = {}): Promise<RunFigures> {
  const rssFile = path.join(work, `rss-${Date.now()}-${Math.random()}`);
  const stderr = stderrFile === undefined ? 'inherit' : openSync(stderrFile, 'w');
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', rssHook, bin, ...args], {
    stdio: ['pipe', 'pipe', stderr],
    env: {
      ...process.env,
      IMADMIN_ENDPOINT: url,
      IMADMIN_SDKAPPID: '1400000000',
      IMADMIN_IDENTIFIER: 'administrator',
      IMADMIN_SECRET_KEY: secretKey,
      IMADMIN_CONFIG: undefined,
      // The write journals of the bench's runs stay in its work folder.
      XDG_STATE_HOME: path.join(work, 'state'),
      BENCH_RSS_FILE: rssFile,
      ...extraEnv,
    },
  });
  // A command that does not read its stdin (apply) closes it early: that is not the bench's error.
  child.stdin!.on('error', () => undefined);
  createReadStream(input).pipe(child.stdin!);
  let lines = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (typeof stderr === 'number') closeSync(stderr);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usage = JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRSS: number; user: number; system: number };
  return { seconds, lines, peakRssMb: usage.maxRSS / 1024, cpuSeconds: (usage.user + usage.system) / 1e6, code };
}

const getArgs = (extra: string[] = []): string[] => ['get', '--output', 'ndjson', '--quiet', ...extra];

/**
 * The steady-state rate of `command`: `per` calls (the limit) over the median time the server took
 * to accept `per` consecutive calls, leaving out the first and the last second of the log (and
 * what lies outside `from`..`to`). A count
 * of calls over a span would flatter a client that sends in bursts (a whole burst more or less
 * fits in any span); the span of 100 calls is what the limiter itself measures.
 */
function steadyRate(log: Logged[], command: string, per = LIMIT, from = -Infinity, to = Infinity): { rate: number; rejected: number; firstSecond: number } {
  const calls = log.filter((r) => r.command === command);
  const ok = calls.filter((r) => r.outcome === '0').map((r) => r.receivedAt).sort((a, b) => a - b);
  const t0 = Math.max(ok[0]! + 1000, from);
  const t1 = Math.min(ok[ok.length - 1]! - 1000, to);
  const spans: number[] = [];
  for (let i = 0; i + per < ok.length; i++) {
    if (ok[i]! >= t0 && ok[i + per]! <= t1) spans.push(ok[i + per]! - ok[i]!);
  }
  return {
    rate: (1000 * per) / median(spans),
    rejected: calls.filter((r) => r.outcome === '60007').length,
    firstSecond: ok.filter((t) => t - t0 < 1000).length,
  };
}

/**
 * From the emulator's log joined with the client's `--debug` lines (on `random`; one line per
 * attempt, retries included):
 * - `p99` and `max`: how long after a call left the client the emulator dated it, less any delay
 *   it adds on the way in on purpose (--latency-in, `heldInMs`): its own lateness, on the same two
 *   cores as the client;
 * - `spacing`, for each call rejected for rate: how much more than a second after the 100th call
 *   of the same command before it (by when they left) it left. Above 0, the client had sent at most
 *   100 of those calls in the second up to it, and the rejection came from the time between leaving
 *   and being dated; 0 or less would be the client's own doing. `undefined` for a call among the
 *   first 100.
 */
function datingDelays(log: Logged[], command: string, trace: string): { p99: number; max: number; spacing: Array<number | undefined> } {
  const sentAt = new Map<string, number>();
  for (const match of trace.matchAll(/&random=(\d+)&[^\n]*\((\w+)\) sent (\S+) →/g)) {
    if (match[2] === command) sentAt.set(match[1]!, Date.parse(match[3]!));
  }
  const order = [...sentAt.entries()].sort((a, b) => a[1] - b[1]).map(([random]) => random);
  const position = new Map(order.map((random, i) => [random, i]));
  const calls = log.filter((r) => r.command === command && sentAt.has(r.query.random ?? ''));
  const sent = (random: string): number => sentAt.get(random)!;
  const delays = calls.map((r) => r.receivedAt - (r.heldInMs ?? 0) - sent(r.query.random!)).sort((a, b) => a - b);
  const spacing = calls
    .filter((r) => r.outcome === '60007')
    .map((r) => {
      const at = position.get(r.query.random!)!;
      return at < LIMIT ? undefined : sent(r.query.random!) - sent(order[at - LIMIT]!) - 1000;
    });
  return { p99: delays[Math.floor(delays.length * 0.99)] ?? 0, max: delays.at(-1) ?? 0, spacing };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeRun(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: 'ignore', env });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * `args` and bare `node -e 0` in turn, `runs` pairs: the median time of `args` and the median of
 * the pairs' ratios, so that the machine's speed drifting during the runs moves both sides.
 */
function coldStart(args: string[], env: NodeJS.ProcessEnv = process.env, runs = 11): { ms: number; bareMs: number; ratio: number } {
  const times: number[] = [];
  const bare: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(timeRun(['-e', '0'], process.env));
    times.push(timeRun(args, env));
    ratios.push(times.at(-1)! / bare.at(-1)!);
  }
  return { ms: median(times), bareMs: median(bare), ratio: median(ratios) };
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function loadNote(): string {
  const [one, five] = os.loadavg();
  return `load average ${fmt(one!, 1)} (1 min), ${fmt(five!, 1)} (5 min)`;
}

/**
 * Another client of the same app: `rate` im_get_attr calls a second to the same emulator, evenly
 * spaced, never backing off (a nightly job that knows nothing of this run). Returns the `random`
 * of each of its calls, to tell them apart in the emulator's log.
 */
function loadGenerator(url: string, rate: number): { stop: () => Promise<Set<string>> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const usersig = generate({ sdkAppId: '1400000000', identifier: 'administrator', secretKey, expireSeconds: 3600 });
  const randoms = new Set<string>();
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  let stopped = false;
  const send = (): void => {
    const random = String(randomBytes(4).readUInt32BE(0));
    randoms.add(random);
    const target = `${url}/v4/all_member_push/im_get_attr?sdkappid=1400000000&identifier=administrator&usersig=${usersig}&random=${random}&contenttype=json`;
    const call = new Promise<void>((resolve) => {
      const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', () => resolve());
      req.end('{"To_Account":["user000001"]}');
    });
    pending.add(call);
    void call.then(() => pending.delete(call));
  };
  // A schedule, not an interval: a timer that fires late does not lower the rate.
  const tick = (): void => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - started) * rate) / 1000) + 1;
    while (sent < due) {
      send();
      sent++;
    }
    setTimeout(tick, Math.max(1, ((sent * 1000) / rate) - (performance.now() - started)));
  };
  tick();
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(pending);
      agent.destroy();
      return randoms;
    },
  };
}

/**
 * The limit is the app's, not the run's: the emulator allows less than the client's ceiling
 * (100 calls/s), or another client takes part of it. Each row: our calls rejected for rate, as a
 * share of ours; the steady rate reached, against what the server left us.
 */
async function sharedCases(ids200k: string): Promise<string[][]> {
  const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
  const rows: string[][] = [];
  // 1. The emulator allows 50 calls/s: get of 30,000 accounts (300 calls).
  log('get 30,000 IDs, the emulator allowing 50 calls/s …');
  const ids30k = await idsFile(30_000);
  {
    const emu = await startEmulator(['--seed-users', '30000', '--rate-limit', '50', '--latency', '60', '--jitter', '30']);
    const run = await runCli(emu.url, ids30k, getArgs());
    const emuLog = await emulatorLog(emu);
    await stopEmulator(emu);
    const steady = steadyRate(emuLog, 'im_get_attr', 50);
    const ours = emuLog.filter((r) => r.command === 'im_get_attr');
    rows.push([
      'get 30,000 IDs, the emulator allowing 50 calls/s, 60 ± 30 ms',
      `${fmt(run.seconds, 1)} s`,
      `${fmt(steady.rate, 1)} calls/s`,
      `${fmt((100 * steady.rate) / 50, 1)} % of 50`,
      `${fmt(steady.rejected)} of ${fmt(ours.length)} (${fmt((100 * steady.rejected) / ours.length, 1)} %)`,
      `${fmt(run.lines)} of 30,000 (exit ${run.code})`,
    ]);
  }
  // 1b. The emulator allows 20 calls/s: get of 10,000 accounts (100 calls), the summary's line.
  log('get 10,000 IDs, the emulator allowing 20 calls/s …');
  {
    const ids10k = await idsFile(10_000);
    const emu = await startEmulator(['--seed-users', '10000', '--rate-limit', '20', '--latency', '60', '--jitter', '30']);
    const stderrFile = path.join(work, 'allow20.txt');
    const run = await runCli(emu.url, ids10k, ['get', '--output', 'ndjson'], stderrFile);
    const emuLog = await emulatorLog(emu);
    await stopEmulator(emu);
    const steady = steadyRate(emuLog, 'im_get_attr', 20);
    const ours = emuLog.filter((r) => r.command === 'im_get_attr');
    const said = /the server allowed about (\d+) calls\/s/.exec(readFileSync(stderrFile, 'utf8'))?.[0] ?? 'no line about the rate allowed';
    rows.push([
      `get 10,000 IDs, the emulator allowing 20 calls/s, 60 ± 30 ms (the summary: "${said}")`,
      `${fmt(run.seconds, 1)} s`,
      `${fmt(steady.rate, 1)} calls/s`,
      `${fmt((100 * steady.rate) / 20, 1)} % of 20`,
      `${fmt(steady.rejected)} of ${fmt(ours.length)} (${fmt((100 * steady.rejected) / ours.length, 1)} %)`,
      `${fmt(run.lines)} of 10,000 (exit ${run.code})`,
    ]);
  }
  // 2. The emulator allows 100 calls/s; 10 s into a get of 200,000 accounts another client starts
  // taking 40 calls/s of the same endpoint.
  log('get 200,000 IDs, another client taking 40 calls/s from 10 s …');
  {
    const emu = await startEmulator(['--seed-users', '200000', '--rate-limit', String(LIMIT), '--latency', '60', '--jitter', '30']);
    let other: ReturnType<typeof loadGenerator> | undefined;
    const timer = setTimeout(() => (other = loadGenerator(emu.url, 40)), 10_000);
    const run = await runCli(emu.url, ids200k, getArgs());
    clearTimeout(timer);
    const theirs = (await other?.stop()) ?? new Set<string>();
    const emuLog = await emulatorLog(emu);
    await stopEmulator(emu);
    const ours = emuLog.filter((r) => r.command === 'im_get_attr' && !theirs.has(r.query.random ?? ''));
    const others = emuLog.filter((r) => theirs.has(r.query.random ?? ''));
    const change = others.length > 0 ? Math.min(...others.map((r) => r.receivedAt)) : Infinity;
    const before = steadyRate(ours, 'im_get_attr', LIMIT, -Infinity, change);
    const after = steadyRate(ours, 'im_get_attr', 60, change + 10_000);
    const rejected = ours.filter((r) => r.outcome === '60007').length;
    if (process.env.BENCH_TRACE === '1') {
      // Second by second from the change: ours accepted/rejected, theirs accepted/rejected.
      const count = (list: Logged[], t: number, outcome: (o: string) => boolean): number => list.filter((r) => r.receivedAt >= t && r.receivedAt < t + 1000 && outcome(r.outcome)).length;
      const seconds: string[] = [];
      for (let t = change - 2000; t < change + 25_000; t += 1000) {
        seconds.push(`${(t - change) / 1000}: ${count(ours, t, (o) => o === '0')}/${count(ours, t, (o) => o === '60007')} ${count(others, t, (o) => o === '0')}/${count(others, t, (o) => o === '60007')}`);
      }
      log(`after the change (s: ours ok/rejected theirs ok/rejected): ${seconds.join(', ')}`);
    }
    rows.push([
      'get 200,000 IDs at 100 calls/s, another client taking 40 calls/s of it from 10 s, 60 ± 30 ms',
      `${fmt(run.seconds, 1)} s`,
      `${fmt(before.rate, 1)} calls/s before, ${fmt(after.rate, 1)} from 10 s after the change`,
      `${fmt((100 * after.rate) / 60, 1)} % of the 60 left`,
      `${fmt(rejected)} of ${fmt(ours.length)} (${fmt((100 * rejected) / ours.length, 1)} %); the other client's: ${fmt(others.filter((r) => r.outcome === '60007').length)} of ${fmt(others.length)}`,
      `${fmt(run.lines)} of 200,000 (exit ${run.code})`,
    ]);
  }
  return rows;
}

const SHARED_HEADER = ['run', 'wall', 'steady state', 'of what the server gives', 'our calls rejected for rate', 'accounts out'];

async function main(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
  const loads: string[] = [`at start: ${loadNote()}`];
  const paced: string[][] = [];
  const notes: string[] = [];
  const datingNotes: string[] = [];

  const ids200k = await idsFile(200_000);
  const table = (header: string[], rows: string[][]): string => [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  if (only === 'shared') {
    process.stdout.write(`${table(SHARED_HEADER, await sharedCases(ids200k))}\n`);
    rmSync(work, { recursive: true, force: true });
    return;
  }
  const pacedCase = async (label: string, emuArgs: string[], input: string, args: string[], command: string, rows = paced): Promise<void> => {
    log(`${label} …`);
    const emu = await startEmulator(['--seed-users', '200000', '--rate-limit', String(LIMIT), ...emuArgs]);
    const traceFile = path.join(work, 'trace.txt');
    const run = await runCli(emu.url, input, [...args, '--debug'], traceFile);
    const emuLog = await emulatorLog(emu);
    const steady = steadyRate(emuLog, command);
    const trace = readFileSync(traceFile, 'utf8');
    const late = datingDelays(emuLog, command, trace);
    await stopEmulator(emu);
    if (run.code !== 0) {
      notes.push(`${label}: exit ${run.code}`);
      log(`${label}: exit ${run.code}; the end of its stderr:\n${trace.split('\n').slice(-6).join('\n')}`);
    }
    if (late.spacing.length > 0) datingNotes.push(`${label}: ${late.spacing.map((ms) => (ms === undefined ? 'among the first 100' : `${fmt(ms)} ms`)).join(', ')}`);
    rows.push([
      label,
      `${fmt(run.seconds, 1)} s`,
      `${fmt(steady.rate, 1)} calls/s`,
      `${fmt((100 * steady.rate) / LIMIT, 1)} %`,
      String(steady.firstSecond),
      fmt(steady.rejected),
      `${fmt(late.p99)} / ${fmt(late.max)} ms`,
      `${fmt(run.peakRssMb)} MB`,
    ]);
  };

  // 1-2. get at the limit, with the latency after and then partly before the limiter: three runs
  // of each, alternated, as their figures move with the machine's own delays (see datingDelays).
  const plain: string[][] = [];
  const jitter: string[][] = [];
  for (let i = 1; i <= GET_RUNS; i++) {
    await pacedCase(`get 200,000 IDs, 60 ± 30 ms (${i} of ${GET_RUNS})`, ['--latency', '60', '--jitter', '30'], ids200k, getArgs(), 'im_get_attr', plain);
    await pacedCase(
      `get 200,000 IDs, 200 ± 100 ms, half of it before the limiter (${i} of ${GET_RUNS})`,
      ['--latency-in', '100', '--jitter-in', '50', '--latency', '100', '--jitter', '50'],
      ids200k,
      getArgs(),
      'im_get_attr',
      jitter,
    );
  }
  paced.push(...plain, ...jitter);
  // 2b. The limit shared: the emulator allowing less, another client taking part of it.
  const shared = await sharedCases(ids200k);
  // 3. set of 100,000 records.
  const records = await writeLines(path.join(work, 'records.ndjson'), 100_000, (i) => `{"To_Account":"user${String(i).padStart(6, '0')}","Attrs":{"city":"Paris"}}\n`);
  await pacedCase('set 100,000 records, 60 ± 30 ms', ['--latency', '60', '--jitter', '30'], records, ['set', '--file', '-', '--quiet'], 'im_set_attr');

  // 3a. --backup (the journal's before-state read, written out) against the same set without it:
  // 20,000 records at 60 ± 30 ms, three alternated pairs.
  log('set 20,000 records with and without --backup, alternated …');
  const records20k = await writeLines(path.join(work, 'records20k.ndjson'), 20_000, (i) => `{"To_Account":"user${String(i).padStart(6, '0')}","Attrs":{"city":"Lyon"}}\n`);
  const plainSet: number[] = [];
  const backupSet: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (const [list, extra] of [
      [plainSet, []],
      [backupSet, ['--backup', path.join(work, `backup-${i}.ndjson`)]],
    ] as const) {
      const emu = await startEmulator(['--seed-users', '20000', '--rate-limit', String(LIMIT), '--latency', '60', '--jitter', '30']);
      const run = await runCli(emu.url, records20k, ['set', '--file', '-', '--quiet', '--yes', ...extra]);
      if (run.code !== 0) notes.push(`set 20,000 ${extra.length ? 'with' : 'without'} --backup: exit ${run.code}`);
      list.push(run.seconds);
      await stopEmulator(emu);
    }
  }
  const backupRatio = median(backupSet.map((s, i) => s / plainSet[i]!));

  // 3b'. A list push of 100,000 accounts at the standard edition's 30 calls/s (500 a call).
  log('push send --to 100,000 accounts at 30 calls/s …');
  const push: string[][] = [];
  {
    const emu = await startEmulator(['--seed-users', '100000', '--push-edition', 'standard', '--latency', '60', '--jitter', '30']);
    const run = await runCli(
      emu.url,
      await idsFile(100_000),
      ['push', 'send', '--to', '-', '--text', 'bench', '--yes', '--quiet', '--manifest', path.join(work, 'push.manifest.ndjson')],
      undefined,
      { IMADMIN_API: 'timpush', IMADMIN_PUSH_EDITION: 'standard' },
    );
    const steady = steadyRate(await emulatorLog(emu), 'timpush/batch', 30);
    await stopEmulator(emu);
    if (run.code !== 0) notes.push(`push send --to 100,000: exit ${run.code}`);
    push.push(['push send --to 100,000 accounts, standard edition (30 calls/s), 60 ± 30 ms', `${fmt(run.seconds, 1)} s`, `${fmt(steady.rate * 500)} accounts/s`, `${fmt((100 * steady.rate) / 30, 1)} %`, fmt(steady.rejected), `${fmt(run.peakRssMb)} MB`]);
  }

  // 3b''. The push-result callback listener at Tencent's default callback rate (events-bench.ts).
  log('push events listen at 1,000 requests/s of 100 events …');
  const eventsReport = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/test/bench/events-bench.js'), '--seconds', quick ? '5' : '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('exit', () => resolve(text.trim()));
  });

  // 3c. plan over 1,000,000 accounts (the read at the ceiling, memory), then apply of a 1 % change
  // (how many write calls, against the 10,000 a full set --file would make).
  log('plan 1,000,000 accounts, then apply a 1 % change …');
  const planRows: string[][] = [];
  {
    // The seeded city of every account that has one (every 7th seeded account has none), and a
    // changed city for one in a hundred: 857,143 accounts, 8,572 of them changed.
    const desired = await writeLines(path.join(work, 'desired.ndjson'), 1_000_000, (i) => {
      if (i % 7 === 0) return '';
      const city = i % 100 === 0 ? 'Changed' : SEED_CITIES[i % SEED_CITIES.length];
      return `{"To_Account":"user${String(i).padStart(6, '0')}","Attrs":{"city":"${city}"}}\n`;
    });
    const emu = await startEmulator(['--seed-users', '1000000', '--rate-limit', String(LIMIT)]);
    const planFile = path.join(work, 'plan.ndjson');
    const plan = await runCli(emu.url, desired, ['plan', '--file', '-', '--out', planFile, '--quiet']);
    const planLog = await emulatorLog(emu);
    const steady = steadyRate(planLog, 'im_get_attr');
    const apply = await runCli(emu.url, '/dev/null', ['apply', planFile, '--yes', '--quiet', '--no-refresh']);
    const writes = (await emulatorLog(emu)).filter((r) => r.command === 'im_set_attr' || r.command === 'im_remove_attr').length;
    await stopEmulator(emu);
    if (plan.code !== 6 && plan.code !== 0) notes.push(`plan 1,000,000: exit ${plan.code}`);
    if (apply.code !== 0) notes.push(`apply 1 %: exit ${apply.code}`);
    planRows.push([
      'plan 1,000,000 accounts (attributes), then apply its 1 % change',
      `${fmt(plan.seconds, 1)} s`,
      `${fmt(steady.rate, 1)} calls/s (${fmt((100 * steady.rate) / LIMIT, 1)} %)`,
      fmt(steady.rejected),
      `${fmt(plan.peakRssMb)} MB`,
      `${fmt(writes)} write calls (${fmt((100 * writes) / 8_572, 2)} % of the 8,572 a full set --file of the same file would make)`,
    ]);
  }

  // 3b. Tags and the audience preview, on the same engine (issues 12 and 13).
  const ids60k = await idsFile(60_000);
  await pacedCase('tags get 60,000 IDs, 60 ± 30 ms', ['--latency', '60', '--jitter', '30'], ids60k, ['tags', 'get', '--output', 'ndjson', '--quiet'], 'im_get_tag');
  const ids100k = await idsFile(100_000);
  await pacedCase(
    'audience city=Paris over 100,000 IDs, 60 ± 30 ms',
    ['--latency', '60', '--jitter', '30'],
    ids100k,
    ['audience', '--attrs-and', 'city=Paris', '--output', 'ndjson', '--quiet'],
    'im_get_attr',
  );

  // 4. A short run: sized concurrency vs a fixed 100 in flight, alternated.
  log('10,000 IDs at 200 ± 100 ms, default vs --concurrency 100 …');
  const ids10k = await idsFile(10_000);
  const short: number[] = [];
  const fixed: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (const [list, extra] of [
      [short, []],
      [fixed, ['--concurrency', '100']],
    ] as const) {
      const emu = await startEmulator(['--seed-users', '10000', '--rate-limit', String(LIMIT), '--latency', '200', '--jitter', '100']);
      list.push((await runCli(emu.url, ids10k, getArgs([...extra]))).seconds);
      await stopEmulator(emu);
    }
  }
  const shortRatio = median(short.map((s, i) => s / fixed[i]!));
  loads.push(`after the paced runs: ${loadNote()}`);

  // 5. The client's own cost: unpaced, against a server that answers at once.
  const unpaced: string[][] = [];
  const server = await startInstantServer();
  const sizes = quick ? [100_000, 1_000_000] : [100_000, 1_000_000, 10_000_000];
  const perSize = new Map<number, RunFigures>();
  for (const size of sizes) {
    log(`${fmt(size)} IDs unpaced …`);
    const ids = await idsFile(size);
    const run = await runCli(server.url, ids, getArgs(['--rate', '0']));
    perSize.set(size, run);
    if (run.lines !== size) notes.push(`${fmt(size)} unpaced: ${run.lines} lines (exit ${run.code})`);
    unpaced.push([`get ${fmt(size)} IDs, unpaced`, `${fmt(run.seconds, 1)} s`, fmt(size / run.seconds), `${fmt(run.cpuSeconds, 2)} s`, `${fmt((run.cpuSeconds * 100_000) / size, 2)} s`, `${fmt(run.peakRssMb)} MB`]);
    rmSync(ids);
  }
  await server.close();
  loads.push(`after the unpaced runs: ${loadNote()}`);

  // 6. Cold start.
  log('cold start …');
  const emu = await startEmulator(['--seed-users', '10']);
  const env = { ...process.env, IMADMIN_ENDPOINT: emu.url, IMADMIN_SDKAPPID: '1400000000', IMADMIN_IDENTIFIER: 'administrator', IMADMIN_SECRET_KEY: secretKey, IMADMIN_CONFIG: undefined };
  const cold = [
    ['im-attrs --version', coldStart([bin, '--version'])],
    ['im-attrs --help', coldStart([bin, '--help'])],
    ['im-attrs get --help', coldStart([bin, 'get', '--help'])],
    ['im-attrs get user000001 (loopback emulator)', coldStart([bin, 'get', 'user000001'], env)],
  ] as const;
  await stopEmulator(emu);

  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${fmt(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const at1m = perSize.get(1_000_000)!;
  const report = [
    `# Benchmark results`,
    ``,
    `Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (${machine}). The machine is shared: ${loads.join('; ')}.`,
    ``,
    `## At the limit (emulator, 100 calls/s per command)`,
    ``,
    `Steady state: ${LIMIT} calls over the median time the emulator took to accept ${LIMIT} consecutive calls, leaving out the first and last second of the run (a count of calls per span would flatter a client that sends in bursts).`,
    ``,
    table(['run', 'wall', 'steady state', '% of 100 calls/s', 'calls in the first second', 'rejected for rate', 'dated late, p99 / max', 'peak RSS'], paced),
    ``,
    `Every paced run runs with \`--debug\`, whose lines say when each request left. Dated late: how long after a call left the client the emulator, on the same two cores, dated it, less the delay it adds on the way in on purpose (the jitter case's 100 ± 50 ms). The client lets each call leave a second and a guard after the 100th call before it (the guard relaxes to 10 ms in a clean run), so a call dated that much later than the call a second after it can get that one rejected.`,
    ...(datingNotes.length > 0
      ? ['', 'Each call rejected for rate: how much more than a second after the 100th call before it (by when they left) it left the client. Above 0, the client had sent at most 100 calls in the second up to it, and the rejection came from the time between leaving and being dated: on purpose in the jitter case, the emulator\'s own lateness in the others.', '', ...datingNotes.map((n) => `- ${n}`)]
      : []),
    ``,
    `## The limit shared (the app's 100 calls/s, not the run's)`,
    ``,
    `The client's ceiling stays 100 calls/s; the emulator allows 50, or another client (a load generator in the bench, 40 calls/s of the same endpoint, never backing off) starts 10 s into the run. The pacer cuts its rate when rejections persist and climbs back as calls pass. Steady state as above, over 50 (or 60) consecutive accepted calls; after the change, from 10 s after the other client's first call.`,
    ``,
    table(SHARED_HEADER, shared),
    ``,
    `## Writes: the journal and --backup, a list push, the callback listener`,
    ``,
    `set 20,000 records at 60 ± 30 ms with --backup takes ${fmt(backupRatio, 2)}× the time of the same set without it (median of 3 alternated pairs: ${backupSet.map((s) => fmt(s, 2)).join(', ')} s vs ${plainSet.map((s) => fmt(s, 2)).join(', ')} s). Both read each call's before-state for the journal (on get_attr's own 100 calls/s) just before the call leaves; --backup only writes it out too.`,
    ``,
    table(['run', 'wall', 'steady state', '% of 30 calls/s', 'rejected for rate', 'peak RSS'], push),
    ``,
    table(['run', 'plan wall', 'plan read, steady state', 'rejected for rate', 'plan peak RSS', 'apply'], planRows),
    ``,
    'The callback listener (`push events listen`, its own process, writing and syncing a real file), loaded at 1,000 requests/s of 100 events by `test/bench/events-bench.ts`:',
    ``,
    '```',
    eventsReport,
    '```',
    ``,
    `10,000 IDs at 200 ± 100 ms: the default (in flight sized from the round trips) takes ${fmt(shortRatio, 2)}× the wall time of --concurrency 100 (median of 3 alternated pairs: ${short.map((s) => fmt(s, 2)).join(', ')} s vs ${fixed.map((s) => fmt(s, 2)).join(', ')} s).`,
    ``,
    `## The client's own cost (unpaced, a loopback server that answers at once)`,
    ``,
    table(['run', 'wall', 'accounts/s', 'CPU (user + sys)', 'CPU per 100,000', 'peak RSS'], unpaced),
    ``,
    `CPU per 100,000 accounts at 1,000,000 IDs: ${fmt((at1m.cpuSeconds * 100_000) / 1_000_000, 2)} s.`,
    ...(notes.length > 0 ? ['', ...notes.map((n) => `NOTE: ${n}`)] : []),
    ``,
    `## Cold start`,
    ``,
    'Each command and bare `node -e 0` in turn, 11 pairs: the medians of each, and the median of the ratios pair by pair (the machine drifting during the runs moves both sides).',
    ``,
    table(
      ['command', 'median', 'node -e 0, median', 'vs node -e 0 (median of the ratios)'],
      cold.map(([label, run]) => [label, `${fmt(run.ms)} ms`, `${fmt(run.bareMs)} ms`, `${fmt(run.ratio, 2)}×`]),
    ),
    ``,
  ].join('\n');
  // The pacer's tuning history is kept by hand in RESULTS.md, under its own heading: carried over.
  const resultsFile = path.join(root, 'test/bench/RESULTS.md');
  const kept = /\n(## How the pacer's constants were chosen\n[\s\S]*?)(?=\n## |$)/.exec(readFileSync(resultsFile, 'utf8'))?.[1];
  const full = kept ? `${report}\n${kept.trimEnd()}\n` : report;
  process.stdout.write(full);
  writeFileSync(resultsFile, full);
  rmSync(work, { recursive: true, force: true });
}

await main();
