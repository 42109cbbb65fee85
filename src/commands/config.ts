/**
 * `im-attrs config init|show|path|profiles`: write a config file, and see what im-attrs resolved
 * from flags, environment and file, with where each value came from.
 *
 * `init` asks on a terminal (questions on stderr, answers from stdin through node:readline, a
 * secret typed without echo) and takes the same values from flags and IMADMIN_* variables
 * otherwise. It never writes a secret key into the file unless asked to: the default is a
 * `${IMADMIN_SECRET_KEY}` reference, which the config layer expands at run time.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { DEFAULT_TIMEOUT_MS } from '../api/client.js';
import { DEFAULT_API_FAMILY } from '../api/operation.js';
import { GLOBAL_SEARCH_PLACES, globalConfigDir, loadConfigFile, MAX_CONFIG_BYTES, SEARCH_PLACES, type LoadedConfigFile } from '../config/load.js';
import { describeRegions, findRegion, REGIONS } from '../config/regions.js';
import {
  describeSource,
  ENV_VARS,
  parseEndpoint,
  parseSdkAppId,
  SETTING_KEYS,
  type SettingKey,
  type Settings,
  type Source,
  type Sourced,
} from '../config/resolve.js';
import { checkUserSig as checkUserSigOnce, USERSIG_FIXES } from '../config/validate.js';
import { ConfigError, ImAttrsError, InterruptedError, UsageError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { didYouMean } from '../util/suggest.js';
import { evaluateTrust, trustFile } from '../config/trust.js';
import { newTrustCommands } from './config-trust.js';
import { DEFAULT_ADMIN_TTL_SECONDS, formatDuration, SECRET_KEY_SHAPE } from '../usersig.js';

/** How `config init` authenticates: the three answers to "how should im-attrs authenticate?". */
export const AUTH_CHOICES = ['secret-key-env', 'secret-key', 'usersig'] as const;
export type AuthChoice = (typeof AUTH_CHOICES)[number];

/** The variable a `${…}` secret key reference names unless told otherwise. */
export const DEFAULT_SECRET_KEY_ENV = ENV_VARS.secretKey;

/** The administrator account every Chat app is created with. */
export const DEFAULT_IDENTIFIER = 'administrator';

/** Keys whose values are credentials: shown masked, never in clear. */
const SECRET_KEYS: ReadonlySet<SettingKey> = new Set(['secretKey', 'userSig', 'callbackToken']);

/** A UserSig with less time left than this gets a warning when it is written. */
const SHORT_VALIDITY_SECONDS = 7 * 86_400;

/** Wrong answers in a row before `config init` gives up on a question. */
const MAX_ATTEMPTS = 3;

/** A secret key as the Chat console shows it: 64 hex digits. Only used to warn about a typo. */

/** Environment variable names a `${NAME}` reference can use (as resolve.ts expands them). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** "<set, 64 chars>": how a secret is shown. Neither its start nor its end is printed. */
export function maskSecret(value: string): string {
  return `<set, ${value.length} chars>`;
}

export interface ConfigInitOptions {
  local?: boolean;
  force?: boolean;
  auth?: AuthChoice;
  secretKeyEnv?: string;
}

export interface ConfigShowOptions {
  json?: boolean;
}

const CONFIG_EXAMPLES = `
Examples:
  $ im-attrs config init
  $ im-attrs config show --profile prod
  $ im-attrs config show --json | jq -r '.settings.region.value'
  $ $EDITOR "$(im-attrs config path)"
`;

const INIT_EXAMPLES = `
Examples:
  $ im-attrs config init
  $ im-attrs config init --local --profile staging
  $ IMADMIN_SECRET_KEY=… im-attrs config init --region sgp --sdkappid 1400123456 --identifier administrator </dev/null
  $ im-attrs config init --endpoint http://127.0.0.1:8080 --sdkappid 1400000000 --profile emulator --force </dev/null
`;

const SHOW_EXAMPLES = `
Examples:
  $ im-attrs config show
  $ IMADMIN_PROFILE=prod im-attrs config show
  $ im-attrs config show --json | jq '.settings | map_values(.from)'
`;

const PATH_EXAMPLES = `
Examples:
  $ im-attrs config path
  $ $EDITOR "$(im-attrs config path)"
`;

const PROFILES_EXAMPLES = `
Examples:
  $ im-attrs config profiles
  $ for p in $(im-attrs config profiles); do im-attrs --profile "$p" doctor; done
`;

