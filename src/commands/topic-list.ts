/**
 * The help topics' names and summaries: what the root help lists under "Help topics:". Kept apart
 * from their texts (help-topics.ts) so that the root help loads neither those texts nor what
 * they quote (defaults of the client, settings, output formats).
 */

/** Names of the topics, for `help <topic>` completion and the README generator. */
export const HELP_TOPICS = ['options', 'configuration', 'environment', 'security', 'formats', 'exit-codes', 'recipes'] as const;
export type HelpTopic = (typeof HELP_TOPICS)[number];

export const TOPIC_SUMMARIES: Readonly<Record<HelpTopic, string>> = {
  options: 'the global options every command takes',
  configuration: 'the config file, profiles, and where each setting comes from',
  environment: 'environment variables im-attrs reads',
  security: 'what im-attrs trusts, what travels where, what is redacted',
  formats: 'input and output formats: account lists, records, table, tsv, csv, json, ndjson',
  'exit-codes': 'what each exit status means',
  recipes: 'everyday tasks, a few commands each',
};

/** The "Help topics:" block of the root help. */
export function helpTopicsList(): string {
  const width = Math.max(...HELP_TOPICS.map((t) => `im-attrs help ${t}`.length)) + 2;
  return ['', 'Help topics:', ...HELP_TOPICS.map((t) => `  ${`im-attrs help ${t}`.padEnd(width)}${TOPIC_SUMMARIES[t]}`)].join('\n');
}
