/**
 * The write journal: every run that changes data on the server leaves one file, written before
 * each call leaves, so that `im-attrs undo` can put back exactly what the run may have changed
 * and `im-attrs history` can list it (terraform state and git's reflog are the anchors).
 *
 * Where: `$XDG_STATE_HOME/im-attrs/journal/` (default `~/.local/state/im-attrs/journal/`), the
 * directory 0700 and each file 0600. One ndjson file per run, named `<UTC time>-<verb>-<random>`:
 *
 *     {"journal":1,"id":"20261207T061500.123Z-set-a1b2c3","time":"…","verb":"set","argv":[…],"sdkAppId":1400000000,"profile":"prod","endpoint":"https://…","family":"timpush"}
 *     {"call":1,"accounts":["alice","bob"],"before":{"alice":{"Attrs":{"city":"Paris"},"Unset":["level"]},"bob":{"Attrs":{},"Unset":["city","level"]}}}
 *     {"call":1,"state":"done"}
 *     {"end":true,"counts":{"done":2,"failed":0,"unsent":0,"unknown":0}}
 *
 * A call line holds the before-state of exactly that call's accounts (the attributes the call
 * sets or removes, `Unset` for those that had no value; for tag writes the whole tag list) and
 * is synced to disk before the call's request leaves: a crash at any point (SIGKILL included)
 * leaves a journal that covers every account the server may have changed, and no more. The
 * command line is kept with secrets redacted; a journal never holds a UserSig, key or token.
 *
 * A run of several passes (tags set's clear then add, apply, undo) has one file: calls are
 * numbered through the run, and the one end line, written when the run ends, sums the passes'
 * counts (an account written in two passes counts in each). No end line: the run did not finish.
 * A write that is one call (names set, a condition push, a schedule) has
 * `{"request":"im_push","state":"sending"}` then its end state, with the TaskId as `result`.
 *
 * Retention: files older than the `journalDays` setting (default 30) are deleted when a write
 * starts.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { fsReason, ndjsonObjects } from '../util/fs.js';

export const JOURNAL_VERSION = 1;

/** The purpose of the reads a write makes for its journal (the X-Im-Attrs-Purpose header). */
export const BEFORE_STATE = 'before-state';

/** How long journals are kept when the `journalDays` setting does not say. */
export const DEFAULT_JOURNAL_DAYS = 30;

/** One account's state before a call: attributes (and those it did not have), or its tags. */
export interface BeforeState {
  Attrs?: Record<string, string>;
  Unset?: string[];
  Tags?: string[];
}

export interface JournalHeader {
  journal: number;
  id: string;
  time: string;
  verb: string;
  argv: string[];
  sdkAppId: number;
  profile: string | undefined;
  endpoint: string;
  family: string;
}

/** The journal directory. */
export function journalDir(rt: Pick<Runtime, 'deps'>): string {
  const base = rt.deps.env.XDG_STATE_HOME || path.join(rt.deps.homeDir, '.local', 'state');
  return path.join(base, 'im-attrs', 'journal');
}

/** The journal of one run; opened on the first call it records. */
export class Journal {
  readonly id: string;
  readonly file: string;
  #fd: number | undefined;
  readonly #header: JournalHeader;
  readonly #counts: Record<string, number> = {};
  #nextCall = 1;
  // Weak: a run of millions of accounts does not keep its batches alive for their call numbers.
  readonly #calls = new WeakMap<object, number>();

  private constructor(file: string, header: JournalHeader) {
    this.file = file;
    this.id = header.id;
    this.#header = header;
  }

  /** A journal for a run of `verb` on the run's app; nothing is written until the first call. */
  static async create(rt: Runtime, verb: string): Promise<Journal> {
    const [config, settings, family] = await Promise.all([rt.apiConfig(), rt.settings(), rt.family()]);
    // Sorted by name is sorted by time (to the millisecond); the random part keeps two runs apart.
    const stamp = new Date(rt.deps.now()).toISOString().replace(/[-:]/g, '');
    const id = `${stamp}-${verb.replace(/\s+/g, '-')}-${randomBytes(3).toString('hex')}`;
    const dir = journalDir(rt);
    const header: JournalHeader = {
      journal: JOURNAL_VERSION,
      id,
      time: new Date(rt.deps.now()).toISOString(),
      verb,
      // The command line as typed, every secret the run knows redacted (--usersig's value included).
      argv: rt.argv.map((arg) => rt.secrets.redact(arg)),
      sdkAppId: config.sdkAppId,
      profile: settings.profile?.value,
      endpoint: new URL(config.baseUrl).origin,
      family,
    };
    pruneJournals(dir, retentionDays(settings.values.journalDays?.value), rt.deps.now());
    return new Journal(path.join(dir, `${id}.ndjson`), header);
  }

