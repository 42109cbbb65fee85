/**
 * `im-attrs tags`: the other half of push targeting. `tags get` prints accounts' tags (input as
 * for `get`); `tags add`, `tags remove` and `tags set` write them (one account from arguments,
 * many with the same --tags, or tag records as `tags get` prints them); `tags clear` removes all.
 * Every subcommand goes through the family's operation (`--api`) and the one job runner.
 */
import path from 'node:path';
import { Command } from 'commander';
import { MAX_APP_TAGS, MAX_TAG_BYTES, MAX_TAGS_PER_ADD_CALL, MAX_TAGS_PER_USER } from '../api/facts.js';
import type { TagEntry } from '../api/tags.js';
import { readAccounts } from '../input/accounts.js';
import { UsageError } from '../errors.js';
import { accountIds, accountSources } from '../input/sources.js';
import { addEngineOptions, runJob } from '../jobs/runner.js';
import { withRun, type EngineFlags, type Run } from '../jobs/run.js';
import { addTagWriteOptions, applyTagEntries, applyTagRecordFiles, checkArgumentTags, tagBeforeState, tagRecordSpecs } from '../jobs/tag-writes.js';
import { splitTagsCell } from '../model.js';
import { createWriter, type RecordWriter } from '../output/index.js';
import type { RecordFormat } from '../input/records.js';
import type { Runtime } from '../runtime/runtime.js';
import type { TagMode } from '../input/tag-records.js';
import { collect, thousands } from '../util/text.js';
import { CONFIRM_ABOVE_ACCOUNTS, confirmBigWrite, toAsync } from '../jobs/attr-writes.js';
import { addAccountFileOptions, addOutputOptions, resolveOutputFormat, tableLayout, type ReadOptions } from '../jobs/read-options.js';

export interface TagsGetOptions extends EngineFlags, ReadOptions {
  file?: string[];
}

export interface TagsWriteOptions extends EngineFlags {
  file?: string[];
  tags?: string;
  format?: RecordFormat;
  strict?: boolean;
  dryRun?: boolean;
}

const LIMITS =
  `Limits checked before sending: a tag is 1-${MAX_TAG_BYTES} bytes, a user has at most ${MAX_TAGS_PER_USER} tags; ` +
  `at most ${MAX_TAGS_PER_ADD_CALL} tags per user go in one add call (a longer list is split over several calls, in order), ` +
  `at most 100 accounts per call. On TIMPush an app has at most ${MAX_APP_TAGS.toLocaleString('en-US')} distinct tags: ` +
  'a run that would add more warns first.';

const RECORDS =
  'Records are what `im-attrs tags get --output …` prints: ndjson ({"To_Account":"u1","Tags":["vip","gold"]} per line), ' +
  'json (one array of those), csv or tsv with the header account,tags where the tags cell is comma-separated ' +
  '("\\," and "\\\\" for a comma or backslash inside a tag), so `tags get --output X > f` then `tags set --file f` ' +
  'gives back exactly the same tags for X = ndjson, json, csv, tsv. A bad record is reported with its line number ' +
  'before anything is sent and skipped (--strict: nothing is sent). An account on several lines is sent once, at its ' +
  'last line (add/remove: the lists joined; set: the last list).';

export function newTagsCommand(rt: Runtime): Command {
  const command = new Command('tags')
    .summary('print, add, remove, replace or clear the push tags of accounts')
    .description(
      'Print and change the push tags of accounts (tagged push targets them).\n\n' +
        'tags get prints them; tags add, tags remove and tags set change them; tags clear removes them all. ' +
        'Every subcommand works on either API family (--api all_member_push|timpush).',
    );
  command.addCommand(newTagsGetCommand(rt));
  for (const mode of ['add', 'remove', 'set'] as const) command.addCommand(newTagsWriteCommand(rt, mode));
  command.addCommand(newTagsClearCommand(rt));
  return command;
}

