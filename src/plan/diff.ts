/**
 * What `plan`, `apply` and `diff` compute per account: the difference between an account's
 * current state and its desired state, the readable lines that show it, and the counts.
 * Pure functions: no API, no printing (terraform's plan and kubectl diff are the anchors).
 */
import type { DesiredEntry } from '../input/desired.js';

/** An account's state as read from the server (or a snapshot): its attributes, and its tags when read. */
export interface AccountState {
  Attrs: Record<string, string>;
  Tags?: string[] | undefined;
}

/** How a desired state is compared. */
export interface DiffOptions {
  /** Remove attributes the server has and the desired record, which speaks for them, does not give. */
  prune: boolean;
  /** Only tags with this prefix are added or removed; the others are left as they are. */
  tagPrefix?: string | undefined;
  /** The app's attribute names: what `--prune` may remove (and what a record without its own scope speaks for). */
  appNames: readonly string[];
}

/** One account's changes: a line of the plan file. */
export interface Change {
  To_Account: string;
  /** Attributes to set: new or changed, with the new value. */
  set: Record<string, string>;
  /** Attributes to remove (--prune). */
  remove: string[];
  addTags: string[];
  removeTags: string[];
  /** The state the change was computed from (apply compares the server with it before writing). */
  before: AccountState;
}

function define(target: Record<string, string>, name: string, value: string): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** The changes that make `current` into `desired`, or undefined when there are none. */
export function diffAccount(desired: DesiredEntry, current: AccountState, options: DiffOptions): Change | undefined {
  const set: Record<string, string> = {};
  let changes = 0;
  for (const [name, value] of desired.attrs) {
    if (Object.hasOwn(current.Attrs, name) && current.Attrs[name] === value) continue;
    define(set, name, value);
    changes++;
  }
  const remove: string[] = [];
  if (options.prune) {
    const scope = desired.managed ?? options.appNames;
    for (const name of scope) {
      if (Object.hasOwn(current.Attrs, name) && !desired.attrs.has(name) && options.appNames.includes(name)) remove.push(name);
    }
    changes += remove.length;
  }
  const addTags: string[] = [];
  const removeTags: string[] = [];
  if (desired.tags !== undefined) {
    const prefix = options.tagPrefix ?? '';
    const have = new Set((current.Tags ?? []).filter((t) => t.startsWith(prefix)));
    const want = new Set(desired.tags.filter((t) => t.startsWith(prefix)));
    for (const tag of want) if (!have.has(tag)) addTags.push(tag);
    for (const tag of have) if (!want.has(tag)) removeTags.push(tag);
    changes += addTags.length + removeTags.length;
  }
  if (changes === 0) return undefined;
  const before: AccountState = current.Tags === undefined ? { Attrs: current.Attrs } : { Attrs: current.Attrs, Tags: current.Tags };
  return { To_Account: desired.account, set, remove, addTags, removeTags, before };
}

/** A value or account as the diff shows it: bare when plain, JSON-quoted when empty or with spaces, quotes or control characters. */
export function shown(text: string): string {
  return /^[^\s"\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u.test(text) ? text : JSON.stringify(text);
}

/**
 * The readable lines of one change: `~ alice  city: Paris → Lyon`, `+ bob  level=gold`,
 * `- carol  sex`, `+ dave  tag vip`, `- dave  tag beta`. No colour: stdout is data.
 */
export function changeLines(change: Change): string[] {
  const who = shown(change.To_Account);
  const lines: string[] = [];
  for (const [name, value] of Object.entries(change.set)) {
    if (Object.hasOwn(change.before.Attrs, name)) lines.push(`~ ${who}  ${shown(name)}: ${shown(change.before.Attrs[name]!)} → ${shown(value)}`);
    else lines.push(`+ ${who}  ${shown(name)}=${shown(value)}`);
  }
  for (const name of change.remove) lines.push(`- ${who}  ${shown(name)}`);
  for (const tag of change.addTags) lines.push(`+ ${who}  tag ${shown(tag)}`);
  for (const tag of change.removeTags) lines.push(`- ${who}  tag ${shown(tag)}`);
  return lines;
}

/** What a plan counts: accounts, and changes per kind. */
export class PlanCounts {
  accounts = 0;
  unchanged = 0;
  changed = 0;
  /** Accounts with attributes to set / remove / tags to add / remove, and how many of each. */
  readonly kinds = {
    set: { accounts: 0, values: 0 },
    remove: { accounts: 0, values: 0 },
    addTags: { accounts: 0, values: 0 },
    removeTags: { accounts: 0, values: 0 },
  };

  /** Counts one account read and compared. */
  add(change: Change | undefined): void {
    this.accounts++;
    if (!change) {
      this.unchanged++;
      return;
    }
    this.changed++;
    const count = (kind: keyof PlanCounts['kinds'], n: number): void => {
      if (n === 0) return;
      this.kinds[kind].accounts++;
      this.kinds[kind].values += n;
    };
    count('set', Object.keys(change.set).length);
    count('remove', change.remove.length);
    count('addTags', change.addTags.length);
    count('removeTags', change.removeTags.length);
  }

  toJSON(): object {
    return { accounts: this.accounts, unchanged: this.unchanged, changed: this.changed, ...this.kinds };
  }
}
