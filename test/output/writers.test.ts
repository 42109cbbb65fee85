import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { fitWidths } from '../../src/output/table.js';
import { createTestIO } from '../../src/io.js';
import {
  createWriter,
  displayWidth,
  FIRST_PAGE,
  OUTPUT_FORMATS,
  truncate,
  type AttrRecord,
  type OutputFormat,
  type WriterOptions,
} from '../../src/output/index.js';

const alice: AttrRecord = { To_Account: 'alice', Attrs: { sex: 'f', city: 'Shenzhen' } };
const bob: AttrRecord = { To_Account: 'bob', Attrs: { city: 'Beijing' } };

/** Run a writer over records and return everything it wrote, plus the unknown columns reported. */
function run(
  format: OutputFormat,
  records: readonly AttrRecord[],
  options: Omit<WriterOptions, 'out'> = {},
): { out: string; unknown: string[] } {
  const io = createTestIO();
  const unknown: string[] = [];
  const writer = createWriter(format, {
    ...options,
    out: io.stdout,
    onUnknownColumn: (name) => unknown.push(name),
  });
  for (const record of records) writer.write(record);
  writer.end();
  writer.end();
  return { out: io.out(), unknown };
}

describe('createWriter', () => {
  it('lists the five formats, table first', () => {
    assert.deepEqual(OUTPUT_FORMATS, ['table', 'tsv', 'csv', 'json', 'ndjson']);
  });

  for (const format of ['tsv', 'csv'] as const) {
    it(`refuses ${format} without columns, since the header comes first`, () => {
      assert.throws(() => createWriter(format, { out: createTestIO().stdout }), UsageError);
    });
  }

  it('streams ndjson, json, tsv and csv: each record is out before end()', () => {
    for (const format of ['ndjson', 'json', 'tsv', 'csv'] as const) {
      const io = createTestIO();
      const writer = createWriter(format, { out: io.stdout, columns: ['city'] });
      writer.write(alice);
      assert.match(io.out(), /Shenzhen/, format);
    }
  });
});

describe('ndjson writer', () => {
  it('writes one compact object per line, To_Account first', () => {
    const record = { Attrs: { k: 'v' }, To_Account: 'a', extra: 1 } as AttrRecord;
    assert.equal(
      run('ndjson', [record, bob]).out,
      '{"To_Account":"a","Attrs":{"k":"v"}}\n{"To_Account":"bob","Attrs":{"city":"Beijing"}}\n',
    );
  });

  it('writes nothing for zero records', () => {
    assert.equal(run('ndjson', []).out, '');
  });
});

describe('json writer', () => {
  const cases: { name: string; records: AttrRecord[]; out: string }[] = [
    { name: 'zero records', records: [], out: '[]\n' },
    {
      name: 'one record',
      records: [{ To_Account: 'a', Attrs: {} }],
      out: '[\n  {"To_Account":"a","Attrs":{}}\n]\n',
    },
    {
      name: 'two records',
      records: [alice, bob],
      out:
        '[\n  {"To_Account":"alice","Attrs":{"sex":"f","city":"Shenzhen"}},\n' +
        '  {"To_Account":"bob","Attrs":{"city":"Beijing"}}\n]\n',
    },
  ];
  for (const { name, records, out } of cases) {
    it(`writes a valid array for ${name}`, () => {
      const got = run('json', records).out;
      assert.equal(got, out);
      assert.deepEqual(JSON.parse(got), records);
    });
  }

  it('refuses write() after end()', () => {
    const writer = createWriter('json', { out: createTestIO().stdout });
    writer.end();
    assert.throws(() => writer.write(alice));
  });
});

