/**
 * `im-attrs set`: push attributes in, from `name=value` arguments for one account or from
 * records (ndjson, json, csv, tsv: what `get --output …` prints) for many.
 * input → records.ts (checked, duplicates merged) → batches of ≤ 100 → im_set_attr.
 * What set shares with remove (record input, the runner) is in src/jobs/attr-writes.ts.
 */
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { addColumnOptions, parseColumnFlags, type ColumnFlags, type RecordFormat } from '../input/records.js';
import type { Runtime } from '../runtime/runtime.js';
import { addRecordOptions, applyEntries, applyRecordFiles, checkArgumentAttrs, fetchAppNames, NO_RECORDS, recordInputSpecs, toAsync } from '../jobs/attr-writes.js';
import { withRun, type EngineFlags } from '../jobs/run.js';
import { accountIds, accountSources } from '../input/sources.js';
import { addIdColumnOption, countAccounts } from '../input/id-files.js';
import type { Entry } from '../model.js';
import { collect } from '../util/text.js';

export interface SetOptions extends EngineFlags, ColumnFlags {
  file?: string[];
  format?: RecordFormat;
  strict?: boolean;
  dryRun?: boolean;
  backup?: string;
  yes?: boolean;
}

const EXAMPLES = `
Examples:
  $ im-attrs set alice city=Paris sex=F
  $ im-attrs set --file crm-export.csv --dry-run
  $ im-attrs set --file crm.csv --id-column user_id --columns city,level --map crm_tier=level
  $ im-attrs set --file ids.txt level=gold city=
  $ im-attrs get --file ids.txt --output ndjson > backup.ndjson && im-attrs set --file backup.ndjson --profile prod
  $ im-attrs set --file big.tsv --save-failed failed.ndjson || im-attrs set --file failed.ndjson
  $ im-attrs set --file ids.txt level=gold --backup before.ndjson && im-attrs set --file before.ndjson
`;

export function newSetCommand(rt: Runtime): Command {
  const command = new Command('set')
    .summary('set push attributes of one account, or of many from records')
    .description(
      'Set push attributes: of one account from name=value arguments, or of many from records in --file ' +
        '(repeatable) or stdin. Records are what `im-attrs get --output …` prints: ndjson ' +
        '({"To_Account":"u1","Attrs":{"city":"Paris"}} per line), json (one array of those; read whole), ' +
        'csv or tsv with the header account,<name>,<name>… (an empty cell leaves that attribute unchanged). ' +
        'The format is detected from the content unless --format says.\n\n' +
        'With name=value arguments after --file (`set --file ids.txt level=gold city=`), the files hold ' +
        'accounts instead (as for `get`: one ID per line, or the account column of CSV/TSV/ndjson/json, ' +
        '--id-column) and every one gets the same attributes. With records, --id-column names their account column ' +
        '(a CRM export: `user_id,email,city,level`), --columns picks the columns to read and --map renames one to an attribute.\n\n' +
        'Before anything is sent, every record is checked: attribute names must be the app\'s (fetched ' +
        'once), values strings of at most 50 bytes, accounts non-empty (and trimmed). A bad record is reported with its ' +
        'line number and skipped (--strict: nothing is sent at all). A record with no attributes is ' +
        'skipped as "nothing to set". An account on several lines gets one request at its last line, ' +
        'the lines merged (later values win). Only the attributes given are written: the others are left ' +
        'as they are (remove them with `im-attrs remove`).\n\n' +
        'The summary on stderr counts accounts updated, records skipped and accounts failed; exit 5 when ' +
        'any record was skipped or any account failed.',
    )
    .argument('[account]', 'the account to set (or "-": read records from stdin)')
    .argument('[name=value...]', 'attributes of that account; "name=" sets an empty value')
    .option('-f, --file <path>', 'read records from a file; "-" is stdin (repeatable) (default: stdin when it is not a terminal)', collect);
  addIdColumnOption(command);
  addColumnOptions(command);
  addRecordOptions(command, 'set');
  command.addHelpText('after', EXAMPLES);
  command.action(async (account: string | undefined, assignments: string[], options: SetOptions) => {
    await setRun(rt, account, assignments, options);
  });
  return command;
}

/** `name=value` arguments → attributes, checked against the app's names. Throws a UsageError listing every problem. */
export function parseAssignments(account: string, pairs: readonly string[]): Map<string, string> {
  if (pairs.length === 0) {
    throw new UsageError(`nothing to set for ${JSON.stringify(account)}`, { hint: `give name=value pairs: im-attrs set ${account} city=Paris` });
  }
  const attrs = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`"${pair}" is not name=value`, { hint: `e.g. im-attrs set ${account} city=Paris` });
    }
    const name = pair.slice(0, eq);
    if (attrs.has(name)) throw new UsageError(`attribute ${JSON.stringify(name)} is given twice`);
    attrs.set(name, pair.slice(eq + 1));
  }
  return attrs;
}

export async function setRun(rt: Runtime, account: string | undefined, assignments: readonly string[], options: SetOptions): Promise<void> {
  if (account !== undefined && account.includes('=') && options.file?.length) {
    // `set --file ids.txt level=gold city=`: one assignment for every account read.
    await setManyRun(rt, [account, ...assignments], options);
    return;
  }
  if (account !== undefined && account !== '-') {
    // One account from the arguments.
    if (options.file?.length) throw new UsageError('give an account with name=value pairs, or --file records, not both');
    if (options.format) throw new UsageError('--format is for records from --file or stdin, not name=value arguments');
    if (account.trim() === '') throw new UsageError('the account is empty');
    const attrs = parseAssignments(account, assignments);
    await withRun(rt, options, async (run) => {
      checkArgumentAttrs(attrs, await fetchAppNames(run), 'set');
      await applyEntries(run, { verb: 'set', entries: toAsync([{ account, attrs }]), total: 1, bad: 0, backup: options.backup });
    });
    return;
  }
  if (assignments.length > 0) {
    throw new UsageError(`name=value pairs need an account first, not "-"`, { hint: 'im-attrs set alice city=Paris' });
  }
  // Records: --id-column names their account column, --map and --columns fit a CRM export's header.
  const columns = parseColumnFlags(options);
  await applyRecordFiles(rt, 'set', recordInputSpecs(rt, account === '-', options.file, NO_RECORDS.set), { ...options, columns });
}


/** `set --file ids.txt name=value…`: the same attributes for every account the files hold. */
async function setManyRun(rt: Runtime, assignments: readonly string[], options: SetOptions): Promise<void> {
  if (options.format) throw new UsageError('--format is for records; with name=value arguments, --file holds account IDs');
  if (options.map?.length || options.columns !== undefined) throw new UsageError('--map and --columns are for records; with name=value arguments, --file holds account IDs');
  const attrs = parseAssignments('<account>', assignments);
  const sources = accountSources(rt, [], options.file);
  const ids = await accountIds(rt, sources, options.idColumn);
  const total = await countAccounts(sources, options.idColumn);
  await withRun(rt, options, async (run) => {
    checkArgumentAttrs(attrs, await fetchAppNames(run), 'set');
    async function* entries(): AsyncGenerator<Entry> {
      for await (const account of ids) yield { account, attrs: new Map(attrs) };
    }
    await applyEntries(run, { verb: 'set', entries: entries(), total, bad: 0, backup: options.backup });
  });
}
