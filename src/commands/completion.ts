/**
 * `im-attrs completion bash|zsh|fish`: a completion script for commands, subcommands, options,
 * regions, output formats and other option choices, files where a path is expected, and profiles
 * (asked of `im-attrs config profiles` at completion time, so a new profile needs no new script).
 *
 * The script is generated from the commander tree of this very program, so it cannot drift from
 * the commands: a new command or option is in the next generated script. Each shell gets the same
 * tables (which words are subcommands, which options take a value, what the values are) and a
 * small driver that walks the command line with them.
 */
import { Argument, Command, type Help, type Option } from 'commander';
import { REGION_IDS } from '../config/regions.js';
import { UsageError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { VERSION } from '../version.js';
import { HELP_TOPICS } from './topic-list.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The program name the scripts complete. */
const PROGRAM = 'im-attrs';

/** What can follow an option or stand as an argument. */
export type ValueKind =
  | { kind: 'none' }
  | { kind: 'any' }
  | { kind: 'files' }
  | { kind: 'profiles' }
  | { kind: 'list'; values: string[] };

export interface OptionSpec {
  short: string | undefined;
  long: string | undefined;
  description: string;
  value: ValueKind;
}

export interface CommandSpec {
  /** Words after the program name: [] for the root, ["config", "init"]. */
  path: string[];
  summary: string;
  /** Options of this command only (the root's are global: valid after any command). */
  options: OptionSpec[];
  subcommands: CommandSpec[];
  /** What the positional arguments complete to. */
  args: ValueKind;
}

const EXAMPLES = `
Examples:
  $ im-attrs completion bash > ~/.local/share/bash-completion/completions/im-attrs
  $ echo 'source <(im-attrs completion bash)' >> ~/.bashrc
  $ im-attrs completion zsh > "\${fpath[1]}/_im-attrs"
  $ im-attrs completion fish > ~/.config/fish/completions/im-attrs.fish
`;

export function newCompletionCommand(rt: Runtime): Command {
  const command = new Command('completion')
    .summary('print a shell completion script (bash, zsh or fish)')
    .description(
      'Print a completion script for bash, zsh or fish: commands, options, regions, output formats, files ' +
        'where a path is expected, and the profiles of your config file (listed by `im-attrs config profiles` ' +
        'as you type). The script is generated from the commands themselves; generate it again after an upgrade.',
    )
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS));
  command.addHelpText('after', EXAMPLES);
  command.action((shell: Shell, _options: unknown, self: Command) => {
    let root = self;
    while (root.parent) root = root.parent;
    rt.deps.io.stdout.write(completionScript(shell, root));
  });
  return command;
}

/** The completion script for `shell`, from the program's command tree. */
export function completionScript(shell: Shell, program: Command): string {
  const spec = commandSpec(program);
  switch (shell) {
    case 'bash':
      return bashScript(spec);
    case 'zsh':
      return zshScript(spec);
    case 'fish':
      return fishScript(spec);
    default:
      throw new UsageError(`unknown shell "${String(shell)}"`, { hint: `use one of ${SHELLS.join(', ')}` });
  }
}

// ---------------------------------------------------------------------------------------------
// The tree

function optionValue(option: Option): ValueKind {
  if (!option.required && !option.optional) return { kind: 'none' };
  if (option.argChoices) return { kind: 'list', values: [...option.argChoices] };
  if (option.long === '--region') return { kind: 'list', values: [...REGION_IDS] };
  if (option.long === '--profile') return { kind: 'profiles' };
  if (/<[^>]*(path|file|dir)[^>]*>/i.test(option.flags)) return { kind: 'files' };
  return { kind: 'any' };
}

function argumentValue(command: Command): ValueKind {
  const values = command.registeredArguments.flatMap((a) => a.argChoices ?? []);
  if (values.length) return { kind: 'list', values };
  if (command.registeredArguments.some((a) => /path|file|dir/i.test(a.name()))) return { kind: 'files' };
  return command.registeredArguments.length ? { kind: 'any' } : { kind: 'none' };
}