describe('tsv writer', () => {
  it('writes the header at creation, before any record', () => {
    const io = createTestIO();
    createWriter('tsv', { out: io.stdout, columns: ['sex', 'city'] });
    assert.equal(io.out(), 'account\tsex\tcity\n');
  });

  it('writes unset attributes as empty cells and escapes \\ tab newline CR', () => {
    const records: AttrRecord[] = [
      alice,
      bob,
      { To_Account: 'c\td', Attrs: { city: 'a\\b\tc\nd\re', sex: 'm' } },
    ];
    assert.equal(
      run('tsv', records, { columns: ['sex', 'city'] }).out,
      'account\tsex\tcity\n' +
        'alice\tf\tShenzhen\n' +
        'bob\t\tBeijing\n' +
        'c\\td\tm\ta\\\\b\\tc\\nd\\re\n',
    );
  });

  it('escapes column names in the header', () => {
    assert.equal(run('tsv', [], { columns: ['a\tb'] }).out, 'account\ta\\tb\n');
  });

  it('reports each attribute without a column once and leaves it out', () => {
    const records: AttrRecord[] = [
      { To_Account: 'a', Attrs: { city: 'x', tag: '1', vip: 'y' } },
      { To_Account: 'b', Attrs: { tag: '2' } },
    ];
    assert.deepEqual(run('tsv', records, { columns: ['city'] }), {
      out: 'account\tcity\na\tx\nb\t\n',
      unknown: ['tag', 'vip'],
    });
  });

  it('does not mistake Object.prototype members for attributes', () => {
    assert.equal(
      run('tsv', [{ To_Account: 'a', Attrs: {} }], { columns: ['toString', '__proto__'] }).out,
      'account\ttoString\t__proto__\na\t\t\n',
    );
  });
});

describe('csv writer', () => {
  it('quotes only the fields that need it, with \\n line endings', () => {
    const records: AttrRecord[] = [
      alice,
      bob,
      { To_Account: 'x,y', Attrs: { sex: 'say "hi"', city: 'two\nlines' } },
      { To_Account: ' pad', Attrs: { sex: 'cr\r', city: 'tail ' } },
      { To_Account: 'plain', Attrs: { sex: 'mid space', city: 'tab\there' } },
    ];
    assert.equal(
      run('csv', records, { columns: ['sex', 'city'] }).out,
      'account,sex,city\n' +
        'alice,f,Shenzhen\n' +
        'bob,,Beijing\n' +
        '"x,y","say ""hi""","two\nlines"\n' +
        '" pad","cr\r","tail "\n' +
        'plain,mid space,tab\there\n',
    );
  });

  it('quotes a lone empty field, so that the row is not a blank line', () => {
    assert.equal(run('csv', [{ To_Account: '', Attrs: {} }], { columns: [] }).out, 'account\n""\n');
  });

  it('reports each attribute without a column once', () => {
    const records: AttrRecord[] = [alice, { To_Account: 'b', Attrs: { sex: 'm', vip: '1' } }];
    assert.deepEqual(run('csv', records, { columns: ['city'] }), {
      out: 'account,city\nalice,Shenzhen\nb,\n',
      unknown: ['sex', 'vip'],
    });
  });
});

