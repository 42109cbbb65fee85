/**
 * The emulator's data: the app's attribute names (slot → name) and each user's values.
 * Values are stored by slot, as an index into the app's names, so renaming an attribute keeps
 * its values and clearing a slot drops them (the real service's behaviour here is not
 * documented; this is the least surprising reading). `--data` files are written atomically:
 * a temporary file, then rename, so a killed emulator never leaves half a file.
 *
 * Accounts: the keys of `users` are the app's imported accounts (account_check answers from
 * them). The all_member_push attribute and tag stores hang off those accounts; the TIMPush family
 * (`v4/timpush/*`) has a store of its own (`timpush`), because whether Tencent shares one store
 * between the two families is UNCONFIRMED (PUSH-FAMILY.md §3): a client must not rely on either,
 * and `--shared-push-stores` (shareStores()) runs the other reading, one store for both.
 * RegistrationIDs (TIMPush account type 1) are not IM accounts: they live in
 * `timpush.registrationIds`, never in `users`.
 *
 * Scale: benchmarks seed millions of users, so seeded tags and TIMPush attributes are not stored
 * per user: they are computed from the account's seed number (a few hundred shared, frozen values)
 * until something is written for that account, which then stores an override. Seeding therefore
 * costs what it did before these stores existed. Where a `--data` file and `--seed-users` both
 * give tags or TIMPush attributes to a seeded account, the file wins (all_member_push attributes:
 * the seed wins, as before).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_ATTR_NAMES: Readonly<Record<string, string>> = { '0': 'sex', '1': 'city', '2': 'level' };

export const SEED_CITIES = ['Paris', 'Shenzhen', 'Singapore', 'Tokyo', 'Berlin', 'São Paulo', 'Seoul'];
const SEED_LEVELS = ['bronze', 'silver', 'gold'];

const SEED_LANGS = ['en', 'zh', 'es'];
/** Seeded tags repeat with this period (lcm of the moduli in seedTags), so they can be shared. */
const SEED_TAG_PERIOD = 660;
/** Seeded attributes repeat with this period (lcm of 2, 7 and 3). */
const SEED_ATTR_PERIOD = 42;

/** TIMPush account types (set_attr_name AttrTypes): 0 = IM UserID, 1 = RegistrationID. */
export type AccountType = 0 | 1;

/**
 * On-disk shape of `--data`: what `get --output json` prints, plus the names. Every field after
 * `users` is optional and written only when it holds something, so older files load unchanged
 * and a state without tags or TIMPush data saves exactly as before.
 */
export interface StateFile {
  attrNames: Record<string, string>;
  /** all_member_push attributes by name; every key is an imported account. */
  users: Record<string, Record<string, string>>;
  /** all_member_push tags; an account listed here is imported too. */
  tags?: Record<string, string[]>;
  /** Accounts that are NOT imported, whatever the other fields say (applied last on load). */
  notImported?: string[];
  timpush?: TimpushFile;
}

export interface TimpushFile {
  attrNames?: Record<string, string>;
  attrTypes?: Record<string, AccountType>;
  users?: Record<string, Record<string, string>>;
  tags?: Record<string, string[]>;
  /** Accounts of type 1 (RegistrationID): known to TIMPush, not imported IM accounts. */
  registrationIds?: string[];
}

/**
 * The deterministic tags of seeded user number `i`: every 11th has none; the others get a
 * language, a cohort, and some "vip" (every 5th) and "beta" (i % 4 === 1).
 */
export function seedTags(i: number): string[] {
  if (i % 11 === 0) return [];
  const tags = [`lang-${SEED_LANGS[i % 3]!}`, `cohort-${i % 10}`];
  if (i % 5 === 0) tags.push('vip');
  if (i % 4 === 1) tags.push('beta');
  return tags;
}

const EMPTY_TAGS: readonly string[] = Object.freeze([]);
const EMPTY_ATTRS: Readonly<Record<string, string>> = Object.freeze({});
const seedTagPool = new Map<number, readonly string[]>();

/** seedTags(i), shared and frozen (it repeats every SEED_TAG_PERIOD). */
function sharedSeedTags(i: number): readonly string[] {
  let tags = seedTagPool.get(i % SEED_TAG_PERIOD);
  if (!tags) seedTagPool.set(i % SEED_TAG_PERIOD, (tags = Object.freeze(seedTags(i))));
  return tags;
}