/** The visible tree under `command`; `help [command]` completes to its siblings (and, at the root, the help topics). */
export function commandSpec(command: Command, path: string[] = [], help: Help = command.createHelp()): CommandSpec {
  const children = help.visibleCommands(command);
  const subcommands: CommandSpec[] = [];
  for (const child of children) {
    const childPath = [...path, child.name()];
    if (child.name() === 'help' && child.parent !== command) {
      // commander's implicit help command: its argument is one of the other commands.
      subcommands.push({ path: childPath, summary: help.subcommandDescription(child), options: [], subcommands: [], args: { kind: 'none' } });
    } else {
      subcommands.push({ ...commandSpec(child, childPath, help), summary: help.subcommandDescription(child) });
    }
  }
  const helpSpec = subcommands.find((s) => s.path[s.path.length - 1] === 'help' && s.subcommands.length === 0);
  if (helpSpec) {
    const names = subcommands.map((s) => s.path[s.path.length - 1]!).filter((n) => n !== 'help');
    const topics = path.length === 0 ? HELP_TOPICS.filter((t) => command.commands.some((c) => c.name() === t)) : [];
    helpSpec.args = { kind: 'list', values: [...names, ...topics] };
    helpSpec.options = [];
  }
  return {
    path,
    summary: help.subcommandDescription(command),
    options: help.visibleOptions(command).map((o) => ({
      short: o.short,
      long: o.long,
      description: o.description,
      value: optionValue(o),
    })),
    subcommands,
    args: argumentValue(command),
  };
}

/** Every command in the tree, root first. */
export function allCommands(spec: CommandSpec): CommandSpec[] {
  return [spec, ...spec.subcommands.flatMap(allCommands)];
}

function flagsOf(option: OptionSpec): string[] {
  return [option.short, option.long].filter((f): f is string => f !== undefined);
}

/** The root's options that apply after any command (commander reads them anywhere on the line). */
function globalOptions(root: CommandSpec): OptionSpec[] {
  return root.options.filter((o) => !['--help', '--version'].includes(o.long ?? ''));
}

function rootOnlyOptions(root: CommandSpec): OptionSpec[] {
  return root.options.filter((o) => o.long === '--version');
}

/** The options offered at `command`: its own, plus the global ones. */
function optionsAt(root: CommandSpec, command: CommandSpec): OptionSpec[] {
  if (command === root) return root.options;
  const own = command.options;
  const ownFlags = new Set(own.flatMap(flagsOf));
  return [...own, ...globalOptions(root).filter((o) => !flagsOf(o).some((f) => ownFlags.has(f)))];
}

/**
 * Options of subcommands whose value has something to complete, plus free-form ones that shadow
 * a global option of the same name (so the global's completion does not apply to them).
 */
function completableLocalOptions(root: CommandSpec): Array<[CommandSpec, OptionSpec]> {
  const globalFlags = new Set(globalOptions(root).flatMap(flagsOf));
  return allCommands(root)
    .filter((c) => c !== root)
    .flatMap((c) => c.options.map((o): [CommandSpec, OptionSpec] => [c, o]))
    .filter(([, o]) => o.value.kind !== 'none' && (o.value.kind !== 'any' || flagsOf(o).some((f) => globalFlags.has(f))));
}

const key = (c: CommandSpec): string => c.path.join(' ');
const last = (c: CommandSpec): string => c.path[c.path.length - 1] ?? PROGRAM;

// ---------------------------------------------------------------------------------------------
// bash

/** A word list for `compgen -W`; names are plain words, so single quotes need no escaping. */
function words(list: readonly string[]): string {
  return list.join(' ');
}

function bashValueAction(value: ValueKind): string {
  switch (value.kind) {
    case 'list':
      return `COMPREPLY=( $(compgen -W '${words(value.values)}' -- "$cur") )`;
    case 'profiles':
      return 'COMPREPLY=( $(compgen -W "$(_im_attrs_profiles)" -- "$cur") )';
    case 'files':
      return 'compopt -o filenames 2>/dev/null; COMPREPLY=( $(compgen -f -- "$cur") )';
    default:
      return 'COMPREPLY=()';
  }
}

/** What the bash and zsh scripts both need to know about the tree, as shell case patterns. */
function treeFacts(root: CommandSpec) {
  const commands = allCommands(root);
  const globals = globalOptions(root);
  const subcommandPairs = commands.flatMap((c) => c.subcommands.map((s) => `"${key(c)}|${last(s)}"`));
  const globalValued = globals.filter((o) => o.value.kind !== 'none').flatMap(flagsOf);
  const localValued = commands
    .filter((c) => c !== root)
    .flatMap((c) => c.options.filter((o) => o.value.kind !== 'none').flatMap((o) => flagsOf(o).map((f) => `"${key(c)}|${f}"`)));
  return { commands, globals, subcommandPairs, globalValued, localValued };
}

