/**
 * Help topics: `im-attrs help options`, `configuration`, `environment`, `security`, `formats`,
 * `exit-codes` and `recipes`.
 *
 * Like gh's help topics, each is a hidden command whose help is the topic text, so commander's own
 * `help <command>` finds it, `im-attrs environment --help` works too, and the topic stays out of
 * the command list. The environment table is built from ENV_VARS and FLAG_NAMES, so a new setting
 * cannot be added without this topic (and the README generated from it) naming its variable.
 */
import { Command } from 'commander';
import { DEFAULT_TIMEOUT_MS } from '../api/client.js';
import { REGION_IDS } from '../config/regions.js';
import { ENV_VARS, FLAG_NAMES, SETTING_KEYS, type SettingKey } from '../config/resolve.js';
import { OUTPUT_FORMATS } from '../output/types.js';
import { EXIT_CODES_HELP } from '../errors.js';
import { formatDuration, DEFAULT_ADMIN_TTL_SECONDS } from '../usersig.js';

import { recipesHelp } from './recipes.js';
import { HELP_TOPICS, helpTopicsList, TOPIC_SUMMARIES, type HelpTopic } from './topic-list.js';

/** What each setting's variable does; a Record so that a new setting key must be described here. */
const SETTING_DESCRIPTIONS: Readonly<Record<SettingKey, () => string>> = {
  region: () => `data center of the app: ${REGION_IDS.join(', ')}`,
  sdkAppId: () => 'SDKAppID of the Chat app',
  identifier: () => 'app administrator account',
  userSig: () => 'a ready-made UserSig of the administrator (it expires; prefer the secret key)',
  secretKey: () => "the app's secret key: im-attrs signs its own UserSigs (never a flag)",
  endpoint: () => 'API base URL replacing the region domain: a proxy, or the emulator (http only on loopback)',
  output: () => `default output of get: ${OUTPUT_FORMATS.join(', ')} (default: table on a terminal, tsv otherwise)`,
  usersigTtl: () => `validity of the UserSigs im-attrs signs: 3600, 90m, 12h, 1d (default: ${formatDuration(DEFAULT_ADMIN_TTL_SECONDS)})`,
  timeout: () => `per-request timeout in seconds (default: ${DEFAULT_TIMEOUT_MS / 1000})`,
  api: () => 'API family: all_member_push (default) or timpush',
  rate: () => "most calls per second to each endpoint, to leave room for the app's own backend (default and most: each endpoint's documented limit)",
  pushEdition: () => 'TIMPush edition for the list-push rate: free (10 calls/s, the default), standard (30) or advanced (40)',
  journalDays: () => `days the write journals (\`im-attrs history\`, \`undo\`) are kept (default: 30)`,
  callbackToken: () => 'the push-result callback token `push events` checks Sign with (never a flag)',
};

/** Width of the variable-name column, and of the whole text (the help width off a terminal). */
const NAME_WIDTH = 22;
const TEXT_WIDTH = 80;

/** "  NAME   text", the text wrapped at word boundaries under its own column. */
function row(name: string, text: string): string {
  const indent = ' '.repeat(2 + NAME_WIDTH);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > TEXT_WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  // A name that fills its column gets a line of its own, as commander lays out a long option.
  if (name.length >= NAME_WIDTH) return [`  ${name}`, ...lines.map((l) => `${indent}${l}`)].join('\n');
  return [`  ${name.padEnd(NAME_WIDTH)}${lines[0]}`, ...lines.slice(1).map((l) => `${indent}${l}`)].join('\n');
}

