/**
 * The trust model (README "Security model"). A project config file (found walking up from the
 * current directory, below or outside home) may hold settings, but one that decides where a
 * request goes or who it is signed as (endpoint, region, sdkAppId, identifier) while the
 * credentials come from somewhere else (the environment, a flag, a ${VAR} reference) is refused
 * until the user trusts it with `im-attrs config trust`. The trust list lives in the user's config
 * folder, keyed by real path and the SHA-256 of the content (like direnv's allow): a changed file
 * is refused again.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Deps } from '../deps.js';
import { writeFileAtomic } from '../util/safe-file.js';
import { globalConfigDir, type LoadedConfigFile } from './load.js';
import { describeSource, type SettingKey, type Settings } from './resolve.js';

/** Settings that decide where a signed request goes, or whom it is signed for. */
export const ROUTING_KEYS: readonly SettingKey[] = ['endpoint', 'region', 'sdkAppId', 'identifier'];

/** Settings that are credentials. */
const CREDENTIAL_KEYS: readonly SettingKey[] = ['secretKey', 'userSig'];

/** File name of the trust list in the user's config folder. */
export const TRUST_FILE = 'trusted.json';

interface TrustStore {
  version: 1;
  /** Real path → SHA-256 of the content when it was trusted. */
  files: Record<string, { sha256: string; trustedAt: string }>;
}

export function trustStorePath(deps: Pick<Deps, 'env' | 'homeDir'>): string {
  return path.join(globalConfigDir(deps), TRUST_FILE);
}

/** The trust list (empty when there is none). */
export function readTrustStore(deps: Pick<Deps, 'env' | 'homeDir'>): TrustStore {
  const file = trustStorePath(deps);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { version: 1, files: {} };
  }
  try {
    const parsed = JSON.parse(text) as Partial<TrustStore>;
    const files: TrustStore['files'] = Object.create(null) as TrustStore['files'];
    for (const [key, value] of Object.entries(parsed.files ?? {})) {
      if (value && typeof value.sha256 === 'string') files[key] = { sha256: value.sha256, trustedAt: String(value.trustedAt ?? '') };
    }
    return { version: 1, files };
  } catch {
    throw new ConfigError(`the trust list ${file} is not valid JSON`, { hint: `remove it (im-attrs then trusts no project file) and trust the files again` });
  }
}

async function writeTrustStore(deps: Pick<Deps, 'env' | 'homeDir'>, store: TrustStore): Promise<void> {
  const file = trustStorePath(deps);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify(store, null, 2)}\n`, 'trust list');
}

/** Records the file (as it is now) as trusted. */
export async function trustFile(deps: Pick<Deps, 'env' | 'homeDir'>, file: LoadedConfigFile): Promise<void> {
  const store = readTrustStore(deps);
  store.files[file.realpath] = { sha256: file.sha256, trustedAt: new Date().toISOString() };
  await writeTrustStore(deps, store);
}

/** Forgets a file; returns whether it was on the list. */
export async function untrustFile(deps: Pick<Deps, 'env' | 'homeDir'>, realpath: string): Promise<boolean> {
  const store = readTrustStore(deps);
  if (!Object.hasOwn(store.files, realpath)) return false;
  delete store.files[realpath];
  await writeTrustStore(deps, store);
  return true;
}

/** How the config file in use stands. */
export interface TrustReport {
  /** own: home or the user's config folder; explicit: --config/IMADMIN_CONFIG; trusted: a project file on the trust list. */
  status: 'none' | 'own' | 'explicit' | 'trusted' | 'untrusted' | 'changed';
  /** Routing settings the file decides. */
  redirects: SettingKey[];
  /** Where the credentials (or values the file pulls in with ${VAR}) come from, when not the file itself. */
  borrowed: string[];
  /** Whether requests are refused. */
  refused: boolean;
  /** One line for `config show` and `doctor`. */
  explanation: string;
}

/** Whether the file in use may route the credentials (see the module comment). */
export function evaluateTrust(deps: Pick<Deps, 'env' | 'homeDir'>, settings: Settings): TrustReport {
  const file = settings.file;
  if (!file) return { status: 'none', redirects: [], borrowed: [], refused: false, explanation: 'no config file' };
  if (file.kind !== 'project') {
    const explanation =
      file.kind === 'own' ? 'your own file (home directory or config folder): trusted' : 'named with --config or IMADMIN_CONFIG: trusted';
    return { status: file.kind, redirects: [], borrowed: [], refused: false, explanation };
  }
  const entry = readTrustStore(deps).files[file.realpath];
  const status = entry === undefined ? 'untrusted' : entry.sha256 === file.sha256 ? 'trusted' : 'changed';
  const v = settings.values;
  const redirects = ROUTING_KEYS.filter((k) => v[k]?.source.kind === 'file');
  const borrowed: string[] = [];
  for (const key of CREDENTIAL_KEYS) {
    const value = v[key];
    if (value && value.source.kind !== 'file') borrowed.push(`${key} from ${describeSource(value.source)}`);
  }
  for (const key of Object.keys(v) as SettingKey[]) {
    if (v[key]?.expanded) borrowed.push(`${key} from the environment via \${…}`);
  }
  const refused = status !== 'trusted' && redirects.length > 0 && borrowed.length > 0;
  let explanation: string;
  if (status === 'trusted') explanation = 'project file, trusted with `im-attrs config trust`';
  else if (refused) explanation = `project file, ${status === 'changed' ? 'changed since you trusted it' : 'not trusted'}: requests refused`;
  else explanation = `project file, ${status === 'changed' ? 'changed since you trusted it' : 'not trusted'} (it does not route your credentials)`;
  return { status, redirects, borrowed, refused, explanation };
}

/** Throws unless the file in use may route the credentials. Called before any signed request. */
export function assertTrusted(deps: Pick<Deps, 'env' | 'homeDir'>, settings: Settings): void {
  const report = evaluateTrust(deps, settings);
  if (!report.refused) return;
  const file = settings.file!;
  const state = report.status === 'changed' ? 'has changed since you trusted it' : 'is not trusted';
  throw new ConfigError(
    `${file.filepath} ${state}: it sets ${report.redirects.join(', ')}, and the credentials would be sent where it says ` +
      `(${report.borrowed.join('; ')})`,
    { hint: `read it; if you wrote it or agree with it, run: im-attrs config trust ${file.filepath}` },
  );
}