function bashScript(root: CommandSpec): string {
  const { commands, globals, subcommandPairs, globalValued, localValued } = treeFacts(root);

  const valueCases: string[] = [];
  for (const [c, o] of completableLocalOptions(root)) {
    valueCases.push(`    ${flagsOf(o).map((f) => `"${key(c)}|${f}"`).join('|')}) ${bashValueAction(o.value)} ;;`);
  }
  for (const o of globals.filter((o) => o.value.kind !== 'none')) {
    valueCases.push(`    ${flagsOf(o).map((f) => `*"|${f}"`).join('|')}) ${bashValueAction(o.value)} ;;`);
  }

  const optionCases = commands.map((c) => `    "${key(c)}") echo '${words(optionsAt(root, c).flatMap(flagsOf))}' ;;`);
  const positionalCases = commands
    .map((c) => {
      const subs = c.subcommands.map(last);
      if (subs.length) return `    "${key(c)}") COMPREPLY=( $(compgen -W '${words(subs)}' -- "$cur") ) ;;`;
      if (c.args.kind === 'list' || c.args.kind === 'files') return `    "${key(c)}") ${bashValueAction(c.args)} ;;`;
      return undefined;
    })
    .filter((line): line is string => line !== undefined);

  return `# bash completion for ${PROGRAM}                                  -*- shell-script -*-
# Generated by \`${PROGRAM} completion bash\` (${PROGRAM} ${VERSION}); generate it again after an upgrade.
# Install:  ${PROGRAM} completion bash > ~/.local/share/bash-completion/completions/${PROGRAM}
#     or:   echo 'source <(${PROGRAM} completion bash)' >> ~/.bashrc

# Profiles are read from the config file as you type.
_im_attrs_profiles() {
  ${PROGRAM} config profiles --no-code 2>/dev/null
}

${treeFunctions(subcommandPairs, globalValued, localValued)}
# _im_attrs_options <command path>
_im_attrs_options() {
  case "$1" in
${optionCases.join('\n')}
  esac
}

# _im_attrs_values <command path> <option>: completes the value of an option.
_im_attrs_values() {
  case "$1|$2" in
${valueCases.join('\n')}
  esac
}

# _im_attrs_positionals <command path>: subcommands, or argument choices.
_im_attrs_positionals() {
  case "$1" in
${positionalCases.join('\n')}
  esac
}

_im_attrs() {
  local cur cmd="" word i skip=0
  COMPREPLY=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  # Walk the words before the cursor: subcommands extend the path, option values are skipped.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word="\${COMP_WORDS[i]}"
    if (( skip )); then skip=0; continue; fi
    case "$word" in
      --) break ;;
      -*) _im_attrs_takes_value "$cmd" "$word" && skip=1 ;;
      *) _im_attrs_is_subcommand "$cmd" "$word" && cmd="\${cmd:+$cmd }$word" ;;
    esac
  done
  if (( skip )); then
    _im_attrs_values "$cmd" "\${COMP_WORDS[COMP_CWORD-1]}"
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$(_im_attrs_options "$cmd")" -- "$cur") )
  else
    _im_attrs_positionals "$cmd"
  fi
  return 0
}

complete -F _im_attrs ${PROGRAM}
`;
}

// ---------------------------------------------------------------------------------------------
// zsh

/** A single-quoted POSIX (bash, zsh) word. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A single-quoted fish word: inside single quotes fish reads \\ and \' as escapes. */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
}

/** "name:description" for _describe, colons in the name escaped. */
function describeEntry(name: string, description: string): string {
  return quote(`${name.replace(/:/g, '\\:')}:${description.replace(/\s+/g, ' ')}`);
}

function zshValueAction(value: ValueKind, what: string): string {
  switch (value.kind) {
    case 'list':
      return `compadd -X ${quote(what)} -- ${value.values.map(quote).join(' ')}`;
    case 'profiles':
      return `compadd -X 'profile' -- \${(f)"$(${PROGRAM} config profiles --no-code 2>/dev/null)"}`;
    case 'files':
      return '_files';
    default:
      return `_message ${quote(what)}`;
  }
}