  #append(line: object): void {
    if (this.#fd === undefined) {
      try {
        mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
        this.#fd = openSync(this.file, 'a', 0o600);
      } catch (error) {
        throw new UsageError(`cannot write the journal ${this.file}: ${fsReason(error)}`, { hint: 'check $XDG_STATE_HOME (or ~/.local/state) is writable' });
      }
      writeSync(this.#fd, `${JSON.stringify(this.#header)}\n`);
    }
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    fdatasyncSync(this.#fd);
  }

  /** Records a call's accounts and their before-state, durably, before it leaves. `key` (the batch array) names the call for `endCall`, across passes too. */
  recordCall(key: object, accounts: readonly string[], before: Record<string, BeforeState>): void {
    let call = this.#calls.get(key);
    if (call === undefined) {
      call = this.#nextCall++;
      this.#calls.set(key, call);
    }
    this.#append({ call, accounts, before });
  }

  /** Records how a call ended. */
  endCall(key: object, state: 'done' | 'failed' | 'maybe'): void {
    const call = this.#calls.get(key);
    if (call !== undefined) this.#append({ call, state });
  }

  /**
   * A call that is not a batch (names set, a condition push, a schedule): its command before it
   * leaves, and how it ended (with the push's TaskId or the schedule's id). Nothing to undo there:
   * `history` lists it, `undo` says so.
   */
  recordSingle(command: string, state: 'sending' | 'done' | 'failed' | 'maybe', result?: string): void {
    this.#append(result === undefined ? { request: command, state } : { request: command, state, result });
  }

  /**
   * Adds a pass's counts (a run can make several: tags set, apply, undo). The end line, with the
   * sums, is written once, by `finish` when the run ends: a run that dies between two passes
   * reads as "did not finish".
   */
  addCounts(counts: Record<string, number>): void {
    for (const [key, n] of Object.entries(counts)) this.#counts[key] = (this.#counts[key] ?? 0) + n;
  }

  /** Ends the journal: its end line with the run's counts (a run that recorded nothing leaves no file). */
  finish(): void {
    if (this.#fd === undefined) return;
    try {
      this.#append({ end: true, counts: this.#counts });
    } finally {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }

  /** Whether any call was recorded (a file exists). */
  get written(): boolean {
    return this.#fd !== undefined || this.#nextCall > 1;
  }
}

function retentionDays(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_JOURNAL_DAYS;
  const days = Number(value);
  if (!Number.isFinite(days) || days < 0) throw new UsageError(`journalDays "${value}" is not a number of days`, { hint: `e.g. journalDays: ${DEFAULT_JOURNAL_DAYS}` });
  return days;
}

/** Deletes journals older than `days` (by modification time). */
function pruneJournals(dir: string, days: number, now: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.ndjson')) continue;
    const file = path.join(dir, name);
    try {
      if (now - statSync(file).mtimeMs > days * 86_400_000) unlinkSync(file);
    } catch {
      // Another run may have removed it.
    }
  }
}

/** What a journal file holds, read back. */
export interface JournalRecord {
  header: JournalHeader;
  file: string;
  /**
   * Per account, its earliest recorded before-state, per attribute and for its tags: a later
   * call's would already show this run's changes, but a run of several passes (apply: set,
   * remove, tags) records different attributes of the same account in different calls.
   */
  before: Map<string, BeforeState>;
  calls: number;
  counts: Record<string, number> | undefined;
  notes: Array<Record<string, unknown>>;
}

/** `earlier` and then `later` for one account: what `earlier` says of an attribute (value or unset) or of the tags wins. */
export function mergeBefore(earlier: BeforeState | undefined, later: BeforeState): BeforeState {
  if (!earlier) return later;
  const attrs: Record<string, string> = { ...earlier.Attrs };
  const unset = [...(earlier.Unset ?? [])];
  const known = (name: string): boolean => Object.hasOwn(attrs, name) || unset.includes(name);
  for (const [name, value] of Object.entries(later.Attrs ?? {})) {
    if (!known(name)) Object.defineProperty(attrs, name, { value, enumerable: true, writable: true, configurable: true });
  }
  for (const name of later.Unset ?? []) if (!known(name)) unset.push(name);
  const merged: BeforeState = {};
  if (earlier.Attrs !== undefined || later.Attrs !== undefined) merged.Attrs = attrs;
  if (unset.length) merged.Unset = unset;
  const tags = earlier.Tags ?? later.Tags;
  if (tags !== undefined) merged.Tags = tags;
  return merged;
}

/** Reads a journal file; a line cut short by a crash at the end is ignored. */
export function readJournal(file: string): JournalRecord {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the journal ${file}: ${fsReason(error)}`);
  }
  let header: JournalHeader | undefined;
  const before = new Map<string, BeforeState>();
  let calls = 0;
  let counts: Record<string, number> | undefined;
  const notes: Array<Record<string, unknown>> = [];
  for (const value of ndjsonObjects(text, `the journal ${file}`)) {
    if (value.journal !== undefined) header ??= value as unknown as JournalHeader;
    else if (value.end === true) counts = value.counts as Record<string, number>;
    else if (typeof value.call === 'number' && value.before && typeof value.before === 'object') {
      calls++;
      for (const [account, state] of Object.entries(value.before as Record<string, BeforeState>)) before.set(account, mergeBefore(before.get(account), state));
    } else if (value.call === undefined) notes.push(value);
  }
  if (!header || header.journal !== JOURNAL_VERSION) throw new UsageError(`${file} is not an im-attrs journal`);
  return { header, file, before, calls, counts, notes };
}

/** Every journal, newest first. */
export function listJournals(rt: Pick<Runtime, 'deps'>): string[] {
  const dir = journalDir(rt);
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith('.ndjson'))
      .sort()
      .reverse()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** A journal by id (or unique id prefix, or `last`), or a path. */
export function findJournal(rt: Pick<Runtime, 'deps'>, ref: string): string {
  const all = listJournals(rt);
  if (ref === 'last') {
    if (all.length === 0) throw new UsageError('there is no journal yet: no write has run on this machine', { hint: `journals live in ${journalDir(rt)}` });
    return all[0]!;
  }
  if (ref.includes('/') || ref.endsWith('.ndjson')) return path.resolve(rt.deps.cwd, ref);
  const matches = all.filter((f) => path.basename(f, '.ndjson').startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new UsageError(`no journal is called ${JSON.stringify(ref)}`, { hint: 'list them with: im-attrs history' });
  throw new UsageError(`${JSON.stringify(ref)} names ${matches.length} journals`, { hint: 'give more of the id (im-attrs history lists them)' });
}
