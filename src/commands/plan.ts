/**
 * `im-attrs plan`: what it would take to make the server match a desired-state file, shown and
 * saved, nothing written. desired records → read exactly those accounts (attributes, and tags
 * when the desired state has them) → per-account diff → stdout, counts on stderr, --out plan.
 * The work is in src/jobs/plan.ts (shared with `apply --file`); `apply PLAN` writes it.
 */
import { Command } from 'commander';
import { ChangesPendingError, partial, UsageError } from '../errors.js';
import { openRecordInputs, parseColumnFlags, type ColumnFlags } from '../input/records.js';
import { recordInputSpecs } from '../jobs/attr-writes.js';
import { addDesiredOptions, addPlanEngineOptions, makePlan, openPlanFile, type PlanFlags } from '../jobs/plan.js';
import { withRun, type EngineFlags } from '../jobs/run.js';
import type { Runtime } from '../runtime/runtime.js';
import { plural } from '../util/text.js';

export interface PlanOptions extends EngineFlags, PlanFlags, ColumnFlags {
  out?: string;
  detailedExitcode?: boolean;
}

const EXAMPLES = `
Examples:
  $ im-attrs plan --file desired.ndjson
  $ im-attrs plan --file crm.csv --id-column user_id --columns city,level --prune --out plan.ndjson
  $ im-attrs plan --file deadlines.ndjson --tag-prefix deadline: --out plan.ndjson
  $ im-attrs plan --file crm.csv --id-column user_id --map crm_city=city --columns crm_city,level --detailed-exitcode --out plan.ndjson; echo $?
  $ jq -c 'select(.To_Account) | {To_Account, set}' plan.ndjson
`;

/** What plan and apply --file say when no desired state is given. */
export const NO_DESIRED = {
  message: 'no desired state given',
  hint: 'give the records the server should match: im-attrs plan --file desired.ndjson (or a CRM export: --file crm.csv --id-column user_id)',
};

export function newPlanCommand(rt: Runtime): Command {
  const command = new Command('plan')
    .summary('show what it takes to make the server match a desired-state file; write nothing')
    .description(
      'Compare a desired state with the server and show the difference, writing nothing (terraform plan, kubectl diff).\n\n' +
        'The desired state is records, as `set` and `tags set` read them: ndjson/json ({"To_Account":"alice","Attrs":{"city":"Lyon"},"Tags":["vip"]}, ' +
        'either key may be left out), csv/tsv with an account column, attribute columns and an optional "tags" column. A CRM export fits with ' +
        '--id-column (its account column), --columns (the columns to read) and --map (a column read as an attribute). An empty cell gives no value.\n\n' +
        'It reads the current attributes (and tags, when the desired state has tags) of exactly those accounts, attributes and tags in parallel, ' +
        'each endpoint at its own limit, and per account computes: attributes to set (new or changed); with --prune, attributes to remove ' +
        '(on the server, not in the desired record, among the attributes the record speaks for); tags to add and remove (a record\'s list is its ' +
        'whole set of tags; with --tag-prefix only tags with that prefix change).\n\n' +
        'stdout: one line per change: "~ alice  city: Paris → Lyon", "+ bob  level=gold", "- carol  sex", "+ dave  tag vip", "- dave  tag beta". ' +
        'stderr: the counts. --out writes the plan (ndjson: a header with the app, one line per changed account with its changes and the state ' +
        'they were computed from, a last line with the counts), for `im-attrs apply PLAN` and for jq.\n\n' +
        'Accounts that could not be read are failures (named on stderr, --save-failed, exit 5), never "unchanged". Exit 0 when nothing fails; ' +
        'with --detailed-exitcode, 0 means the server already matches and 6 means changes are pending.',
    );
  addDesiredOptions(command)
    .option('-o, --out <path>', 'write the plan here (ndjson; `im-attrs apply <path>` applies it)')
    .option('--detailed-exitcode', 'exit 6 when there are changes to apply, 0 when there are none (as terraform plan -detailed-exitcode)');
  addPlanEngineOptions(command);
  command.addHelpText('after', EXAMPLES);
  command.action(async (options: PlanOptions) => planRun(rt, options));
  return command;
}

export async function planRun(rt: Runtime, options: PlanOptions): Promise<void> {
  if (options.tagPrefix === '') throw new UsageError('--tag-prefix is empty', { hint: 'give the prefix of the tags to manage, e.g. --tag-prefix deadline:' });
  const columns = parseColumnFlags(options);
  const inputs = await openRecordInputs(recordInputSpecs(rt, false, options.file, NO_DESIRED), options.format);
  try {
    await withRun(rt, options, async (run) => {
      const out = options.out ? await openPlanFile(run, options.out) : undefined;
      let outcome;
      try {
        outcome = await makePlan(run, inputs, { ...options, columns }, out);
      } catch (error) {
        await out?.discard();
        throw error;
      }
      // A plan of the accounts that were read is still a plan; an interrupted or failed run leaves none.
      if (outcome.error !== undefined && !partial(outcome.error)) {
        await out?.discard();
        throw outcome.error;
      }
      const changed = outcome.counts.changed;
      if (out && (await out.commit())) rt.info(`wrote the plan to ${options.out}${changed ? `: apply it with im-attrs apply ${options.out}` : ' (no changes)'}`);
      if (outcome.error !== undefined) throw outcome.error;
      if (changed === 0) rt.info('no changes: the server matches the desired state');
      else if (options.detailedExitcode) {
        throw new ChangesPendingError(`${plural(changed, 'account')} to change`, { hint: options.out ? `apply them: im-attrs apply ${options.out}` : 'write the plan with --out FILE, then im-attrs apply FILE' });
      }
    });
  } finally {
    await inputs.close();
  }
}
