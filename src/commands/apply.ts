/**
 * `im-attrs apply PLAN`: write exactly what a plan (`im-attrs plan --out PLAN`) says, refusing
 * accounts whose state moved since; `apply --file desired`: plan, show, confirm and apply in one.
 * The work is in src/jobs/apply.ts and src/jobs/plan.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { partial, UsageError } from '../errors.js';
import { openRecordInputs, parseColumnFlags, type ColumnFlags } from '../input/records.js';
import { applyPlan, checkPlanTarget } from '../jobs/apply.js';
import { recordInputSpecs } from '../jobs/attr-writes.js';
import { addDesiredOptions, makePlan, type PlanFlags } from '../jobs/plan.js';
import { addEngineOptions } from '../jobs/runner.js';
import { withRun, type EngineFlags, type WriteFlags } from '../jobs/run.js';
import { checkPlan } from '../plan/file.js';
import type { Runtime } from '../runtime/runtime.js';
import { SafeFile } from '../util/safe-file.js';
import { plural } from '../util/text.js';
import { NO_DESIRED } from './plan.js';

export interface ApplyOptions extends EngineFlags, WriteFlags, PlanFlags, ColumnFlags {
  /** --no-refresh sets it false. */
  refresh?: boolean;
}

const EXAMPLES = `
Examples:
  $ im-attrs plan --file crm.csv --id-column user_id --columns city,level --prune --out plan.ndjson
  $ im-attrs apply plan.ndjson --dry-run
  $ im-attrs apply plan.ndjson --yes --failures not-applied.ndjson
  $ im-attrs apply --file desired.ndjson --prune
  $ im-attrs undo last
`;

export function newApplyCommand(rt: Runtime): Command {
  const command = new Command('apply')
    .summary('write the changes of a plan (or plan and apply a desired-state file in one)')
    .description(
      'Write exactly the changes of a plan made by `im-attrs plan --out PLAN`, and nothing else: set_attr with only the changed ' +
        'attributes, remove_attr, remove_tag and add_tag (on TIMPush, add_tag with Replace: 1 when that is one call instead of two), ' +
        'in batches of up to 100 accounts, paced, retried, stoppable with Ctrl-C, like every write.\n\n' +
        'First it reads the plan\'s accounts again and compares them with the state the plan was computed from: an account whose ' +
        'attributes or tags moved since is not written; it is listed on stderr and in --failures (plan again for it). --no-refresh ' +
        'skips that read: unsafe, a change made since the plan is then overwritten.\n\n' +
        '`apply --file desired` plans, shows the diff, asks (on a terminal; --yes otherwise) and applies in one; it takes the options of `plan`.\n\n' +
        'A plan of another app or API family is refused. The apply is journaled like every write: `im-attrs undo last` restores every ' +
        'account as the plan found it (attributes that had no value removed again, tags as they were). It asks on a terminal above ' +
        '1,000 accounts (--yes skips); --dry-run prints the requests instead (the re-read still happens). Exit 5 when an account ' +
        'was not written (moved, failed or unreadable).',
    )
    .argument('[plan]', 'the plan file (`im-attrs plan --out`)')
    .option('--no-refresh', 'do not re-read the accounts before writing (unsafe: a change made on the server since the plan is overwritten)')
    .option('--dry-run', 'print the requests it would send, on stdout; send nothing')
    .option('-y, --yes', 'do not ask');
  addDesiredOptions(command);
  addEngineOptions(command, { kind: 'ids' });
  command.addHelpText('after', EXAMPLES);
  command.action(async (plan: string | undefined, options: ApplyOptions) => applyRun(rt, plan, options));
  return command;
}

export async function applyRun(rt: Runtime, plan: string | undefined, options: ApplyOptions): Promise<void> {
  if (plan !== undefined && options.file?.length) throw new UsageError('give a plan file or --file desired state, not both', { hint: 'im-attrs apply plan.ndjson, or im-attrs apply --file desired.ndjson' });
  if (plan === undefined) {
    if (!options.file?.length) throw new UsageError('no plan given', { hint: 'make one with im-attrs plan --file desired.ndjson --out plan.ndjson, then im-attrs apply plan.ndjson (or apply --file desired.ndjson in one)' });
    await applyDesired(rt, options);
    return;
  }
  if (plan === '-') throw new UsageError('a plan is read from a file, not stdin (it is read more than once)', { hint: 'im-attrs plan … --out plan.ndjson && im-attrs apply plan.ndjson' });
  const file = path.resolve(rt.deps.cwd, plan);
  const summary = await checkPlan(file, plan);
  await withRun(rt, { ...options, file: [plan] }, async (run) => {
    await checkPlanTarget(run, summary, plan);
    if (summary.accounts === 0) {
      rt.info(`the plan ${plan} has no changes: nothing to apply`);
      return;
    }
    if (options.refresh === false) rt.warn('--no-refresh: the accounts are not read again; a change made on the server since the plan is overwritten');
    await applyPlan(run, file, plan, summary, { refresh: options.refresh !== false });
  });
}

/** `apply --file`: plan into a private temporary file, show it, ask, apply it. */
async function applyDesired(rt: Runtime, options: ApplyOptions): Promise<void> {
  if (options.tagPrefix === '') throw new UsageError('--tag-prefix is empty', { hint: 'give the prefix of the tags to manage, e.g. --tag-prefix deadline:' });
  const columns = parseColumnFlags(options);
  const inputs = await openRecordInputs(recordInputSpecs(rt, false, options.file, NO_DESIRED), options.format);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'im-attrs-plan-'));
  const file = path.join(dir, 'plan.ndjson');
  try {
    await withRun(rt, options, async (run) => {
      const out = await SafeFile.open(file, 'the plan');
      const outcome = await makePlan(run, inputs, { ...options, columns }, out).catch(async (error: unknown) => {
        await out.discard();
        throw error;
      });
      if (outcome.error !== undefined && !partial(outcome.error)) {
        await out.discard();
        throw outcome.error;
      }
      await out.commit();
      const changed = outcome.counts.changed;
      if (changed === 0) {
        rt.info('no changes: nothing to apply');
      } else {
        if (!options.dryRun && !(await run.confirm(`Apply these changes to ${plural(changed, 'account')}?`, 'nothing was changed'))) {
          throw new UsageError('not confirmed; nothing was changed');
        }
        run.flags.yes = true;
        const summary = await checkPlan(file, 'the plan');
        await applyPlan(run, file, 'the plan', summary, { refresh: false, fresh: true });
      }
      if (outcome.error !== undefined) throw outcome.error;
    });
  } finally {
    await inputs.close();
    await rm(dir, { recursive: true, force: true });
  }
}
