/**
 * records.ts on its own: format detection, record checks, line numbers in every format, the two
 * passes (bad records reported once, duplicates merged at their last line), stdin copied and
 * cleaned up, and atomic files.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import {
  appNames,
  checkRecord,
  detectFormat,
  elementLines,
  MAX_RECORD_LINE_BYTES,
  openRecordInputs,
  RecordReader,
  type BadLine,
  type Entry,
  type RecordFormat,
  type RecordMode,
} from '../../src/input/records.js';
import { tempDir } from '../helpers/cli.js';

const NAMES = appNames(['sex', 'city', 'level']);
const files = tempDir();
after(() => files.cleanup());

let fileCounter = 0;
function file(content: string | Buffer, name = `in-${++fileCounter}.txt`): string {
  const full = path.join(files.dir, name);
  writeFileSync(full, content);
  return full;
}

/** Runs both passes over files; entries as [account, {attrs}] for compact expectations. */
async function read(
  inputs: Array<{ content: string; name?: string; format?: RecordFormat }>,
  mode: RecordMode = 'set',
): Promise<{ bad: string[]; entries: Array<[string, Record<string, string>]>; report: unknown }> {
  const opened = await openRecordInputs(
    inputs.map((i) => {
      const p = file(i.content, i.name ?? `in-${++fileCounter}.txt`);
      return { kind: 'file' as const, path: p, label: path.basename(p) };
    }),
    inputs[0]?.format,
  );
  try {
    const reader = new RecordReader(opened.sources, mode, NAMES);
    const bad: string[] = [];
    const report = await reader.scan((b: BadLine) => bad.push(`${b.where}: ${b.problems.join('; ')}`));
    const entries: Array<[string, Record<string, string>]> = [];
    for await (const e of reader.entries()) entries.push([e.account, Object.fromEntries((e as Entry).attrs)]);
    return { bad, entries, report };
  } finally {
    await opened.close();
  }
}

describe('detectFormat', () => {
  const cases: Array<{ text: string; label?: string; format: RecordFormat }> = [
    { text: '[\n  {"To_Account":"a","Attrs":{}}\n]\n', format: 'json' },
    { text: '{"To_Account":"a","Attrs":{}}\n', format: 'ndjson' },
    { text: '\uFEFF  \n{"To_Account":"a"}', label: 'x.csv', format: 'ndjson' },
    { text: 'account\tsex\tcity\nu1\tF\t\n', label: 'x.csv', format: 'tsv' },
    { text: 'account,sex\nu1,F\n', label: 'x.tsv', format: 'csv' },
    { text: 'account\nu1\n', label: 'x.csv', format: 'csv' },
    { text: 'account\nu1\n', label: 'x.jsonl', format: 'ndjson' },
    { text: 'account\nu1\n', label: '<stdin>', format: 'tsv' },
    { text: '', label: 'backup.json', format: 'json' },
  ];
  for (const c of cases) {
    it(`reads ${JSON.stringify(c.text.slice(0, 24))} from ${c.label ?? 'no name'} as ${c.format}`, () => {
      assert.equal(detectFormat(c.text, c.label), c.format);
    });
  }
});

describe('elementLines', () => {
  it('gives the line each element of a JSON array starts on, strings and nesting included', () => {
    const text = '[\n  {"a":"x,\\"]"},\n  {"b":[1,\n2]}, 3,\n\n  "s"\n]';
    assert.deepEqual(elementLines(text), [2, 3, 4, 6]);
    assert.deepEqual(elementLines('[]'), []);
    assert.deepEqual(elementLines('[{"a":1},{"a":2}]'), [1, 1]);
  });
});