/** The TIMPush family's store: its own names, account types, attributes and tags. */
export class TimpushStore {
  private ownNames: Map<string, string>;
  /** slot → account type allowed to carry it; a slot without an entry is type 0. */
  types = new Map<string, AccountType>();
  /** Written attributes: account → slot → value, frozen, replaced on change; they override the seed. */
  readonly attrs = new Map<string, Readonly<Record<string, string>>>();
  /** Written tags: account → tags, frozen, replaced on change; they override the seed. */
  readonly tags = new Map<string, readonly string[]>();
  /** The seed number of an account (0: not seeded), from the owning EmulatorState. */
  private readonly seedOf: (account: string) => number;
  /** Slots of the seeded attributes, fixed when seeding; slots cleared since are left out. */
  private seedSlots: { sex?: string; city?: string; level?: string } = {};
  private readonly clearedSeedSlots = new Set<string>();
  private readonly seedAttrPool = new Map<number, Readonly<Record<string, string>>>();
  /** tag → how many accounts have it: its size is the app's distinct tag count (≤1,000). */
  readonly tagUsers = new Map<string, number>();
  /** tag → the account type that carries it ("A tag can only be applicable to one account type"). */
  readonly tagTypes = new Map<string, AccountType>();
  readonly registrationIds = new Set<string>();
  /** Set by any change, so that `--data` files of apps that never used TIMPush stay as they were. */
  touched = false;

  constructor(names: Readonly<Record<string, string>>, seedOf: (account: string) => number = () => 0) {
    this.ownNames = new Map(Object.entries(names));
    this.seedOf = seedOf;
  }

  /** slot → name */
  get names(): Map<string, string> {
    return this.ownNames;
  }

  set names(next: Map<string, string>) {
    this.ownNames = next;
  }

  /** Called by EmulatorState.seed: fixes the seeded attribute slots and counts the seeded tags. */
  seeded(count: number, skip: (i: number) => boolean): void {
    this.seedSlots = { sex: this.slotOf('sex'), city: this.slotOf('city'), level: this.slotOf('level') };
    this.seedAttrPool.clear();
    const perClass = new Array<number>(SEED_TAG_PERIOD).fill(0);
    for (let i = 1; i <= count; i++) if (!skip(i)) perClass[i % SEED_TAG_PERIOD]!++;
    perClass.forEach((n, k) => {
      if (n === 0) return;
      for (const tag of sharedSeedTags(k === 0 ? SEED_TAG_PERIOD : k)) {
        this.tagUsers.set(tag, (this.tagUsers.get(tag) ?? 0) + n);
        if (!this.tagTypes.has(tag)) this.tagTypes.set(tag, 0);
      }
    });
    if (count > 0) this.touched = true;
  }

  private seedAttrs(i: number): Readonly<Record<string, string>> {
    let record = this.seedAttrPool.get(i % SEED_ATTR_PERIOD);
    if (!record) {
      const out: Record<string, string> = {};
      const { sex, city, level } = this.seedSlots;
      if (i % 7 !== 0) {
        if (sex !== undefined) out[sex] = i % 2 === 0 ? 'F' : 'M';
        if (city !== undefined) out[city] = SEED_CITIES[i % SEED_CITIES.length]!;
        if (level !== undefined && i % 3 === 0) out[level] = SEED_LEVELS[i % SEED_LEVELS.length]!;
      }
      this.seedAttrPool.set(i % SEED_ATTR_PERIOD, (record = Object.freeze(out)));
    }
    if (this.clearedSeedSlots.size === 0) return record;
    const copy = { ...record };
    for (const slot of this.clearedSeedSlots) delete copy[slot];
    return copy;
  }

  /** An account's attributes by slot: what was written, else its seeded ones. */
  rawAttrs(account: string): Readonly<Record<string, string>> {
    const written = this.attrs.get(account);
    if (written) return written;
    const i = this.seedOf(account);
    return i ? this.seedAttrs(i) : EMPTY_ATTRS;
  }

  setRawAttrs(account: string, values: Record<string, string>): void {
    this.attrs.set(account, Object.freeze(values));
  }

  /** Drops a cleared slot's values everywhere (written and seeded). */
  clearSlot(slot: string): void {
    this.clearedSeedSlots.add(slot);
    for (const [account, values] of this.attrs) {
      if (!(slot in values)) continue;
      const copy = { ...values };
      delete copy[slot];
      this.attrs.set(account, Object.freeze(copy));
    }
  }
  slotOf(name: string): string | undefined {
    for (const [slot, n] of this.names) if (n === name) return slot;
    return undefined;
  }

