import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { readAccounts, type AccountReaderOptions, type AccountSource } from '../../src/input/accounts.js';
import { UsageError } from '../../src/errors.js';

/** A stdin source giving `chunks` one at a time, as a pipe would. */
function stdin(...chunks: (string | Buffer)[]): AccountSource {
  return { kind: 'stdin', stream: Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false }) };
}

async function collect(
  sources: readonly AccountSource[],
  options: AccountReaderOptions = {},
): Promise<{ ids: string[]; warnings: string[] }> {
  const warnings: string[] = [];
  const ids: string[] = [];
  for await (const id of readAccounts(sources, { ...options, onWarning: (m) => warnings.push(m) })) ids.push(id);
  return { ids, warnings };
}

async function rejectsWith(sources: readonly AccountSource[], message: string, options: AccountReaderOptions = {}) {
  await assert.rejects(collect(sources, options), (error: unknown) => {
    assert.ok(error instanceof UsageError, `not a UsageError: ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'im-attrs-accounts-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readAccounts', () => {
  const cases: { name: string; input: (string | Buffer)[]; ids: string[] }[] = [
    { name: 'one ID per line', input: ['a\nb\nc\n'], ids: ['a', 'b', 'c'] },
    { name: 'no line break at the end', input: ['a\nb'], ids: ['a', 'b'] },
    { name: 'blank and whitespace-only lines', input: ['\n\na\n  \n\t\nb\n\n'], ids: ['a', 'b'] },
    { name: 'CRLF line endings', input: ['a\r\nb\r\n\r\nc'], ids: ['a', 'b', 'c'] },
    { name: 'a BOM', input: ['\uFEFFa\nb\n'], ids: ['a', 'b'] },
    {
      name: 'a BOM split over chunks',
      input: [Buffer.from([0xef]), Buffer.from([0xbb, 0xbf, 0x61, 0x0a])],
      ids: ['a'],
    },
    { name: 'surrounding whitespace', input: ['  a \n\tb\t\r\n c'], ids: ['a', 'b', 'c'] },
    {
      name: 'lines split over chunks',
      input: ['ali', 'ce\r', '\nb', 'ob\n', 'car', 'ol'],
      ids: ['alice', 'bob', 'carol'],
    },
    {
      name: 'a multi-byte character split over chunks',
      input: [Buffer.from([0xe7, 0x94]), Buffer.from([0xa8, 0x0a])],
      ids: ['用'],
    },
    { name: 'empty input', input: [], ids: [] },
  ];
  for (const { name, input, ids } of cases) {
    it(`reads ${name}`, async () => {
      assert.deepEqual((await collect([stdin(...input)])).ids, ids);
    });
  }

  it('trims arguments, skips blank ones and dedupes across all sources, first occurrence wins', async () => {
    const file = join(dir, 'dupes.txt');
    await writeFile(file, 'c\nb\nd\nd\n');
    assert.deepEqual(
      await collect([{ kind: 'arg', values: [' a ', '', 'b', 'a'] }, { kind: 'file', path: file }, stdin('e\na\n')]),
      { ids: ['a', 'b', 'c', 'd', 'e'], warnings: ['skipped 4 duplicate account IDs'] },
    );
  });

  it('says "1 duplicate account ID" in the singular', async () => {
    assert.deepEqual((await collect([{ kind: 'arg', values: ['a', 'a'] }])).warnings, [
      'skipped 1 duplicate account ID',
    ]);
  });

  it('warns about long and unusual IDs, listing five and counting the rest', async () => {
    const long = 'x'.repeat(33);
    const unusual = ['a b', 'é', 'c/d', 'e+f', 'g#h', 'i:j', 'k!l'];
    const { ids, warnings } = await collect([
      { kind: 'arg', values: ['fine_ID-1', 'mail@example.com', 'dot.ted', long, ...unusual] },
    ]);
    assert.equal(ids.length, 11);
    assert.deepEqual(warnings, [
      `1 account ID is longer than 32 bytes, Tencent's recommended maximum: "${long}"`,
      '7 account IDs have characters other than the recommended letters, digits, "_", "-", "@" and ".": ' +
        '"a b", "é", "c/d", "e+f", "g#h", and 2 more',
    ]);
  });

  it('counts bytes, not characters, and cuts long IDs short in warnings', async () => {
    const eleven = '用'.repeat(11); // 33 bytes
    const { warnings } = await collect([{ kind: 'arg', values: ['用'.repeat(10), eleven, 'y'.repeat(50)] }]);
    assert.equal(
      warnings[0],
      `2 account IDs are longer than 32 bytes, Tencent's recommended maximum: "${eleven}", "${'y'.repeat(40)}…"`,
    );
  });

  it('reads a file, and several files in order', async () => {
    const one = join(dir, 'one.txt');
    const two = join(dir, 'two.txt');
    await writeFile(one, '\uFEFFa\r\nb\r\n');
    await writeFile(two, '\uFEFFc\n');
    assert.deepEqual(await collect([{ kind: 'file', path: one }, { kind: 'file', path: two }]), {
      ids: ['a', 'b', 'c'],
      warnings: [],
    });
  });

  const errors: { name: string; input: (string | Buffer)[]; message: string; maxLineBytes?: number }[] = [
    {
      name: 'a NUL byte',
      input: ['a\nb\0c\n'],
      message: 'line 2 of <stdin> contains a NUL byte; is this a binary file?',
    },
    {
      name: 'invalid UTF-8',
      input: [Buffer.from([0x61, 0x0a, 0x62, 0x0a, 0xc3, 0x28, 0x0a])],
      message: 'line 3 of <stdin> is not valid UTF-8',
    },
    {
      name: 'a line over maxLineBytes',
      input: ['ok\n', '0123456789\n'],
      maxLineBytes: 8,
      message:
        'line 2 of <stdin> is over 8 bytes long; an account ID is at most 32 bytes. Is this a binary file?',
    },
    {
      name: 'a line over maxLineBytes with no line break',
      input: ['012345678'],
      maxLineBytes: 8,
      message:
        'line 1 of <stdin> is over 8 bytes long; an account ID is at most 32 bytes. Is this a binary file?',
    },
  ];
  for (const { name, input, message, maxLineBytes } of errors) {
    it(`rejects ${name}, naming the source and line`, async () => {
      await rejectsWith([stdin(...input)], message, { maxLineBytes });
    });
  }

  it('accepts a line of exactly maxLineBytes, even with CRLF', async () => {
    const { ids } = await collect([stdin('12345678\r\nabcdefgh')], { maxLineBytes: 8 });
    assert.deepEqual(ids, ['12345678', 'abcdefgh']);
  });

  it('stops at the first huge line without reading the rest of it', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let chunksRead = 0;
    function* huge(): Generator<Buffer> {
      yield Buffer.from('ok\n');
      // 5 MB on one line, and more after it.
      for (let i = 0; i < 80; i++) {
        chunksRead++;
        yield chunk;
      }
    }
    await rejectsWith(
      [{ kind: 'stdin', stream: Readable.from(huge(), { objectMode: false, highWaterMark: 1 }) }],
      'line 2 of <stdin> is over 4096 bytes long; an account ID is at most 32 bytes. Is this a binary file?',
    );
    assert.ok(chunksRead < 5, `read ${chunksRead} chunks of 64 KiB`);
  });

  it('names a missing file, with the reason in words', async () => {
    const path = join(dir, 'missing.txt');
    await rejectsWith([{ kind: 'file', path }], `cannot read account IDs from ${path}: no such file`);
  });

  it('names a directory given as a file', async () => {
    await rejectsWith([{ kind: 'file', path: dir }], `cannot read account IDs from ${dir}: it is a directory`);
  });

  it('names the file and line of a bad line', async () => {
    const path = join(dir, 'binary.bin');
    await writeFile(path, Buffer.from([0x61, 0x0a, 0x00, 0x01]));
    await rejectsWith([{ kind: 'file', path }], `line 2 of ${path} contains a NUL byte; is this a binary file?`);
  });

  it('reads lazily: taking 10 IDs from a million-line stream reads only the start of it', async () => {
    let produced = 0;
    function* lines(): Generator<string> {
      for (let i = 0; i < 1_000_000; i++) {
        produced++;
        yield `user${i}\n`;
      }
    }
    const ids: string[] = [];
    for await (const id of readAccounts([{ kind: 'stdin', stream: Readable.from(lines(), { objectMode: false }) }])) {
      ids.push(id);
      if (ids.length === 10) break;
    }
    assert.deepEqual(ids, Array.from({ length: 10 }, (_, i) => `user${i}`));
    assert.ok(produced < 10_000, `produced ${produced} lines`);
  });

  it('streams 100,000 lines in 64 KiB chunks', async () => {
    const text = Array.from({ length: 100_000 }, (_, i) => `u${i}`).join('\n');
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; i += 65536) chunks.push(Buffer.from(text.slice(i, i + 65536)));
    let count = 0;
    for await (const _id of readAccounts([{ kind: 'stdin', stream: Readable.from(chunks) }])) count++;
    assert.equal(count, 100_000);
  });

  it('gives each ID once, in first-occurrence order, whatever the line endings and blank lines', async () => {
    const unit = fc.oneof(
      fc.constantFrom('a', 'b', 'é', ' ', '\t', '用', '😀'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    // Non-empty, trimmed, without line breaks or NUL: what an account ID line can hold.
    const id = fc
      .string({ unit, minLength: 1, maxLength: 8 })
      .map((s) => s.trim())
      .filter((s) => s !== '' && !/[\n\r\0]/.test(s));
    const line = fc.record({
      id,
      ending: fc.constantFrom('\n', '\r\n'),
      blanks: fc.constantFrom('', '\n', '\r\n', '  \n'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 20 }), fc.integer({ min: 1, max: 7 }), async (lines, chunkSize) => {
        const bytes = Buffer.from(lines.map((l) => l.blanks + l.id + l.ending).join(''));
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
        const { ids } = await collect([stdin(...chunks)]);
        assert.deepEqual(ids, [...new Set(lines.map((l) => l.id))]);
      }),
      { numRuns: 100 },
    );
  });
});
