/**
 * Real signals to a real process: Ctrl-C three times (stop, abort, and one more while the run
 * writes its accounting) still ends with every account printed or saved, the --save-failed file
 * in place (never a hidden temporary file), and exit 130. In-process tests cannot show this: a
 * test's signal source has no default action that would kill the process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { emulatorEnv, seededIds, useEmulator, useTempDir } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../../bin/im-attrs.js', import.meta.url));
const files = useTempDir();

describe('signals to a running process', () => {
  const app = useEmulator({ seedUsers: 3000, rateLimit: 0, latencyMs: 100 });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`three ${signal}s: every account printed or saved, the file in place, exit 130`, { timeout: 60_000 }, async () => {
      const ids = seededIds(1, 3000);
      const input = path.join(files.dir, `ids-${signal}.txt`);
      writeFileSync(input, `${ids.join('\n')}\n`);
      const saved = path.join(files.dir, `rest-${signal}.txt`);
      const child = spawn(process.execPath, [BIN, 'get', '--file', input, '-o', 'ndjson', '--rate', '0', '--concurrency', '2', '--batch-size', '50', '--save-failed', saved], {
        env: { ...emulatorEnv(app.emulator), XDG_STATE_HOME: path.join(files.dir, 'state') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.resume();
      // Once some accounts are printed: stop, abort, then one more signal right after.
      await new Promise<void>((resolve) => {
        const check = (): void => (stdout.split('\n').length > 200 ? resolve() : void setTimeout(check, 10));
        check();
      });
      child.kill(signal);
      await new Promise((r) => setTimeout(r, 20));
      child.kill(signal);
      await new Promise((r) => setTimeout(r, 5));
      child.kill(signal);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 130);
      const printed = stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { To_Account: string }).To_Account);
      const rest = readFileSync(saved, 'utf8').trim().split('\n').filter(Boolean);
      assert.equal(printed.length + rest.length, 3000);
      assert.deepEqual(new Set([...printed, ...rest]), new Set(ids));
      assert.deepEqual(readdirSync(files.dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left behind');
      assert.ok(existsSync(saved));
    });
  }
});