  typeOfSlot(slot: string): AccountType {
    return this.types.get(slot) ?? 0;
  }

  /** An account's attributes by name, slots in order. */
  attrsOf(account: string): Record<string, string> {
    const values = this.rawAttrs(account);
    const out: Record<string, string> = {};
    for (const slot of Object.keys(values).sort((a, b) => Number(a) - Number(b))) {
      const name = this.names.get(slot);
      if (name !== undefined) out[name] = values[slot]!;
    }
    return out;
  }

  tagsOf(account: string): readonly string[] {
    const written = this.tags.get(account);
    if (written) return written;
    const i = this.seedOf(account);
    return i ? sharedSeedTags(i) : EMPTY_TAGS;
  }

  /** Replaces an account's tags, keeping the app-wide distinct count and tag types right. */
  setTags(account: string, next: readonly string[], type: AccountType): void {
    this.recount(this.tagsOf(account), next, type);
    this.storeTags(account, next);
  }

  /** Moves the app-wide tag counts from an account's `before` tags to its `next` ones. */
  recount(before: readonly string[], next: readonly string[], type: AccountType): void {
    for (const tag of before) {
      const left = (this.tagUsers.get(tag) ?? 1) - 1;
      if (left > 0) this.tagUsers.set(tag, left);
      else {
        this.tagUsers.delete(tag);
        this.tagTypes.delete(tag);
      }
    }
    for (const tag of next) {
      this.tagUsers.set(tag, (this.tagUsers.get(tag) ?? 0) + 1);
      if (!this.tagTypes.has(tag)) this.tagTypes.set(tag, type);
    }
  }

  /** Stores tags without counting. Always stored, empty too: an empty override hides the seeded tags. */
  protected storeTags(account: string, next: readonly string[]): void {
    this.tags.set(account, next.length === 0 ? EMPTY_TAGS : Object.isFrozen(next) ? next : Object.freeze([...next]));
  }

  /** Forgets an account (it is not imported any more). */
  forget(account: string): void {
    this.setTags(account, [], 0);
    this.attrs.set(account, EMPTY_ATTRS);
  }

  /** The TIMPush part of `--data`: attributes and tags of `accounts` (and RegistrationIDs) that have any. */
  toJSON(accounts: Iterable<string>): TimpushFile {
    const users: Record<string, Record<string, string>> = {};
    const tags: Record<string, string[]> = {};
    const add = (account: string): void => {
      const attrs = this.attrsOf(account);
      if (Object.keys(attrs).length > 0) users[account] = attrs;
      const list = this.tagsOf(account);
      if (list.length > 0) tags[account] = [...list];
    };
    for (const account of accounts) add(account);
    for (const account of this.registrationIds) add(account);
    const out: TimpushFile = { attrNames: Object.fromEntries(this.names), attrTypes: Object.fromEntries(this.types), users, tags };
    if (this.registrationIds.size > 0) out.registrationIds = [...this.registrationIds];
    return out;
  }
}

export class EmulatorState {
  /** slot ("0".."9") → name */
  names: Map<string, string>;
  /** account → slot → value; the keys are the app's imported accounts. */
  readonly users = new Map<string, Map<string, string>>();
  /** all_member_push tags: account → tags, frozen and replaced on change (seeded ones are shared). */
  readonly tags = new Map<string, readonly string[]>();
  /** The TIMPush family's separate store; it starts with the same attribute names, all type 0. */
  timpush: TimpushStore;
  /** Set by shareStores(): the two families read and write one store. */
  private shared = false;

  /** Accounts user000001…user<seeded> got the seed's tags and TIMPush attributes (computed on read). */
  private seededCount = 0;

  constructor(names: Readonly<Record<string, string>> = DEFAULT_ATTR_NAMES) {
    this.names = new Map(Object.entries(names));
    this.timpush = new TimpushStore(names, (account) => this.seedIndex(account));
  }

  /** The seed number of a seeded account ("user000042" → 42), else 0. */
  seedIndex(account: string): number {
    if (this.seededCount === 0 || !account.startsWith('user')) return 0;
    const digits = account.slice(4);
    const i = Number(digits);
    if (!Number.isInteger(i) || i < 1 || i > this.seededCount || String(i).padStart(6, '0') !== digits) return 0;
    return i;
  }

  isImported(account: string): boolean {
    return this.users.has(account);
  }

