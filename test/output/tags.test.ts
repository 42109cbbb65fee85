/** Tags in the output: the json fields, the tags column, and its lossless cell encoding. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinTagsCell, splitTagsCell } from '../../src/model.js';
import { createWriter, type AttrRecord, type OutputFormat } from '../../src/output/index.js';
import { createTestIO } from '../../src/io.js';

function render(format: OutputFormat, records: AttrRecord[], fields: { attrs: boolean; tags: boolean }, columns?: string[]): string {
  const io = createTestIO();
  const writer = createWriter(format, { out: io.stdout, columns, fields });
  for (const r of records) writer.write(r);
  writer.end();
  return io.out();
}

const alice: AttrRecord = { To_Account: 'alice', Attrs: { city: 'Paris' }, Tags: ['gold', 'a,b', 'back\\slash'] };
const bob: AttrRecord = { To_Account: 'bob', Attrs: {}, Tags: [] };

describe('tags in the output', () => {
  const cases: Array<{ name: string; format: OutputFormat; fields: { attrs: boolean; tags: boolean }; columns?: string[]; expected: string }> = [
    { name: 'ndjson, tags only: the get-tags shape', format: 'ndjson', fields: { attrs: false, tags: true }, expected: '{"To_Account":"alice","Tags":["gold","a,b","back\\\\slash"]}\n{"To_Account":"bob","Tags":[]}\n' },
    { name: 'ndjson, attributes and tags', format: 'ndjson', fields: { attrs: true, tags: true }, expected: '{"To_Account":"alice","Attrs":{"city":"Paris"},"Tags":["gold","a,b","back\\\\slash"]}\n{"To_Account":"bob","Attrs":{},"Tags":[]}\n' },
    { name: 'json, tags only', format: 'json', fields: { attrs: false, tags: true }, expected: '[\n  {"To_Account":"alice","Tags":["gold","a,b","back\\\\slash"]},\n  {"To_Account":"bob","Tags":[]}\n]\n' },
    { name: 'tsv, tags only: one escaped cell', format: 'tsv', fields: { attrs: false, tags: true }, expected: 'account\ttags\nalice\tgold,a\\\\,b,back\\\\\\\\slash\nbob\t\n' },
    { name: 'csv, attributes then tags', format: 'csv', fields: { attrs: true, tags: true }, columns: ['city'], expected: 'account,city,tags\nalice,Paris,"gold,a\\,b,back\\\\slash"\nbob,,\n' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(render(c.format, [alice, bob], c.fields, c.columns), c.expected));
  }

  it('a tags cell splits back into exactly the tags it was made of', () => {
    for (const tags of [[], ['x'], ['a,b', 'c'], ['\\', ','], ['end\\'], ['', 'empty first'], ['日本', 'x y']]) {
      assert.deepEqual(splitTagsCell(joinTagsCell(tags)), tags.length === 1 && tags[0] === '' ? [''] : tags);
    }
  });
});
