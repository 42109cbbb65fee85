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
 * between the two families is UNCONFIRMED (PUSH-FAMILY.md §3): a client must not rely on either.
 * RegistrationIDs (TIMPush account type 1) are not IM accounts: they live in
 * `timpush.registrationIds`, never in `users`.
 *
 * Scale: benchmarks seed millions of users, so seeded tags and TIMPush attributes are shared,
 * frozen values (a few hundred distinct ones) replaced, never mutated, on change.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_ATTR_NAMES: Readonly<Record<string, string>> = { '0': 'sex', '1': 'city', '2': 'level' };

const SEED_CITIES = ['Paris', 'Shenzhen', 'Singapore', 'Tokyo', 'Berlin', 'São Paulo', 'Seoul'];
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

/** The TIMPush family's store: its own names, account types, attributes and tags. */
export class TimpushStore {
  /** slot → name */
  names: Map<string, string>;
  /** slot → account type allowed to carry it; a slot without an entry is type 0. */
  types = new Map<string, AccountType>();
  /** account → slot → value; values are frozen and replaced on change (seeded ones are shared). */
  readonly attrs = new Map<string, Readonly<Record<string, string>>>();
  /** account → tags; frozen and replaced on change. */
  readonly tags = new Map<string, readonly string[]>();
  /** tag → how many accounts have it: its size is the app's distinct tag count (≤1,000). */
  readonly tagUsers = new Map<string, number>();
  /** tag → the account type that carries it ("A tag can only be applicable to one account type"). */
  readonly tagTypes = new Map<string, AccountType>();
  readonly registrationIds = new Set<string>();
  /** Set by any change, so that `--data` files of apps that never used TIMPush stay as they were. */
  touched = false;

  constructor(names: Readonly<Record<string, string>>) {
    this.names = new Map(Object.entries(names));
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
    const values = this.attrs.get(account) ?? {};
    const out: Record<string, string> = {};
    for (const slot of Object.keys(values).sort((a, b) => Number(a) - Number(b))) {
      const name = this.names.get(slot);
      if (name !== undefined) out[name] = values[slot]!;
    }
    return out;
  }

  tagsOf(account: string): readonly string[] {
    return this.tags.get(account) ?? [];
  }

  /** Replaces an account's tags, keeping the app-wide distinct count and tag types right. */
  setTags(account: string, next: readonly string[], type: AccountType): void {
    const before = this.tags.get(account) ?? [];
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
    if (next.length === 0) this.tags.delete(account);
    else this.tags.set(account, Object.isFrozen(next) ? next : Object.freeze([...next]));
  }

  /** Forgets an account (it is not imported any more). */
  forget(account: string): void {
    this.setTags(account, [], 0);
    this.attrs.delete(account);
  }

  toJSON(): TimpushFile {
    const users: Record<string, Record<string, string>> = {};
    for (const account of this.attrs.keys()) users[account] = this.attrsOf(account);
    const tags: Record<string, string[]> = {};
    for (const [account, list] of this.tags) tags[account] = [...list];
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
  readonly timpush: TimpushStore;

  constructor(names: Readonly<Record<string, string>> = DEFAULT_ATTR_NAMES) {
    this.names = new Map(Object.entries(names));
    this.timpush = new TimpushStore(names);
  }

  isImported(account: string): boolean {
    return this.users.has(account);
  }

  /** Imports an account (no attributes, no tags) unless it already is. */
  importAccount(account: string): void {
    if (!this.users.has(account)) this.users.set(account, new Map());
  }

  /** Makes an account not imported: it loses its data in both families. */
  unimport(account: string): void {
    this.users.delete(account);
    this.tags.delete(account);
    this.timpush.forget(account);
  }

  /** Marks an account as a RegistrationID (TIMPush account type 1): not an imported IM account. */
  markRegistrationId(account: string): void {
    this.unimport(account);
    this.timpush.registrationIds.add(account);
    this.timpush.touched = true;
  }

  tagsOf(account: string): readonly string[] {
    return this.tags.get(account) ?? [];
  }

  setTags(account: string, next: readonly string[]): void {
    if (next.length === 0) this.tags.delete(account);
    else this.tags.set(account, Object.isFrozen(next) ? next : Object.freeze([...next]));
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
    const tagPool = new Map<number, readonly string[]>();
    const attrPool = new Map<number, Readonly<Record<string, string>>>();
    const tp = this.timpush;
    for (let i = 1; i <= count; i++) {
      const account = `user${String(i).padStart(6, '0')}`;
      let tags = tagPool.get(i % SEED_TAG_PERIOD);
      if (!tags) tagPool.set(i % SEED_TAG_PERIOD, (tags = Object.freeze(seedTags(i))));
      this.setTags(account, tags);
      tp.setTags(account, tags, 0);
      let attrs = attrPool.get(i % SEED_ATTR_PERIOD);
      if (!attrs) {
        const record: Record<string, string> = {};
        if (i % 7 !== 0) {
          const set = (name: string, value: string): void => {
            const slot = tp.slotOf(name);
            if (slot !== undefined) record[slot] = value;
          };
          set('sex', i % 2 === 0 ? 'F' : 'M');
          set('city', SEED_CITIES[i % SEED_CITIES.length]!);
          if (i % 3 === 0) set('level', SEED_LEVELS[i % SEED_LEVELS.length]!);
        }
        attrPool.set(i % SEED_ATTR_PERIOD, (attrs = Object.freeze(record)));
      }
      if (Object.keys(attrs).length > 0) tp.attrs.set(account, attrs);
    }
    if (count > 0) tp.touched = true;
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
    if (this.tags.size > 0) {
      out.tags = {};
      for (const [account, list] of this.tags) out.tags[account] = [...list];
    }
    if (this.timpush.touched || this.timpush.attrs.size > 0 || this.timpush.tags.size > 0) out.timpush = this.timpush.toJSON();
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
