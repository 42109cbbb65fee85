/**
 * `im-attrs doctor`: checks the configuration, the credentials, the network path to the region's
 * domains and one cheap authenticated call, printing a pass/fail line and a fix for each.
 *
 * The checks run in order and later ones are skipped when what they need failed (no network
 * check without a valid target, no API call without usable credentials), so the first ✗ is the
 * one to fix. Exits non-zero when any check fails: 3 for configuration, 4 for credentials, 1 for
 * the network and the API, as elsewhere.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Command } from 'commander';
import { DEFAULT_TIMEOUT_MS } from '../api/client.js';
import { codeInfo } from '../api/codes.js';
import { operationFor } from '../api/families.js';
import { API_FAMILIES } from '../api/operation.js';
import { createProxyAgent, describeProxy, proxySettings, usesProxy, type ProxySettings } from '../api/proxy.js';
import {
  describeSource,
  parseSdkAppId,
  parseSeconds,
  requireSetting,
  type Settings,
} from '../config/resolve.js';
import { readCaFile } from '../runtime/connect.js';
import { REGION_IDS } from '../config/regions.js';
import { checkUserSig, resolveTarget, secretInClear, type ApiTarget } from '../config/validate.js';
import { ApiError, ExitCode, ImAttrsError, NetworkError } from '../errors.js';
import { OUTPUT_FORMATS } from '../output/types.js';
import { PLAIN_COLORS, type Colors, type Runtime } from '../runtime/runtime.js';
import { evaluateTrust } from '../config/trust.js';
import { DEFAULT_ADMIN_TTL_SECONDS, formatDuration, generate, parseDuration, verify, SECRET_KEY_SHAPE } from '../usersig.js';
import { VERSION } from '../version.js';
import { wrapHanging } from '../util/text.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One line of the report. */
export interface CheckResult {
  /** Stable id for scripts: config, permissions, settings, credentials, proxy, dns, tls, dns-backup, tls-backup, network, clock, api. */
  id: string;
  title: string;
  status: CheckStatus;
  message: string;
  /** What to do about a fail or a warning. */
  fix?: string | undefined;
  /** The exit code a failure stands for (config 3, auth 4, network/API 1). */
  exitCode?: number | undefined;
}

export interface DoctorOptions {
  json?: boolean;
  offline?: boolean;
}

/** A UserSig with less than this left gets a warning: it will not outlive a long job. */
const SHORT_VALIDITY_SECONDS = 86_400;

/** A server certificate closer than this to its end gets a warning. */
const CERT_WARN_DAYS = 14;

/**
 * Clock differences below this are normal: the Date header has one-second resolution, plus the
 * round trip. Above it, a UserSig signed here carries a time the server disagrees with.
 */
const CLOCK_SKEW_WARN_SECONDS = 60;

/** Width of the check-name column. */
const TITLE_WIDTH = 14;

const SYMBOLS: Readonly<Record<CheckStatus, string>> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };

const EXAMPLES = `
Examples:
  $ im-attrs doctor
  $ im-attrs doctor --profile prod
  $ im-attrs doctor --offline
  $ im-attrs doctor --json | jq -r '.checks[] | select(.status == "fail") | .fix'
`;

export function newDoctorCommand(rt: Runtime): Command {
  const command = new Command('doctor')
    .summary('check the config, credentials, network and API access, with a fix for each problem')
    .description(
      'Check everything a command needs, one line each with a fix when it fails: the config file is found ' +
        'and valid and not readable by others when it holds a secret; region, SDKAppID and identifier are ' +
        'valid; the UserSig decodes, matches the identifier and SDKAppID and has time left (or the secret key ' +
        "signs one); this clock agrees with the server's; the region's domain and its backup resolve and " +
        'present a valid TLS certificate; and one cheap call (im_get_attr_name) proves the identifier is an ' +
        'administrator, the region is right and push to all users is enabled.\n\n' +
        'With a plain-http loopback endpoint (the emulator) the DNS and TLS checks are skipped. Exits non-zero ' +
        'when any check fails.',
    )
    .option('--offline', 'only the local checks: no DNS, TLS or API call')
    .option('--json', 'print the checks as JSON for scripts');
  command.addHelpText('after', EXAMPLES);
  command.action(async (options: DoctorOptions) => {
    await doctorRun(rt, options);
  });
  return command;
}