export function newConfigCommand(rt: Runtime): Command {
  const config = new Command('config')
    .summary('create a config file, show the resolved settings and where they come from')
    .description(
      'Create a config file, and show the settings im-attrs resolved from flags, IMADMIN_* variables, the ' +
        'config file and its profile, with where each value came from.\n\n' +
        'Config files are searched from the current directory up to the home directory (.imadminrc, ' +
        '.imadminrc.json/.yaml/.yml, imadmin.config.js/.mjs, "imadmin" in package.json), then in ' +
        '~/.config/imadmin/ (config, config.json, config.yaml, …; $XDG_CONFIG_HOME is honoured).',
    );
  config.addHelpText('after', CONFIG_EXAMPLES);

  const init = new Command('init')
    .summary('write a config file: asks on a terminal, reads flags and IMADMIN_* otherwise')
    .description(
      'Write a config file (mode 600): ~/.config/imadmin/config.json, ./.imadminrc with --local, or the file ' +
        'named by --config. On a terminal it asks for the region, SDKAppID, administrator and how to ' +
        'authenticate; without one it takes them from --region/--endpoint, --sdkappid, --identifier, --usersig ' +
        'and their IMADMIN_* variables.\n\n' +
        'When the file exists, the settings are added to it as the profile named by --profile (asked for on ' +
        'a terminal). An existing file or profile is replaced only after you say yes, or with --force.\n\n' +
        'The secret key is not written into the file unless you choose so (--auth secret-key): the default ' +
        'is a reference, "secretKey": "${IMADMIN_SECRET_KEY}", read from the environment at run time.',
    )
    .option('--local', 'write ./.imadminrc in the current directory instead of the user-wide file')
    .option('--force', 'replace an existing file (or profile) without asking')
    .addOption(
      new Option(
        '--auth <how>',
        'secret-key-env: a ${VAR} reference to the secret key; secret-key: the key itself, from $VAR; usersig: ' +
          'the UserSig from --usersig (default: usersig when one is given, else secret-key-env)',
      ).choices(AUTH_CHOICES),
    )
    .option('--secret-key-env <name>', `the variable holding the secret key (default: ${DEFAULT_SECRET_KEY_ENV})`);
  init.addHelpText('after', INIT_EXAMPLES);
  init.action(async (options: ConfigInitOptions) => {
    await configInitRun(rt, options);
  });

  const show = new Command('show')
    .summary('print the resolved settings, each with its source; secrets masked')
    .description(
      'Print every setting as im-attrs resolves it for this run (flags > IMADMIN_* variables > the selected ' +
        'profile > top-level keys of the config file > defaults), with where the value came from: a flag, ' +
        'a variable, a file and profile, or the default. Secret keys and UserSigs are masked.\n\n' +
        'Then a verdict on stderr: whether commands that call the API would run with these settings, or the ' +
        'error and exit code they would stop with (the same check `get` and `doctor` make). config show itself ' +
        'exits 0 for any configuration it can read.',
    )
    .option('--json', 'print JSON for scripts');
  show.addHelpText('after', SHOW_EXAMPLES);
  show.action(async (options: ConfigShowOptions) => {
    await configShowRun(rt, options);
  });

  const pathCommand = new Command('path')
    .summary('print the path of the config file im-attrs uses')
    .description(
      'Print the path of the config file im-attrs would use (--config, IMADMIN_CONFIG, or the first one ' +
        'found by the search). Exits with status 3 when there is none.',
    );
  pathCommand.addHelpText('after', PATH_EXAMPLES);
  pathCommand.action(async () => {
    await configPathRun(rt);
  });

  const profiles = new Command('profiles')
    .summary('list the profiles of the config file, one per line')
    .description(
      'List the profiles of the config file, one name per line (on a terminal, the default one is marked). ' +
        'Prints nothing when there is no config file or it has no profiles.',
    )
    .option('--json', 'print JSON for scripts: the file, its profiles and its default profile')
    // Shell completion asks with --no-code: a TAB press never runs a JavaScript config, not even yours.
    .addOption(new Option('--no-code', 'never run a JavaScript config (shell completion)').hideHelp());
  profiles.addHelpText('after', PROFILES_EXAMPLES);
  profiles.action(async (options: { json?: boolean; code?: boolean }) => {
    await configProfilesRun(rt, options);
  });

  const use = new Command('use')
    .summary('make a profile the default (sets defaultProfile in the config file); alone, list the profiles')
    .description(
      'Make PROFILE the default profile of the config file im-attrs uses: sets its "defaultProfile" key, so ' +
        'commands use that profile unless --profile or IMADMIN_PROFILE says otherwise. JSON files only; a ' +
        'project file you trusted stays trusted. Without PROFILE, list the profiles (as `config profiles`).',
    )
    .argument('[profile]', 'a profile of the config file (im-attrs config profiles)');
  use.addHelpText('after', '\nExamples:\n  $ im-attrs config use\n  $ im-attrs config use prod\n');
  use.action(async (profile: string | undefined) => {
    if (profile === undefined) {
      await configProfilesRun(rt, {});
      rt.info('make one the default: im-attrs config use <profile>');
      return;
    }
    await configUseRun(rt, profile);
  });

  const current = new Command('current')
    .summary('print the profile in use and where that comes from, and the app and endpoint it targets')
    .description(
      'Print which profile commands use now and why (--profile, IMADMIN_PROFILE, or the file\'s ' +
        'defaultProfile), the config file, the app (SDKAppID and administrator), the endpoint and the API ' +
        'family: what a command would talk to. `config show` lists every setting.',
    )
    .option('--json', 'print JSON for scripts');
  current.addHelpText('after', '\nExamples:\n  $ im-attrs config current\n  $ im-attrs config current --profile prod\n');
  current.action(async (options: { json?: boolean }) => {
    await configCurrentRun(rt, options);
  });

  for (const sub of [init, show, current, pathCommand, profiles, use, ...newTrustCommands(rt)]) config.addCommand(sub);
  return config;
}

// ---------------------------------------------------------------------------------------------
// Prompts

/** Asks questions on stderr and reads the answers, one line each, from stdin. */
export class Prompter {
  private readonly rl: Interface;
  private readonly lines: AsyncIterator<string>;
  private readonly terminal: boolean;
  private muted = false;
  private prompt = '';
  private interrupted = false;

