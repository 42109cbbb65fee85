/**
 * The batch engine end to end: the real CLI against the real emulator made slow, rate-limited
 * and faulty on purpose. Behaviour and counts only; no wall-clock thresholds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Emulator, EmulatorOptions, EmulatorStats } from '../../src/emulator/server.js';
import { emulatorEnv, runCli, seededIds, startTestEmulator, tempDir } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../../bin/im-attrs.js', import.meta.url));
const files = tempDir();
after(() => files.cleanup());

/** Fast retries so a test with faults runs in milliseconds. */
/** A --fault-seed under which each of the four faults fires at least once in 50 batches. */
const SEED_WITH_ALL_FAULTS = 5;

const FAST = ['--retry-delay', '1', '--retry-max-delay', '5'];

async function withEmulator<T>(options: EmulatorOptions, fn: (emulator: Emulator) => Promise<T>): Promise<T> {
  const emulator = await startTestEmulator({ rateLimit: 0, ...options });
  try {
    return await fn(emulator);
  } finally {
    await emulator.close();
  }
}

/** `im-attrs emulator` in a child process, as a user runs it. */
async function spawnEmulator(args: string[]): Promise<{ url: string; stats: () => Promise<EmulatorStats>; stop: () => Promise<void> }> {
  // The emulator's window is counted with its own clock as it handles each request. On a loaded
  // test machine (two cores, test files in parallel) a starved emulator reads that clock late for
  // some requests and sees them closer together than they were sent; a real server is not starved
  // by our test runner. Where we may (root, as in CI), it runs at a higher priority.
  const [command, prefix] = process.getuid?.() === 0 ? ['nice', ['-n', '-10', process.execPath]] : [process.execPath, []];
  const child = spawn(command, [...prefix, BIN, 'emulator', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: {} });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.trim());
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return {
    url,
    stats: async () => (await (await fetch(`${url}/_emulator/stats`)).json()) as EmulatorStats,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function printedAccounts(ndjson: string): string[] {
  return ndjson
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { To_Account: string }).To_Account);
}

