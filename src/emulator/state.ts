/**
 * The emulator's data: the app's attribute names (slot → name) and each user's values.
 * Values are stored by slot, as an index into the app's names, so renaming an attribute keeps
 * its values and clearing a slot drops them (the real service's behaviour here is not
 * documented; this is the least surprising reading). `--data` files are written atomically:
 * a temporary file, then rename, so a killed emulator never leaves half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_ATTR_NAMES: Readonly<Record<string, string>> = { '0': 'sex', '1': 'city', '2': 'level' };

const SEED_CITIES = ['Paris', 'Shenzhen', 'Singapore', 'Tokyo', 'Berlin', 'São Paulo', 'Seoul'];
const SEED_LEVELS = ['bronze', 'silver', 'gold'];

/** On-disk shape of `--data`: what `get --output json` prints, plus the names. */
export interface StateFile {
  attrNames: Record<string, string>;
  users: Record<string, Record<string, string>>;
}

export class EmulatorState {
  /** slot ("0".."9") → name */
  names: Map<string, string>;
  /** account → slot → value */
  readonly users = new Map<string, Map<string, string>>();

  constructor(names: Readonly<Record<string, string>> = DEFAULT_ATTR_NAMES) {
    this.names = new Map(Object.entries(names));
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
   * imported user nobody tagged); the others get sex, city and, for every 3rd, a level.
   */
  seed(count: number): void {
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
    return { attrNames: Object.fromEntries(this.names), users };
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
