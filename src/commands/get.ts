/**
 * `im-attrs get`: account IDs in, push attributes out, in input order.
 * accounts (args, --file, stdin) → batches of ≤ 100 → im_get_attr → writer → stdout.
 */
import { Command } from 'commander';
import { namesInSlotOrder } from '../api/attrs.js';
import { targetingOperation } from '../api/composite.js';
import { accountIds, accountSources } from '../input/sources.js';
import { countAccounts } from '../input/id-files.js';
import { addAccountFileOptions, addOutputOptions, resolveOutputFormat, tableLayout, type ReadOptions } from '../jobs/read-options.js';
import { UsageError } from '../errors.js';
import type { AttrRecord } from '../model.js';
import { createWriter, type RecordWriter } from '../output/index.js';
import type { Runtime } from '../runtime/runtime.js';
import { addEngineOptions, runJob, type EngineFlags } from '../jobs/runner.js';
import { withRun } from '../jobs/run.js';
import { didYouMean } from '../util/suggest.js';

export interface GetOptions extends EngineFlags, ReadOptions {
  file?: string[];
  attrs?: string;
  tags?: boolean;
}

const EXAMPLES = `
Examples:
  $ im-attrs get alice bob --region sgp
  $ im-attrs get --file ids.txt --output csv > attrs.csv
  $ cut -f1 users.tsv | im-attrs get --output ndjson | jq -r 'select(.Attrs.city=="Paris") | .To_Account'
  $ im-attrs get --file ids.txt --save-failed failed.txt || im-attrs get --file failed.txt
  $ im-attrs get alice bob --tags --output ndjson
`;

export function newGetCommand(rt: Runtime): Command {
  const command = new Command('get')
    .summary('print the push attributes of accounts, in input order')
    .description(
      'Print the push attributes of accounts, in input order.\n\n' +
        'Accounts come from the arguments, from --file (repeatable) and from stdin ("-", or when no ' +
        'account is given and stdin is not a terminal): one ID per line, blanks and duplicates skipped; ' +
        'a CSV/TSV file with a header, ndjson or json (get\'s own output, a --failures report, a CRM export) gives ' +
        'its To_Account or account column, or the one --id-column names. ' +
        'They are sent in batches of at most 100, paced under the API limit of 100 calls/s, retried on ' +
        'transient errors. Results stream as batches complete, in every format (the table sizes its columns from the first batch).',
    )
    .argument('[accounts...]', 'account IDs; "-" reads stdin');
  addAccountFileOptions(command);
  addOutputOptions(command)
    .option('--attrs <names>', 'only these attributes, comma-separated; table/tsv/csv columns in this order (default: all, columns in the app\'s slot order)')
    .option('--tags', 'also the tags of each account, in the same record ("Tags" in json/ndjson, a last "tags" column): two calls per batch (get_attr and get_tag)');
  addEngineOptions(command);
  command.addHelpText('after', EXAMPLES);
  command.action(async (accounts: string[], options: GetOptions) => {
    await getRun(rt, accounts, options);
  });
  return command;
}

export async function getRun(rt: Runtime, args: string[], options: GetOptions): Promise<void> {
  const format = await resolveOutputFormat(rt, options);
  const sources = accountSources(rt, args, options.file);
  const ids = await accountIds(rt, sources, options.idColumn);
  const explicitColumns = options.attrs === undefined ? undefined : parseAttrList(options.attrs);
  const [getAttrNames, getAttrs] = [await rt.operation('getAttrNames'), await rt.operation('getAttrs')];
  // --tags: the same accounts' tags in the same records, a composite of two calls per batch.
  const operation = options.tags ? targetingOperation(getAttrs, await rt.operation('getTags'), { attrs: true, tags: true }) : getAttrs;
  const fields = options.tags ? { attrs: true, tags: true } : undefined;
  let writer: RecordWriter | undefined;
  // Arguments and regular files: a total (lines counted up front) for the progress line's ETA.
  const total = await countAccounts(sources, options.idColumn);
  await withRun(rt, options, (run) =>
    runJob(run, {
      operation,
      verb: 'get',
      items: ids,
      total,
      // Runs once --save-failed is open: if it fails, every account is saved as not done.
      before: async (out) => {
        // json's document starts now, so that it is valid JSON ([] at least) whatever happens next.
        const unknown = new Set<string>();
        const onUnknownColumn = (name: string): void => {
          if (unknown.has(name)) return;
          unknown.add(name);
          if (!explicitColumns) rt.warn(`attribute "${name}" is not one of the app's attribute names; left out of the ${format} output`);
        };
        if (format === 'json') writer = createWriter(format, { out, fields, ...tableLayout(rt, options), onUnknownColumn });
        let columns = explicitColumns;
        if (columns !== undefined || (format !== 'json' && format !== 'ndjson')) {
          // tsv and csv print their header first, so the columns must be known before any result:
          // the app's attribute names (one extra call, at most 10 names), in slot order. With
          // --attrs, the same call tells which of the names given the app does not have.
          const appNames = namesInSlotOrder(await run.call(getAttrNames, undefined));
          // A typo is an error, as it is for set and remove: it would print an empty column.
          const unknownNames = (columns ?? []).filter((name) => !appNames.includes(name));
          if (unknownNames.length > 0) {
            throw new UsageError(unknownNames.map((name) => `--attrs: "${name}" is not one of the app's attributes${didYouMean(name, appNames)}`).join('; '), {
              hint: `the app's attributes are ${appNames.join(', ')} (im-attrs names)`,
            });
          }
          columns ??= appNames;
        }
        writer ??= createWriter(format, { out, columns, fields, ...tableLayout(rt, options), onUnknownColumn });
      },
      onResults: (records) => {
        const picked = explicitColumns ? records.map((record) => pick(record, explicitColumns)) : records;
        if (writer!.writeAll) writer!.writeAll(picked);
        else for (const record of picked) writer!.write(record);
        writer!.flush?.();
      },
      // The output is always completed (the JSON array closed, the table's rows printed), even after an error.
      finish: () => writer?.end(),
    }),
  );
}

/** `--attrs sex,city`: names in order, blanks and repeats dropped. */
function parseAttrList(text: string): string[] {
  return [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
}

/** Only the chosen attributes (json and ndjson too, not just the table columns). */
function pick(record: AttrRecord, names: readonly string[]): AttrRecord {
  const attrs: Record<string, string> = {};
  for (const name of names) if (Object.hasOwn(record.Attrs, name)) attrs[name] = record.Attrs[name]!;
  return record.Tags === undefined ? { To_Account: record.To_Account, Attrs: attrs } : { To_Account: record.To_Account, Attrs: attrs, Tags: record.Tags };
}