/** The text of `im-attrs help environment`. */
export function environmentHelp(): string {
  const settings = SETTING_KEYS.map((key) => {
    const flag = FLAG_NAMES[key];
    return row(ENV_VARS[key], `${SETTING_DESCRIPTIONS[key]()}${flag ? ` (flag ${flag})` : ''}`);
  });
  return [
    'Environment variables read by im-attrs.',
    '',
    'Settings (a flag wins over its variable, a variable over the config file; a',
    'config file may refer to any variable as ${NAME}, e.g.',
    '"secretKey": "${IMADMIN_SECRET_KEY}"):',
    ...settings,
    '',
    'Config file:',
    row('IMADMIN_PROFILE', 'profile of the config file to use (flag --profile)'),
    row('IMADMIN_CONFIG', 'config file to use instead of searching for .imadminrc (flag --config)'),
    row('XDG_CONFIG_HOME', 'the user-wide config file lives in $XDG_CONFIG_HOME/imadmin/ (default: ~/.config/imadmin/)'),
    '',
    'Terminal:',
    row('NO_COLOR', 'any non-empty value turns colour off on stderr (--color wins)'),
    row('FORCE_COLOR', 'any value but 0 turns colour on even when stderr is not a terminal (--color wins)'),
    '',
    'Network:',
    row(
      'NODE_EXTRA_CA_CERTS',
      'PEM file of CA certificates added to the built-in ones, read by Node.js at start: for a TLS-inspecting ' +
        'proxy or a private CA (--ca <file> instead trusts only the CAs in that file)',
    ),
    row(
      'HTTPS_PROXY',
      'forward proxy for https:// requests, http://[user:password@]host:port (an HTTP CONNECT tunnel; ' +
        'https_proxy wins when both are set, as in curl). http:// endpoints on loopback never use it',
    ),
    row('NO_PROXY', 'hosts that bypass the proxy, separated by commas: host, .domain, *.domain, host:port, or * for all'),
    '',
    'Examples:',
    '  $ IMADMIN_REGION=sgp IMADMIN_SDKAPPID=1400123456 \\',
    '    IMADMIN_IDENTIFIER=administrator IMADMIN_SECRET_KEY="$(cat key.txt)" \\',
    '    im-attrs get alice',
    '  $ IMADMIN_PROFILE=prod im-attrs config show',
    '',
  ].join('\n');
}

/** The text of `im-attrs help exit-codes`. */
export function exitCodesHelp(): string {
  return `${EXIT_CODES_HELP.trim()}\n\nErrors go to stderr as "im-attrs: …", most followed by a "hint:" line saying what to do next.\n`;
}

/** The text of `im-attrs help options`: every option of the root, which every command takes. */
export function optionsHelp(program: Command): string {
  const help = program.createHelp();
  help.prepareContext({ helpWidth: TEXT_WIDTH });
  const options = program.options.filter((o) => !o.hidden);
  const termWidth = Math.max(...options.map((o) => help.optionTerm(o).length));
  const rows = options.map((o) => help.formatItem(help.optionTerm(o), termWidth, help.optionDescription(o), help));
  return [
    'Global options: every command takes them, before or after its name (im-attrs',
    '--profile prod get alice, im-attrs get alice --profile prod). A command\'s help',
    'shows the few used most; here are all of them.',
    '',
    ...rows,
    '',
    'A flag wins over its IMADMIN_* variable, which wins over the config file: see',
    '`im-attrs help configuration` and `im-attrs help environment`.',
    '',
  ].join('\n');
}

/** The text of `im-attrs help configuration`. */
export function configurationHelp(): string {
  const settings = SETTING_KEYS.map((key) => row(key, `${FLAG_NAMES[key] ? `${FLAG_NAMES[key]}, ` : ''}${ENV_VARS[key]}`));
  return [
    'Configuration: where each setting comes from.',
    '',
    'Each setting is resolved, and remembers its source, in this order:',
    '  flags > IMADMIN_* variables > the selected profile > top-level keys of the',
    '  config file > defaults',
    '`im-attrs config show` prints every value with its source; `im-attrs config',
    'current` the profile in use, why, and the app and endpoint it targets.',
    '',
    'The config file (JSON or YAML) is the nearest of .imadminrc, .imadminrc.json,',
    '.imadminrc.yaml, .imadminrc.yml, package.json (key "imadmin") from the current',
    'directory up to your home directory, else ~/.config/imadmin/config.json (or',
    'config, config.yaml; $XDG_CONFIG_HOME/imadmin/). --config PATH or IMADMIN_CONFIG',
    'names one. Files are not merged. `im-attrs config init` writes one; `config',
    'path` prints the one in use.',
    '',
    'Settings (key in the file: flag, variable):',
    ...settings,
    '',
    'Profiles: named sets of these keys under "profiles"; "defaultProfile" names the',
    'one used without --profile (`im-attrs config use NAME` sets it; `config use`',
    'alone lists them, as `config profiles` does):',
    '  {"defaultProfile": "test",',
    '   "profiles": {"test": {"region": "sgp", "sdkAppId": 1400000001, ...},',
    '                "prod": {"region": "sgp", "sdkAppId": 1400000002, ...}}}',
    '',
    'Secrets: keep secretKey out of the file with "${IMADMIN_PROD_KEY}" (read when',
    'used); a file holding one must not be readable by others (chmod 600). A file',
    'found in a project directory needs `im-attrs config trust` before it may route',
    'your credentials: see `im-attrs help security`.',
    '',
  ].join('\n');
}