  /** Imports an account (no attributes, no tags) unless it already is. */
  importAccount(account: string): void {
    if (!this.users.has(account)) this.users.set(account, new Map());
  }

  /** Makes an account not imported: it loses its data in both families (empty overrides hide the seed). */
  unimport(account: string): void {
    this.setTags(account, EMPTY_TAGS);
    this.users.delete(account);
    this.timpush.forget(account);
  }

  /** Marks an account as a RegistrationID (TIMPush account type 1): not an imported IM account. */
  markRegistrationId(account: string): void {
    this.unimport(account);
    this.timpush.registrationIds.add(account);
    this.timpush.touched = true;
  }

  tagsOf(account: string): readonly string[] {
    const written = this.tags.get(account);
    if (written) return written;
    const i = this.seedIndex(account);
    return i ? sharedSeedTags(i) : EMPTY_TAGS;
  }

  /** Stores an account's tags; an empty list is stored too, to hide seeded tags. */
  setTags(account: string, next: readonly string[]): void {
    // Shared stores: TIMPush's app-wide tag count must see all_member_push writes too.
    if (this.shared) this.timpush.recount(this.tagsOf(account), next, 0);
    this.storeTags(account, next);
  }

  /** Stores tags without counting (SharedTimpushStore counts itself). */
  storeTags(account: string, next: readonly string[]): void {
    this.tags.set(account, next.length === 0 ? EMPTY_TAGS : Object.isFrozen(next) ? next : Object.freeze([...next]));
  }

  /**
   * `--shared-push-stores`: from now on TIMPush reads and writes the all_member_push attributes,
   * names and tags (RegistrationIDs, which are not IM accounts, keep TIMPush's own). Call before
   * seeding. The TIMPush tag counts are rebuilt once here: O(accounts), at start-up only.
   */
  shareStores(): void {
    if (this.shared) return;
    const old = this.timpush;
    const store = new SharedTimpushStore(this, (account) => this.seedIndex(account));
    store.types = old.types;
    for (const id of old.registrationIds) {
      store.registrationIds.add(id);
      store.setRawAttrs(id, { ...old.rawAttrs(id) });
      store.setTags(id, old.tagsOf(id), 1);
    }
    for (const account of this.users.keys()) store.recount([], this.tagsOf(account), 0);
    store.touched = old.touched;
    this.timpush = store;
    this.shared = true;
  }

  slotOf(name: string): string | undefined {
    for (const [slot, n] of this.names) if (n === name) return slot;
    return undefined;
  }

  /** A user's attributes by name (only slots that still have a name). */
  attrsOf(account: string): Record<string, string> | undefined {
    const values = this.users.get(account);
    if (!values) return undefined;
    const out: Record<string, string> = {};
    for (const [slot, value] of [...values].sort(([a], [b]) => Number(a) - Number(b))) {
      const name = this.names.get(slot);
      if (name !== undefined) out[name] = value;
    }
    return out;
  }

  /**
   * `--seed-users N`: users user000001…, deterministic. Every 7th has no attributes at all (an
   * imported user nobody tagged); the others get sex, city and, for every 3rd, a level. Both
   * families get the same attributes and the tags of seedTags(i).
   */
  seed(count: number): void {
    // Tags and TIMPush attributes are computed on read (see the header); the seed only counts
    // TIMPush's distinct tags. Accounts that already have written tags (from --data) keep them.
    const tp = this.timpush;
    const writtenTags = this.shared ? this.tags : tp.tags;
    const written = writtenTags.size > 0 ? (i: number): boolean => writtenTags.has(`user${String(i).padStart(6, '0')}`) : () => false;
    this.seededCount = Math.max(this.seededCount, count);
    tp.seeded(count, written);
    this.seedAttrs(count);
  }

  /** Today's all_member_push attribute seeding, unchanged (tests depend on its exact values). */
  private seedAttrs(count: number): void {
    for (let i = 1; i <= count; i++) {
      const account = `user${String(i).padStart(6, '0')}`;
      const values = new Map<string, string>();
      if (i % 7 !== 0) {
        const set = (name: string, value: string): void => {
          const slot = this.slotOf(name);
          if (slot !== undefined) values.set(slot, value);
        };
        set('sex', i % 2 === 0 ? 'F' : 'M');
        set('city', SEED_CITIES[i % SEED_CITIES.length]!);
        if (i % 3 === 0) set('level', SEED_LEVELS[i % SEED_LEVELS.length]!);
      }
      this.users.set(account, values);
    }
  }

