/**
 * Commander wiring: global options, the commands, output through deps.io, and exitOverride so
 * that commander never calls process.exit (main.ts owns exit codes).
 */
import { Command, Help, Option } from 'commander';
import { REGION_IDS } from './config/regions.js';
import { helpTopicsList } from './commands/topic-list.js';
import { EXIT_CODES_HELP } from './errors.js';
import type { Runtime } from './runtime/runtime.js';
import { VERSION } from './version.js';

/**
 * The commands, each loaded only when needed: `im-attrs get …` imports get's module and what it
 * uses, not the emulator, doctor or the table renderer of `names`. That keeps `--version` and
 * `<command> --help` fast (measured in `npm run bench`: cold start vs bare node).
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: (rt: Runtime) => Promise<Command>]> = [
  ['get', async (rt) => (await import('./commands/get.js')).newGetCommand(rt)],
  ['set', async (rt) => (await import('./commands/set.js')).newSetCommand(rt)],
  ['remove', async (rt) => (await import('./commands/remove.js')).newRemoveCommand(rt)],
  ['plan', async (rt) => (await import('./commands/plan.js')).newPlanCommand(rt)],
  ['apply', async (rt) => (await import('./commands/apply.js')).newApplyCommand(rt)],
  ['diff', async (rt) => (await import('./commands/diff.js')).newDiffCommand(rt)],
  ['audience', async (rt) => (await import('./commands/audience.js')).newAudienceCommand(rt)],
  ['push', async (rt) => (await import('./commands/push.js')).newPushCommand(rt)],
  ['tags', async (rt) => (await import('./commands/tags.js')).newTagsCommand(rt)],
  ['names', async (rt) => (await import('./commands/names.js')).newNamesCommand(rt)],
  ['history', async (rt) => (await import('./commands/undo.js')).newHistoryCommand(rt)],
  ['undo', async (rt) => (await import('./commands/undo.js')).newUndoCommand(rt)],
  ['usersig', async (rt) => (await import('./commands/usersig.js')).newUsersigCommand(rt)],
  ['config', async (rt) => (await import('./commands/config.js')).newConfigCommand(rt)],
  ['doctor', async (rt) => (await import('./commands/doctor.js')).newDoctorCommand(rt)],
  ['completion', async (rt) => (await import('./commands/completion.js')).newCompletionCommand(rt)],
  ['emulator', async (rt) => (await import('./commands/emulator.js')).newEmulatorCommand(rt)],
];

/**
 * What the root help lists for each command: its help term and summary, so that `im-attrs
 * --help` loads no command module (every one of them would, and `--help` would take three times
 * bare node's start-up). test/help.test.ts checks this table against the real commands.
 */
export const COMMAND_SUMMARIES: ReadonlyArray<readonly [name: string, term: string, summary: string]> = [
  ['get', 'get [options] [accounts...]', 'print the push attributes of accounts, in input order'],
  ['set', 'set [options] [account] [name=value...]', 'set push attributes of one account, or of many from records'],
  ['remove', 'remove [options] [accounts...]', 'remove push attributes of accounts, by name'],
  ['plan', 'plan [options]', 'show what it takes to make the server match a desired-state file; write nothing'],
  ['apply', 'apply [options] [plan]', 'write the changes of a plan (or plan and apply a desired-state file in one)'],
  ['diff', 'diff [options] <before> <after>', 'compare two snapshots (or a snapshot and a desired state) offline, as plan shows it'],
  ['audience', 'audience [options] [accounts...]', 'preview who a push with this condition reaches: matched accounts and counts'],
  ['push', 'push', 'send a push to every account matching a condition; recall it, read its statistics (TIMPush), receive its delivery callbacks'],
  ['tags', 'tags', 'print, add, remove, replace or clear the push tags of accounts'],
  ['names', 'names [options]', "list the app's attribute names; `names set` defines them"],
  ['history', 'history [options]', 'list the journaled writes and pushes of this machine, newest first'],
  ['undo', 'undo [options] <journal>', 'restore what a journaled write changed (im-attrs history lists them)'],
  ['usersig', 'usersig', 'sign, inspect and verify UserSigs offline'],
  ['config', 'config', 'create a config file, show the resolved settings and where they come from'],
  ['doctor', 'doctor [options]', 'check the config, credentials, network and API access, with a fix for each problem'],
  ['completion', 'completion <shell>', 'print a shell completion script (bash, zsh or fish)'],
  ['emulator', 'emulator [options]', 'run a local emulator of the REST API, for demos, scripts and tests'],
];

export { EXIT_CODES_HELP } from './errors.js';

/** Help width when the stream is not a terminal (docs, pipes, tests), as gh wraps piped help. */
export const HELP_WIDTH = 80;

/**
 * The global options each command's help shows (the ones used most); the others are listed once,
 * by `im-attrs help options`, as kubectl keeps its global flags in `kubectl options`.
 */