/** The text of `im-attrs help security`. */
export function securityHelp(): string {
  return [
    'Security: what im-attrs trusts, and what travels where.',
    '',
    'A file you did not write or trust never gets a request signed with your',
    'credentials sent somewhere you did not choose, and never runs code.',
    '',
    'Files:',
    row('own', '~/.imadminrc*, ~/.config/imadmin/config*: trusted'),
    row('explicit', '--config PATH, IMADMIN_CONFIG: trusted (you named it)'),
    row(
      'project',
      'any other .imadminrc found from the current directory up: it may hold settings, but when it sets endpoint, ' +
        'region, sdkAppId or identifier while the credentials come from elsewhere, every command that sends a ' +
        'request refuses (exit 3) until `im-attrs config trust` (which keeps its SHA-256: a change refuses it ' +
        'again). It may refer only to ${IMADMIN_*} variables.',
    ),
    row('JavaScript', 'configs are code: loaded only from ~/.config/imadmin/ or --config, never from a project'),
    row('others\' files', 'a config file owned by another user is refused, as git refuses an unsafe directory'),
    '',
    'Travel: the UserSig (signed from secretKey, or given) goes only in the query',
    'string of HTTPS requests to the region\'s domains or your endpoint (plain http://',
    'only to loopback), never through a redirect, never to a proxy in clear. The',
    'secret key never leaves the process.',
    '',
    'Redaction: every line on stderr (errors, warnings, --verbose, --debug) and all',
    'server text has the UserSig and secret key removed, also cut, split, encoded or',
    'in another letter case. Give a UserSig with --usersig-file or IMADMIN_USERSIG,',
    'not --usersig: every user of the machine can read a command line (ps).',
    '',
    'Files im-attrs writes (--save-failed, --failures, --backup) are never an input,',
    'are written beside and renamed into place, and a crash leaves the old file.',
    '',
  ].join('\n');
}

/** The text of `im-attrs help formats`. */
export function formatsHelp(): string {
  return [
    'Formats: what commands read and print.',
    '',
    'Accounts (get, remove --attrs, audience, tags get, --file, stdin):',
    row('an ID list', 'one account ID per line; blanks skipped, IDs trimmed, duplicates dropped'),
    row('records', 'csv, tsv, ndjson or json: the account column (To_Account or account, else --id-column)'),
    '',
    'Records (set, remove without --attrs, --save-failed of a write):',
    row('csv, tsv', 'header account,<name>,<name>…; an empty cell leaves that attribute as it is'),
    row('ndjson', '{"To_Account":"u1","Attrs":{"city":"Paris"}} per line (what get -o ndjson prints)'),
    row('json', 'an array of those (read whole)'),
    'The format is detected from the content unless --format says.',
    '',
    `Output (-o, --output; the output setting): ${OUTPUT_FORMATS.join(', ')}.`,
    row('table', 'aligned columns for people (the default on a terminal; --wide: cells not cut)'),
    row('tsv', 'tab-separated with a header (the default off a terminal)'),
    row('csv', 'RFC 4180, for spreadsheets'),
    row('json', 'one array, for jq and scripts'),
    row('ndjson', 'one JSON object per line, streamed: the format to pipe and re-read'),
    'Data goes to stdout; progress, summaries, warnings and errors to stderr.',
    '',
  ].join('\n');
}

const TOPIC_TEXTS: Readonly<Record<HelpTopic, (program: Command) => string>> = {
  options: optionsHelp,
  configuration: configurationHelp,
  environment: environmentHelp,
  security: securityHelp,
  formats: formatsHelp,
  'exit-codes': exitCodesHelp,
  recipes: recipesHelp,
};

/**
 * Adds the help topics to the program as hidden commands, and lists them under the root help.
 * Call it from buildProgram after the commands are added; calling it twice does nothing.
 */
export function addHelpTopics(program: Command): Command {
  if (program.commands.some((c) => c.name() === HELP_TOPICS[0])) return program;
  for (const topic of HELP_TOPICS) {
    const text = (): string => TOPIC_TEXTS[topic](program);
    const command = new Command(topic)
      .summary(TOPIC_SUMMARIES[topic])
      .description(TOPIC_SUMMARIES[topic])
      .helpCommand(false)
      .configureHelp({ formatHelp: () => text() })
      .exitOverride()
      .configureOutput(program.configureOutput())
      .action(() => {
        program.configureOutput().writeOut?.(text());
      });
    program.addCommand(command, { hidden: true });
  }
  program.addHelpText('after', helpTopicsList());
  return program;
}
