import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { plural, thousands } from '../src/util/text.js';

describe('thousands', () => {
  it('writes any number as toLocaleString("en-US") does', () => {
    fc.assert(fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double()), (n) => assert.equal(thousands(n), n.toLocaleString('en-US'))));
    assert.equal(plural(1_234_567, 'account'), '1,234,567 accounts');
  });
});