export const FEATURED_GLOBAL_OPTIONS: readonly string[] = ['--profile', '--api', '--quiet', '--verbose', '--debug'];

/** The line under the featured global options that points to the rest. */
export const GLOBAL_OPTIONS_POINTER = '`im-attrs help options` lists the other global options';

/** The widest an option or command term may make its column: a longer term gets a line of its own. */
function termCap(width: number): number {
  return Math.max(16, Math.floor(width * 0.4));
}

/**
 * Wraps the lines of help output wider than `width` at a space, keeping the line's indent: the
 * parts commander lays out already fit, this catches descriptions and examples given as text. An
 * example (`  $ im-attrs …`) is broken outside quotes and continued with a backslash, so that it
 * still pastes into a shell; a word longer than the width stays whole.
 */
export function wrapHelpText(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => wrapLine(line, width))
    .join('\n');
}

function wrapLine(line: string, width: number): string {
  if (line.length <= width) return line;
  const indent = /^ */.exec(line)![0];
  const example = /^ *\$ /.test(line);
  // A row of a table ("  130  interrupted …") continues under its text column.
  const column = /^( *\S+(?: \S+)*? {2,})\S/.exec(line)?.[1]?.length;
  const hanging = column !== undefined && column < width / 2 ? ' '.repeat(column) : undefined;
  const more = example ? `${indent}    ` : hanging ?? (/^ *[-*] /.test(line) ? `${indent}  ` : indent);
  const room = example ? width - 2 : width;
  // Spaces outside quotes (for examples), after the indent.
  let quote = '';
  let best = -1;
  for (let i = indent.length + 1; i < line.length && i <= room; i++) {
    const c = line[i]!;
    if (example && (c === "'" || c === '"')) quote = quote === '' ? c : quote === c ? '' : quote;
    else if (c === ' ' && quote === '' && line[i - 1] !== ' ') best = i;
  }
  if (best <= indent.length + (example ? 2 : 0)) {
    // One word wider than the room left after the indent: move it left, as far as it needs.
    const word = line.trimStart();
    return word.length >= width ? word : `${' '.repeat(width - word.length)}${word}`;
  }
  const head = line.slice(0, best);
  const rest = `${more}${line.slice(best + 1).trimStart()}`;
  return `${head}${example ? ' \\' : ''}\n${wrapLine(rest, width)}`;
}

/**
 * The help layout of every command: terms in a column at most 40 % of the width (a longer term
 * gets a line of its own, its description under it), descriptions wrapped at any width, and the
 * featured global options with a pointer to `help options` instead of all of them.
 */
function helpLayout(isRoot: boolean): Partial<Help> {
  return {
    minWidthToWrap: 12,
    padWidth(this: Help, cmd: Command, helper: Help): number {
      return Math.min(Help.prototype.padWidth.call(this, cmd, helper), termCap(this.helpWidth ?? HELP_WIDTH));
    },
    formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
      if (!description || helper.displayWidth(term) <= termWidth) return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
      const indent = ' '.repeat(2 + termWidth + 2);
      const wrapped = helper.boxWrap(description, (this.helpWidth ?? HELP_WIDTH) - indent.length);
      return `  ${term}\n${wrapped.replace(/^/gm, indent)}`;
    },
    formatHelp(this: Help, cmd: Command, helper: Help): string {
      if (!isRoot) return Help.prototype.formatHelp.call(this, cmd, helper);
      // The root's own options are the global ones: its help shows the featured ones too. Only in
      // the help: commander's did-you-mean for an unknown option still sees them all.
      const featured = Object.create(helper) as Help;
      featured.visibleOptions = (c) =>
        Help.prototype.visibleOptions.call(helper, c).filter((o) => o.long === '--help' || o.long === '--version' || FEATURED_GLOBAL_OPTIONS.includes(o.long ?? ''));
      return Help.prototype.formatHelp.call(this, cmd, featured);
    },
    visibleGlobalOptions(this: Help, cmd: Command): ReturnType<Help['visibleGlobalOptions']> {
      return Help.prototype.visibleGlobalOptions.call(this, cmd).filter((o) => FEATURED_GLOBAL_OPTIONS.includes(o.long ?? ''));
    },
    formatItemList(this: Help, heading: string, items: string[], helper: Help): string[] {
      const list = Help.prototype.formatItemList.call(this, heading, items, helper);
      const pointsOn = isRoot ? heading === 'Options:' : heading === 'Global Options:';
      if (!pointsOn || list.length === 0) return list;
      return [...list.slice(0, -1), `  ${GLOBAL_OPTIONS_POINTER}`, ''];
    },
  };
}

/**
 * Which commands a command line needs: the one it names (or that `help` names), none for a bare
 * `--version`, and all of them for the root help, an unknown command (for "did you mean"), help
 * topics and `completion` (which walks the whole tree).
 */
