/**
 * The whole loop on loopback: a push to 20,000 recipients from the emulator, whose signed
 * Push.AllMemberPush callbacks go to the real listener; the listener's file holds every event the
 * emulator sent, and `push events summary` counts each once, also when the emulator re-sends a
 * tenth of its deliveries (as Tencent's retries do) and when the listener is killed with SIGKILL
 * in the middle (the emulator re-sends what was not acknowledged; nothing acknowledged is lost).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../../src/emulator/server.js';
import { runCli, startTestEmulator, emulatorEnv, useTempDir } from '../helpers/cli.js';
import { APP, envWithToken, startListen, TOKEN } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/im-attrs.js', import.meta.url));
const files = useTempDir();

/** Each distinct event of the listener's file, by the key retried callbacks repeat. */
function distinctEvents(file: string): { lines: number; keys: Set<string> } {
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  const keys = new Set(lines.map((l) => {
    const e = JSON.parse(l) as Record<string, unknown>;
    return [e.TaskId, e.To_Account, e.PushStage, e.EventType, e.EventTime].join('|');
  }));
  return { lines: lines.length, keys };
}

/** Per push stage, the events the emulator reports sending (its log: one entry per event). */
function sentByStage(emulator: Emulator): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of emulator.callbacks.log) out[String(entry.PushStage)] = (out[String(entry.PushStage)] ?? 0) + 1;
  return out;
}

/** The summary's totals per stage (json rows summed over platforms). */
async function summaryTotals(file: string): Promise<Record<string, number>> {
  const result = await runCli(['push', 'events', 'summary', file, '--json'], { env: {} });
  assert.equal(result.code, 0, result.stderr);
  const rows = JSON.parse(result.stdout) as Array<{ Sent: number; Reached: number; Clicked: number }>;
  const sum = (k: 'Sent' | 'Reached' | 'Clicked'): number => rows.reduce((n, r) => n + r[k], 0);
  return { '1': sum('Sent'), '2': sum('Reached'), '3': sum('Clicked') };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('push events: the emulator to the listener, end to end', () => {
  it('20,000 recipients, a tenth of deliveries sent twice: every event in the file, the summary counts each once', { timeout: 120_000 }, async () => {
    const out = path.join(files.dir, 'events.ndjson');
    const listen = await startListen({ out }, { cwd: files.dir, env: envWithToken() });
    const emulator = await startTestEmulator({ seedUsers: 20_000, rateLimit: 0, callbackUrl: listen.url, callbackToken: TOKEN, callbackDuplicateFraction: 0.1 });
    try {
      const sent = await runCli(['--api', 'timpush', 'push', 'send', '--text', 'hi', '--yes'], { env: emulatorEnv(emulator) });
      assert.equal(sent.code, 0, sent.stderr);
      await emulator.settleCallbacks();
      assert.equal(emulator.callbacks.failed, 0);
      assert.ok(emulator.callbacks.duplicates > 0, 'some deliveries were sent twice');
      const { lines, keys } = distinctEvents(out);
      assert.equal(keys.size, emulator.callbacks.events, 'every event the emulator sent, each once by its key');
      assert.ok(lines > keys.size, 'the re-sent deliveries are in the file too');
      assert.deepEqual(await summaryTotals(out), sentByStage(emulator));
    } finally {
      await listen.stop();
      await emulator.close();
    }
  });

  it('a listener killed with SIGKILL loses nothing it acknowledged: restarted, it receives the rest', { timeout: 120_000 }, async () => {
    const out = path.join(files.dir, 'killed.ndjson');
    const port = await freePort();
    const env = { ...envWithToken(), XDG_CONFIG_HOME: path.join(files.dir, 'cfg') };
    const start = (): ChildProcess => spawn(process.execPath, [BIN, 'push', 'events', 'listen', '--port', String(port), '--out', out, '-q'], { env, stdio: 'ignore' });
    const up = async (): Promise<void> => {
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    let listener = start();
    await up();
    const emulator = await startTestEmulator({
      seedUsers: 20_000,
      rateLimit: 0,
      callbackUrl: `http://127.0.0.1:${port}/`,
      callbackToken: TOKEN,
      callbackRetries: 60,
      callbackRetryBaseMs: 50,
    });
    try {
      const sent = await runCli(['--api', 'timpush', 'push', 'send', '--text', 'hi', '--yes'], { env: emulatorEnv(emulator) });
      assert.equal(sent.code, 0, sent.stderr);
      // Kill it once some events are acknowledged, then start it again on the same port.
      while (emulator.callbacks.acknowledged < 2000) await new Promise((r) => setTimeout(r, 5));
      listener.kill('SIGKILL');
      await new Promise((r) => listener.once('exit', r));
      listener = start();
      await up();
      await emulator.settleCallbacks();
      assert.equal(emulator.callbacks.failed, 0, 'every delivery was acknowledged in the end');
      const { keys } = distinctEvents(out);
      assert.equal(keys.size, emulator.callbacks.events, 'the file holds every event: nothing acknowledged was lost');
      assert.deepEqual(await summaryTotals(out), sentByStage(emulator));
    } finally {
      listener.kill('SIGTERM');
      await emulator.close();
    }
  });
});

// The app the listener is for is the emulator's: the token and SDKAppID agree.
assert.equal(APP, 1400000000);
