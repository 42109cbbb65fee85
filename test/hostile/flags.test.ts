/**
 * Hostile flags: each one is a usage (exit 2) or configuration (exit 3) error with one clear
 * line, printed before anything is sent, with nothing on stdout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, TEST_ADMIN, TEST_SDKAPPID } from '../helpers/cli.js';
import { json, LEAK_SECRET_KEY, startScripted, type ScriptedServer } from './servers.js';

const cases: Array<{ name: string; args: string[]; exit: number; stderr: string }> = [
  { name: 'an unknown option gets commander\'s suggestion', args: ['--jsn'], exit: 2, stderr: 'im-attrs: unknown option \'--jsn\' (did you mean "--json"?)\n' },
  {
    name: '--batch-size 0',
    args: ['--batch-size', '0'],
    exit: 2,
    stderr: 'im-attrs: --batch-size must be a whole number from 1 to 100, not "0"\n',
  },
  {
    name: '--batch-size 101 (over the API limit of 100 accounts)',
    args: ['--batch-size', '101'],
    exit: 2,
    stderr: 'im-attrs: --batch-size must be a whole number from 1 to 100, not "101"\n',
  },
  { name: 'a negative --rate', args: ['--rate', '-1'], exit: 2, stderr: 'im-attrs: --rate must be a whole number from 0 to 100000, not "-1"\n' },
  { name: 'a fractional --concurrency', args: ['--concurrency', '1.5'], exit: 2, stderr: 'im-attrs: --concurrency must be a whole number from 1 to 1000, not "1.5"\n' },
  {
    name: '--json with a contradicting --output',
    args: ['--json', '--output', 'table'],
    exit: 2,
    stderr: 'im-attrs: --json and --output table contradict each other\nhint: give one of them\n',
  },
  {
    name: 'an --output that is not a format',
    args: ['--output', 'xml'],
    exit: 2,
    stderr: "im-attrs: option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are table, tsv, csv, json, ndjson.\n",
  },
  { name: '--timeout 0', args: ['--timeout', '0'], exit: 3, stderr: 'im-attrs: timeout "0" (from flag --timeout) must be a positive number of seconds\n' },
  { name: 'a --ca file that does not exist', args: ['--ca', '/nonexistent/ca.pem'], exit: 3, stderr: 'im-attrs: --ca /nonexistent/ca.pem cannot be read: ENOENT\n' },
  {
    name: 'an endpoint with a query string (a UserSig pasted into it, say)',
    args: ['--endpoint', 'https://api.example.com/?usersig=abc'],
    exit: 3,
    stderr:
      'im-attrs: endpoint "https://api.example.com/?usersig=<redacted>" (from flag --endpoint) must not carry a query, fragment or credentials\n' +
      'hint: give only the scheme, host, port and an optional path prefix\n',
  },
];

describe('hostile flags: refused before any request', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScripted((_req, res) => json(res, { ActionStatus: 'OK', ErrorCode: 0, UserAttrs: [] }));
  });
  after(() => server.close());

  for (const c of cases) {
    it(`${c.name}: exit ${c.exit}`, async () => {
      const result = await runCli(['get', 'alice', ...c.args], {
        env: { IMADMIN_ENDPOINT: server.url, IMADMIN_SDKAPPID: String(TEST_SDKAPPID), IMADMIN_IDENTIFIER: TEST_ADMIN, IMADMIN_SECRET_KEY: LEAK_SECRET_KEY },
      });
      assert.equal(result.stderr, c.stderr);
      assert.equal(result.code, c.exit);
      assert.equal(result.stdout, '');
      assert.equal(server.requests.length, 0);
    });
  }
});
