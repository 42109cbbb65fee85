/**
 * The first screen fits: every table im-attrs prints, and doctor, stay within the terminal's
 * width at 60, 80 and 120 columns (and within 80 piped, where nothing is cut); at 40 columns the
 * account column is still whole. Help pages are checked in test/docs/docs.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayWidth } from '../../src/output/index.js';
import { runCli, seededIds, useEmulator } from '../helpers/cli.js';

describe('tables and doctor fit the screen', () => {
  const app = useEmulator({ seedUsers: 60, rateLimit: 0 });
  const ids = seededIds(1, 40);
  const commands: ReadonlyArray<readonly string[]> = [
    ['get', ...ids, '--tags', '-o', 'table'],
    ['tags', 'get', ...ids, '-o', 'table'],
    ['names', '-o', 'table'],
    ['audience', ...ids, '--tags-or', 'vip', '-o', 'table'],
    ['audience', ...ids, '--by', 'city', '-o', 'table'],
    ['audience', ...ids, '--by', 'city,level', '-o', 'table'],
    ['doctor'],
  ];

  it('within 80 columns piped, and 60, 80 and 120 on a terminal', async () => {
    const wide: string[] = [];
    for (const args of commands) {
      for (const [tty, columns] of [[false, undefined], [true, 60], [true, 80], [true, 120]] as const) {
        const result = await runCli([...args, '-q'], { env: app.env, stdoutIsTTY: tty, columns });
        assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
        const width = columns ?? 80;
        for (const line of result.stdout.split('\n')) if (displayWidth(line) > width) wide.push(`${args.slice(0, 3).join(' ')} at ${width}: ${line}`);
      }
    }
    assert.deepEqual(wide, []);
  });

  it('keeps the account column whole at 40 columns', async () => {
    const result = await runCli(['get', ...ids, '--tags', '-o', 'table', '-q'], { env: app.env, stdoutIsTTY: true, columns: 40 });
    const rows = result.stdout.split('\n').slice(2, -1);
    assert.equal(rows.length, 40);
    assert.deepEqual(
      rows.map((row) => row.split(' ')[0]),
      ids,
    );
    assert.ok(result.stdout.split('\n').every((line) => displayWidth(line) <= 40));
  });
});