describe('checkRecord', () => {
  const fiftyOne = 'é'.repeat(25) + 'x'; // 51 bytes in UTF-8
  const cases: Array<{ name: string; mode?: RecordMode; value: unknown; expected: string[] | Record<string, string> }> = [
    { name: 'a good set record', value: { To_Account: 'u1', Attrs: { city: 'Paris', sex: 'F' } }, expected: { city: 'Paris', sex: 'F' } },
    { name: 'a value of exactly 50 bytes', value: { To_Account: 'u1', Attrs: { city: 'é'.repeat(25) } }, expected: { city: 'é'.repeat(25) } },
    { name: 'an empty value (json keeps it)', value: { To_Account: 'u1', Attrs: { city: '' } }, expected: { city: '' } },
    { name: 'extra keys, ignored', value: { To_Account: 'u1', Attrs: {}, Note: 1 }, expected: {} },
    { name: 'an account with edge spaces, trimmed', value: { To_Account: ' u1 ', Attrs: {} }, expected: { account: 'u1' } },
    { name: 'not an object', value: ['u1'], expected: ['expected an object like {"To_Account":"alice","Attrs":{"city":"Paris"}}, not an array'] },
    { name: 'a missing account', value: { Attrs: {} }, expected: ['"To_Account" is missing'] },
    { name: 'a misspelt key', value: { to_account: 'u1', attrs: {} }, expected: ['"To_Account" is missing (did you mean "to_account"?)', '"Attrs" is missing (did you mean "attrs"?)'] },
    { name: 'a numeric account', value: { To_Account: 7, Attrs: {} }, expected: ['"To_Account" must be a string, not a number'] },
    { name: 'a blank account', value: { To_Account: '  ', Attrs: {} }, expected: ['the account is empty'] },
    { name: 'a list of names for set', value: { To_Account: 'u1', Attrs: ['city'] }, expected: ['"Attrs" must be an object of name → value, not an array'] },
    { name: 'an unknown name', value: { To_Account: 'u1', Attrs: { citty: 'Paris' } }, expected: ['unknown attribute "citty" (did you mean "city"?)'] },
    { name: 'a far-off unknown name', value: { To_Account: 'u1', Attrs: { colour: 'red' } }, expected: ['unknown attribute "colour"'] },
    { name: 'a number value', value: { To_Account: 'u1', Attrs: { level: 3 } }, expected: ['the value of "level" must be a string, not a number'] },
    { name: 'a 51-byte value', value: { To_Account: 'u1', Attrs: { city: fiftyOne } }, expected: ['the value of "city" is 51 bytes, over the limit of 50'] },
    {
      name: 'several problems at once',
      value: { To_Account: '', Attrs: { citty: 'x', sex: null } },
      expected: ['the account is empty', 'unknown attribute "citty" (did you mean "city"?)', 'the value of "sex" must be a string, not null'],
    },
    { name: 'a list of names for remove', mode: 'remove', value: { To_Account: 'u1', Attrs: ['city', 'sex', 'city'] }, expected: { city: '', sex: '' } },
    { name: 'an object for remove (values ignored)', mode: 'remove', value: { To_Account: 'u1', Attrs: { level: 3 } }, expected: { level: '' } },
    { name: 'a bad name for remove', mode: 'remove', value: { To_Account: 'u1', Attrs: ['lvl', 2] }, expected: ['unknown attribute "lvl"', 'attribute names must be strings, not a number'] },
    { name: 'a string for remove', mode: 'remove', value: { To_Account: 'u1', Attrs: 'city' }, expected: ['"Attrs" must be a list of names or an object, not a string'] },
  ];
  for (const c of cases) {
    it(`checks ${c.name}`, () => {
      const result = checkRecord(c.value, c.mode ?? 'set', NAMES);
      if (Array.isArray(c.expected)) assert.deepEqual('problems' in result ? result.problems : result, c.expected);
      else if ('account' in c.expected) assert.equal('entry' in result ? result.entry.account : result, c.expected.account);
      else assert.deepEqual('entry' in result ? Object.fromEntries(result.entry.attrs) : result, c.expected);
    });
  }
});