function newTagsGetCommand(rt: Runtime): Command {
  const command = new Command('get')
    .summary('print the tags of accounts, in input order')
    .description(
      'Print the tags of accounts, in input order.\n\n' +
        'Accounts come from the arguments, --file (repeatable) and stdin, as for `get`. json and ndjson print ' +
        '{"To_Account":"u1","Tags":["vip"]} (as the API names them), tsv and csv the columns account,tags with the ' +
        'tags comma-separated ("\\," and "\\\\" inside a tag); `tags set --file` reads every one of them back.',
    )
    .argument('[accounts...]', 'account IDs; "-" reads stdin');
  addAccountFileOptions(command);
  addOutputOptions(command);
  addEngineOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ im-attrs tags get alice bob
  $ im-attrs tags get --file ids.txt --output ndjson > tags.ndjson
`,
  );
  command.action(async (accounts: string[], options: TagsGetOptions) => {
    await tagsGetRun(rt, accounts, options);
  });
  return command;
}

export async function tagsGetRun(rt: Runtime, args: string[], options: TagsGetOptions): Promise<void> {
  const format = await resolveOutputFormat(rt, options);
  const sources = accountSources(rt, args, (options.file ?? []).map((f) => path.resolve(rt.deps.cwd, f)));
  const getTags = await rt.operation('getTags');
  let writer: RecordWriter | undefined;
  const items = await accountIds(rt, sources, options.idColumn);
  await withRun(rt, options, (run) =>
    runJob(run, {
      operation: getTags,
      verb: 'tags get',
      items,
      total: sources.every((s) => s.kind === 'arg') ? new Set(args.filter((a) => a !== '-')).size : undefined,
      before: async (out) => {
        writer = createWriter(format, { out, fields: { attrs: false, tags: true }, ...tableLayout(rt, options) });
      },
      onResults: (records) => {
        for (const record of records) writer!.write({ To_Account: record.To_Account, Attrs: {}, Tags: record.Tags });
      },
      finish: () => writer?.end(),
    }),
  );
}

const WRITE_TEXT: Record<TagMode, { summary: string; what: string; examples: string }> = {
  add: {
    summary: 'add tags to accounts',
    what: 'Add tags to accounts (tags an account already has stay; adding one it has is not an error).',
    examples: `
Examples:
  $ im-attrs tags add alice vip gold
  $ im-attrs tags add --file ids.txt --tags vip,beta --dry-run
  $ im-attrs tags add --file tags.ndjson --save-failed failed.ndjson || im-attrs tags add --file failed.ndjson
`,
  },
  remove: {
    summary: 'remove tags from accounts',
    what: 'Remove tags from accounts (removing a tag an account does not have is not an error).',
    examples: `
Examples:
  $ im-attrs tags remove alice beta
  $ im-attrs tags remove --file churned.txt --tags vip
`,
  },
  set: {
    summary: "replace accounts' tags (not atomic on all_member_push)",
    what:
      "Replace accounts' tags: afterwards each account has exactly the tags given (an empty list: none).\n\n" +
      'On TIMPush this is one add_tag with Replace: 1 per account (atomic per account). all_member_push has no ' +
      'replace, so there it is NOT atomic: first every tag of the accounts is removed (im_remove_all_tags), then ' +
      'the new tags are added (im_add_tag); an account whose removal failed is not added and is reported as failed, ' +
      'and one whose add failed is left with no tags until you re-run the saved records (--save-failed).',
    examples: `
Examples:
  $ im-attrs tags set alice vip gold
  $ im-attrs tags get --file ids.txt --output csv > before.csv && im-attrs tags set --file before.csv
  $ im-attrs tags set --file tags.ndjson --api timpush --dry-run
`,
  },
};

function newTagsWriteCommand(rt: Runtime, mode: TagMode): Command {
  const text = WRITE_TEXT[mode];
  const command = new Command(mode)
    .summary(text.summary)
    .description(
      `${text.what}\n\n` +
        `Three kinds of input: one account and its tags as arguments (im-attrs tags ${mode} alice vip gold); ` +
        `accounts (arguments, --file one ID per line, stdin, as for \`get\`) with the same --tags; or, without ` +
        `--tags, tag records from --file or stdin. ${RECORDS}\n\n${LIMITS}\n\n` +
        'The summary on stderr counts accounts updated, records skipped and accounts failed; exit 5 when any record ' +
        'was skipped or any account failed.',
    )
    .argument('[account]', 'the account (or "-": read stdin); with --tags, the first of the accounts')
    .argument('[tags...]', 'its tags; with --tags, more accounts')
    .option('--tags <tags>', 'the same tags for every account given, comma-separated ("\\," for a comma inside a tag) (default: none: --file and stdin hold records)')
    .option('-f, --file <path>', 'account IDs (with --tags) or records (without) from a file; "-" is stdin (repeatable) (default: stdin when it is not a terminal)', collect);
  addTagWriteOptions(command, mode);
  command.addHelpText('after', text.examples);
  command.action(async (account: string | undefined, rest: string[], options: TagsWriteOptions) => {
    await tagsWriteRun(rt, mode, account, rest, options);
  });
  return command;
}


