/**
 * `npm run bench`: measures the engine against the emulator, each in its own process, the way a
 * user runs them, and prints one table (also written to test/bench/RESULTS.md).
 *
 * 1. 100,000 IDs on stdin → `get --output ndjson`, emulator at 60 ± 30 ms and 100 calls/s:
 *    wall time, accounts/s, % of the 10,000 accounts/s ceiling, calls rejected for rate, retries,
 *    peak RSS; then the same with --concurrency 1 (the one-at-a-time way of the peer SDKs).
 * 2. 100,000 and 1,000,000 IDs unpaced against an emulator without latency or limit: the
 *    client's own cost, and that memory stays flat.
 * 3. Cold start of `--version` and `get --help` against bare `node -e 0`.
 *
 * Not part of `npm test`: it takes a few minutes and its figures depend on the machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin/im-attrs.js');
const rssHook = path.join(root, 'dist/test/bench/rss-hook.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'im-attrs-bench-'));
const secretKey = randomBytes(32).toString('hex');
const keyFile = path.join(work, 'key');
writeFileSync(keyFile, secretKey, { mode: 0o600 });

/** The API's ceiling: 100 calls/s × 100 accounts per call (API.md section 2). */
const CEILING = 10_000;

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

async function emulatorStats(emu: Emu): Promise<Record<string, unknown> & { requests: Record<string, number>; rejectedForRate: number; maxCallsPerSecond: number }> {
  const response = await fetch(`${emu.url}/_emulator/stats`);
  return (await response.json()) as never;
}

function idsFile(count: number): string {
  const file = path.join(work, `ids-${count}.txt`);
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) lines.push(`user${String(i).padStart(6, '0')}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

interface RunFigures {
  seconds: number;
  lines: number;
  peakRssMb: number;
  code: number | null;
}

/** Runs `im-attrs get` with the IDs on stdin, counts output lines, reads its peak RSS. */
async function runGet(emu: Emu, ids: string, extra: string[]): Promise<RunFigures> {
  const rssFile = path.join(work, `rss-${Date.now()}`);
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', rssHook, bin, 'get', '--output', 'ndjson', '--quiet', ...extra], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      IMADMIN_ENDPOINT: emu.url,
      IMADMIN_SDKAPPID: '1400000000',
      IMADMIN_IDENTIFIER: 'administrator',
      IMADMIN_SECRET_KEY: secretKey,
      IMADMIN_CONFIG: undefined,
      BENCH_RSS_FILE: rssFile,
    },
  });
  const { createReadStream } = await import('node:fs');
  createReadStream(ids).pipe(child.stdin!);
  let lines = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 0x0a) lines++;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakRssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
  return { seconds, lines, peakRssMb, code };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function coldStart(args: string[], runs = 11): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(times);
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const rows: string[][] = [];
  const notes: string[] = [];
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  // 1. At the API's ceiling: realistic latency, the documented limit.
  const ids100k = idsFile(100_000);
  log('bench: 100,000 IDs against 60 ± 30 ms latency and a 100 calls/s limit …');
  let emu = await startEmulator(['--seed-users', '100000', '--latency', '60', '--jitter', '30', '--rate-limit', '100']);
  const paced = await runGet(emu, ids100k, []);
  let stats = await emulatorStats(emu);
  const pacedCalls = stats.requests.im_get_attr ?? 0;
  rows.push([
    'get 100,000 IDs, default (30 in flight, 100 calls/s)',
    `${fmt(paced.seconds, 1)} s`,
    fmt(paced.lines / paced.seconds),
    `${fmt((100 * paced.lines) / paced.seconds / CEILING, 1)} %`,
    fmt(stats.rejectedForRate),
    fmt(pacedCalls - 1000),
    `${fmt(stats.maxCallsPerSecond)}`,
    `${fmt(paced.peakRssMb)} MB`,
  ]);
  if (paced.code !== 0 || paced.lines !== 100_000) notes.push(`default run: exit ${paced.code}, ${paced.lines} lines`);
  await stopEmulator(emu);

  log('bench: the same, one request at a time (--concurrency 1) …');
  emu = await startEmulator(['--seed-users', '100000', '--latency', '60', '--jitter', '30', '--rate-limit', '100']);
  const serial = await runGet(emu, ids100k, ['--concurrency', '1']);
  stats = await emulatorStats(emu);
  rows.push([
    'same, --concurrency 1 (one at a time, like the peer SDKs)',
    `${fmt(serial.seconds, 1)} s`,
    fmt(serial.lines / serial.seconds),
    `${fmt((100 * serial.lines) / serial.seconds / CEILING, 1)} %`,
    fmt(stats.rejectedForRate),
    fmt((stats.requests.im_get_attr ?? 0) - 1000),
    `${fmt(stats.maxCallsPerSecond)}`,
    `${fmt(serial.peakRssMb)} MB`,
  ]);
  await stopEmulator(emu);
  const ratio = serial.seconds / paced.seconds;

  // 2. The client's own cost: no latency, no limit, unpaced.
  log('bench: 100,000 and 1,000,000 IDs unpaced against an emulator without latency or limit …');
  emu = await startEmulator(['--seed-users', '1000000', '--rate-limit', '0']);
  const fast100k = await runGet(emu, ids100k, ['--rate', '0']);
  const ids1m = idsFile(1_000_000);
  const fast1m = await runGet(emu, ids1m, ['--rate', '0']);
  stats = await emulatorStats(emu);
  for (const [label, run] of [
    ['get 100,000 IDs, unpaced, no latency', fast100k],
    ['get 1,000,000 IDs, unpaced, no latency', fast1m],
  ] as const) {
    rows.push([label, `${fmt(run.seconds, 1)} s`, fmt(run.lines / run.seconds), '—', '0', '0', '—', `${fmt(run.peakRssMb)} MB`]);
  }
  if (fast1m.lines !== 1_000_000) notes.push(`1,000,000 run printed ${fast1m.lines} lines (exit ${fast1m.code})`);
  await stopEmulator(emu);

  // 3. Cold start.
  log('bench: cold start …');
  const bare = coldStart(['-e', '0']);
  const version = coldStart([bin, '--version']);
  const help = coldStart([bin, 'get', '--help']);

  const header = ['run', 'wall', 'accounts/s', '% of 10,000/s', 'rejected for rate', 'retries', 'peak calls/s', 'peak RSS'];
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const cold =
    `| command | median of 11 | vs node -e 0 |\n| --- | --- | --- |\n` +
    `| node -e 0 | ${fmt(bare)} ms | 1.00× |\n` +
    `| im-attrs --version | ${fmt(version)} ms | ${fmt(version / bare, 2)}× |\n` +
    `| im-attrs get --help | ${fmt(help)} ms | ${fmt(help / bare, 2)}× |`;
  const summary = [
    `Concurrent run vs one at a time: ${fmt(ratio, 1)}× faster.`,
    `Peak RSS at 1,000,000 IDs vs 100,000: ${fmt(fast1m.peakRssMb)} MB vs ${fmt(fast100k.peakRssMb)} MB.`,
    ...notes.map((n) => `NOTE: ${n}`),
  ].join('\n');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${fmt(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const report =
    `# Benchmark results\n\nProduced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (${machine}).\n\n` +
    `${table}\n\n${summary}\n\n## Cold start\n\n${cold}\n`;
  process.stdout.write(`${report}`);
  writeFileSync(path.join(root, 'test/bench/RESULTS.md'), report);
  rmSync(work, { recursive: true, force: true });
}

await main();