  constructor(private readonly rt: Runtime) {
    const { stdin, stderr } = rt.deps.io;
    // Echo goes through this filter, so a hidden answer is never drawn. Cursor movements
    // (escape sequences) and the question itself still pass while muted.
    const output = new Writable({
      write: (chunk: Buffer | string, _encoding, callback) => {
        const text = chunk.toString();
        if (!this.muted) stderr.write(text);
        else if (text.startsWith(this.prompt)) stderr.write(this.prompt);
        // eslint-disable-next-line no-control-regex
        else if (/^(?:\x1b\[[0-9;]*[A-Za-z])+$/.test(text)) stderr.write(text);
        callback();
      },
    });
    // Terminal mode (raw input, readline echoing) only on a real terminal: it is what lets a
    // secret be typed without echo. A scripted stdin is read as plain lines.
    this.terminal = Boolean((stdin as { isTTY?: boolean }).isTTY) && rt.deps.io.stderrIsTTY;
    this.rl = createInterface({ input: stdin, output, terminal: this.terminal });
    this.rl.on('SIGINT', () => {
      this.interrupted = true;
      this.rl.close();
    });
    // The iterator buffers lines that arrive before they are asked for (a pasted or piped script).
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  /** Prints a line of explanation (stderr, redacted). */
  say(text: string): void {
    this.rt.stderr(text);
  }

  /** One answer, trimmed; `hidden` answers are not echoed. */
  async ask(question: string, options: { hidden?: boolean } = {}): Promise<string> {
    this.prompt = `${this.rt.chalk.cyan('?')} ${question}: `;
    this.rl.setPrompt(this.prompt);
    this.muted = options.hidden ?? false;
    this.rl.prompt();
    const next = await this.lines.next();
    this.muted = false;
    if (!this.terminal || options.hidden) this.rt.deps.io.stderr.write('\n');
    if (this.interrupted) throw new InterruptedError('interrupted: nothing was written');
    if (next.done) {
      throw new UsageError('stdin ended before every question was answered: nothing was written', {
        hint: 'answer each question on its own line, or run without a terminal and pass the values as flags',
      });
    }
    const answer = String(next.value).trim();
    if (options.hidden) this.rt.secrets.add(answer);
    return answer;
  }

  /**
   * Asks until `parse` accepts the answer (at most MAX_ATTEMPTS times). An empty answer takes
   * `fallback` when there is one.
   */
  async askValid<T>(question: string, fallback: string | undefined, parse: (answer: string) => T, options: { hidden?: boolean } = {}): Promise<T> {
    const shown = fallback === undefined || options.hidden ? question : `${question} [${fallback}]`;
    for (let attempt = 1; ; attempt++) {
      const answer = (await this.ask(shown, options)) || fallback || '';
      try {
        if (answer === '') throw new UsageError('an answer is needed');
        return parse(answer);
      } catch (error) {
        if (!(error instanceof ImAttrsError) || attempt >= MAX_ATTEMPTS) throw error;
        this.say(`  ${this.rt.chalk.red('✗')} ${error.message}${error.hint ? ` (${error.hint})` : ''}`);
      }
    }
  }

  /** Yes or no; an empty answer is `fallback`. */
  async confirm(question: string, fallback: boolean): Promise<boolean> {
    return this.askValid(`${question} (${fallback ? 'Y/n' : 'y/N'})`, fallback ? 'y' : 'n', (answer) => {
      if (/^y(es)?$/i.test(answer)) return true;
      if (/^no?$/i.test(answer)) return false;
      throw new UsageError('answer y or n');
    });
  }

  /** A numbered choice; the answer may be the number or the choice's name. */
  async choose<T extends string>(question: string, choices: ReadonlyArray<{ value: T; label: string }>, fallback: T | undefined): Promise<T> {
    const width = Math.max(...choices.map((c) => c.value.length));
    // Numbers right-aligned, so that the values line up past 9 choices.
    const numberWidth = String(choices.length).length;
    choices.forEach((c, i) => this.say(`  ${`${i + 1})`.padStart(numberWidth + 1)} ${c.value.padEnd(width)}  ${c.label}`));
    const index = choices.findIndex((c) => c.value === fallback);
    const defaultIndex = index === -1 ? undefined : String(index + 1);
    return this.askValid(question, defaultIndex, (answer) => {
      const byNumber = /^[0-9]+$/.test(answer) ? choices[Number(answer) - 1] : undefined;
      const found = byNumber ?? choices.find((c) => c.value === answer.toLowerCase());
      if (!found) throw new UsageError(`"${answer}" is not one of the choices: give a number from 1 to ${choices.length}`);
      return found.value;
    });
  }

  close(): void {
    this.rl.close();
  }
}

// ---------------------------------------------------------------------------------------------
// config init

/** Where `config init` writes, and what is there already. */
interface InitTarget {
  file: string;
  /** The parsed JSON object when the file exists and is JSON. */
  existing: Record<string, unknown> | undefined;
  /** The file exists but is not JSON (YAML, JS): init cannot edit it. */
  notJson: boolean;
}

/** The settings `config init` writes, in file order. */
interface InitValues {
  region?: string;
  endpoint?: string;
  sdkAppId: number;
  identifier: string;
  secretKey?: string;
  userSig?: string;
}

/** The file `config init` writes: --config, --local, IMADMIN_CONFIG, or the user-wide one. */
export function initTargetPath(rt: Runtime, options: ConfigInitOptions): string {
  const { deps } = rt;
  const explicit = rt.options.config;
  if (explicit !== undefined && options.local) {
    throw new UsageError('--local and --config contradict each other', { hint: 'give one of them' });
  }
  if (explicit !== undefined) return path.resolve(deps.cwd, explicit);
  // An existing file of another accepted name is the one to extend, not to shadow with a new one.
  const firstExisting = (dir: string, places: readonly string[], fallback: string): string =>
    places.map((p) => path.join(dir, p)).find((p) => existsSync(p)) ?? path.join(dir, fallback);
  if (options.local) return firstExisting(deps.cwd, SEARCH_PLACES.filter((p) => p !== 'package.json'), '.imadminrc');
  if (deps.env.IMADMIN_CONFIG) return path.resolve(deps.cwd, deps.env.IMADMIN_CONFIG);
  return firstExisting(globalConfigDir(deps), GLOBAL_SEARCH_PLACES, 'config.json');
}

function readTarget(file: string): InitTarget {
  let text: string;
  try {
    // Read only a regular file of sane size: a FIFO would hang, /dev/zero would never end.
    const stat = statSync(file);
    if (!stat.isFile() && !stat.isDirectory()) throw new ConfigError(`cannot write ${file}: it is not a regular file`, { hint: 'write elsewhere with --config <path>' });
    if (stat.size > MAX_CONFIG_BYTES) throw new ConfigError(`${file} is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MB; config init does not edit it`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { file, existing: undefined, notJson: false };
    throw new ConfigError(`${file} cannot be read: ${code ?? 'error'}`, { hint: code === 'EISDIR' ? 'point --config at a file' : `check its permissions: chmod 600 ${file}` });
  }
  if (text.trim() === '') return { file, existing: {}, notJson: false };
  try {
    const data = JSON.parse(text) as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return { file, existing: undefined, notJson: true };
    return { file, existing: data as Record<string, unknown>, notJson: false };
  } catch {
    return { file, existing: undefined, notJson: true };
  }
}

function profilesOf(data: Record<string, unknown>): Record<string, unknown> {
  const profiles = data.profiles;
  return typeof profiles === 'object' && profiles !== null && !Array.isArray(profiles) ? (profiles as Record<string, unknown>) : {};
}

/** A profile name: what a shell, a YAML key and a flag can all carry without quoting. */
function parseProfileName(text: string): string {
  const name = text.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name in Object.prototype) {
    throw new UsageError(`"${text}" is not a usable profile name`, { hint: 'use letters, digits, ".", "_" and "-", e.g. prod or staging-sgp' });
  }
  return name;
}

function parseEnvName(text: string): string {
  if (!ENV_NAME.test(text)) {
    throw new UsageError(`"${text}" is not an environment variable name`, { hint: `e.g. ${DEFAULT_SECRET_KEY_ENV}` });
  }
  return text;
}

function parseRegionAnswer(text: string): string {
  const region = findRegion(text);
  if (!region) throw new UsageError(`unknown region "${text}"`, { hint: `valid regions: ${describeRegions()}` });
  return region.id;
}

/** A flag value when given, else the variable's. */
function flagOrEnv(rt: Runtime, flag: string | undefined, flagName: string, envName: string): Sourced<string> | undefined {
  if (flag !== undefined) return { value: flag, source: { kind: 'flag', name: flagName } };
  const value = rt.deps.env[envName];
  return value !== undefined && value !== '' ? { value, source: { kind: 'env', name: envName } } : undefined;
}

/** Checks a UserSig against the app and administrator it is written for. */
function checkUserSig(rt: Runtime, userSig: string, sdkAppId: number, identifier: string): string {
  const nowSec = Math.floor(rt.deps.now() / 1000);
  const checked = checkUserSigOnce(userSig, { sdkAppId, identifier, nowSec });
  if (!checked.ok) throw new ConfigError(`the UserSig ${checked.detail}`, { hint: USERSIG_FIXES[checked.reason] });
  const left = checked.decoded.expiresAt - nowSec;
  if (left < SHORT_VALIDITY_SECONDS) rt.warn(`the UserSig expires in ${formatDuration(left)}; im-attrs cannot renew it without the secret key`);
  return userSig.trim();
}

/** Writes `data` as JSON, mode 600, atomically (a temporary file renamed over the target). */
function writeConfigFile(file: string, data: Record<string, unknown>): string {
  // Write through a symlink (a dotfiles repo), not over it; never replace a FIFO, device or directory.
  const target = existsSync(file) ? realpathSync(file) : file;
  if (existsSync(target) && !statSync(target).isFile()) {
    throw new ConfigError(`cannot write ${target}: it is not a regular file`, { hint: 'write elsewhere with --config <path>' });
  }
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(temp, 0o600);
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot write ${target}: ${code ?? (error as Error).message}`, {
      hint: code === 'EACCES' || code === 'EPERM' ? 'check the permissions of its directory, or write elsewhere with --config <path>' : undefined,
    });
  }
  return target;
}

/** The object written for one profile (or the top level), keys in a stable, readable order. */
function settingsObject(values: InitValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (values.region !== undefined) out.region = values.region;
  if (values.endpoint !== undefined) out.endpoint = values.endpoint;
  out.sdkAppId = values.sdkAppId;
  out.identifier = values.identifier;
  if (values.secretKey !== undefined) out.secretKey = values.secretKey;
  if (values.userSig !== undefined) out.userSig = values.userSig;
  return out;
}

/** `config init`. */
export async function configInitRun(rt: Runtime, options: ConfigInitOptions): Promise<void> {
  const { io } = rt.deps;
  const interactive = io.stdinIsTTY && io.stderrIsTTY;
  const target = readTarget(initTargetPath(rt, options));
  const profileFlag = flagOrEnv(rt, rt.options.profile, '--profile', 'IMADMIN_PROFILE');
  let profile = profileFlag ? parseProfileName(profileFlag.value) : undefined;
  const exists = target.existing !== undefined || target.notJson;

  if (target.notJson && !(options.force && profile === undefined)) {
    throw new ConfigError(`${target.file} is not a JSON object (YAML or JavaScript?): config init only edits JSON files`, {
      hint: 'add the profile by hand (see .imadminrc.example), write another file with --config <path>, or replace this one with --force',
    });
  }

  const prompter = interactive ? new Prompter(rt) : undefined;
  try {
    // The questions about the file come first: nobody should answer everything and then be refused.
    let replaceFile = false;
    if (exists && profile === undefined) {
      if (options.force) replaceFile = true;
      else if (prompter) {
        prompter.say(`${target.file} exists; the new settings are added to it as a profile.`);
        profile = await prompter.askValid('Name of the profile to add', undefined, parseProfileName);
      } else {
        throw new UsageError(`${target.file} exists`, {
          hint: 'name a profile to add to it with --profile <name>, replace it with --force, or write elsewhere with --config <path> or --local',
        });
      }
    }
    if (exists && !replaceFile && profile !== undefined && profilesOf(target.existing ?? {})[profile] !== undefined && !options.force) {
      const replace = prompter ? await prompter.confirm(`Profile "${profile}" exists in ${target.file}. Replace it?`, false) : false;
      if (!replace) {
        throw new UsageError(`profile "${profile}" exists in ${target.file}${prompter ? '; nothing was written' : ''}`, {
          hint: 'choose another name with --profile <name>, or replace it with --force',
        });
      }
    }

    const values = prompter ? await askValues(rt, prompter, options) : valuesFromFlags(rt, options);

    let data: Record<string, unknown>;
    if (exists && !replaceFile) {
      data = { ...target.existing };
      data.profiles = { ...profilesOf(data), [profile!]: settingsObject(values) };
    } else if (profile !== undefined) {
      data = { defaultProfile: profile, profiles: { [profile]: settingsObject(values) } };
    } else {
      data = settingsObject(values);
    }
    const written = writeConfigFile(target.file, data);
    // A project file written whole by `init` is the user's own words: trusted as written. One that
    // existed (and got a profile added) keeps whatever trust it had: its other settings are not ours.
    if (options.local && (!exists || replaceFile)) await trustFile(rt.deps, (await loadConfigFile(rt.deps, written))!);
    report(rt, written, profile, values, data.defaultProfile === profile);
    await warnIfShadowed(rt, written);
  } finally {
    prompter?.close();
  }
}

/** The values from flags and IMADMIN_* variables (no terminal to ask on). */
function valuesFromFlags(rt: Runtime, options: ConfigInitOptions): InitValues {
  const g = rt.options;
  const region = flagOrEnv(rt, g.region, '--region', ENV_VARS.region);
  const endpoint = flagOrEnv(rt, g.endpoint, '--endpoint', ENV_VARS.endpoint);
  const sdkAppId = flagOrEnv(rt, g.sdkappid, '--sdkappid', ENV_VARS.sdkAppId);
  const identifier = flagOrEnv(rt, g.identifier, '--identifier', ENV_VARS.identifier);
  const missing: string[] = [];
  if (!region && !endpoint) missing.push('--region (or --endpoint)');
  if (!sdkAppId) missing.push('--sdkappid');
  if (missing.length) {
    throw new UsageError(`config init needs ${missing.join(' and ')} when stdin and stderr are not a terminal`, {
      hint: 'e.g. im-attrs config init --region sgp --sdkappid 1400123456 --identifier administrator (or IMADMIN_REGION, IMADMIN_SDKAPPID, …)',
    });
  }
  const values: InitValues = {
    sdkAppId: parseSdkAppId(sdkAppId!),
    identifier: identifier?.value.trim() || DEFAULT_IDENTIFIER,
  };
  if (region) {
    const found = findRegion(region.value);
    if (!found) throw new ConfigError(`unknown region "${region.value}" (from ${describeSource(region.source)})`, { hint: `valid regions: ${describeRegions()}` });
    values.region = found.id;
  }
  if (endpoint) values.endpoint = parseEndpoint(endpoint);

  const userSig = flagOrEnv(rt, g.usersig, '--usersig', ENV_VARS.userSig);
  const auth = options.auth ?? (userSig && options.secretKeyEnv === undefined ? 'usersig' : 'secret-key-env');
  const keyEnv = parseEnvName(options.secretKeyEnv ?? DEFAULT_SECRET_KEY_ENV);
  switch (auth) {
    case 'secret-key-env':
      values.secretKey = `\${${keyEnv}}`;
      break;
    case 'secret-key': {
      const key = rt.deps.env[keyEnv]?.trim();
      if (!key) {
        throw new UsageError(`--auth secret-key stores the secret key from $${keyEnv}, which is not set`, {
          hint: `export ${keyEnv}=… first (never pass a secret as a flag), or keep the default --auth secret-key-env`,
        });
      }
      rt.secrets.add(key);
      if (!SECRET_KEY_SHAPE.test(key)) rt.warn(`$${keyEnv} is not 64 hex digits, the shape of a console secret key; check it`);
      values.secretKey = key;
      break;
    }
    case 'usersig':
      if (!userSig) {
        throw new UsageError('--auth usersig needs a UserSig', { hint: 'give it with --usersig or IMADMIN_USERSIG' });
      }
      values.userSig = checkUserSig(rt, userSig.value, values.sdkAppId, values.identifier);
      break;
  }
  return values;
}

/** The source the parsers are given for a typed answer; `fromAnswer` drops it from their messages. */
const ANSWER: Source = { kind: 'flag', name: 'answer' };

/** Runs a config parser on a typed answer: its error without "(from …)", as a usage error to ask again. */
function fromAnswer<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ImAttrsError)) throw error;
    throw new UsageError(error.message.replace(` (from ${describeSource(ANSWER)})`, ''), { hint: error.hint });
  }
}

/** The values, asked for on the terminal; a value given as a flag is not asked for. */
async function askValues(rt: Runtime, p: Prompter, options: ConfigInitOptions): Promise<InitValues> {
  const g = rt.options;
  const env = rt.deps.env;
  let region: string | undefined;
  let endpoint: string | undefined;
  if (g.endpoint !== undefined) endpoint = parseEndpoint({ value: g.endpoint, source: { kind: 'flag', name: '--endpoint' } });
  if (g.region !== undefined) region = parseRegionAnswer(g.region);
  if (region === undefined && endpoint === undefined) {
    p.say('Data center of the Chat app (the console shows it next to the SDKAppID):');
    const CUSTOM = 'endpoint';
    const choices = [
      ...REGIONS.map((r) => ({ value: r.id as string, label: `${r.name.padEnd(15)} ${r.primary}` })),
      { value: CUSTOM, label: 'another URL: a proxy, or the local emulator' },
    ];
    // No default without a hint from the environment: a guessed region fails later with 70016/70020.
    const fallback = findRegion(env[ENV_VARS.region] ?? '')?.id ?? (env[ENV_VARS.endpoint] ? CUSTOM : undefined);
    const chosen = await p.choose('Region', choices, fallback);
    if (chosen === CUSTOM) {
      endpoint = await p.askValid('Endpoint URL', env[ENV_VARS.endpoint] || undefined, (answer) =>
        fromAnswer(() => parseEndpoint({ value: answer, source: ANSWER })),
      );
    } else {
      region = chosen;
    }
  }
  const sdkAppId =
    g.sdkappid !== undefined
      ? parseSdkAppId({ value: g.sdkappid, source: { kind: 'flag', name: '--sdkappid' } })
      : await p.askValid('SDKAppID (Chat console → Applications)', env[ENV_VARS.sdkAppId] || undefined, (answer) =>
          fromAnswer(() => parseSdkAppId({ value: answer, source: ANSWER })),
        );
  const identifier =
    g.identifier?.trim() ||
    (await p.askValid('Administrator account', env[ENV_VARS.identifier] || DEFAULT_IDENTIFIER, (answer) => answer));

  const values: InitValues = { sdkAppId, identifier };
  if (region !== undefined) values.region = region;
  if (endpoint !== undefined) values.endpoint = endpoint;

  let auth = options.auth;
  if (auth === undefined && g.usersig !== undefined) auth = 'usersig';
  if (auth === undefined) {
    p.say('How should im-attrs authenticate?');
    auth = await p.choose<AuthChoice>(
      'Authentication',
      [
        { value: 'secret-key-env', label: 'secret key from an environment variable (recommended: the file holds no secret)' },
        { value: 'secret-key', label: 'secret key stored in the config file (mode 600)' },
        { value: 'usersig', label: 'a UserSig (it expires, and cannot be renewed without the key)' },
      ],
      'secret-key-env',
    );
  }
  switch (auth) {
    case 'secret-key-env': {
      const name = options.secretKeyEnv !== undefined ? parseEnvName(options.secretKeyEnv) : await p.askValid('Environment variable holding the secret key', DEFAULT_SECRET_KEY_ENV, parseEnvName);
      values.secretKey = `\${${name}}`;
      break;
    }
    case 'secret-key': {
      const key = await p.askValid('Secret key (Chat console → Basic Configuration; not echoed)', undefined, (answer) => answer, { hidden: true });
      if (!SECRET_KEY_SHAPE.test(key)) rt.warn('the secret key is not 64 hex digits, the shape of a console secret key; check it');
      values.secretKey = key;
      break;
    }
    case 'usersig': {
      const given = g.usersig;
      values.userSig =
        given !== undefined
          ? checkUserSig(rt, given, sdkAppId, identifier)
          : await p.askValid('UserSig (not echoed)', undefined, (answer) => checkUserSig(rt, answer, sdkAppId, identifier), { hidden: true });
      break;
    }
  }
  return values;
}

function report(rt: Runtime, file: string, profile: string | undefined, values: InitValues, isDefault: boolean): void {
  const rows = Object.entries(settingsObject(values)).map(([key, value]) => {
    const text = String(value);
    const shown = SECRET_KEYS.has(key as SettingKey) && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(text) ? maskSecret(text) : text;
    return `  ${key.padEnd(12)}${shown}`;
  });
  rt.info(`${rt.chalk.green('✓')} wrote ${file} (mode 600)${profile ? `, profile "${profile}"` : ''}:`);
  for (const row of rows) rt.info(row);
  const reference = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(values.secretKey ?? '')?.[1];
  if (reference && !rt.deps.env[reference]) {
    rt.info(`The secret key is read from $${reference} at run time: export ${reference}=… (it is not set now).`);
  }
  if (profile && !isDefault) rt.info(`Select the profile with --profile ${profile} or IMADMIN_PROFILE=${profile}.`);
  rt.info('Check it with: im-attrs doctor');
}

/** Says so when another file would be found before the one just written. */
async function warnIfShadowed(rt: Runtime, written: string): Promise<void> {
  if (rt.options.config !== undefined) return;
  let found: LoadedConfigFile | undefined;
  try {
    found = await loadConfigFile(rt.deps, rt.deps.env.IMADMIN_CONFIG || undefined);
  } catch {
    return;
  }
  if (found && path.resolve(found.filepath) !== path.resolve(written) && realpathSync(found.filepath) !== written) {
    rt.warn(`${found.filepath} is found first from here and is the file im-attrs uses; pass --config ${written} or remove the other one`);
  }
}

// ---------------------------------------------------------------------------------------------
// config show

/** Defaults the other modules apply when a key is not set, as `config show` reports them. */
const DEFAULTS: Partial<Record<SettingKey, { value: string | null; note?: string }>> = {
  usersigTtl: { value: formatDuration(DEFAULT_ADMIN_TTL_SECONDS) },
  timeout: { value: String(DEFAULT_TIMEOUT_MS / 1000) },
  output: { value: null, note: 'table on a terminal, tsv otherwise' },
  api: { value: DEFAULT_API_FAMILY },
};

/** One row of `config show`. */
export interface ShownSetting {
  /** The value, masked for secrets; null when not set. */
  value: string | null;
  /** Whether the value is a credential (and so masked). */
  secret: boolean;
  /** Where it came from; null when not set. */
  source: Source | null;
  /** The source for people: "env IMADMIN_REGION", "/home/me/.imadminrc, profile \"prod\" via ${KEY}", "default". */
  from: string | null;
}

/** The raw text of a key in the file, before `${NAME}` expansion, to tell a reference from a value. */
function rawFileValue(settings: Settings, key: SettingKey, source: Source): unknown {
  if (source.kind !== 'file' || !settings.file) return undefined;
  const data = settings.file.data;
  if (source.profile !== undefined) return (profilesOf(data)[source.profile] as Record<string, unknown> | undefined)?.[key];
  return data[key];
}

/** What `config show` prints for each key. */
export function showSettings(settings: Settings): Record<SettingKey, ShownSetting> {
  const out = {} as Record<SettingKey, ShownSetting>;
  for (const key of SETTING_KEYS) {
    const secret = SECRET_KEYS.has(key);
    const found = settings.values[key];
    if (found) {
      const raw = rawFileValue(settings, key, found.source);
      const refs = typeof raw === 'string' ? [...raw.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => `\${${m[1]}}`) : [];
      let value: string;
      try {
        value = secret ? maskSecret(found.value) : found.value;
      } catch (error) {
        // An unset ${NAME}: shown, not fatal (config show is for broken configurations too).
        value = `(unset: ${(error as Error).message.replace(/^.*refers to /, '').replace(/, which is not set$/, '')} is not set)`;
      }
      out[key] = {
        value,
        secret,
        source: found.source,
        from: `${describeSource(found.source)}${refs.length ? ` via ${refs.join(', ')}` : ''}`,
      };
      continue;
    }
    const fallback = DEFAULTS[key];
    out[key] = fallback
      ? { value: fallback.value, secret, source: { kind: 'default' }, from: fallback.note ? `default: ${fallback.note}` : 'default' }
      : { value: null, secret, source: null, from: null };
  }
  return out;
}

/** Whether commands that call the API would run with these settings, and if not, why. */
export interface Verdict {
  ok: boolean;
  /** The exit code a command calling the API would end with (0 when usable). */
  exitCode: number;
  message: string;
  hint?: string | undefined;
}

/**
 * The verdict of the one validation every API command runs (Runtime.apiConfig: target, SDKAppID,
 * identifier, timeout, credentials): `get` fails with this error and `doctor` with this check.
 */
export async function configVerdict(rt: Runtime): Promise<Verdict> {
  try {
    const config = await rt.apiConfig();
    return { ok: true, exitCode: 0, message: `usable: ${config.target}, SDKAppID ${config.sdkAppId}, identifier "${config.identifier}"` };
  } catch (error) {
    if (!(error instanceof ImAttrsError)) throw error;
    return { ok: false, exitCode: error.exitCode, message: error.message, hint: error.hint };
  }
}

/**
 * `config show`. It shows a broken configuration too (that is what it is for) and exits 0; the
 * verdict line on stderr (and `verdict` in --json) says whether API commands would run, with the
 * same message and exit code they would fail with.
 */
export async function configShowRun(rt: Runtime, options: ConfigShowOptions): Promise<void> {
  const settings = await rt.settings();
  const shown = showSettings(settings);
  const out = rt.deps.io.stdout;
  const profile = settings.profile;
  const trust = evaluateTrust(rt.deps, settings);
  const verdict = await configVerdict(rt);
  if (options.json) {
    const doc = {
      file: settings.file?.filepath ?? null,
      trust: { status: trust.status, refused: trust.refused, explanation: trust.explanation },
      profile: profile ? { name: profile.value, source: profile.source, from: describeSource(profile.source) } : null,
      profiles: settings.profiles,
      settings: shown,
      verdict,
    };
    out.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const rows: Array<[string, string, string]> = SETTING_KEYS.map((key) => {
    const s = shown[key];
    return [key, s.value ?? (s.source ? '(auto)' : '(not set)'), s.from ?? '-'];
  });
  const keyWidth = Math.max(3, ...rows.map((r) => r[0].length)) + 2;
  const valueWidth = Math.max(5, ...rows.map((r) => r[1].length)) + 2;
  const lines = [
    `file     ${settings.file?.filepath ?? '(none found)'}`,
    ...(settings.file ? [`trust    ${trust.explanation}`] : []),
    `profile  ${profile ? `${profile.value} (from ${describeSource(profile.source)})` : '(none)'}`,
    '',
    `${'KEY'.padEnd(keyWidth)}${'VALUE'.padEnd(valueWidth)}SOURCE`,
    ...rows.map(([k, v, f]) => `${k.padEnd(keyWidth)}${v.padEnd(valueWidth)}${f}`.trimEnd()),
  ];
  out.write(`${lines.join('\n')}\n`);
  if (verdict.ok) rt.info(`${rt.chalk.green('✓')} ${verdict.message}`);
  else {
    rt.stderr(`${rt.chalk.red('✗')} not usable (commands would exit ${verdict.exitCode}): ${verdict.message}`);
    if (verdict.hint) rt.stderr(`${rt.chalk.dim('hint:')} ${verdict.hint}`);
  }
}

/** `config current`: the profile in use and why, and what a command would talk to. */
export async function configCurrentRun(rt: Runtime, options: { json?: boolean }): Promise<void> {
  const settings = await rt.settings();
  const shown = showSettings(settings);
  const verdict = await configVerdict(rt);
  const profile = settings.profile;
  const target = verdict.ok ? (await rt.apiConfig()).target : null;
  const doc = {
    profile: profile ? { name: profile.value, from: describeSource(profile.source) } : null,
    file: settings.file?.filepath ?? null,
    sdkAppId: shown.sdkAppId.value,
    identifier: shown.identifier.value,
    endpoint: target ?? shown.endpoint.value,
    region: shown.region.value,
    api: shown.api.value ?? 'all_member_push',
    usable: verdict.ok,
  };
  const out = rt.deps.io.stdout;
  if (options.json) {
    out.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const lines = [
    `profile   ${profile ? `${profile.value} (from ${describeSource(profile.source)})` : '(none: no profile is selected)'}`,
    `file      ${doc.file ?? '(none found)'}`,
    `app       ${doc.sdkAppId ? `SDKAppID ${doc.sdkAppId}` : 'SDKAppID (not set)'}, identifier ${doc.identifier ? `"${doc.identifier}"` : '(not set)'}`,
    `endpoint  ${doc.endpoint ?? (doc.region ? `region ${doc.region}` : '(not set)')}`,
    `api       ${doc.api}`,
  ];
  out.write(`${lines.join('\n')}\n`);
  if (!verdict.ok) {
    rt.stderr(`${rt.chalk.red('✗')} not usable (commands would exit ${verdict.exitCode}): ${verdict.message}`);
    if (verdict.hint) rt.stderr(`${rt.chalk.dim('hint:')} ${verdict.hint}`);
  }
}

// ---------------------------------------------------------------------------------------------
// config path, config profiles

/** The config file im-attrs would load: --config, IMADMIN_CONFIG, or the search. */
async function findConfigFile(rt: Runtime, runCode = true): Promise<LoadedConfigFile | undefined> {
  return loadConfigFile(rt.deps, rt.options.config ?? (rt.deps.env.IMADMIN_CONFIG || undefined), { runCode });
}

/** `config path`. */
export async function configPathRun(rt: Runtime): Promise<void> {
  const file = await findConfigFile(rt);
  if (!file) {
    const global = globalConfigDir(rt.deps);
    throw new ConfigError('no config file found', {
      hint:
        `looked for .imadminrc (and the other names in \`im-attrs config --help\`) from ${rt.deps.cwd} up to ` +
        `${rt.deps.homeDir}, then in ${global}; \`im-attrs config init\` creates ${path.join(global, 'config.json')}`,
    });
  }
  rt.deps.io.stdout.write(`${file.filepath}\n`);
}

