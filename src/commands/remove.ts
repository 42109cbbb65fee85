/**
 * `im-attrs remove`: push attributes out, by name. Two kinds of input:
 * - with `--attrs sex,city`: account IDs (arguments, --file, stdin, as for `get`), every one
 *   losing the same attributes;
 * - without: records from --file or stdin (ndjson/json with `Attrs` a list of names or an
 *   object whose values are ignored; csv/tsv where a non-empty cell marks the attribute), so
 *   the file a `set` loaded also undoes it.
 * → batches of ≤ 100 → im_remove_attr, through the same engine, summary and --save-failed as set.
 */
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Entry, RecordFormat } from '../input/records.js';
import type { Runtime } from '../runtime/runtime.js';
import { withRun, type EngineFlags } from '../jobs/run.js';
import { accountIds, accountSources } from '../input/sources.js';
import { addIdColumnOption, countAccounts } from '../input/id-files.js';
import { addRecordOptions, applyEntries, applyRecordFiles, checkArgumentAttrs, fetchAppNames, NO_RECORDS, recordInputSpecs } from '../jobs/attr-writes.js';
import { collect } from '../util/text.js';

export interface RemoveOptions extends EngineFlags {
  attrs?: string;
  file?: string[];
  format?: RecordFormat;
  strict?: boolean;
  dryRun?: boolean;
  idColumn?: string;
  backup?: string;
  yes?: boolean;
}

const EXAMPLES = `
Examples:
  $ im-attrs remove alice bob --attrs sex,city
  $ im-attrs remove --file churned.txt --attrs level --dry-run
  $ im-attrs remove --file crm-export.csv
  $ echo '{"To_Account":"alice","Attrs":["city"]}' | im-attrs remove
`;

export function newRemoveCommand(rt: Runtime): Command {
  const command = new Command('remove')
    .summary('remove push attributes of accounts, by name')
    .description(
      'Remove push attributes of accounts, by name.\n\n' +
        'With --attrs, the accounts come from the arguments, from --file (repeatable: one ID per line, or the ' +
        'account column of CSV/TSV/ndjson/json, --id-column) and ' +
        'from stdin, as for `get`, and each loses those attributes. Without --attrs, --file and stdin hold ' +
        'records: ndjson or json with "Attrs" a list of names ({"To_Account":"u1","Attrs":["city"]}) or an ' +
        'object whose values are ignored (what `get` prints), or csv/tsv with the header account,<name>… where ' +
        'a non-empty cell marks that attribute for removal, so the file a `set` loaded also undoes it.\n\n' +
        'Every name must be one of the app\'s attribute names (fetched once); a bad record is reported with its ' +
        'line number and skipped (--strict: nothing is sent). Removing an attribute an account does not ' +
        'have is not an error. Summary and exit codes as for `set`.',
    )
    .argument('[accounts...]', 'account IDs (with --attrs); "-" reads stdin')
    .option('--attrs <names>', 'comma-separated attribute names to remove from every account given (default: none: --file and stdin hold records)')
    .option('-f, --file <path>', 'account IDs (with --attrs) or records (without) from a file; "-" is stdin (repeatable) (default: stdin when it is not a terminal)', collect);
  addIdColumnOption(command);
  addRecordOptions(command, 'remove');
  command.addHelpText('after', EXAMPLES);
  command.action(async (accounts: string[], options: RemoveOptions) => {
    await removeRun(rt, accounts, options);
  });
  return command;
}

/** `--attrs a,b`: trimmed, blanks and repeats dropped. */
function parseAttrList(text: string): string[] {
  const names = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  if (names.length === 0) throw new UsageError('--attrs names no attribute', { hint: 'e.g. --attrs sex,city' });
  return names;
}

export async function removeRun(rt: Runtime, args: string[], options: RemoveOptions): Promise<void> {
  if (options.attrs === undefined) {
    const ids = args.filter((a) => a !== '-');
    if (ids.length > 0) {
      throw new UsageError('which attributes? name them with --attrs', { hint: `im-attrs remove ${ids.join(' ')} --attrs sex,city` });
    }
    if (options.idColumn) throw new UsageError('--id-column is for account lists, with --attrs: im-attrs remove --file users.csv --id-column user_id --attrs level');
    await applyRecordFiles(rt, 'remove', recordInputSpecs(rt, args.includes('-'), options.file, NO_RECORDS.remove), options);
    return;
  }
  if (options.format) throw new UsageError('--format is for records; with --attrs, --file and stdin hold account IDs, one per line');
  const names = parseAttrList(options.attrs);
  const files = options.file ?? [];
  if (args.length === 0 && files.length === 0 && rt.deps.io.stdinIsTTY) {
    throw new UsageError('no accounts given', {
      hint: `name them (im-attrs remove alice bob --attrs ${options.attrs}), use --file ids.txt, or pipe them: cut -f1 users.tsv | im-attrs remove --attrs ${options.attrs}`,
    });
  }
  // "-" among the files is stdin, as it is among the arguments; record files give their account column.
  const sources = accountSources(rt, args, files);
  const ids = await accountIds(rt, sources, options.idColumn);
  await withRun(rt, options, async (run) => {
    checkArgumentAttrs(new Map(names.map((n) => [n, ''])), await fetchAppNames(run), 'remove');
    // Account lists stream in one pass, as for `get`: there is nothing in an ID to check first.
    async function* entries(): AsyncGenerator<Entry> {
      for await (const account of ids) {
        yield { account, attrs: new Map(names.map((n) => [n, ''])) };
      }
    }
    const total = await countAccounts(sources, options.idColumn);
    await applyEntries(run, { verb: 'remove', entries: entries(), total, bad: 0, backup: options.backup });
  });
}
