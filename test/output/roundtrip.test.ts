/**
 * Property tests: whatever the records hold, writing them and parsing the output back gives the
 * same data. This is what makes get → edit → set lossless.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createTestIO } from '../../src/io.js';
import { parseCsv } from '../../src/input/csv.js';
import { parseTsvLine } from '../../src/input/tsv.js';
import { createWriter, type AttrRecord, type OutputFormat } from '../../src/output/index.js';

/** Any code point, with the characters that break naive formats much more often. */
const char = fc.oneof(
  {
    arbitrary: fc.constantFrom('\t', ',', '"', '\n', '\r', '\\', ' ', "'", '\u2028', '\uFEFF', 'é', '😀'),
    weight: 1,
  },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 2 },
);

function records(minValueLength: number): fc.Arbitrary<AttrRecord[]> {
  const text = (minLength: number) => fc.string({ unit: char, minLength, maxLength: 12 });
  return fc.array(
    fc.record(
      {
        To_Account: text(1),
        Attrs: fc.dictionary(text(0), text(minValueLength), { maxKeys: 4, noNullPrototype: true }),
      },
      { noNullPrototype: true },
    ),
    { maxLength: 8 },
  );
}

/** Every attribute name, in first-seen order: the columns a caller would ask for. */
function columnsOf(recs: readonly AttrRecord[]): string[] {
  return [...new Set(recs.flatMap((r) => Object.keys(r.Attrs)))];
}

function write(format: OutputFormat, recs: readonly AttrRecord[], columns?: string[]): string {
  const io = createTestIO();
  const writer = createWriter(format, { out: io.stdout, columns });
  for (const record of recs) writer.write(record);
  writer.end();
  return io.out();
}

/** A record from a header and a row of cells; an empty cell is an unset attribute. */
function fromRow(header: readonly string[], cells: readonly string[]): AttrRecord {
  assert.equal(cells.length, header.length);
  const attrs: Record<string, string> = {};
  header.forEach((name, i) => {
    const value = cells[i];
    if (i > 0 && value !== undefined && value !== '') {
      Object.defineProperty(attrs, name, { value, enumerable: true, writable: true, configurable: true });
    }
  });
  return { To_Account: cells[0] ?? '', Attrs: attrs };
}

/** Compare attribute maps as sets of entries: tsv/csv order them by column. */
function normalise(recs: readonly AttrRecord[]): [string, [string, string][]][] {
  return recs.map((r) => [r.To_Account, Object.entries(r.Attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

describe('write then parse gives back the same records', () => {
  it('ndjson', () => {
    fc.assert(
      fc.property(records(0), (recs) => {
        const out = write('ndjson', recs);
        const lines = out.split('\n');
        assert.equal(lines.pop(), '');
        assert.deepEqual(
          lines.map((line) => JSON.parse(line) as unknown),
          recs,
        );
      }),
    );
  });

  it('json', () => {
    fc.assert(
      fc.property(records(0), (recs) => {
        assert.deepEqual(JSON.parse(write('json', recs)), recs);
      }),
    );
  });

  it('tsv', () => {
    fc.assert(
      fc.property(records(1), (recs) => {
        const columns = columnsOf(recs);
        const lines = write('tsv', recs, columns).split('\n');
        assert.equal(lines.pop(), '');
        const [header, ...rows] = lines.map(parseTsvLine);
        assert.deepEqual(header, ['account', ...columns]);
        assert.deepEqual(normalise(rows.map((row) => fromRow(header ?? [], row))), normalise(recs));
      }),
    );
  });

  it('csv', () => {
    fc.assert(
      fc.property(records(1), (recs) => {
        const columns = columnsOf(recs);
        const [header, ...rows] = parseCsv(write('csv', recs, columns)).map((row) => row.fields);
        assert.deepEqual(header, ['account', ...columns]);
        assert.deepEqual(normalise(rows.map((row) => fromRow(header ?? [], row))), normalise(recs));
      }),
    );
  });
});