  toJSON(): StateFile {
    const users: StateFile['users'] = {};
    for (const account of this.users.keys()) users[account] = this.attrsOf(account) ?? {};
    const out: StateFile = { attrNames: Object.fromEntries(this.names), users };
    const tags: Record<string, string[]> = {};
    let tagged = false;
    for (const account of this.users.keys()) {
      const list = this.tagsOf(account);
      if (list.length === 0) continue;
      tags[account] = [...list];
      tagged = true;
    }
    if (tagged) out.tags = tags;
    if (this.timpush.touched || this.timpush.attrs.size > 0 || this.timpush.tags.size > 0) out.timpush = this.timpush.toJSON(this.users.keys());
    return out;
  }

  /** Loads a `--data` file; a missing file is an empty state with the default names. */
  static load(file: string): EmulatorState {
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new EmulatorState();
      throw error;
    }
    const data = JSON.parse(raw) as Partial<StateFile>;
    const state = new EmulatorState(data.attrNames ?? DEFAULT_ATTR_NAMES);
    for (const [account, attrs] of Object.entries(data.users ?? {})) {
      const values = new Map<string, string>();
      for (const [name, value] of Object.entries(attrs)) {
        const slot = state.slotOf(name);
        if (slot !== undefined && typeof value === 'string') values.set(slot, value);
      }
      state.users.set(account, values);
    }
    for (const [account, tags] of Object.entries(data.tags ?? {})) {
      state.importAccount(account);
      state.setTags(account, tags.filter((t) => typeof t === 'string'));
    }
    const tp = data.timpush;
    if (tp) {
      const store = state.timpush;
      store.touched = true;
      if (tp.attrNames) store.names = new Map(Object.entries(tp.attrNames));
      for (const [slot, type] of Object.entries(tp.attrTypes ?? {})) if (type === 1) store.types.set(slot, 1);
      for (const id of tp.registrationIds ?? []) store.registrationIds.add(id);
      const known = (account: string): void => {
        if (!store.registrationIds.has(account)) state.importAccount(account);
      };
      for (const [account, attrs] of Object.entries(tp.users ?? {})) {
        known(account);
        const record: Record<string, string> = {};
        for (const [name, value] of Object.entries(attrs)) {
          const slot = store.slotOf(name);
          if (slot !== undefined && typeof value === 'string') record[slot] = value;
        }
        store.attrs.set(account, Object.freeze(record));
      }
      for (const [account, tags] of Object.entries(tp.tags ?? {})) {
        known(account);
        store.setTags(account, tags.filter((t) => typeof t === 'string'), store.registrationIds.has(account) ? 1 : 0);
      }
    }
    for (const account of data.notImported ?? []) state.unimport(account);
    return state;
  }

  /** Writes the state atomically: temporary file in the same directory, then rename. */
  save(file: string): void {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
    renameSync(tmp, file);
  }
}

/**
 * The TIMPush store of `--shared-push-stores`: a view of the all_member_push store for IM
 * accounts, TimpushStore's own maps for RegistrationIDs only. It keeps the app-wide tag counts.
 */
class SharedTimpushStore extends TimpushStore {
  constructor(
    private readonly amp: EmulatorState,
    seedOf: (account: string) => number,
  ) {
    super({}, seedOf);
  }

  override get names(): Map<string, string> {
    return this.amp.names;
  }

  override set names(next: Map<string, string>) {
    this.amp.names = next;
  }

  override rawAttrs(account: string): Readonly<Record<string, string>> {
    if (this.registrationIds.has(account)) return super.rawAttrs(account);
    return Object.fromEntries(this.amp.users.get(account) ?? []);
  }

  override setRawAttrs(account: string, values: Record<string, string>): void {
    if (this.registrationIds.has(account)) return super.setRawAttrs(account, values);
    if (!this.amp.users.has(account)) return; // not imported: nothing to hang attributes on
    this.amp.users.set(account, new Map(Object.entries(values).sort(([a], [b]) => Number(a) - Number(b))));
  }

  override clearSlot(slot: string): void {
    super.clearSlot(slot);
    for (const values of this.amp.users.values()) values.delete(slot);
  }

  override tagsOf(account: string): readonly string[] {
    return this.registrationIds.has(account) ? super.tagsOf(account) : this.amp.tagsOf(account);
  }

  protected override storeTags(account: string, next: readonly string[]): void {
    if (this.registrationIds.has(account)) super.storeTags(account, next);
    else this.amp.storeTags(account, next);
  }
}