describe('RecordReader', () => {
  it('numbers ndjson records by line, skipping blank lines, and lists every bad one', async () => {
    const { bad, entries } = await read([
      {
        content:
          '{"To_Account":"u1","Attrs":{"city":"Paris"}}\n' +
          '\n' +
          '{"To_Account":"u2","Attrs":{"citty":"Rome"}}\r\n' +
          'not json\n' +
          '[{"To_Account":"u3"}]\n' +
          '   \n' +
          '{"To_Account":"u4","Attrs":{}}',
      },
    ]);
    assert.deepEqual(bad, [
      'line 3: unknown attribute "citty" (did you mean "city"?)',
      'line 4: not valid JSON',
      'line 5: expected an object like {"To_Account":"alice","Attrs":{"city":"Paris"}}, not an array',
    ]);
    assert.deepEqual(entries, [['u1', { city: 'Paris' }], ['u4', {}]]);
  });

  it('merges an account on several lines at its last line, later values winning', async () => {
    const { entries, report } = await read([
      {
        content:
          '{"To_Account":"a","Attrs":{"city":"Paris","sex":"F"}}\n' +
          '{"To_Account":"b","Attrs":{"city":"Rome"}}\n' +
          '{"To_Account":"a","Attrs":{"city":"Lyon"}}\n' +
          '{"To_Account":"c","Attrs":{}}\n' +
          '{"To_Account":"a","Attrs":{"citty":"bad line, not merged"}}\n' +
          '{"To_Account":"c","Attrs":{}}\n',
      },
    ]);
    assert.deepEqual(entries, [['b', { city: 'Rome' }], ['a', { city: 'Lyon', sex: 'F' }], ['c', {}]]);
    assert.deepEqual(report, { records: 6, bad: 1, accounts: 3, empty: 1, duplicates: 2 });
  });

  it('reads a json array with the line of each element', async () => {
    const { bad, entries } = await read([
      { content: '[\n  {"To_Account":"u1","Attrs":{"sex":"F"}},\n  {"To_Account":"u2","Attrs":{"sex":5}},\n  {"To_Account":"u3","Attrs":{}}\n]\n' },
    ]);
    assert.deepEqual(bad, ['line 3: the value of "sex" must be a string, not a number']);
    assert.deepEqual(entries, [['u1', { sex: 'F' }], ['u3', {}]]);
  });

  it('reads csv with quoted fields over several lines, numbered by their first line; an empty cell is left out', async () => {
    const { bad, entries } = await read([
      {
        content: 'account,sex,city\r\nu1,F,"Paris, ""the"" city"\r\nu2,,"two\nlines"\r\nu3,M\r\nu4,,\r\n"u,5",M,x\n',
        name: 'a.csv',
      },
    ]);
    assert.deepEqual(bad, ['line 5: 2 fields, but the header has 3']);
    assert.deepEqual(entries, [
      ['u1', { sex: 'F', city: 'Paris, "the" city' }],
      ['u2', { city: 'two\nlines' }],
      ['u4', {}],
      ['u,5', { sex: 'M', city: 'x' }],
    ]);
  });

  it('reads tsv with escapes, and names the file of a bad line when there are several inputs', async () => {
    const { bad, entries } = await read([
      { content: 'account\tcity\nu1\tTab\\there\\\\\n', name: 'one.tsv' },
      { content: '{"To_Account":"u2","Attrs":{"levl":"x"}}\n', name: 'two.ndjson' },
    ]);
    assert.deepEqual(bad, ['line 1 of two.ndjson: unknown attribute "levl" (did you mean "level"?)']);
    assert.deepEqual(entries, [['u1', { city: 'Tab\there\\' }]]);
  });

  it('marks csv cells for removal when they are not empty', async () => {
    const { entries } = await read([{ content: 'account,sex,city,level\nu1,F,,gold\nu2,,,\n', format: 'csv' }], 'remove');
    assert.deepEqual(entries, [['u1', { sex: '', level: '' }], ['u2', {}]]);
  });

  const fatal: Array<{ name: string; content: string; fileName?: string; message: string; hint?: string }> = [
    {
      name: 'an unknown column in the header',
      content: 'account,sex,citty\nu1,F,x\n',
      fileName: 'h.csv',
      message: 'line 1 of h.csv (the csv header): unknown attribute "citty" (did you mean "city"?)',
      hint: "the header is `account` and then attribute names (the app's: sex, city, level); define a missing one with `im-attrs names set SLOT=NAME`, or drop its column (or pick columns with --columns, the account column with --id-column)",
    },
    {
      name: 'a header without the account column, or with a column twice',
      content: '\nuser\tsex\tsex\t\n',
      fileName: 'h.tsv',
      message: 'line 2 of h.tsv (the tsv header): the first column must be "account", not "user"; the column "sex" appears twice; a column has no name',
    },
    {
      name: 'an unclosed quote',
      content: 'account,city\nu1,"Paris\nu2,Rome\n',
      fileName: 'q.csv',
      message: 'line 2 of q.csv: a quoted field starts in this record and is never closed',
    },
    {
      name: 'a json array that does not parse',
      content: '[\n{"To_Account":"u1","Attrs":{}},\n{"To_Account":"u2",}\n]',
      fileName: 'j.json',
      message: 'line 3 of j.json: not valid JSON',
    },
    {
      name: 'a json object instead of an array',
      content: '{"To_Account":"u1",\n"Attrs":{}}',
      fileName: 'o.json',
      message: 'o.json: a json input must be an array of records, not an object',
    },
    {
      name: 'an endless ndjson line',
      content: `{"To_Account":"u1","Attrs":{}}\n{"x":"${'a'.repeat(MAX_RECORD_LINE_BYTES)}"}\n`,
      fileName: 'long.ndjson',
      message: `line 2 of long.ndjson is over ${MAX_RECORD_LINE_BYTES} bytes long; a record is a few hundred bytes. Is this a binary file?`,
    },
    {
      name: 'invalid UTF-8 in a json array',
      content: '[{"To_Account":"\xff","Attrs":{}}]',
      fileName: 'bin.json',
      message: 'bin.json is not valid UTF-8',
    },
    {
      name: 'invalid UTF-8',
      content: '{"To_Account":"u1","Attrs":{}}\n{"To_Account":"\xff"}\n',
      fileName: 'bin.ndjson',
      message: 'line 2 of bin.ndjson is not valid UTF-8',
    },
  ];
  for (const c of fatal) {
    it(`refuses the whole input for ${c.name}, before yielding anything`, async () => {
      const content = c.name.startsWith('invalid UTF-8') ? Buffer.from(c.content, 'latin1') : c.content;
      const p = file(content, c.fileName);
      const format = c.fileName?.endsWith('.json') ? 'json' : undefined;
      const opened = await openRecordInputs([{ kind: 'file', path: p, label: c.fileName! }], format);
      try {
        const reader = new RecordReader(opened.sources, 'set', NAMES);
        await assert.rejects(reader.scan(() => undefined), (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.equal(error.message, c.message);
          if (c.hint) assert.equal(error.hint, c.hint);
          return true;
        });
      } finally {
        await opened.close();
      }
    });
  }
});

