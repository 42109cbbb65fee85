/**
 * Help topics: `im-attrs help environment` and `im-attrs help exit-codes`.
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

const TOPIC_TEXTS: Readonly<Record<HelpTopic, () => string>> = {
  environment: environmentHelp,
  'exit-codes': exitCodesHelp,
};

/**
 * Adds the help topics to the program as hidden commands, and lists them under the root help.
 * Call it from buildProgram after the commands are added; calling it twice does nothing.
 */
export function addHelpTopics(program: Command): Command {
  if (program.commands.some((c) => c.name() === HELP_TOPICS[0])) return program;
  for (const topic of HELP_TOPICS) {
    const text = TOPIC_TEXTS[topic];
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
