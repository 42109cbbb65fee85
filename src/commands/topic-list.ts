/**
 * The help topics' names and summaries: what the root help lists under "Help topics:". Kept apart
 * from their texts (help-topics.ts) so that the root help loads neither those texts nor what
 * they quote (defaults of the client, settings, output formats).
 */

/** Names of the topics, for `help <topic>` completion and the README generator. */
export const HELP_TOPICS = ['environment', 'exit-codes'] as const;
export type HelpTopic = (typeof HELP_TOPICS)[number];

export const TOPIC_SUMMARIES: Readonly<Record<HelpTopic, string>> = {
  environment: 'environment variables im-attrs reads',
  'exit-codes': 'what each exit status means',
};

/** The "Help topics:" block of the root help. */
export function helpTopicsList(): string {
  const width = Math.max(...HELP_TOPICS.map((t) => `im-attrs help ${t}`.length)) + 2;
  return ['', 'Help topics:', ...HELP_TOPICS.map((t) => `  ${`im-attrs help ${t}`.padEnd(width)}${TOPIC_SUMMARIES[t]}`)].join('\n');
}