describe('openRecordInputs', () => {
  it('copies stdin to a private file that close() removes, so it can be read twice', async () => {
    const stdin = new PassThrough();
    stdin.end('account,city\nu1,Paris\n');
    const opened = await openRecordInputs([{ kind: 'stdin', stream: stdin }], undefined);
    const [source] = opened.sources;
    assert.equal(source?.label, '<stdin>');
    assert.equal(source?.format, 'csv');
    assert.equal(readFileSync(source!.path, 'utf8'), 'account,city\nu1,Paris\n');
    const reader = new RecordReader(opened.sources, 'set', NAMES);
    await reader.scan(() => undefined);
    const accounts: string[] = [];
    for await (const e of reader.entries()) accounts.push(e.account);
    assert.deepEqual(accounts, ['u1']);
    await opened.close();
    assert.equal(existsSync(source!.path), false);
  });

  it('names a file that cannot be read', async () => {
    await assert.rejects(openRecordInputs([{ kind: 'file', path: path.join(files.dir, 'nope.csv'), label: 'nope.csv' }], undefined), {
      message: 'cannot read records from nope.csv: no such file',
    });
    await assert.rejects(openRecordInputs([{ kind: 'file', path: files.dir, label: 'dir' }], undefined), {
      message: 'cannot read records from dir: it is a directory',
    });
  });
});