/** `config use PROFILE`: sets defaultProfile in the (JSON) config file in use. */
export async function configUseRun(rt: Runtime, profile: string): Promise<void> {
  const file = await findConfigFile(rt, false);
  if (!file) {
    throw new ConfigError('no config file found', { hint: '`im-attrs config init --profile <name>` creates one with a profile' });
  }
  let data: unknown;
  try {
    data = path.basename(file.filepath) === 'package.json' ? undefined : JSON.parse(readFileSync(file.filepath, 'utf8'));
  } catch {
    data = undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`${file.filepath} is not a JSON config file: config use only edits JSON files`, {
      hint: `set "defaultProfile": "${profile}" in it yourself`,
    });
  }
  const names = Object.keys(profilesOf(data as Record<string, unknown>));
  if (!names.includes(profile)) {
    throw new UsageError(`no profile "${profile}" in ${file.filepath}${didYouMean(profile, names)}`, {
      hint: names.length ? `its profiles: ${names.join(', ')}` : 'add one with `im-attrs config init --profile <name>`',
    });
  }
  // A project file trusted before stays trusted: this change is the user's own.
  const wasTrusted = file.kind === 'project' && evaluateTrust(rt.deps, { values: {}, file, profile: undefined, profiles: [], overrides: new Map() }).status === 'trusted';
  const written = writeConfigFile(file.filepath, { ...(data as Record<string, unknown>), defaultProfile: profile });
  if (wasTrusted) await trustFile(rt.deps, (await loadConfigFile(rt.deps, written, { runCode: false }))!);
  // Not silent about what it changes: from now on, commands without --profile touch this app.
  const chosen = (profilesOf(data as Record<string, unknown>)[profile] ?? {}) as Record<string, unknown>;
  const what = [
    typeof chosen.sdkAppId === 'string' || typeof chosen.sdkAppId === 'number' ? `app ${String(chosen.sdkAppId)}` : '',
    typeof chosen.region === 'string' ? `region ${chosen.region}` : '',
    typeof chosen.endpoint === 'string' ? `endpoint ${chosen.endpoint}` : '',
  ].filter(Boolean);
  rt.info(`default profile of ${written}: ${profile}${what.length ? ` (${what.join(', ')})` : ''}; commands without --profile now use it`);
}

/** `config profiles`. */
export async function configProfilesRun(rt: Runtime, options: { json?: boolean; code?: boolean }): Promise<void> {
  const file = await findConfigFile(rt, options.code !== false);
  const data = file?.data ?? {};
  if (data.profiles !== undefined && (typeof data.profiles !== 'object' || data.profiles === null || Array.isArray(data.profiles))) {
    throw new ConfigError(`profiles in ${file!.filepath} must be an object of named profiles`, { hint: 'e.g. "profiles": { "prod": { "region": "sgp", … } }' });
  }
  const names = Object.keys(profilesOf(data));
  const defaultProfile = typeof data.defaultProfile === 'string' ? data.defaultProfile : null;
  const out = rt.deps.io.stdout;
  if (options.json) {
    out.write(`${JSON.stringify({ file: file?.filepath ?? null, profiles: names, defaultProfile }, null, 2)}\n`);
    return;
  }
  if (!file) rt.info('no config file found; `im-attrs config init` creates one');
  const marked = rt.deps.io.stdoutIsTTY;
  for (const name of names) out.write(`${name}${marked && name === defaultProfile ? ' (default)' : ''}\n`);
}
