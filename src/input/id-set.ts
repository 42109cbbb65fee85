/**
 * The exact set of account IDs seen so far, in a few bytes of memory per ID, for the duplicate
 * filter of accounts.ts.
 *
 * - Each new ID's UTF-8 bytes are appended to a log (a length byte or two, then the bytes), in
 *   1 MiB pages. The first LOG_MEMORY_BYTES of the log stay in memory; past that every full page
 *   goes to an anonymous temporary file (created 0600 and unlinked at once where the system
 *   allows, so nothing is left behind even after a crash), where the kernel's page cache, not the
 *   process, holds it.
 * - An open-addressing table (linear probing, at most 3/4 full) maps a 32-bit FNV-1a hash of the
 *   bytes to the ID's place in the log (4 bytes a slot) plus an 8-bit tag of the hash (1 byte).
 * - A lookup probes from the hash's slot; only where the tag matches does it read the ID from the
 *   log and compare every byte. So two different IDs are never taken for one another, however
 *   their hashes collide: an ID is dropped as a duplicate only when its bytes equal an earlier
 *   one's.
 * - Growing the table re-reads the log in order (one sequential pass), so no hash is kept, and
 *   the table grows in place (a resizable ArrayBuffer: address space reserved, memory committed
 *   as it is used), so the old table and the new one are never held at once.
 *
 * Memory: 5 bytes a slot, 6.7 to 13 bytes an ID (10,000,000 IDs: 84 MB), plus the in-memory
 * part of the log.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PAGE_BYTES = 1 << 20;

/**
 * The log stays in memory up to this size (about 1.3 million IDs of 12 bytes). 16 MiB rather
 * than 32: a batch run's young generation now takes 16 MB more (deps.ts, boundHeap), and 10,000,000
 * IDs peaked at 175-205 MB with 32 (`npm run bench`), against a target of 200.
 */
export const LOG_MEMORY_BYTES = 16 << 20;

const INITIAL_SLOTS = 1 << 12;

/** Slots the in-place table can reach (address space only: 1.25 GiB reserved, not used). */
const MAX_INPLACE_SLOTS = 1 << 28;

interface ResizableBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}

/** A resizable ArrayBuffer (ES2024), or undefined where the runtime has none. */
function resizable(byteLength: number, maxByteLength: number): ResizableBuffer | undefined {
  try {
    const buffer = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ResizableBuffer)(byteLength, { maxByteLength });
    return typeof buffer.resize === 'function' ? buffer : undefined;
  } catch {
    return undefined;
  }
}

/** Longest ID the log can hold: two length bytes of 15 bits. */
const MAX_ID_BYTES = 0x7fff;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h >>> 0;
}

/** The tag: 8 bits of a remix of the hash, nearly independent of the slot bits. */
function tagOf(h: number): number {
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 24;
}

export class IdSet {
  /** Distinct IDs held. */
  size = 0;
  #slots = INITIAL_SLOTS;
  /** Log offset + 1 of the ID in each slot; 0 = empty. */
  #offsetBuffer = resizable(INITIAL_SLOTS * 4, MAX_INPLACE_SLOTS * 4);
  #tagBuffer = resizable(INITIAL_SLOTS, MAX_INPLACE_SLOTS);
  #offsets: Uint32Array<ArrayBufferLike> | Float64Array<ArrayBufferLike> = this.#offsetBuffer ? new Uint32Array(this.#offsetBuffer, 0, INITIAL_SLOTS) : new Uint32Array(INITIAL_SLOTS);
  #tags: Uint8Array<ArrayBufferLike> = this.#tagBuffer ? new Uint8Array(this.#tagBuffer, 0, INITIAL_SLOTS) : new Uint8Array(INITIAL_SLOTS);
  /** Pages of the log still in memory; index = page number (undefined once written to the file). */
  readonly #pages: Array<Buffer | undefined> = [];
  /** Bytes used in the last page. */
  #used = PAGE_BYTES;
  /** Pages written to the file so far (they are the first ones). */
  #filed = 0;
  #fd: number | undefined;
  #leftover: string | undefined;
  #scratch = Buffer.allocUnsafe(4096);
  readonly #probe = Buffer.allocUnsafe(MAX_ID_BYTES + 2);
  readonly #memoryBytes: number;