function zshScript(root: CommandSpec): string {
  const { commands, globals, subcommandPairs, globalValued, localValued } = treeFacts(root);
  const valueCases: string[] = [];
  for (const [c, o] of completableLocalOptions(root)) {
    valueCases.push(`    ${flagsOf(o).map((f) => `"${key(c)}|${f}"`).join('|')}) ${zshValueAction(o.value, o.description)} ;;`);
  }
  for (const o of globals.filter((o) => o.value.kind !== 'none')) {
    valueCases.push(`    ${flagsOf(o).map((f) => `*"|${f}"`).join('|')}) ${zshValueAction(o.value, o.description)} ;;`);
  }
  const optionCases = commands.map((c) => {
    const entries = optionsAt(root, c).flatMap((o) => flagsOf(o).map((f) => describeEntry(f, o.description)));
    return `    "${key(c)}") opts=( ${entries.join(' ')} ) ;;`;
  });
  const positionalCases = commands
    .map((c) => {
      if (c.subcommands.length) {
        const entries = c.subcommands.map((s) => describeEntry(last(s), s.summary));
        return `    "${key(c)}") local -a cmds; cmds=( ${entries.join(' ')} ); _describe -t commands 'command' cmds ;;`;
      }
      if (c.args.kind === 'list' || c.args.kind === 'files') return `    "${key(c)}") ${zshValueAction(c.args, 'argument')} ;;`;
      return undefined;
    })
    .filter((line): line is string => line !== undefined);

  return `#compdef ${PROGRAM}
# zsh completion for ${PROGRAM}. Generated by \`${PROGRAM} completion zsh\` (${PROGRAM} ${VERSION}); generate it
# again after an upgrade.
# Install:  ${PROGRAM} completion zsh > "\${fpath[1]}/_${PROGRAM}"   (then start a new shell)
#     or:   echo 'source <(${PROGRAM} completion zsh)' >> ~/.zshrc   (after compinit)

${treeFunctions(subcommandPairs, globalValued, localValued)}
_im_attrs() {
  local cmd="" word i skip=0
  local -a opts
  # Walk the words before the cursor: subcommands extend the path, option values are skipped.
  for (( i = 2; i < CURRENT; i++ )); do
    word="\${words[i]}"
    if (( skip )); then skip=0; continue; fi
    case "$word" in
      --) break ;;
      -*) _im_attrs_takes_value "$cmd" "$word" && skip=1 ;;
      *) _im_attrs_is_subcommand "$cmd" "$word" && cmd="\${cmd:+$cmd }$word" ;;
    esac
  done
  if (( skip )); then
    case "$cmd|\${words[CURRENT-1]}" in
${valueCases.join('\n')}
    esac
  elif [[ "\${words[CURRENT]}" == -* ]]; then
    case "$cmd" in
${optionCases.join('\n')}
    esac
    _describe -t options 'option' opts
  else
    case "$cmd" in
${positionalCases.join('\n')}
    esac
  fi
}

# Autoloaded from $fpath the file is the function _${PROGRAM}; sourced, it registers itself.
if [[ "\${funcstack[1]}" == "_${PROGRAM}" ]]; then
  _im_attrs "$@"
else
  compdef _im_attrs ${PROGRAM}
fi
`;
}

// ---------------------------------------------------------------------------------------------
// fish

function fishValueFlags(value: ValueKind): string {
  switch (value.kind) {
    case 'list':
      return `-x -a ${fishQuote(value.values.join(' '))}`;
    case 'profiles':
      return `-x -a ${fishQuote(`(${PROGRAM} config profiles --no-code 2>/dev/null)`)}`;
    case 'files':
      return '-r -F';
    case 'any':
      return '-x';
    default:
      return '';
  }
}

function fishOptionLine(option: OptionSpec, condition: string | undefined): string {
  const parts = [`complete -c ${PROGRAM}`];
  if (condition) parts.push(`-n ${fishQuote(condition)}`);
  if (option.short) parts.push(`-s ${option.short.slice(1)}`);
  if (option.long) parts.push(`-l ${option.long.slice(2)}`);
  const value = fishValueFlags(option.value);
  if (value) parts.push(value);
  parts.push(`-d ${fishQuote(option.description.replace(/\s+/g, ' '))}`);
  return parts.join(' ');
}