/** Collects check results and prints each as it comes (or all at the end, as JSON). */
class Report {
  readonly results: CheckResult[] = [];
  private readonly color: Colors;

  constructor(
    private readonly rt: Runtime,
    private readonly json: boolean,
  ) {
    // Colour on stdout only when stdout is a terminal and colour is on for this run.
    this.color = rt.deps.io.stdoutIsTTY ? rt.chalk : PLAIN_COLORS;
  }

  add(result: CheckResult): CheckResult {
    this.results.push(result);
    if (!this.json) this.print(result);
    return result;
  }

  private print(r: CheckResult): void {
    const paint = { pass: this.color.green, warn: this.color.yellow, fail: this.color.red, skip: this.color.dim }[r.status];
    // Wrapped at the terminal's width (80 off a terminal), under the message column; colour after wrapping.
    const { io } = this.rt.deps;
    const width = io.stdoutIsTTY ? (io.columns ?? 80) : 80;
    const indent = 2 + TITLE_WIDTH;
    const head = wrapHanging(`${SYMBOLS[r.status]} ${r.title.padEnd(TITLE_WIDTH)}${r.message}`, width, indent);
    const lines = [`${paint(SYMBOLS[r.status])}${head.slice(SYMBOLS[r.status].length)}`];
    if (r.fix && (r.status === 'fail' || r.status === 'warn')) {
      const fix = wrapHanging(`${' '.repeat(indent)}fix: ${r.fix}`, width, indent + 5);
      lines.push(`${' '.repeat(indent)}${this.color.dim('fix:')}${fix.slice(indent + 4)}`);
    }
    this.rt.deps.io.stdout.write(`${this.rt.secrets.redact(lines.join('\n'))}\n`);
  }
}

/** Where the API lives, as far as DNS and TLS are concerned. */
type Target = ApiTarget;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorHint(error: unknown): string | undefined {
  return error instanceof ImAttrsError ? error.hint : undefined;
}