  /** `memoryBytes`: how much of the log stays in memory (tests make it spill at once). */
  constructor(options: { memoryBytes?: number } = {}) {
    this.#memoryBytes = options.memoryBytes ?? LOG_MEMORY_BYTES;
  }

  /**
   * Adds `id`; false when it was already there. An ID over 32 KiB of UTF-8 (never an account ID:
   * accounts.ts refuses lines over 4 KiB) is reported as new without being remembered.
   */
  add(id: string): boolean {
    let scratch = this.#scratch;
    if (id.length * 3 > scratch.length) {
      if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) return true;
      scratch = this.#scratch = Buffer.allocUnsafe(id.length * 3);
    }
    // ASCII (nearly every account ID) is copied in JS: a native Buffer.write per short ID cost
    // more than the rest of the lookup.
    let n = 0;
    for (; n < id.length; n++) {
      const c = id.charCodeAt(n);
      if (c >= 0x80) break;
      scratch[n] = c;
    }
    if (n < id.length) n = scratch.write(id, 0, 'utf8');
    const h = fnv1a(scratch, 0, n);
    const tag = tagOf(h);
    const mask = this.#slots - 1;
    const offsets = this.#offsets;
    const tags = this.#tags;
    let slot = h & mask;
    for (;;) {
      const stored = offsets[slot]!;
      if (stored === 0) break;
      if (tags[slot] === tag && this.#equals(stored - 1, scratch, n)) return false;
      slot = (slot + 1) & mask;
    }
    const offset = this.#append(scratch, n);
    offsets[slot] = offset + 1;
    tags[slot] = tag;
    this.size++;
    if (this.size * 4 > this.#slots * 3 || (offsets instanceof Uint32Array && offset + 2 * PAGE_BYTES >= 0xffffffff)) this.#grow();
    return true;
  }

  /** Closes (and removes) the temporary file, if one was made. The set is empty afterwards. */
  close(): void {
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#leftover !== undefined) {
      try {
        unlinkSync(this.#leftover);
        rmdirSync(path.dirname(this.#leftover));
      } catch {
        // Already gone.
      }
      this.#leftover = undefined;
    }
    this.#pages.length = 0;
    this.#offsetBuffer = undefined;
    this.#tagBuffer = undefined;
    this.#offsets = new Uint32Array(INITIAL_SLOTS);
    this.#tags = new Uint8Array(INITIAL_SLOTS);
    this.#slots = INITIAL_SLOTS;
    this.#used = PAGE_BYTES;
    this.#filed = 0;
    this.size = 0;
  }

  /** Appends one entry (length, bytes) to the log; returns its offset. */
  #append(bytes: Buffer, n: number): number {
    const need = (n < 0x80 ? 1 : 2) + n;
    if (this.#used + need > PAGE_BYTES) this.#newPage();
    const pageIndex = this.#pages.length - 1;
    const page = this.#pages[pageIndex]!;
    const at = this.#used;
    let p = at;
    if (n < 0x80) page[p++] = n;
    else {
      page[p++] = 0x80 | (n >>> 8);
      page[p++] = n & 0xff;
    }
    bytes.copy(page, p, 0, n);
    this.#used = p + n;
    return pageIndex * PAGE_BYTES + at;
  }

  #newPage(): void {
    const last = this.#pages.length - 1;
    if (last >= 0) {
      // Mark the end of the page's entries (an ID is never empty, so length 0 ends it).
      if (this.#used < PAGE_BYTES) this.#pages[last]![this.#used] = 0;
      if (this.#pages.length * PAGE_BYTES > this.#memoryBytes) this.#spill();
    }
    this.#pages.push(Buffer.allocUnsafe(PAGE_BYTES));
    this.#used = 0;
  }

  /** Writes every full page still in memory to the temporary file. */
  #spill(): void {
    if (this.#fd === undefined) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'im-attrs-ids-'));
      const file = path.join(dir, 'seen');
      this.#fd = openSync(file, 'w+', 0o600);
      try {
        unlinkSync(file);
        rmdirSync(dir);
      } catch {
        this.#leftover = file;
      }
    }
    for (let i = this.#filed; i < this.#pages.length; i++) {
      const page = this.#pages[i]!;
      let written = 0;
      while (written < PAGE_BYTES) written += writeSync(this.#fd, page, written, PAGE_BYTES - written, i * PAGE_BYTES + written);
      this.#pages[i] = undefined;
    }
    this.#filed = this.#pages.length;
  }

  /** Whether the log entry at `offset` holds exactly bytes[0, n). */
  #equals(offset: number, bytes: Buffer, n: number): boolean {
    const pageIndex = Math.floor(offset / PAGE_BYTES);
    const within = offset - pageIndex * PAGE_BYTES;
    let source = this.#pages[pageIndex];
    let at = within;
    if (source === undefined) {
      const want = Math.min(n + 2, PAGE_BYTES - within);
      readSync(this.#fd!, this.#probe, 0, want, offset);
      source = this.#probe;
      at = 0;
    }
    let length = source[at]!;
    at++;
    if (length & 0x80) length = ((length & 0x7f) << 8) | source[at++]!;
    if (length !== n) return false;
    return source.compare(bytes, 0, n, at, at + n) === 0;
  }

  /** Doubles the table and refills it from the log, in log order. */
  #grow(): void {
    const slots = this.#slots * 2;
    const logBytes = this.#pages.length * PAGE_BYTES;
    this.#offsets = new Uint32Array(0);
    this.#tags = new Uint8Array(0);
    const wide = logBytes + 2 * PAGE_BYTES >= 0xffffffff;
    let offsets: Uint32Array<ArrayBufferLike> | Float64Array<ArrayBufferLike>;
    let tags: Uint8Array<ArrayBufferLike>;
    if (!wide && slots <= MAX_INPLACE_SLOTS && this.#offsetBuffer && this.#tagBuffer) {
      this.#offsetBuffer.resize(slots * 4);
      this.#tagBuffer.resize(slots);
      offsets = new Uint32Array(this.#offsetBuffer, 0, slots).fill(0);
      tags = new Uint8Array(this.#tagBuffer, 0, slots);
    } else {
      this.#offsetBuffer = undefined;
      this.#tagBuffer = undefined;
      offsets = wide ? new Float64Array(slots) : new Uint32Array(slots);
      tags = new Uint8Array(slots);
    }
    const mask = slots - 1;
    const buffer = this.#filed > 0 ? Buffer.allocUnsafe(PAGE_BYTES) : undefined;
    for (let pageIndex = 0; pageIndex < this.#pages.length; pageIndex++) {
      let page = this.#pages[pageIndex];
      if (page === undefined) {
        let read = 0;
        while (read < PAGE_BYTES) {
          const got = readSync(this.#fd!, buffer!, read, PAGE_BYTES - read, pageIndex * PAGE_BYTES + read);
          if (got === 0) break;
          read += got;
        }
        page = buffer!;
      }
      const end = pageIndex === this.#pages.length - 1 ? this.#used : PAGE_BYTES;
      let at = 0;
      while (at < end) {
        const start = at;
        let length = page[at++]!;
        if (length === 0) break;
        if (length & 0x80) length = ((length & 0x7f) << 8) | page[at++]!;
        const h = fnv1a(page, at, at + length);
        let slot = h & mask;
        while (offsets[slot] !== 0) slot = (slot + 1) & mask;
        offsets[slot] = pageIndex * PAGE_BYTES + start + 1;
        tags[slot] = tagOf(h);
        at += length;
      }
    }
    this.#slots = slots;
    this.#offsets = offsets;
    this.#tags = tags;
  }
}