function fishScript(root: CommandSpec): string {
  const commands = allCommands(root);
  const globals = globalOptions(root);
  const subcommandPairs = commands.flatMap((c) => c.subcommands.map((s) => fishQuote(`${key(c)}|${last(s)}`)));
  const globalValued = globals.filter((o) => o.value.kind !== 'none').flatMap(flagsOf);
  const localValued = commands
    .filter((c) => c !== root)
    .flatMap((c) => c.options.filter((o) => o.value.kind !== 'none').flatMap((o) => flagsOf(o).map((f) => fishQuote(`${key(c)}|${f}`))));
  const at = (c: CommandSpec): string => `__im_attrs_at ${fishQuote(key(c))}`;

  const lines: string[] = [];
  lines.push('# Subcommands');
  for (const c of commands) {
    for (const s of c.subcommands) {
      lines.push(`complete -c ${PROGRAM} -n ${fishQuote(at(c))} -a ${fishQuote(last(s))} -d ${fishQuote(s.summary.replace(/\s+/g, ' '))}`);
    }
  }
  lines.push('', '# Arguments');
  for (const c of commands.filter((c) => c.subcommands.length === 0 && (c.args.kind === 'list' || c.args.kind === 'files'))) {
    lines.push(
      c.args.kind === 'list'
        ? `complete -c ${PROGRAM} -n ${fishQuote(at(c))} -a ${fishQuote(c.args.values.join(' '))}`
        : `complete -c ${PROGRAM} -n ${fishQuote(at(c))} -F`,
    );
  }
  lines.push('', '# Global options (valid after any command)');
  for (const o of globals) lines.push(fishOptionLine(o, undefined));
  for (const o of rootOnlyOptions(root)) lines.push(fishOptionLine(o, at(root)));
  lines.push(`complete -c ${PROGRAM} -s h -l help -d 'show help'`);
  lines.push('', '# Options of each command');
  for (const c of commands.filter((c) => c !== root)) {
    for (const o of c.options.filter((o) => o.long !== '--help')) lines.push(fishOptionLine(o, at(c)));
  }

  return `# fish completion for ${PROGRAM}. Generated by \`${PROGRAM} completion fish\` (${PROGRAM} ${VERSION}); generate it
# again after an upgrade.
# Install:  ${PROGRAM} completion fish > ~/.config/fish/completions/${PROGRAM}.fish

# __im_attrs_is_subcommand <command path> <word>
function __im_attrs_is_subcommand
    switch "$argv[1]|$argv[2]"
        case ${subcommandPairs.join(' ')}
            return 0
    end
    return 1
end

# __im_attrs_takes_value <command path> <option>
function __im_attrs_takes_value
    switch "$argv[2]"
        case ${globalValued.map(quote).join(' ')}
            return 0
    end
    switch "$argv[1]|$argv[2]"
        case ${localValued.length ? localValued.join(' ') : fishQuote('|')}
            return 0
    end
    return 1
end

# The command path of the line being completed: "", "get", "config init", ...
function __im_attrs_path
    set -l tokens (commandline -opc)
    set -l cmd ''
    set -l skip 0
    for word in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case '--'
                break
            case '-*'
                if __im_attrs_takes_value "$cmd" $word
                    set skip 1
                end
            case '*'
                if __im_attrs_is_subcommand "$cmd" $word
                    set cmd (string trim -- "$cmd $word")
                end
        end
    end
    echo $cmd
end

function __im_attrs_at
    set -l current (__im_attrs_path)
    test "$current" = "$argv[1]"
end

# No file names unless an option or argument takes a path.
complete -c ${PROGRAM} -f

${lines.join('\n')}
`;
}

/** The shell functions bash and zsh share: which words are subcommands, which options take a value. */
function treeFunctions(subcommandPairs: readonly string[], globalValued: readonly string[], localValued: readonly string[]): string {
  return `# _im_attrs_is_subcommand <command path> <word>
_im_attrs_is_subcommand() {
  case "$1|$2" in
    ${subcommandPairs.join('|')}) return 0 ;;
  esac
  return 1
}

# _im_attrs_takes_value <command path> <option>
_im_attrs_takes_value() {
  case "$2" in
    ${globalValued.join('|')}) return 0 ;;
  esac
  case "$1|$2" in
    ${localValued.length ? localValued.join('|') : '"|"'}) return 0 ;;
  esac
  return 1
}
`;
}
