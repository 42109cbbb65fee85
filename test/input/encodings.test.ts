/**
 * Input files saved as UTF-16 (Windows tools, Excel's "Unicode text") are said to be UTF-16, with
 * how to convert them, rather than refused as "binary" or "not valid UTF-8": account lists and
 * record files alike, with or without a byte-order mark. Nothing is sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();

const utf16le = (text: string, bom: boolean): Buffer => Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string): Buffer => {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return Buffer.concat([Buffer.from([0xfe, 0xff]), le]);
};

describe('a UTF-16 input file', () => {
  const app = useEmulator({ seedUsers: 3, rateLimit: 0 });
  const cases: Array<{ name: string; args: (file: string) => string[]; bytes: Buffer; encoding: string }> = [
    { name: 'an account list with a byte-order mark (get)', args: (f) => ['get', '--file', f, '-o', 'ndjson'], bytes: utf16le('user000001\r\nuser000002\r\n', true), encoding: 'UTF-16LE' },
    { name: 'an account list without one (get)', args: (f) => ['get', '--file', f, '-o', 'ndjson'], bytes: utf16le('user000001\nuser000002\n', false), encoding: 'UTF-16LE' },
    { name: 'a big-endian account list (tags get)', args: (f) => ['tags', 'get', '--file', f, '-o', 'ndjson'], bytes: utf16be('user000001\n'), encoding: 'UTF-16BE' },
    { name: 'a CSV of records (set)', args: (f) => ['set', '--file', f, '--yes'], bytes: utf16le('account,city\nuser000001,Paris\n', true), encoding: 'UTF-16LE' },
    { name: 'a json array of records (set --format json)', args: (f) => ['set', '--file', f, '--format', 'json', '--yes'], bytes: utf16le('[{"To_Account":"user000001","Attrs":{"city":"Paris"}}]', true), encoding: 'UTF-16LE' },
  ];
  for (const c of cases) {
    it(`${c.name}: says it is ${c.encoding} and how to convert it, and sends nothing but the names`, async () => {
      const file = files.write(`${c.name.replace(/\W+/g, '-')}.txt`, '');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, c.bytes);
      const result = await runCli(c.args(file), { env: app.env });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`im-attrs: .*${c.encoding} text, not UTF-8\\nhint: convert it first: iconv -f ${c.encoding} -t UTF-8 `));
      assert.deepEqual(app.emulator.requests.filter((r) => r.command !== 'im_get_attr_name').length, 0);
    });
  }
});