/** `doctor`. */
export async function doctorRun(rt: Runtime, options: DoctorOptions): Promise<void> {
  const report = new Report(rt, options.json ?? false);
  const add = (result: CheckResult): CheckResult => report.add(result);

  // 1. The config file: found, parsed, profile known.
  let settings: Settings | undefined;
  try {
    settings = await rt.settings();
    const file = settings.file;
    const profile = settings.profile ? ` (profile "${settings.profile.value}" from ${describeSource(settings.profile.source)})` : '';
    const trust = evaluateTrust(rt.deps, settings);
    // Which file, and why it may (or may not) route the credentials: own, --config, trusted or not.
    const why = file ? `; ${trust.explanation}` : '';
    add({
      id: 'config',
      title: 'config file',
      status: trust.refused ? 'fail' : 'pass',
      message: file ? `${file.filepath}${profile}${why}` : 'none found: the settings come from flags and the environment',
      ...(trust.refused ? { fix: `read it; if you agree with it, run: im-attrs config trust ${file!.filepath}`, exitCode: ExitCode.config } : {}),
    });
  } catch (error) {
    add({ id: 'config', title: 'config file', status: 'fail', message: errorMessage(error), fix: errorHint(error), exitCode: ExitCode.config });
  }

  // 2. Its permissions: a file that holds a secret is for its owner only (like ssh's keys).
  add(checkPermissions(rt, settings));

  // 3. Region or endpoint, SDKAppID, identifier, output and timeout.
  const checked: CheckedSettings = settings ? checkSettings(settings, add) : (skipped(add, 'settings', 'settings', 'needs a readable config file') ?? {});
  const { target, sdkAppId, identifier } = checked;

  // 4. Credentials: the secret key signs, the UserSig decodes, matches and has time left.
  const credentials =
    settings && sdkAppId !== undefined && identifier !== undefined
      ? add(checkCredentials(rt, settings, sdkAppId, identifier))
      : add({ id: 'credentials', title: 'credentials', status: 'skip', message: 'skipped: needs a valid SDKAppID and identifier' });

  // 5. DNS and TLS to the region's domain and its backup, and the server's clock.
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (settings?.values.timeout) {
    try {
      timeoutMs = parseSeconds(settings.values.timeout, 'timeout') * 1000;
    } catch {
      // reported by the settings check
    }
  }
  let reachable = true;
  if (!target) {
    add({ id: 'network', title: 'network', status: 'skip', message: 'skipped: needs a valid region or endpoint' });
    add({ id: 'clock', title: 'clock', status: 'skip', message: 'skipped: needs a valid region or endpoint' });
  } else if (options.offline) {
    add({ id: 'network', title: 'network', status: 'skip', message: 'skipped: --offline' });
    add({ id: 'clock', title: 'clock', status: 'skip', message: 'skipped: --offline' });
  } else if (target.localHttp) {
    add({
      id: 'network',
      title: 'network',
      status: 'skip',
      message: `skipped: ${target.baseUrl} is plain http on this machine (the emulator?): no DNS or TLS to check`,
    });
    add({ id: 'clock', title: 'clock', status: 'skip', message: 'skipped: the endpoint runs on this machine, by the same clock' });
  } else {
    reachable = await checkNetwork(rt, target, timeoutMs, add);
  }

  // 6. One authenticated call.
  if (options.offline) add({ id: 'api', title: 'API', status: 'skip', message: 'skipped: --offline' });
  else if (!target || report.results.some((r) => r.id === 'settings' && r.status === 'fail') || credentials.status === 'fail' || credentials.status === 'skip') {
    add({ id: 'api', title: 'API', status: 'skip', message: 'skipped: fix the settings and credentials first' });
  } else if (!reachable) {
    add({ id: 'api', title: 'API', status: 'skip', message: `skipped: ${target.backup ? `neither ${target.primary.host} nor its backup can be reached` : `${target.primary.host} cannot be reached`}` });
  } else {
    const api = await checkApi(rt, settings!, identifier!);
    add(api);
    // 7. Which API family the app has enabled, when the call above tells enough to ask.
    const family = await checkFamily(rt, api);
    if (family) add(family);
  }

  const results = report.results;
  const failed = results.filter((r) => r.status === 'fail');
  const warned = results.filter((r) => r.status === 'warn').length;
  const skippedCount = results.filter((r) => r.status === 'skip').length;
  if (options.json) {
    rt.deps.io.stdout.write(`${JSON.stringify({ ok: failed.length === 0, checks: results }, null, 2)}\n`);
  } else if (failed.length === 0) {
    const extras = [warned && `${warned} warning${warned > 1 ? 's' : ''}`, skippedCount && `${skippedCount} skipped`].filter(Boolean);
    rt.deps.io.stdout.write(`\nNo problems found${extras.length ? ` (${extras.join(', ')})` : ''}.\n`);
  }
  if (failed.length > 0) {
    const ran = results.length - skippedCount;
    throw new ImAttrsError('doctor', failed[0]!.exitCode ?? ExitCode.api, `${failed.length} of ${ran} checks failed: ${failed.map((r) => r.title).join(', ')}`, {
      hint: 'fix each ✗ line as its fix: says and run `im-attrs doctor` again; a check that needs a failed one was skipped',
    });
  }
}

function skipped(add: (r: CheckResult) => CheckResult, id: string, title: string, why: string): undefined {
  add({ id, title, status: 'skip', message: `skipped: ${why}` });
  return undefined;
}

