/**
 * The summary of push-result events (what `push events listen` writes): per push (TaskId, or
 * DataId) and platform, how many were sent, reached and clicked (PushStage 1, 2, 3).
 *
 * Tencent retries a callback it got no OK for (a timeout, a 500), so the same event can arrive
 * twice; events are counted once per (TaskId, To_Account, PushStage, EventType, EventTime). The
 * files are streamed: memory is the counters (distinct pushes × platforms) plus the set of events
 * seen, kept as 64-bit hashes in a flat table: 8 bytes a slot, 35-70% full, so 11 to 23 bytes
 * per distinct event (10 million: 134 MB), where a Set of key strings takes over 100. Two distinct
 * events share a hash with a probability of about n²/2^65: at 10 million events, 3 in a million
 * that one of them is not counted.
 */
import { eventProblem, type PushEvent } from './events.js';

/** What the rows are keyed by. */
export type SummaryKey = 'task' | 'data-id';

/** One row: a push (or DataId) on one platform. */
export interface SummaryRow {
  key: string;
  platform: number;
  sent: number;
  reached: number;
  clicked: number;
}

/** A line that is not an event: where, and why. */
export interface BadLine {
  source: string;
  line: number;
  why: string;
}

/** The smallest table; it doubles when 70% full (open addressing with linear probing). */
const INITIAL_SLOTS = 1 << 16;
const MAX_LOAD = 0.7;

/**
 * A set of 64-bit hashes (two 32-bit halves in one Uint32Array), open addressing. The pair
 * (0, 0) marks an empty slot, so a key that hashes to it is stored as (0, 1).
 */
export class HashSet64 {
  private slots = new Uint32Array(INITIAL_SLOTS * 2);
  private mask = INITIAL_SLOTS - 1;
  size = 0;

  /** Adds the hash (hi, lo); false when it was there already. */
  add(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    if (this.size + 1 > (this.mask + 1) * MAX_LOAD) this.grow();
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const h = this.slots[2 * i]!;
      const l = this.slots[2 * i + 1]!;
      if (h === 0 && l === 0) {
        this.slots[2 * i] = hi;
        this.slots[2 * i + 1] = lo;
        this.size++;
        return true;
      }
      if (h === hi >>> 0 && l === lo >>> 0) return false;
      i = (i + 1) & this.mask;
    }
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = old.length - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.add(old[i]!, old[i + 1]!);
    }
  }
}

/** Two 32-bit hashes of a string (cyrb53's mixing, both halves kept): 64 bits in all. */
export function hash64(text: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/** Field separator in the dedupe key: a control character no ID holds. */
const SEP = '\u0001';

/** Sums events up, once each. Feed it lines (add) and read rows() at the end. */
export class EventSummary {
  private readonly seen = new HashSet64();
  /** key → platform → [sent, reached, clicked]. */
  private readonly groups = new Map<string, Map<number, [number, number, number]>>();
  lines = 0;
  events = 0;
  duplicates = 0;
  bad = 0;

  constructor(private readonly by: SummaryKey = 'task') {}

  /** One ndjson line; a blank one is skipped, a bad one counted and described (returned). */
  addLine(text: string, source: string, line: number): BadLine | undefined {
    if (text.trim() === '') return undefined;
    this.lines++;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      this.bad++;
      return { source, line, why: 'not JSON' };
    }
    const problem = eventProblem(event, 0);
    if (problem !== undefined) {
      this.bad++;
      return { source, line, why: problem.replace(/^Events\[0\]:? /, '') };
    }
    this.add(event as PushEvent);
    return undefined;
  }

  /** One event; false when it was counted already (a retried callback). */
  add(event: PushEvent): boolean {
    const key = `${event.TaskId ?? ''}${SEP}${event.To_Account}${SEP}${event.PushStage}${SEP}${event.EventType ?? ''}${SEP}${event.EventTime ?? ''}`;
    const [hi, lo] = hash64(key);
    if (!this.seen.add(hi, lo)) {
      this.duplicates++;
      return false;
    }
    this.events++;
    const group = (this.by === 'task' ? event.TaskId : event.DataId) ?? '';
    let platforms = this.groups.get(group);
    if (!platforms) this.groups.set(group, (platforms = new Map()));
    const platform = event.PushPlatform ?? 0;
    let counts = platforms.get(platform);
    if (!counts) platforms.set(platform, (counts = [0, 0, 0]));
    counts[event.PushStage - 1]!++;
    return true;
  }

  /** The rows, by key then platform number. */
  rows(): SummaryRow[] {
    const rows: SummaryRow[] = [];
    for (const key of [...this.groups.keys()].sort()) {
      const platforms = this.groups.get(key)!;
      for (const platform of [...platforms.keys()].sort((a, b) => a - b)) {
        const [sent, reached, clicked] = platforms.get(platform)!;
        rows.push({ key, platform, sent, reached, clicked });
      }
    }
    return rows;
  }

  /** Bytes the dedupe table holds (for the bench and --debug). */
  get dedupeBytes(): number {
    return this.seen.bytes;
  }
}

/** Sent, reached and clicked summed over platforms, per key (the bar chart's data). */
export function totalsByKey(rows: readonly SummaryRow[]): Array<{ key: string; sent: number; reached: number; clicked: number }> {
  const totals = new Map<string, { key: string; sent: number; reached: number; clicked: number }>();
  for (const row of rows) {
    const total = totals.get(row.key) ?? { key: row.key, sent: 0, reached: 0, clicked: 0 };
    total.sent += row.sent;
    total.reached += row.reached;
    total.clicked += row.clicked;
    totals.set(row.key, total);
  }
  return [...totals.values()];
}
