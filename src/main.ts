/**
 * main(argv, deps) → exit code. The only place an error becomes an exit code and a message:
 * commands throw typed errors; here they are printed (redacted) with their hint.
 */
import { CommanderError } from 'commander';
import type { Deps } from './deps.js';
import { ExitCode, ImAttrsError, UsageError } from './errors.js';
import { buildProgram } from './program.js';
import { Runtime } from './runtime/runtime.js';
import { didYouMean } from './util/suggest.js';

/** Commander's "not really an error" codes. */
const COMMANDER_OK = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help', 'commander.executeSubCommandAsync']);

export async function main(argv: readonly string[], deps: Deps): Promise<number> {
  const rt = new Runtime(deps);
  rt.argv = argv.slice(2);
  try {
    const program = await buildProgram(rt, argv);
    const args = argv.slice(2);
    // Bare `im-attrs`: the help on stdout, exit 0, as gh does (asking for help is not an error).
    if (args.length === 0) {
      program.outputHelp();
      return ExitCode.ok;
    }
    // `im-attrs help nosuch`: an error (exit 2) with did-you-mean, not the root help.
    if (args[0] === 'help' && args[1] !== undefined && !args[1].startsWith('-')) {
      const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
      if (!names.includes(args[1])) {
        throw new UsageError(`unknown help topic "${args[1]}"${didYouMean(args[1], names)}`, { hint: 'run `im-attrs help` for the commands and topics' });
      }
    }
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (error) {
    return await report(rt, error);
  }
}

async function report(rt: Runtime, error: unknown): Promise<number> {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (through configureOutput).
    return COMMANDER_OK.has(error.code) || error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  // Colours are a nicety: a broken chalk install must not turn the message into a stack trace.
  await rt.loadColors().catch(() => undefined);
  if (error instanceof ImAttrsError) {
    rt.stderr(`${rt.chalk.red('im-attrs:')} ${error.message}`);
    if (error.hint) rt.stderr(`${rt.chalk.dim('hint:')} ${error.hint}`);
    if (rt.options.debug && error.cause instanceof Error) rt.debug(`cause: ${error.cause.stack ?? error.cause.message}`);
    return error.exitCode;
  }
  // A bug: say so plainly; the stack only with --debug, and redacted like everything else.
  const err = error instanceof Error ? error : new Error(String(error));
  rt.stderr(`${rt.chalk.red('im-attrs:')} unexpected error: ${err.message}`);
  if (rt.options.debug) rt.debug(err.stack ?? '');
  else rt.stderr('hint: run again with --debug for details, and report it if it persists');
  return ExitCode.api;
}