describe('table writer', () => {
  it('uses the attribute names seen, in first-seen order, when no columns are given', () => {
    const records: AttrRecord[] = [{ To_Account: 'bob', Attrs: { city: 'Beijing' } }, alice];
    assert.deepEqual(run('table', records), {
      out: ['account  city      sex', '───────  ────────  ───', 'bob      Beijing', 'alice    Shenzhen  f', ''].join('\n'),
      unknown: [],
    });
  });

  it('holds the first page to fix its widths, prints it on flush(), then streams every row', () => {
    const io = createTestIO();
    const writer = createWriter('table', { out: io.stdout, columns: ['sex', 'city'] });
    writer.write(alice);
    assert.equal(io.out(), '');
    writer.flush?.();
    assert.equal(io.out(), ['account  sex  city', '───────  ───  ────────', 'alice    f    Shenzhen', ''].join('\n'));
    writer.write({ To_Account: 'carol-has-a-long-id', Attrs: { city: 'Ho Chi Minh City' } });
    assert.equal(io.out().split('\n')[3], 'carol-has-a-long-id       Ho Chi Minh City', 'not a terminal: nothing is cut');
    writer.end();
  });

  it('prints the first page without flush() once FIRST_PAGE records came', () => {
    const io = createTestIO();
    const writer = createWriter('table', { out: io.stdout, columns: [] });
    for (let i = 0; i < FIRST_PAGE; i++) writer.write({ To_Account: `u${i}`, Attrs: {} });
    assert.equal(io.out().split('\n').length, FIRST_PAGE + 3);
  });

  it('uses explicit columns and reports the others once', () => {
    const records: AttrRecord[] = [alice, { To_Account: 'b', Attrs: { sex: 'm', vip: '1' } }];
    assert.deepEqual(run('table', records, { columns: ['sex'] }), {
      out: ['account  sex', '───────  ───', 'alice    f', 'b        m', ''].join('\n'),
      unknown: ['city', 'vip'],
    });
  });

  it('prints the header alone for zero records', () => {
    assert.equal(run('table', [], { columns: ['sex'] }).out, ['account  sex', '───────  ───', ''].join('\n'));
    assert.equal(run('table', []).out, ['account', '───────', ''].join('\n'));
  });

  it('shows control characters (a newline too) as escapes, never raw', () => {
    const records: AttrRecord[] = [{ To_Account: 'a', Attrs: { v: '\u001b[31mred\tx\r\ny' } }];
    assert.equal(run('table', records).out, ['account  v', '───────  ───────────────────', 'a        \\x1b[31mred\\tx\\r\\ny', ''].join('\n'));
  });

  it('fits 80 columns with 10 attributes of 50 bytes: every line at most 80 characters, cut cells end in …', () => {
    const names = Array.from({ length: 10 }, (_, i) => `attribute_${i}`);
    const records: AttrRecord[] = Array.from({ length: 250 }, (_, r) => ({
      To_Account: `user${String(r).padStart(6, '0')}`,
      Attrs: Object.fromEntries(names.map((n, i) => [n, `${i}`.repeat(50)])),
    }));
    const { out } = run('table', records, { columns: names, width: 80 });
    const lines = out.split('\n').slice(0, -1);
    assert.equal(lines.length, 252, 'a header, a rule and one line per row');
    for (const line of lines) assert.ok(line.length <= 80, `${line.length} > 80: ${line}`);
    // 60 columns left after the gaps: five each, the remainder to the last columns.
    assert.equal(lines[2], 'user000000  0000…  1111…  2222…  3333…  4444…  5555…  6666…  7777…  8888…  9999…');
    assert.equal(lines[0], 'account     attr…  attr…  attr…  attr…  attr…  attr…  attr…  attr…  attr…  attr…');
  });

  it('gives narrow columns their full width and shares the rest; --wide cuts nothing', () => {
    const records: AttrRecord[] = [{ To_Account: 'alice', Attrs: { sex: 'f', bio: 'x'.repeat(50), note: 'y'.repeat(40) } }];
    const fitted = run('table', records, { columns: ['sex', 'bio', 'note'], width: 40 }).out.split('\n');
    assert.deepEqual(fitted, ['account  sex  bio           note', '───────  ───  ────────────  ────────────', `alice    f    ${'x'.repeat(11)}…  ${'y'.repeat(11)}…`, '']);
    const wide = run('table', records, { columns: ['sex', 'bio', 'note'], width: 40, wide: true }).out.split('\n');
    assert.equal(wide[2], `alice    f    ${'x'.repeat(50)}  ${'y'.repeat(40)}`);
  });

  it('counts East Asian wide characters as two columns', () => {
    const records: AttrRecord[] = [{ To_Account: 'a', Attrs: { city: '深圳市南山区' } }];
    assert.deepEqual(run('table', records, { columns: ['city'], width: 12 }).out.split('\n'), ['account  ci…', '───────  ───', 'a        深…', '']);
    assert.equal(displayWidth('深圳'), 4);
    assert.equal(truncate('深圳市', 5), '深圳…');
  });
});

describe('a table on a narrow terminal', () => {
  it('keeps the account column whole and cuts the others first (fitWidths)', () => {
    // 40 columns: the 10-character IDs stay whole, three attribute columns share the rest.
    assert.deepEqual(fitWidths([10, 8, 12, 6], 40), [10, 8, 10, 6]);
    assert.deepEqual(fitWidths([10, 20, 20, 20], 40), [10, 8, 8, 8]);
    // Narrower than the ID plus a character per other column: the ID gives way, never to nothing.
    assert.deepEqual(fitWidths([30, 5, 5], 20), [14, 1, 1]);
  });
});
