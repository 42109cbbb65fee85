import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knownColumns } from '../src/io.js';

describe('knownColumns', () => {
  it('keeps a real width and takes 0 (a pseudo-terminal without a size, as under `script`) or none as unknown', () => {
    assert.equal(knownColumns(120), 120);
    assert.equal(knownColumns(0), undefined);
    assert.equal(knownColumns(undefined), undefined);
  });
});
