import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../src/errors.js';
import { CsvParser, parseCsv, type CsvRow } from '../../src/input/csv.js';
import { parseTsvLine } from '../../src/input/tsv.js';
import { formatCsvLine } from '../../src/output/index.js';

describe('parseTsvLine', () => {
  const cases: { name: string; line: string; fields: string[] }[] = [
    { name: 'plain fields', line: 'a\tb\tc', fields: ['a', 'b', 'c'] },
    { name: 'empty cells', line: 'a\t\t', fields: ['a', '', ''] },
    { name: 'the four escapes', line: 'x\\\\y\\tz\\nw\\rv', fields: ['x\\y\tz\nw\rv'] },
    { name: 'an escaped backslash before t', line: '\\\\t', fields: ['\\t'] },
    { name: 'a CRLF line ending', line: 'a\tb\r', fields: ['a', 'b'] },
    { name: 'an unknown escape, kept', line: 'C:\\dir\\', fields: ['C:\\dir\\'] },
    { name: 'unicode', line: '用户\t😀', fields: ['用户', '😀'] },
  ];
  for (const { name, line, fields } of cases) {
    it(`reads ${name}`, () => {
      assert.deepEqual(parseTsvLine(line), fields);
    });
  }
});

/** Rows as [line, ...fields] tuples, for compact expectations. */
function flat(rows: readonly CsvRow[]): [number, ...string[]][] {
  return rows.map((row) => [row.line, ...row.fields]);
}

describe('parseCsv', () => {
  const cases: { name: string; text: string; rows: [number, ...string[]][] }[] = [
    { name: 'plain rows', text: 'a,b\nc,d\n', rows: [[1, 'a', 'b'], [2, 'c', 'd']] },
    { name: 'a last line without a line break', text: 'a,b\nc,d', rows: [[1, 'a', 'b'], [2, 'c', 'd']] },
    { name: 'CRLF line endings', text: 'a,b\r\nc,"d"\r\n', rows: [[1, 'a', 'b'], [2, 'c', 'd']] },
    { name: 'blank lines, skipped', text: '\na\n\r\n\nb\n\n', rows: [[2, 'a'], [5, 'b']] },
    { name: 'a BOM', text: '\uFEFFaccount,x\n', rows: [[1, 'account', 'x']] },
    { name: 'empty fields', text: ',a,\n', rows: [[1, '', 'a', '']] },
    { name: 'a quoted empty field alone', text: '""\n', rows: [[1, '']] },
    { name: 'doubled quotes', text: '"say ""hi""",x\n', rows: [[1, 'say "hi"', 'x']] },
    {
      name: 'quoted fields over several lines, numbered by their first line',
      text: 'a,"1\n2\r\n3"\nb,c\n',
      rows: [[1, 'a', '1\n2\r\n3'], [4, 'b', 'c']],
    },
    { name: 'a lone CR inside an unquoted field', text: 'a\rb\n', rows: [[1, 'a\rb']] },
    { name: 'a quote inside an unquoted field, kept', text: '5" screen,x\n', rows: [[1, '5" screen', 'x']] },
    { name: 'edge spaces, kept', text: ' a , b \n', rows: [[1, ' a ', ' b ']] },
  ];
  for (const { name, text, rows } of cases) {
    it(`reads ${name}`, () => {
      assert.deepEqual(flat(parseCsv(text)), rows);
    });
  }

  const errors: { name: string; text: string; message: string }[] = [
    {
      name: 'an unterminated quoted field',
      text: 'a\nb,"open\nmore\n',
      message: 'line 2 of ids.csv: a quoted field starts in this record and is never closed',
    },
    {
      name: 'text after a closing quote',
      text: 'a\n"b"c\n',
      message: 'line 2 of ids.csv: unexpected "c" after the closing quote of a field',
    },
    {
      name: 'a lone CR after a closing quote',
      text: '"b"\rc\n',
      message: 'line 1 of ids.csv: unexpected "\\r" after the closing quote of a field',
    },
  ];
  for (const { name, text, message } of errors) {
    it(`rejects ${name}, naming the line`, () => {
      assert.throws(() => parseCsv(text, { source: 'ids.csv' }), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.message, message);
        return true;
      });
    });
  }

  it('gives the same rows however the text is split into chunks', () => {
    const text = 'account,a\r\n"x,1","say ""hi""\r\nthere"\r\n\r\ny,\r\n"z"\r\n';
    const whole = parseCsv(text);
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        const parser = new CsvParser();
        const rows = [
          ...parser.push(text.slice(0, i)),
          ...parser.push(text.slice(i, j)),
          ...parser.push(text.slice(j)),
          ...parser.end(),
        ];
        assert.deepEqual(rows, whole, `split at ${i}, ${j}`);
      }
    }
  });

  it('streams from byte chunks, even with a character split between chunks', async () => {
    const bytes = Buffer.from('\uFEFFaccount,名\n"用户\n2",😀\n');
    async function* oneByteAtATime(): AsyncGenerator<Uint8Array> {
      for (const byte of bytes) yield Uint8Array.of(byte);
    }
    const rows: CsvRow[] = [];
    for await (const row of parseCsv(oneByteAtATime())) rows.push(row);
    assert.deepEqual(flat(rows), [[1, 'account', '名'], [2, '用户\n2', '😀']]);
  });

  it('rejects invalid UTF-8 in a byte stream', async () => {
    async function* bad(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('a\n');
      yield Uint8Array.of(0xff, 0x0a);
    }
    await assert.rejects(
      async () => {
        for await (const _row of parseCsv(bad(), { source: '<stdin>' })) {
          // drain
        }
      },
      { name: 'UsageError', message: 'line 2 of <stdin> is not valid UTF-8' },
    );
  });

  it('reads back any rows formatCsvLine wrote, split into any chunks', () => {
    const field = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é') });
    const rowArb = fc.array(field, { minLength: 1, maxLength: 4 }).filter((r) => !(r.length === 1 && r[0] === ''));
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 6 }), fc.array(fc.nat()), (rows, cuts) => {
        const text = rows.map(formatCsvLine).join('');
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const parser = new CsvParser();
        const got: string[][] = [];
        let from = 0;
        for (const point of [...points, text.length]) {
          got.push(...parser.push(text.slice(from, point)).map((r) => r.fields));
          from = point;
        }
        got.push(...parser.end().map((r) => r.fields));
        assert.deepEqual(got, rows);
      }),
    );
  });
});
