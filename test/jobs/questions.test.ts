/**
 * The question before a big write, on a real pseudo-terminal (`script`) at 200, 100 and 80
 * columns: the spinner is stopped and cleared first, the whole question stands on its own lines
 * with `[y/N]` and names the app, nothing is drawn after it until it is answered, and "n" sends
 * nothing (here: `tags clear` of 10,000 accounts, which asked nothing before).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { emulatorEnv, useEmulator, useTempDir } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../../bin/im-attrs.js', import.meta.url));
const files = useTempDir();

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

describe('a question on a terminal', () => {
  const app = useEmulator({ seedUsers: 10, rateLimit: 0, latencyMs: 20 });
  const ids = files.write('ids.txt', `${Array.from({ length: 10_000 }, (_, i) => `u${i}`).join('\n')}\n`);

  for (const columns of [200, 100, 80]) {
    it(`at ${columns} columns: whole, on its own lines, nothing after it until answered; "n" sends nothing`, { skip: !hasScript() && 'script(1) is not installed', timeout: 60_000 }, async () => {
      const child = spawn('script', ['-qec', `stty cols ${columns}; exec "${process.execPath}" "${BIN}" tags clear --file "${ids}"`, '/dev/null'], {
        env: { ...process.env, ...emulatorEnv(app.emulator), XDG_STATE_HOME: path.join(files.dir, 'state'), NO_COLOR: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let screen = '';
      let answeredAt = -1;
      child.stdout.on('data', (chunk: Buffer) => {
        screen += chunk.toString();
        if (answeredAt < 0 && screen.includes('[y/N] ')) {
          answeredAt = screen.length;
          child.stdin.write('n\n');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 2, screen);
      const before = screen.slice(0, answeredAt).replace(ANSI, '').replace(/\r/g, '');
      const lines = before.split('\n');
      assert.equal(lines.at(-2), 'tags clear more than 1,000 accounts? Every tag of each is removed.');
      assert.equal(lines.at(-1), `Target: app 1400000000 at ${new URL(app.emulator.url).host}. [y/N] `);
      // What came after the question up to the echoed answer: the answer and nothing else.
      const after = screen.slice(answeredAt).replace(ANSI, '').replace(/\r/g, '');
      assert.ok(after.startsWith('n\n'), JSON.stringify(after.slice(0, 80)));
      assert.equal(app.emulator.requests.filter((r) => r.command === 'im_remove_all_tags').length, 0);
    });
  }
});