function checkPermissions(rt: Runtime, settings: Settings | undefined): CheckResult {
  const base = { id: 'permissions', title: 'permissions' } as const;
  const file = settings?.file?.filepath;
  if (!file) return { ...base, status: 'skip', message: settings ? 'skipped: no config file' : 'skipped: needs a readable config file' };
  if (os.platform() === 'win32') return { ...base, status: 'skip', message: 'skipped: Windows has no Unix file modes' };
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    return { ...base, status: 'fail', message: `cannot stat ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, exitCode: ExitCode.config };
  }
  const octal = mode.toString(8).padStart(3, '0');
  const secret = secretInClear(settings!.file!.data);
  if (mode & 0o077) {
    return secret
      ? {
          ...base,
          status: 'fail',
          message: `${file} holds a secret key or UserSig and is readable by others (mode ${octal})`,
          fix: `chmod 600 ${file}`,
          exitCode: ExitCode.config,
        }
      : { ...base, status: 'pass', message: `mode ${octal}; the file holds no secret (only \${…} references, if any)` };
  }
  return { ...base, status: 'pass', message: `mode ${octal}${secret ? ': the secrets in it are readable only by you' : ''}` };
}

/** What the settings check could validate: each part on its own, so later checks run on what is good. */
interface CheckedSettings {
  target?: Target | undefined;
  sdkAppId?: number | undefined;
  identifier?: string | undefined;
}

/**
 * Validates region/endpoint, SDKAppID, identifier, output and timeout, each on its own: every
 * problem is reported with its fix (not only the first), and what is valid is returned for the
 * checks that need it.
 */
function checkSettings(settings: Settings, add: (r: CheckResult) => CheckResult): CheckedSettings {
  const base = { id: 'settings', title: 'settings' } as const;
  const v = settings.values;
  const problems: unknown[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (error) {
      problems.push(error);
      return undefined;
    }
  };
  const target = attempt(() => resolveTarget(settings));
  const sdkAppId = attempt(() => parseSdkAppId(requireSetting(settings, 'sdkAppId', 'sdkAppId (the SDKAppID of your Chat app)')));
  const identifier = attempt(() => requireSetting(settings, 'identifier', 'identifier (an app administrator account)').value.trim());
  if (v.timeout) attempt(() => parseSeconds(v.timeout!, 'timeout'));
  if (v.output && !(OUTPUT_FORMATS as readonly string[]).includes(v.output.value)) {
    problems.push(
      new ImAttrsError('config', ExitCode.config, `output "${v.output.value}" (from ${describeSource(v.output.source)}) is not a format`, {
        hint: `use one of ${OUTPUT_FORMATS.join(', ')}`,
      }),
    );
  }
  if (problems.length === 0) add({ ...base, status: 'pass', message: `${target!.describe}, SDKAppID ${sdkAppId!}, identifier "${identifier!}"` });
  for (const error of problems) add({ ...base, status: 'fail', message: errorMessage(error), fix: errorHint(error), exitCode: ExitCode.config });
  return { target, sdkAppId, identifier };
}

function checkCredentials(rt: Runtime, settings: Settings, sdkAppId: number, identifier: string): CheckResult {
  const base = { id: 'credentials', title: 'credentials' } as const;
  const v = settings.values;
  const nowSec = Math.floor(rt.deps.now() / 1000);
  const secretKey = v.secretKey?.value.trim() || undefined;
  const userSig = v.userSig?.value.trim() || undefined;
  const keyFrom = v.secretKey ? describeSource(v.secretKey.source) : '';
  let ttl = DEFAULT_ADMIN_TTL_SECONDS;
  if (v.usersigTtl) {
    try {
      ttl = parseDuration(v.usersigTtl.value);
    } catch (error) {
      return { ...base, status: 'fail', message: `usersigTtl (from ${describeSource(v.usersigTtl.source)}): ${errorMessage(error)}`, exitCode: ExitCode.config };
    }
  }
  if (!secretKey && !userSig) {
    return {
      ...base,
      status: 'fail',
      message: 'neither a secret key nor a UserSig is configured',
      fix: 'export IMADMIN_SECRET_KEY=… (the app\'s key from the Chat console) so im-attrs signs for itself, or set a UserSig with --usersig / IMADMIN_USERSIG',
      exitCode: ExitCode.config,
    };
  }
  if (secretKey) {
    try {
      generate({ sdkAppId, identifier, secretKey, expireSeconds: ttl, now: nowSec });
    } catch (error) {
      return { ...base, status: 'fail', message: `cannot sign a UserSig: ${errorMessage(error)}`, exitCode: ExitCode.config };
    }
  }
  if (!userSig) {
    const shape = SECRET_KEY_SHAPE.test(secretKey!)
      ? ''
      : '; it is not 64 hex digits, the shape of a console secret key: the API call below tells whether it is right';
    return {
      ...base,
      status: shape ? 'warn' : 'pass',
      message: `secret key from ${keyFrom}: im-attrs signs its own UserSigs (valid ${formatDuration(ttl)}, renewed as needed)${shape}`,
      fix: shape ? 'copy the key again from the Chat console (Applications → your app → Basic Configuration)' : undefined,
    };
  }

  const from = describeSource(v.userSig!.source);
  const result = secretKey
    ? verify(userSig, { secretKey, sdkAppId, identifier, now: nowSec })
    : (() => {
        const checked = checkUserSig(userSig, { sdkAppId, identifier, nowSec });
        return checked.ok ? checked : { ...checked, message: `UserSig ${checked.detail}` };
      })();
  if (!result.ok) {
    if (result.reason === 'expired' && secretKey) {
      return {
        ...base,
        status: 'warn',
        message: `the UserSig (from ${from}) ${result.message.replace(/^UserSig /, '')}; im-attrs signs a new one with the secret key from ${keyFrom}`,
        fix: `remove the stale UserSig from ${from}`,
      };
    }
    const fixes: Record<string, string> = {
      malformed: 'copy the whole UserSig again, or set the secret key so im-attrs signs for itself',
      'bad-signature': 'the UserSig and the secret key belong to different apps or keys: remove one of them, or sign a new UserSig with `im-attrs usersig gen`',
      'sdkappid-mismatch': 'sign one for this app with `im-attrs usersig gen`, or fix `sdkAppId`',
      'identifier-mismatch': 'sign one for this identifier with `im-attrs usersig gen`, or fix `identifier`',
      expired: 'set the secret key so im-attrs signs for itself, or make a new UserSig with `im-attrs usersig gen`',
    };
    return { ...base, status: 'fail', message: `UserSig (from ${from}): ${result.message.replace(/^UserSig /, '')}`, fix: fixes[result.reason], exitCode: ExitCode.auth };
  }
  const decoded = result.decoded;
  const left = decoded.expiresAt - nowSec;
  const signedAhead = decoded.time - nowSec;
  const facts = `UserSig from ${from} for "${decoded.identifier}" and SDKAppID ${decoded.sdkAppId}${secretKey ? ', signed with the configured key' : ''}, expires ${isoSeconds(decoded.expiresAt)} (in ${formatDuration(left)})`;
  if (signedAhead > CLOCK_SKEW_WARN_SECONDS) {
    return {
      ...base,
      status: 'warn',
      message: `${facts}; it was signed ${formatDuration(signedAhead)} in the future of this clock`,
      fix: 'this clock or the one that signed the UserSig is wrong: sync it (e.g. timedatectl set-ntp true)',
    };
  }
  if (left < SHORT_VALIDITY_SECONDS && !secretKey) {
    return { ...base, status: 'warn', message: facts, fix: 'a long job will outlive it: set the secret key so im-attrs signs and renews its own' };
  }
  return { ...base, status: 'pass', message: facts };
}

function isoSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Runs a promise with a time limit (DNS lookups cannot be cancelled, only abandoned). */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer in ${ms / 1000} s`), { code: 'ETIMEDOUT' })), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface TlsProbe {
  protocol: string;
  subject: string;
  validTo: Date;
  serverDate: number | undefined;
}

