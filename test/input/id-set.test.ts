import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IdSet } from '../../src/input/id-set.js';

/** The IDs `set` keeps of `ids`, in order, next to what a Set of strings keeps. */
function both(set: IdSet, ids: readonly string[]): { kept: string[]; expected: string[] } {
  const seen = new Set<string>();
  const expected = ids.filter((id) => !seen.has(id) && Boolean(seen.add(id)));
  const kept = ids.filter((id) => set.add(id));
  return { kept, expected };
}

describe('IdSet', () => {
  it('keeps exactly the first occurrence of each ID, in memory and spilled to its file', () => {
    for (const memoryBytes of [undefined, 0]) {
      const set = new IdSet({ memoryBytes });
      // 300,000 IDs, a third of them repeats, across several table growths and log pages.
      const ids: string[] = [];
      for (let i = 0; i < 300_000; i++) ids.push(i % 3 === 2 ? `user${(i * 7919) % i}` : `user${i}`);
      const { kept, expected } = both(set, ids);
      assert.equal(kept.length, expected.length);
      assert.deepEqual(kept, expected);
      assert.equal(set.size, expected.length);
      set.close();
    }
  });

  it('tells apart IDs whose bytes differ anywhere, whatever their hashes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), { maxLength: 300 }), fc.boolean(), (ids, spill) => {
        const set = new IdSet({ memoryBytes: spill ? 0 : undefined });
        const withRepeats = [...ids, ...ids.slice(0, ids.length >> 1)];
        const { kept, expected } = both(set, withRepeats);
        set.close();
        assert.deepEqual(kept, expected);
      }),
    );
  });

  it('keeps long IDs (two length bytes) apart from short ones', () => {
    const set = new IdSet({ memoryBytes: 0 });
    const long = 'x'.repeat(4000);
    assert.equal(set.add(long), true);
    assert.equal(set.add(`${long}y`), true);
    assert.equal(set.add(long), false);
    assert.equal(set.add('x'), true);
    set.close();
  });

  it('reads the whole of a spilled long ID to compare it: IDs that differ only in their last byte stay apart', () => {
    const set = new IdSet({ memoryBytes: 0 });
    const prefix = 'x'.repeat(199);
    // 200-byte IDs (two length bytes) that differ only in their last byte, and a longer one whose
    // byte 200 is neither: a compare that reads one byte short of an entry sees the byte of the
    // entry read before it there, and takes an ID added again for a new one.
    const a = `${prefix}a`;
    const b = `${prefix}b`;
    const longer = `${prefix}qzz`;
    for (const id of [longer, a, b]) assert.equal(set.add(id), true, id.slice(-3));
    // A bit over one 1 MiB page of other IDs: the page that holds the three goes to the file.
    for (let i = 0; i < 11_000; i++) set.add(`filler${String(i).padStart(94, '0')}`);
    assert.deepEqual(
      [longer, a, b, `${prefix}c`, a].map((id) => set.add(id)),
      [false, false, false, true, false],
    );
    assert.equal(set.size, 3 + 11_000 + 1);
    set.close();
  });
});
