/**
 * Commander wiring: global options, the commands, output through deps.io, and exitOverride so
 * that commander never calls process.exit (main.ts owns exit codes).
 */
import { Command, Option } from 'commander';
import { REGION_IDS } from './config/regions.js';
import type { Runtime } from './runtime.js';
import { VERSION } from './version.js';
import { newGetCommand } from './commands/get.js';
import { newEmulatorCommand } from './commands/emulator.js';
import { newUsersigCommand } from './commands/usersig.js';
import { newNamesCommand } from './commands/names.js';
import { newSetCommand } from './commands/set.js';
import { newRemoveCommand } from './commands/remove.js';
import { newConfigCommand } from './commands/config.js';
import { newDoctorCommand } from './commands/doctor.js';
import { newCompletionCommand } from './commands/completion.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0    every account was processed
  1    API or network error
  2    usage error (bad flags, arguments or input)
  3    configuration error (region, SDKAppID, identifier, credentials, config file)
  4    authentication error (UserSig expired or mismatched, identifier not an admin, wrong key)
  5    partial failure: some accounts failed (named on stderr, --save-failed), the rest were printed
  130  interrupted (Ctrl-C / SIGTERM); output is complete up to that point`;

/** Help width when stdout is not a terminal (docs, pipes, tests). */
export const HELP_WIDTH = 100;

/** Builds the whole command tree for one run. */
export function buildProgram(rt: Runtime): Command {
  const { io } = rt.deps;
  const program = new Command('im-attrs')
    .description('Read and manage Tencent Cloud Chat (IM) push attributes: batched, paced, lossless.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpCommand('help [command]', 'show help for a command')
    .option('--region <region>', `data center: ${REGION_IDS.join(', ')} (env IMADMIN_REGION)`)
    .option('--sdkappid <id>', 'SDKAppID of the Chat app (env IMADMIN_SDKAPPID)')
    .option('--identifier <admin>', 'app administrator account (env IMADMIN_IDENTIFIER)')
    .option('--usersig <sig>', 'UserSig of the administrator (env IMADMIN_USERSIG); prefer secretKey in config')
    .option('--endpoint <url>', 'API base URL, replaces the region domain (env IMADMIN_ENDPOINT)')
    .option('--profile <name>', 'profile of the config file (env IMADMIN_PROFILE)')
    .option('--config <path>', 'config file instead of searching for .imadminrc (env IMADMIN_CONFIG)')
    .option('--timeout <seconds>', 'per-request timeout (default: 10)')
    .option('--ca <file>', 'extra CA certificates (PEM) for a private CA or TLS-inspecting proxy')
    .option('-q, --quiet', 'no spinner, no summary')
    .option('-v, --verbose', 'a line per batch and retry on stderr')
    .option('--debug', 'trace requests (UserSig redacted) and timings on stderr')
    .addOption(new Option('--color <when>', 'colour on stderr').choices(['auto', 'always', 'never']).default('auto'))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      // A fixed width off a terminal keeps --help (and the README generated from it) stable.
      getOutHelpWidth: () => (io.stdoutIsTTY ? (io.columns ?? 80) : HELP_WIDTH),
      getErrHelpWidth: () => (io.stderrIsTTY ? (io.columns ?? 80) : HELP_WIDTH),
      writeErr: (text) => void io.stderr.write(rt.secrets.redact(text)),
      outputError: (text, write) => write(`im-attrs: ${text.replace(/^error: /, '')}`),
    })
    .addHelpText('after', EXIT_CODES_HELP);

  program.hook('preAction', (_program, action) => {
    rt.setGlobals(action.optsWithGlobals());
  });

  for (const command of [
    newGetCommand(rt),
    newSetCommand(rt),
    newRemoveCommand(rt),
    newNamesCommand(rt),
    newUsersigCommand(rt),
    newConfigCommand(rt),
    newDoctorCommand(rt),
    newCompletionCommand(rt),
    newEmulatorCommand(rt),
  ]) {
    program.addCommand(command);
  }
  // Subcommands inherit exitOverride and output settings from the program.
  const configure = (commands: readonly Command[]): void => {
    for (const command of commands) {
      command.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
      configure(command.commands);
    }
  };
  configure(program.commands);
  return program;
}