describe('engine', () => {
  it('returns every account exactly once, in input order, through 91000s, 502s, resets and garbage', async () => {
    const ids = seededIds(1, 5000);
    await withEmulator(
      {
        seedUsers: 5000,
        faultSeed: SEED_WITH_ALL_FAULTS,
        faults: [
          { kind: 'code:91000', fraction: 0.1 },
          { kind: 'http502', fraction: 0.05 },
          { kind: 'reset', fraction: 0.02 },
          { kind: 'garbage', fraction: 0.02 },
        ],
      },
      async (emulator) => {
        const result = await runCli(['get', '-o', 'ndjson', '--rate', '0', '--retries', '10', ...FAST], {
          env: emulatorEnv(emulator),
          stdin: ids.join('\n'),
        });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(printedAccounts(result.stdout), ids);
        const stats = emulator.stats();
        const faults = Object.values(stats.faultsInjected).reduce((a, b) => a + b, 0);
        assert.ok(faults > 0, 'faults were injected');
        assert.equal(stats.requests.im_get_attr, 50 + faults, 'one request per batch plus one retry per fault');
        assert.deepEqual(Object.keys(stats.faultsInjected).sort(), ['code:91000', 'garbage', 'http502', 'reset']);
      },
    );
  });

  it('exits 5 when retries run out, prints the rest, and --save-failed holds exactly the failed IDs', async () => {
    const ids = seededIds(1, 2000);
    const saved = path.join(files.dir, 'failed-retries.txt');
    await withEmulator({ seedUsers: 2000, faultSeed: 7, faults: [{ kind: 'code:91000', fraction: 0.4 }] }, async (emulator) => {
      const result = await runCli(['get', '--json', '--batch-size', '50', '--rate', '0', '--retries', '1', '--save-failed', saved, ...FAST], {
        env: emulatorEnv(emulator),
        stdin: ids.join('\n'),
      });
      assert.equal(result.code, 5, result.stderr);
      const printed = (JSON.parse(result.stdout) as Array<{ To_Account: string }>).map((r) => r.To_Account);
      const failed = readFileSync(saved, 'utf8').split('\n').filter(Boolean);
      assert.ok(failed.length > 0 && failed.length % 50 === 0, `whole batches failed (${failed.length})`);
      assert.deepEqual([...printed, ...failed].sort(), ids, 'printed + failed = input, no account twice');
      assert.deepEqual(printed, ids.filter((id) => !failed.includes(id)), 'the rest in input order');
      assert.match(result.stderr, new RegExp(`im-attrs: ${failed.length.toLocaleString('en-US')} accounts failed \\(${failed.length.toLocaleString('en-US')} × 91000 injected fault 91000 \\(after 2 attempts\\)\\); the others were printed\\n`));
    });
  });

  it('gives up after 5 batches in a row fail, saving every account not done', async () => {
    const ids = seededIds(1, 1000);
    const saved = path.join(files.dir, 'dead-endpoint.txt');
    await withEmulator({ seedUsers: 1000, faults: [{ kind: 'code:91000', fraction: 1 }] }, async (emulator) => {
      const result = await runCli(['get', '--json', '--batch-size', '10', '--concurrency', '1', '--rate', '0', '--retries', '0', '--save-failed', saved], {
        env: emulatorEnv(emulator),
        stdin: ids.join('\n'),
      });
      assert.equal(result.code, 1);
      assert.equal(emulator.requests.length, 5);
      assert.deepEqual(readFileSync(saved, 'utf8').split('\n').filter(Boolean), ids);
      assert.match(
        result.stderr,
        /im-attrs: stopped after 5 batches in a row failed \(last: 91000 injected fault 91000\)\nhint: the endpoint looks unavailable: check it \(im-attrs doctor\), then re-run the rest from --save-failed\n$/,
      );
    });
  });

  // That every sliding second stays at or under the rate is proven in simulated time
  // (test/api/pacer.test.ts); here, against a real limiter in its own process, only what does not
  // depend on the machine's speed: every account comes back.
  it('paced at --rate against a server limiting to the same rate, returns every account', async () => {
    // The emulator runs in its own process here, as in production: in-process, a busy event loop
    // would delay its clock readings and make it see arrivals closer together than they were sent.
    const ids = seededIds(1, 300);
    const emulator = await spawnEmulator(['--seed-users', '300', '--rate-limit', '10']);
    try {
      const signed = await runCli(['get', '-o', 'ndjson', '--batch-size', '10', '--rate', '10'], {
        env: { IMADMIN_ENDPOINT: emulator.url, IMADMIN_SDKAPPID: '1400000000', IMADMIN_IDENTIFIER: 'administrator', IMADMIN_SECRET_KEY: 'a key this emulator does not check' },
        stdin: ids.join('\n'),
      });
      assert.equal(signed.code, 0, signed.stderr);
      assert.equal(signed.stdout.trim().split('\n').length, 300);
    } finally {
      await emulator.stop();
    }
  });

  it('never has more than --concurrency requests in flight', async () => {
    await withEmulator({ seedUsers: 300, latencyMs: 15 }, async (emulator) => {
      const result = await runCli(['get', '-o', 'ndjson', '--batch-size', '10', '--rate', '0', '--concurrency', '3'], {
        env: emulatorEnv(emulator),
        stdin: seededIds(1, 300).join('\n'),
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(emulator.stats().maxConcurrent, 3);
    });
  });

  it('slows down on a rate-limit answer and still returns everything', async () => {
    await withEmulator({ seedUsers: 400, faultSeed: 3, faults: [{ kind: 'code:60007', fraction: 0.05 }] }, async (emulator) => {
      const result = await runCli(['get', '-o', 'ndjson', '--batch-size', '10', '--rate', '1000', '--retries', '20', ...FAST], {
        env: emulatorEnv(emulator),
        stdin: seededIds(1, 400).join('\n'),
      });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(printedAccounts(result.stdout), seededIds(1, 400));
    });
  });

  it('retries a request the server never answers once --timeout expires', async () => {
    await withEmulator({ seedUsers: 200, faultSeed: 5, faults: [{ kind: 'timeout', fraction: 0.2 }] }, async (emulator) => {
      const result = await runCli(['get', '-o', 'ndjson', '--batch-size', '20', '--rate', '0', '--timeout', '0.2', '--retries', '10', ...FAST], {
        env: emulatorEnv(emulator),
        stdin: seededIds(1, 200).join('\n'),
      });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(printedAccounts(result.stdout), seededIds(1, 200));
      assert.ok((emulator.stats().faultsInjected.timeout ?? 0) > 0);
    });
  });

  it('on Ctrl-C finishes the requests in flight, closes the JSON array, saves the rest and exits 130', async () => {
    const ids = seededIds(1, 3000);
    const saved = path.join(files.dir, 'interrupted.txt');
    await withEmulator({ seedUsers: 3000, latencyMs: 10 }, async (emulator) => {
      const result = await runCli(['get', '--json', '--batch-size', '10', '--rate', '0', '--concurrency', '2', '--save-failed', saved], {
        env: emulatorEnv(emulator),
        stdin: ids.join('\n'),
        onSignals: (signals) => {
          // Interrupt once the run is under way (a few batches answered).
          const timer = setInterval(() => {
            if (emulator.requests.length >= 5) {
              clearInterval(timer);
              signals.emit('SIGINT');
            }
          }, 2);
        },
      });
      assert.equal(result.code, 130, result.stderr);
      const printed = (JSON.parse(result.stdout) as Array<{ To_Account: string }>).map((r) => r.To_Account);
      const rest = readFileSync(saved, 'utf8').split('\n').filter(Boolean);
      assert.ok(printed.length > 0 && rest.length > 0);
      assert.deepEqual([...printed, ...rest], ids, 'fetched + saved = input, in order');
      assert.match(result.stderr, /^stopping: no new requests; waiting for those in flight \(press Ctrl-C again to abort them\)\n/);
      assert.match(result.stderr, /im-attrs: interrupted: [0-9,]+ accounts done, [0-9,]+ accounts not done\nhint: re-run the rest with --file /);
    });
  });

  it('on a second Ctrl-C aborts the requests in flight and saves their accounts too', async () => {
    const ids = seededIds(1, 100);
    const saved = path.join(files.dir, 'aborted.txt');
    await withEmulator({ seedUsers: 100, faults: [{ kind: 'timeout', fraction: 1 }] }, async (emulator) => {
      const result = await runCli(['get', '-o', 'ndjson', '--batch-size', '10', '--rate', '0', '--concurrency', '4', '--save-failed', saved], {
        env: emulatorEnv(emulator),
        stdin: ids.join('\n'),
        onSignals: (signals) => {
          const timer = setInterval(() => {
            if (emulator.requests.length >= 4) {
              clearInterval(timer);
              signals.emit('SIGINT');
              signals.emit('SIGINT');
            }
          }, 2);
        },
      });
      assert.equal(result.code, 130, result.stderr);
      assert.equal(result.stdout, '');
      assert.deepEqual(readFileSync(saved, 'utf8').split('\n').filter(Boolean), ids);
    });
  });
});