export async function tagsWriteRun(rt: Runtime, mode: TagMode, account: string | undefined, rest: readonly string[], options: TagsWriteOptions): Promise<void> {
  if (options.tags !== undefined) {
    // Accounts with the same tags: arguments, --file (IDs), stdin.
    if (options.format) throw new UsageError('--format is for records; with --tags, --file and stdin hold account IDs, one per line');
    const tags = checkArgumentTags(splitTagsCell(options.tags));
    if (tags.length === 0 && mode !== 'set') throw new UsageError('--tags names no tag', { hint: 'e.g. --tags vip,gold' });
    const args = account === undefined ? [...rest] : [account, ...rest];
    const files = options.file ?? [];
    const stdinArgs = files.includes('-') && !args.includes('-') ? [...args, '-'] : args;
    const sources = accountSources(
      rt,
      stdinArgs,
      files.filter((f) => f !== '-').map((f) => path.resolve(rt.deps.cwd, f)),
    );
    // A set that may run twice over its input (clear, then add) cannot stream stdin twice.
    const ids = mode === 'set' ? await collectIds(readAccounts(sources, { onWarning: (m) => rt.warn(m) })) : undefined;
    const entries = (): AsyncIterable<TagEntry> =>
      ids
        ? toAsync(ids.map((id) => ({ account: id, tags })))
        : (async function* () {
            for await (const id of readAccounts(sources, { onWarning: (m) => rt.warn(m) })) yield { account: id, tags };
          })();
    await withRun(rt, options, (run) =>
      applyTagEntries(run, {
        mode,
        entries,
        total: ids?.length ?? (sources.every((s) => s.kind === 'arg') ? new Set(args.filter((a) => a !== '-')).size : undefined),
        bad: 0,
        distinctTags: new Set(tags),
      }),
    );
    return;
  }
  if (account !== undefined && account !== '-') {
    // One account and its tags.
    if (options.file?.length) throw new UsageError(`give an account with its tags, or --file records, not both`, { hint: `im-attrs tags ${mode} alice vip gold` });
    if (options.format) throw new UsageError('--format is for records from --file or stdin, not arguments');
    if (account.trim() === '') throw new UsageError('the account is empty');
    if (rest.length === 0) {
      throw new UsageError(`which tags? name them after the account`, {
        hint: mode === 'set' ? `im-attrs tags set ${account} vip gold (to remove every tag: im-attrs tags clear ${account})` : `im-attrs tags ${mode} ${account} vip gold`,
      });
    }
    const tags = checkArgumentTags(rest, account);
    const entry: TagEntry = { account: account.trim(), tags };
    await withRun(rt, options, (run) => applyTagEntries(run, { mode, entries: () => toAsync([entry]), total: 1, bad: 0, distinctTags: new Set(tags) }));
    return;
  }
  if (rest.length > 0) throw new UsageError(`tags need an account first, not "-"`, { hint: `im-attrs tags ${mode} alice vip gold` });
  await applyTagRecordFiles(rt, mode, tagRecordSpecs(rt, account === '-', options.file, mode), options);
}

async function collectIds(ids: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const id of ids) all.push(id);
  return all;
}

export interface TagsClearOptions extends EngineFlags {
  file?: string[];
  dryRun?: boolean;
  yes?: boolean;
}

function newTagsClearCommand(rt: Runtime): Command {
  const command = new Command('clear')
    .summary('remove every tag of accounts')
    .description(
      'Remove every tag of accounts (all_member_push im_remove_all_tags, TIMPush clear_all_tags).\n\n' +
        'Accounts come from the arguments, --file (repeatable, one ID per line) and stdin, as for `get`. ' +
        'Keep a copy first if you may want them back: im-attrs tags get … --output ndjson > tags.ndjson.',
    )
    .argument('[accounts...]', 'account IDs; "-" reads stdin')
    .option('-f, --file <path>', 'read account IDs from a file, one per line; "-" is stdin (repeatable)', collect)
    .option('--dry-run', 'print the requests it would send, on stdout; send nothing')
    .option('-y, --yes', `do not ask before clearing more than ${thousands(CONFIRM_ABOVE_ACCOUNTS)} accounts on a terminal`);
  addEngineOptions(command, { kind: 'ids' });
  command.addHelpText(
    'after',
    `
Examples:
  $ im-attrs tags clear alice bob
  $ im-attrs tags get --file churned.txt --output ndjson > kept.ndjson && im-attrs tags clear --file churned.txt
`,
  );
  command.action(async (accounts: string[], options: TagsClearOptions) => {
    await tagsClearRun(rt, accounts, options);
  });
  return command;
}

export async function tagsClearRun(rt: Runtime, args: string[], options: TagsClearOptions): Promise<void> {
  const files = options.file ?? [];
  const stdinArgs = files.includes('-') && !args.includes('-') ? [...args, '-'] : args;
  const sources = accountSources(
    rt,
    stdinArgs,
    files.filter((f) => f !== '-').map((f) => path.resolve(rt.deps.cwd, f)),
  );
  const clear = await rt.operation('clearTags');
  await withRun(rt, options, (run: Run) =>
    runJob(run, {
      operation: clear,
      verb: 'tags clear',
      items: confirmBigWrite<string>(run, (count) => `tags clear ${count} accounts? Every tag of each is removed.`)(readAccounts(sources, { onWarning: (m) => rt.warn(m) })),
      total: sources.every((s) => s.kind === 'arg') ? new Set(args.filter((a) => a !== '-')).size : undefined,
      // --file reads account IDs here: save them so.
      saveLine: (account) => account,
      beforeState: tagBeforeState(run, (account: string) => account),
    }).then(() => undefined),
  );
}