/**
 * One HEAD request over TLS (through the proxy's CONNECT tunnel when one applies, as the API
 * calls go): the certificate, the protocol and the server's Date header.
 */
async function probeTls(host: string, port: number, ca: Buffer | undefined, timeoutMs: number, proxy: ProxySettings | undefined): Promise<TlsProbe> {
  // Loaded here, not at import: `im-attrs --help` loads every command and must stay quick.
  const { default: https } = await import('node:https');
  const agent = proxy ? await createProxyAgent(proxy, { keepAlive: false, ca }) : false;
  const done = <T>(value: T): T => {
    if (agent) agent.destroy();
    return value;
  };
  return new Promise<TlsProbe>((resolve, reject) => {
    const request = https.request(
      {
        host,
        port,
        method: 'HEAD',
        path: '/',
        agent,
        ca,
        // SNI carries names only; Node warns when given an IP address.
        ...(isIP(host) ? {} : { servername: host }),
        timeout: timeoutMs,
        headers: { 'user-agent': `im-attrs/${VERSION} (doctor)` },
      },
      (response) => {
        const socket = response.socket as TLSSocket;
        const cert = socket.getPeerCertificate();
        const date = response.headers.date ? Date.parse(response.headers.date) : NaN;
        resolve({
          protocol: socket.getProtocol() ?? 'TLS',
          subject: [cert.subject?.CN ?? cert.subjectaltname ?? '?'].flat().join(', '),
          validTo: new Date(cert.valid_to),
          serverDate: Number.isNaN(date) ? undefined : date,
        });
        response.resume();
        request.destroy();
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer in ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    request.on('error', reject);
    request.end();
  }).then(done, (error: unknown) => {
    throw done(error);
  });
}

function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
}

/** Fix for a failed DNS or TLS check. */
function networkFix(code: string | undefined, host: string, hasBackup: boolean, proxy: ProxySettings | undefined): string {
  if (isCertificateError(code)) {
    return 'a TLS-inspecting proxy or private CA? Trust its CA with --ca <file> or NODE_EXTRA_CA_CERTS=<file>';
  }
  if (proxy) {
    return `check that the proxy ${describeProxy(proxy)} (${proxy.variable}) is up and allows CONNECT to ${host}:443, or exempt ${host} with NO_PROXY`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `check DNS on this machine (resolvectl query ${host})${hasBackup ? '; im-attrs falls back to the backup domain when the primary does not resolve' : ''}`;
  }
  return `check that ${host} is reachable from here (firewall, VPN), or set HTTPS_PROXY if the network needs a proxy`;
}

/**
 * DNS and TLS for the primary domain (failures fail) and the backup (failures warn), then the
 * clock against the primary's Date header. True when at least one of them can be reached.
 */
async function checkNetwork(rt: Runtime, target: Target, timeoutMs: number, add: (r: CheckResult) => CheckResult): Promise<boolean> {
  let ca: Buffer | undefined;
  if (rt.options.ca) {
    try {
      ca = readCaFile(rt.deps.cwd, rt.options.ca);
    } catch (error) {
      add({
        id: 'tls',
        title: 'TLS',
        status: 'fail',
        message: errorMessage(error),
        fix: 'point --ca at a PEM file of CA certificates',
        exitCode: ExitCode.config,
      });
      return false;
    }
  }
  let proxy: ProxySettings | undefined;
  try {
    proxy = proxySettings(rt.deps.env);
  } catch (error) {
    add({ id: 'proxy', title: 'proxy', status: 'fail', message: errorMessage(error), fix: errorHint(error), exitCode: ExitCode.config });
    return false;
  }
  let serverDate: { at: number; host: string } | undefined;
  let anyReachable = false;
  let primaryAnswered = false;
  const hosts = [{ ...target.primary, backup: false }, ...(target.backup ? [{ ...target.backup, backup: true }] : [])];
  for (const { host, port, backup } of hosts) {
    const suffix = backup ? ' (backup)' : '';
    const failStatus: CheckStatus = backup ? 'warn' : 'fail';
    const viaProxy = usesProxy(proxy, new URL(`https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`)) ? proxy : undefined;
    let resolved = false;
    if (viaProxy) {
      add({
        id: backup ? 'dns-backup' : 'dns',
        title: `DNS${suffix}`,
        status: 'skip',
        message: `skipped: ${host} is reached through the proxy ${describeProxy(viaProxy)} (${viaProxy.variable}), which resolves it`,
      });
      resolved = true;
    } else if (isIP(host)) {
      add({ id: backup ? 'dns-backup' : 'dns', title: `DNS${suffix}`, status: 'skip', message: `skipped: ${host} is an IP address` });
      resolved = true;
    } else {
      try {
        const addresses = await withTimeout(dns.lookup(host, { all: true }), timeoutMs, `DNS lookup of ${host}`);
        const list = addresses.map((a) => a.address);
        const shown = list.length > 3 ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more` : list.join(', ');
        add({ id: backup ? 'dns-backup' : 'dns', title: `DNS${suffix}`, status: 'pass', message: `${host} resolves to ${shown}` });
        resolved = true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        add({
          id: backup ? 'dns-backup' : 'dns',
          title: `DNS${suffix}`,
          status: failStatus,
          message: `${host} does not resolve (${code ?? errorMessage(error)})`,
          fix: networkFix(code, host, Boolean(target.backup) && !backup, undefined),
          exitCode: ExitCode.api,
        });
      }
    }
    if (!resolved) {
      add({ id: backup ? 'tls-backup' : 'tls', title: `TLS${suffix}`, status: 'skip', message: `skipped: ${host} does not resolve` });
      continue;
    }
    try {
      const probe = await probeTls(host, port, ca, timeoutMs, viaProxy);
      const daysLeft = Math.floor((probe.validTo.getTime() - rt.deps.now()) / 86_400_000);
      const hostPort = port === 443 ? host : `${host}:${port}`;
      const through = viaProxy ? ` through ${describeProxy(viaProxy)}` : '';
      const message = `${hostPort}${through}: ${probe.protocol}, certificate for ${probe.subject} valid until ${probe.validTo.toISOString().slice(0, 10)} (${daysLeft} day${daysLeft === 1 ? '' : 's'})`;
      add({
        id: backup ? 'tls-backup' : 'tls',
        title: `TLS${suffix}`,
        status: daysLeft < CERT_WARN_DAYS ? 'warn' : 'pass',
        message,
        fix: daysLeft < CERT_WARN_DAYS ? 'the server certificate is about to expire: if a proxy presents it, renew it there' : undefined,
      });
      anyReachable = true;
      if (!backup) primaryAnswered = true;
      if (!backup && probe.serverDate !== undefined) serverDate = { at: probe.serverDate, host };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      add({
        id: backup ? 'tls-backup' : 'tls',
        title: `TLS${suffix}`,
        status: failStatus,
        message: `${host}:${port}${viaProxy ? ` through ${describeProxy(viaProxy)}` : ''}: ${code ? `${code}: ` : ''}${errorMessage(error)}`,
        fix: networkFix(code, host, false, viaProxy),
        exitCode: isCertificateError(code) ? ExitCode.config : ExitCode.api,
      });
    }
  }
  if (!serverDate) {
    const why = primaryAnswered ? `${target.primary.host} sent no Date header` : `no answer from ${target.primary.host}`;
    add({ id: 'clock', title: 'clock', status: 'skip', message: `skipped: ${why}` });
  } else {
    const skew = Math.round((rt.deps.now() - serverDate.at) / 1000);
    if (Math.abs(skew) < CLOCK_SKEW_WARN_SECONDS) {
      add({ id: 'clock', title: 'clock', status: 'pass', message: `within a minute of ${serverDate.host}` });
    } else {
      add({
        id: 'clock',
        title: 'clock',
        status: 'warn',
        message: `this clock is ${formatDuration(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} ${serverDate.host}`,
        fix: 'sync it (e.g. timedatectl set-ntp true): a UserSig carries its signing time, so a wrong clock makes it expire early or start late',
      });
    }
  }
  return anyReachable;
}

/** One `im_get_attr_name`: proves the administrator, the region and the push feature at once. */
async function checkApi(rt: Runtime, settings: Settings, identifier: string): Promise<CheckResult> {
  const base = { id: 'api', title: 'API' } as const;
  let client;
  try {
    client = await rt.client({ maxSockets: 1 });
  } catch (error) {
    return { ...base, status: 'fail', message: errorMessage(error), fix: errorHint(error), exitCode: error instanceof ImAttrsError ? error.exitCode : ExitCode.api };
  }
  try {
    const getAttrNames = await rt.operation('getAttrNames');
    const names = await client.call(getAttrNames, undefined);
    const list = Object.keys(names)
      .sort((a, b) => Number(a) - Number(b))
      .map((slot) => names[slot]!);
    const region = settings.values.region && !settings.values.endpoint ? `region ${settings.values.region.value} is right` : 'the endpoint knows the SDKAppID';
    return {
      ...base,
      status: 'pass',
      message:
        `${getAttrNames.command} OK: "${identifier}" is an app administrator, ${region}, push to all users is enabled ` +
        `(${list.length ? `attributes: ${list.join(', ')}` : 'no attribute names yet: set them with `im-attrs names`'})`,
    };
  } catch (error) {
    return { ...base, ...describeApiFailure(rt, settings, identifier, error) };
  } finally {
    client.close();
  }
}

/**
 * Which API family the app has: get_attr_name on the other family too. A 90045 answer ("push to
 * all users is not enabled … or not in this API family") on one side and an answer on the other
 * tells which `api` value to set. Run after a passing API check, or one that failed with 90045.
 */
async function checkFamily(rt: Runtime, api: CheckResult): Promise<CheckResult | undefined> {
  const base = { id: 'family', title: 'API family' } as const;
  const notEnabled = api.status === 'fail' && api.message.includes('error 90045');
  if (api.status !== 'pass' && !notEnabled) return undefined;
  const family = await rt.family();
  const other = API_FAMILIES.find((f) => f !== family)!;
  const setIt = (value: string): string => `set \`api: ${value}\` in the config (or IMADMIN_API=${value}, or --api ${value})`;
  let answer: 'ok' | 'not enabled' | string;
  let client;
  try {
    client = await rt.client({ maxSockets: 1 });
    await client.call(operationFor(other, 'getAttrNames'), undefined);
    answer = 'ok';
  } catch (error) {
    answer = error instanceof ApiError && error.apiCode === 90045 ? 'not enabled' : errorMessage(error);
  } finally {
    client?.close();
  }
  if (!notEnabled) {
    if (answer === 'ok') return { ...base, status: 'pass', message: `${family} (in use) and ${other} both answer; the two may not share attributes and tags: keep using one` };
    if (answer === 'not enabled') return { ...base, status: 'pass', message: `${family} is the family this app has enabled (${other} answers 90045): \`api: ${family}\` is right` };
    return { ...base, status: 'pass', message: `${family} answers; ${other} could not be asked (${answer})` };
  }
  if (answer === 'ok') {
    return { ...base, status: 'fail', message: `this app has the ${other} family enabled, not ${family} (90045)`, fix: setIt(other), exitCode: ExitCode.config };
  }
  return {
    ...base,
    status: 'fail',
    message: `neither family answers get_attr_name: ${family} 90045, ${other} ${answer === 'not enabled' ? '90045' : answer}`,
    fix: 'enable "Push to all users" (all_member_push) or TIMPush in the Chat console',
    exitCode: ExitCode.config,
  };
}

function describeApiFailure(rt: Runtime, settings: Settings, identifier: string, error: unknown): Pick<CheckResult, 'status' | 'message' | 'fix' | 'exitCode'> {
  const message = errorMessage(error);
  if (error instanceof ApiError && error.apiCode !== undefined) {
    const code = error.apiCode;
    const info = codeInfo(code);
    const region = settings.values.region;
    if (code === 70016 || code === 70020) {
      const where = settings.values.endpoint ? `the endpoint ${settings.values.endpoint.value}` : `region ${region?.value ?? '?'}`;
      return {
        status: 'fail',
        message: `${message}; this SDKAppID is not known at ${where}`,
        fix: `set \`region\` to the data center shown next to the SDKAppID in the Chat console (${REGION_IDS.join(', ')})`,
        exitCode: ExitCode.config,
      };
    }
    if (code === 60010 || code === 90009) {
      return {
        status: 'fail',
        message: `${message}; "${identifier}" is not an app administrator`,
        fix: info.hint,
        exitCode: ExitCode.auth,
      };
    }
    if (code === 60017 || code === 60020) {
      return {
        status: 'fail',
        message: `${message}; push to all users is not available to this app`,
        fix: 'enable "Push to all users" in the Chat console; it needs the Pro, Pro Plus or Enterprise edition',
        exitCode: ExitCode.config,
      };
    }
    const exitCode = info.action === 'auth' || info.action === 'renew' ? ExitCode.auth : info.action === 'config' ? ExitCode.config : ExitCode.api;
    const transient = info.action === 'retry' || info.action === 'throttle';
    return { status: 'fail', message, fix: info.hint ?? (transient ? 'a passing problem on the server: run `im-attrs doctor` again' : undefined), exitCode };
  }
  if (error instanceof NetworkError) {
    const endpoint = settings.values.endpoint;
    const local = endpoint && /^http:\/\//.test(endpoint.value.trim());
    return {
      status: 'fail',
      message,
      fix: local
        ? `nothing answers at ${endpoint.value.trim()}: start the emulator (im-attrs emulator) or fix \`endpoint\` (from ${describeSource(endpoint.source)})`
        : error.hint,
      exitCode: ExitCode.api,
    };
  }
  return { status: 'fail', message, fix: errorHint(error), exitCode: error instanceof ImAttrsError ? error.exitCode : ExitCode.api };
}