export function commandsFor(argv: readonly string[], valueOptions: ReadonlySet<string>): readonly string[] | 'all' | 'summaries' {
  const words: string[] = [];
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (arg.startsWith('-')) {
      if (valueOptions.has(arg)) i++;
      continue;
    }
    words.push(arg);
    if (words.length === 2) break;
  }
  const names = COMMANDS.map(([name]) => name);
  const [first, second] = words;
  if (first === undefined) {
    if (args.includes('-V') || args.includes('--version')) return [];
    // The root help (`im-attrs`, `im-attrs --help`): summaries only, no command module.
    return args.every((a) => a === '-h' || a === '--help') ? 'summaries' : 'all';
  }
  const target = first === 'help' ? second : first;
  if (first === 'help' && second === undefined) return 'summaries';
  if (target === undefined || target === 'completion' || !names.includes(target)) return 'all';
  return [target];
}

/**
 * Builds the command tree for one run: every command, or (given argv) only those the command
 * line needs.
 */
export async function buildProgram(rt: Runtime, argv?: readonly string[]): Promise<Command> {
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
    .option('--usersig-file <path>', 'read the UserSig from a file, "-" for stdin (keeps it out of ps)')
    .option('--endpoint <url>', 'API base URL, replaces the region domain (env IMADMIN_ENDPOINT)')
    .option('--profile <name>', 'profile of the config file (env IMADMIN_PROFILE)')
    .option('--config <path>', 'config file instead of searching for .imadminrc (env IMADMIN_CONFIG)')
    .option('--timeout <seconds>', 'per-request timeout (default: 10)')
    .option('--api <family>', 'API family: all_member_push (default) or timpush (env IMADMIN_API)')
    .option('--ca <file>', 'extra CA certificates (PEM) for a private CA or TLS-inspecting proxy')
    .option('-q, --quiet', 'no spinner, no summary')
    .option('-v, --verbose', 'a line per batch and retry on stderr')
    .option('--debug', 'trace requests (UserSig redacted) and timings on stderr')
    .addOption(new Option('--color <when>', 'colour on stderr').choices(['auto', 'always', 'never']).default('auto'))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Help, topics and --version: wrapped at the help width (descriptions and examples given as text too).
      writeOut: (text) => void io.stdout.write(wrapHelpText(text, io.stdoutIsTTY ? (io.columns ?? HELP_WIDTH) : HELP_WIDTH)),
      // A fixed width off a terminal keeps --help (and the README generated from it) stable.
      getOutHelpWidth: () => (io.stdoutIsTTY ? (io.columns ?? 80) : HELP_WIDTH),
      getErrHelpWidth: () => (io.stderrIsTTY ? (io.columns ?? 80) : HELP_WIDTH),
      writeErr: (text) => void io.stderr.write(rt.secrets.redact(text)),
      // commander's "(Did you mean get?)" on a line of its own reads as ours: ` (did you mean "get"?)`.
      outputError: (text, write) => write(`im-attrs: ${text.replace(/^error: /, '').replace(/\n\(Did you mean (.+?)\?\)/, ' (did you mean "$1"?)')}`),
    })
    .configureHelp(helpLayout(true))
    .addHelpText('after', EXIT_CODES_HELP);

  // Only the root's options: a command's own flags stay in that command (its action's options).
  // Colours (chalk) are loaded here, once a command is about to run: help and --version never need them.
  program.hook('preAction', async () => {
    rt.setGlobals(program.opts());
    await rt.loadColors();
  });

  const valueOptions = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))));
  const wanted = argv === undefined ? 'all' : commandsFor(argv, valueOptions);
  if (wanted === 'summaries') {
    // The root help: each command as a stub with its term and summary (COMMAND_SUMMARIES).
    const terms = new Map(COMMAND_SUMMARIES.map(([name, term]) => [name, term]));
    for (const [name, , summary] of COMMAND_SUMMARIES) program.addCommand(new Command(name).summary(summary));
    const base = program.createHelp();
    program.configureHelp({ ...program.configureHelp(), subcommandTerm: (command) => terms.get(command.name()) ?? base.subcommandTerm(command) });
  }
  for (const [name, load] of COMMANDS) {
    if (wanted === 'all' || (wanted !== 'summaries' && wanted.includes(name))) program.addCommand(await load(rt));
  }
  // The root help lists the topics; their texts (and the commands for `help <topic>`) load only
  // when every command is wanted.
  if (wanted === 'all') (await import('./commands/help-topics.js')).addHelpTopics(program);
  else if (wanted === 'summaries') program.addHelpText('after', helpTopicsList());
  // Subcommands (and theirs) never call process.exit and print through deps.io.
  // Their help lists the featured root options under "Global Options:", as gh's "INHERITED FLAGS",
  // and points to `im-attrs help options` for the rest.
  const configure = (commands: readonly Command[]): void => {
    for (const command of commands) {
      command.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true).helpOption('-h, --help', 'show help');
      command.configureHelp({ ...helpLayout(false), ...command.configureHelp(), showGlobalOptions: true });
      configure(command.commands);
    }
  };
  configure(program.commands);
  return program;
}
