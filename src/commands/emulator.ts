/**
 * `im-attrs emulator`: the local emulator of the REST API, for demos, scripts and tests.
 * Prints its base URL on stdout (one line, for scripts) and serves until SIGINT/SIGTERM.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import {
  DEFAULT_EMULATOR_IDENTIFIER,
  DEFAULT_EMULATOR_RATE_LIMIT,
  DEFAULT_EMULATOR_SDKAPPID,
  parseFault,
  startEmulator,
  type Fault,
} from '../emulator/server.js';
import { parseIntOption, type Runtime } from '../runtime.js';
import { collect } from '../util/text.js';

export interface EmulatorCommandOptions {
  host: string;
  port: string;
  sdkappid: string;
  identifier: string;
  data?: string;
  seedUsers?: string;
  secretKeyFile?: string;
  latency: string;
  jitter: string;
  latencyIn: string;
  jitterIn: string;
  rateLimit: string;
  fail?: string[];
  faultSeed: string;
}

const EXAMPLES = `
Examples:
  $ im-attrs emulator --seed-users 1000
  $ echo "$SECRET" > key.txt && im-attrs emulator --secret-key-file key.txt --data state.json
  $ im-attrs emulator --latency 60 --jitter 30 --fail 91000:0.1 --fail reset:0.02 --fault-seed 7

Then point im-attrs at it:
  $ IMADMIN_ENDPOINT=http://127.0.0.1:PORT IMADMIN_SDKAPPID=${DEFAULT_EMULATOR_SDKAPPID} \\
    IMADMIN_IDENTIFIER=${DEFAULT_EMULATOR_IDENTIFIER} IMADMIN_SECRET_KEY=… im-attrs get user000001

GET /_emulator/stats answers request counts, the busiest one-second window, rate rejections and
faults injected; GET /_emulator/requests the request log (UserSig redacted).
`;

export function newEmulatorCommand(rt: Runtime): Command {
  const command = new Command('emulator')
    .summary('run a local emulator of the REST API, for demos, scripts and tests')
    .description(
      'Run a local emulator of the Chat REST API push-attribute commands (im_get_attr_name, ' +
        'im_set_attr_name, im_get_attr, im_set_attr, im_remove_attr) on loopback. It prints its base URL ' +
        'on stdout and serves until Ctrl-C or SIGTERM.',
    )
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port; 0 picks a free one').default('0'))
    .addOption(new Option('--sdkappid <n>', 'the SDKAppID it answers for').default(String(DEFAULT_EMULATOR_SDKAPPID)))
    .addOption(new Option('--identifier <admin>', 'the administrator account').default(DEFAULT_EMULATOR_IDENTIFIER))
    .option('--data <file.json>', 'load state from this file and save every change to it (atomically)')
    .option('--seed-users <n>', 'create N deterministic users user000001… with a few attributes')
    .option('--secret-key-file <path>', 'verify every UserSig with this secret key ("-" reads stdin; default: IMADMIN_SECRET_KEY); without one only presence is checked')
    .addOption(new Option('--latency <ms>', 'delay before each answer').default('0'))
    .addOption(new Option('--jitter <ms>', 'random ± added to the latency').default('0'))
    .addOption(new Option('--latency-in <ms>', 'delay on the way in, before the rate limit counts the call').default('0'))
    .addOption(new Option('--jitter-in <ms>', 'random ± added to --latency-in').default('0'))
    .addOption(new Option('--rate-limit <calls/s>', 'per command, over any one-second window; 0 = off').default(String(DEFAULT_EMULATOR_RATE_LIMIT)))
    .option('--fail <what:fraction>', 'inject faults: an error code (91000), http502, http503, reset, timeout or garbage (repeatable)', collect)
    .addOption(new Option('--fault-seed <n>', 'seed for reproducible faults and jitter').default('1'));
  command.addHelpText('after', EXAMPLES);
  command.action(async (options: EmulatorCommandOptions) => {
    await emulatorRun(rt, options);
  });
  return command;
}

export async function emulatorRun(rt: Runtime, options: EmulatorCommandOptions): Promise<void> {
  const { deps } = rt;
  let faults: Fault[];
  try {
    faults = (options.fail ?? []).map(parseFault);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let secretKey: string | undefined;
  if (options.secretKeyFile !== undefined) {
    secretKey = await rt.readSecretKeyFile(options.secretKeyFile);
  } else if (deps.env.IMADMIN_SECRET_KEY) {
    secretKey = deps.env.IMADMIN_SECRET_KEY.trim();
  }
  rt.secrets.add(secretKey);
  // --sdkappid and --identifier are also global options, and commander hands a value given after
  // `emulator` to the program: take it from there when it was given.
  const sdkappid = rt.options.sdkappid ?? options.sdkappid;
  const identifier = rt.options.identifier ?? options.identifier;
  const emulator = await startEmulator({
    host: options.host,
    port: parseIntOption('--port', options.port, 0, 65535),
    sdkAppId: parseIntOption('--sdkappid', sdkappid, 1, Number.MAX_SAFE_INTEGER),
    identifier,
    dataFile: options.data ? path.resolve(deps.cwd, options.data) : undefined,
    seedUsers: options.seedUsers ? parseIntOption('--seed-users', options.seedUsers, 0, 10_000_000) : 0,
    secretKey,
    latencyMs: parseIntOption('--latency', options.latency, 0, 60_000),
    jitterMs: parseIntOption('--jitter', options.jitter, 0, 60_000),
    latencyInMs: parseIntOption('--latency-in', options.latencyIn, 0, 60_000),
    jitterInMs: parseIntOption('--jitter-in', options.jitterIn, 0, 60_000),
    rateLimit: parseIntOption('--rate-limit', options.rateLimit, 0, 1_000_000),
    faults,
    faultSeed: parseIntOption('--fault-seed', options.faultSeed, 0, 2 ** 31),
    // A long-running emulator keeps the last requests only, so a benchmark cannot fill memory.
    logLimit: 10_000,
  }).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`the emulator cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`);
  });
  deps.io.stdout.write(`${emulator.url}\n`);
  rt.info(
    `emulator: SDKAppID ${sdkappid}, administrator "${identifier}", ${emulator.state.users.size} users, ` +
      `UserSig ${secretKey ? 'verified with the secret key' : 'checked for presence only'}; Ctrl-C stops it`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      deps.signals.off('SIGINT', stop);
      deps.signals.off('SIGTERM', stop);
      resolve();
    };
    deps.signals.on('SIGINT', stop);
    deps.signals.on('SIGTERM', stop);
  });
  await emulator.close();
  rt.info('emulator: stopped');
}
