/**
 * `im-attrs push send|revoke|stats`: send the push `audience` previewed, recall it (TIMPush), and
 * read its funnel (TIMPush all_member_push_statistics). PUSH-FAMILY.md §2 (im_push) and §3.
 *
 * A push goes to real people and counts against a small daily quota (100, 10 on TIMPush Free), so
 * `push send` is guarded:
 * - the condition and the exact request body are printed first; on a terminal it asks, without
 *   one it needs --yes (else exit 2, nothing sent); --dry-run prints the body and sends nothing;
 * - the condition and body are checked locally with the module the emulator's push uses, and
 *   attribute names against the app's, before anything is sent;
 * - a push is never sent again once the request may have reached the server (a timeout, a reset,
 *   a 5xx, an unreadable answer): a second push would reach everyone twice. That failure says
 *   "may have been sent" and how to check. Refusals the server cannot have acted on (a
 *   connection that never opened, a rate-limit code such as 90024 "less than a second apart")
 *   are retried by the policy (api/policy.ts), and the push endpoint's pacer keeps pushes a
 *   second apart (its descriptor's `callsPerSecond`);
 * - one push per run, with a fresh MsgRandom each time.
 */
import { Command } from 'commander';
import { namesInSlotOrder } from '../api/attrs.js';
import { MAX_STATS_TASKS, REVOKE_WINDOW_HOURS } from '../api/facts.js';
import type { PushStats } from '../api/push.js';
import { ApiError, PartialFailureError, UsageError } from '../errors.js';
import { addConditionOptions, attrUses, checkAttrNames, checkCondition, CONDITION_HELP, conditionFromFlags, conditionNeeds, showCondition, type ConditionFlags } from '../jobs/condition-input.js';
import { targetingOperation } from '../api/composite.js';
import { accountIds, accountSources } from '../input/sources.js';
import { matches, type Condition } from '../push/condition.js';
import { withRun, type Run } from '../jobs/run.js';
import { addEngineOptions, runJob } from '../jobs/runner.js';
import type { ListPushMessage } from '../api/push.js';
import { pushListRun, type ListPushFlags } from './push-list.js';
import { parseLifetime, pushBody, type PushContentFlags } from '../push/body.js';

export { parseLifetime, pushBody };
import { newPushEventsCommand } from './push-events.js';
import { NULL_FIELDS_NOTE, validatePushRequest } from '../push/condition.js';
import { newPushReportCommand } from './push-report.js';
import { newPushScheduleCommand } from './push-schedule.js';
import type { Runtime } from '../runtime/runtime.js';
import { writeRows, type Projection } from '../output/index.js';
import { addOutputOptions, resolveOutputFormat, tableLayout, type ReadOptions } from '../jobs/read-options.js';
import { collect, plural, thousands } from '../util/text.js';

export interface PushSendOptions extends ConditionFlags, ListPushFlags, PushContentFlags {
  roster?: string[];
  allowEmpty?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

const LIST_PUSH_HELP = `
Push to a list (--to, TIMPush only): the roster is deduplicated and sent in calls of at most
500 accounts, paced at the TIMPush edition's rate (the pushEdition setting: free 10 calls/s,
the default; standard 30; advanced 40), each call with its own MsgRandom. Every call is written
to a manifest before it leaves and after it ends; a call whose request may have arrived without
an answer is never sent again: it is named "may have been sent" (check it with push report
--manifest). --resume MANIFEST sends only what the manifest does not show as sent or started.
Accounts the answer names (70107 not imported) are failures: --save-failed, --failures, exit 5.
Prints one TaskId per call.`;

const SEND_EXAMPLES = `
Examples:
  $ im-attrs audience --tags-or vip -o ndjson | im-attrs --api timpush push send --to - --text "Hi" --yes
  $ im-attrs push send --attrs-and city=Paris --text "Bonjour Paris" --dry-run
  $ im-attrs push send --condition paris.json --text "Bonjour Paris" --lifetime 1d --yes
  $ im-attrs --api timpush push send --tags-or vip --tags-not churned --offline-title Sale --offline-desc "-20% today" --yes
`;

export function newPushCommand(rt: Runtime): Command {
  const push = new Command('push')
    .summary('send a push to every account matching a condition; recall it, read its statistics (TIMPush), receive its delivery callbacks')
    .description(
      'Send a push to all users matching a condition (im_push, or timpush/push with --api timpush), recall it and ' +
        'read its statistics (TIMPush). Preview who it reaches first with `im-attrs audience`: the same condition ' +
        'flags or --condition file.',
    );

  const send = new Command('send')
    .summary('send a push to every account matching a condition (guarded: confirmation or --yes)')
    .description(
      'Send a push to every account matching the condition (no condition: every account). The condition and the ' +
        'request body are printed first; on a terminal it asks for confirmation, without one it needs --yes. ' +
        '--dry-run prints the body and sends nothing. A push is never sent again after the request may have ' +
        'reached the server (timeout, reset, 5xx): then it says "may have been sent" and exits 1. Each run sends one ' +
        'push with a fresh MsgRandom; the API wants more than a second between pushes and allows 100 a day (10 on ' +
        'TIMPush Free). Prints the TaskId on stdout (--json: the whole answer).',
    )
    .option('--text <text>', 'the message: a text element (TIMTextElem)')
    .option('--msg-body <file>', 'the message: a JSON file holding the raw MsgBody array (instead of --text)')
    .option('--lifetime <duration>', 'offline storage (MsgLifeTime): seconds, or with s, m, h, d; at most 7d (default 0: online users only)')
    .option('--offline-title <title>', 'offline push notification title (OfflinePushInfo.Title)')
    .option('--offline-desc <text>', 'offline push notification text (OfflinePushInfo.Desc)')
    .option('--from <account>', 'the sender account (From_Account)')
    .option('-y, --yes', 'send without asking (needed when stdin is not a terminal)')
    .option('--dry-run', 'print the request body on stdout and send nothing')
    .option('--json', 'print the whole answer as JSON instead of the TaskId')
    .option('--to <file>', 'TIMPush: push to exactly these accounts instead of a condition (timpush/batch): ID lists or record files as `get` reads them, "-" is stdin (repeatable)', collect)
    .option('--id-column <name>', '--to: the account column of record files (default: To_Account or account)')
    .option('--data-id <id>', '--to: DataId passed through to the push-result callbacks (at most 64 bytes)')
    .option('--max-recipients <n>', '--to: refuse, sending nothing, when the roster has more accounts than this')
    .option('--manifest <file>', '--to: where the calls are recorded, one ndjson line each (default: im-attrs-push-<time>.manifest.ndjson here)')
    .option('--resume <manifest>', '--to: send only the calls this manifest does not show as sent or started (same roster, same message)')
    .option('--roster <file>', 'a condition push: your accounts (IDs or records, as `get` reads them); the preview and the question say how many of them the condition reaches, evaluated as `audience` does (repeatable)', collect)
    .option('--allow-empty', 'with --roster: send even when the condition reaches none of the roster');
  addConditionOptions(send);
  addEngineOptions(send, { kind: 'ids', input: '--to' });
  send.addHelpText('after', `${CONDITION_HELP}\n${LIST_PUSH_HELP}\n${NULL_FIELDS_NOTE}\n${SEND_EXAMPLES}`);
  send.action(async (options: PushSendOptions) => pushSendRun(rt, options));

  const revoke = new Command('revoke')
    .summary(`TIMPush: recall a push (within ${REVOKE_WINDOW_HOURS} h of its start)`)
    .description(
      `TIMPush only (--api timpush): recall a push within ${REVOKE_WINDOW_HOURS} hours of its start (timpush/revoke, at most 1 call/s). ` +
        'OfflinePushInfo is sent with the recall (--offline-title/--offline-desc; {} when not given).',
    )
    .argument('<taskId>', 'the TaskId `push send` printed')
    .option('--offline-title <title>', 'OfflinePushInfo.Title of the recall')
    .option('--offline-desc <text>', 'OfflinePushInfo.Desc of the recall')
    .addHelpText('after', '\nExamples:\n  $ im-attrs --api timpush push revoke 6571b7c1_53724e00_1_2a\n');
  revoke.action(async (taskId: string, options: { offlineTitle?: string; offlineDesc?: string }) => pushRevokeRun(rt, taskId, options));

  const stats = new Command('stats')
    .summary('TIMPush: total, sent, delivered and clicked per push')
    .description(
      `TIMPush only (--api timpush): the funnel of pushes (all_member_push_statistics, ${MAX_STATS_TASKS} TaskIds per call, 1 call/s): ` +
        'total, sent, delivered, clicked. Without TaskIds: every push of the last 30 days. Prints the columns task, total, sent, ' +
        'delivered, clicked in every format (json and ndjson: the API\'s Results entries, PlatformStatistics included). ' +
        'A TaskId without statistics is a failure (exit 5). For loss reasons and traces: im-attrs push report.',
    )
    .argument('[taskIds...]', 'TaskIds `push send` printed');
  addOutputOptions(stats);
  stats
    .addHelpText('after', '\nExamples:\n  $ im-attrs --api timpush push stats 6571b7c1_53724e00_1_2a\n  $ im-attrs --api timpush push stats --json\n');
  stats.action(async (taskIds: string[], options: ReadOptions) => pushStatsRun(rt, taskIds, options));

  return push.addCommand(send).addCommand(revoke).addCommand(stats).addCommand(newPushEventsCommand(rt)).addCommand(newPushScheduleCommand(rt)).addCommand(newPushReportCommand(rt));
}

export async function pushSendRun(rt: Runtime, options: PushSendOptions): Promise<void> {
  if (options.to !== undefined) {
    if (conditionFromFlags(rt.deps.cwd, options) !== undefined) throw new UsageError('--to and a condition contradict each other', { hint: 'push to a list (--to) or to a condition, not both' });
    const { MsgRandom: _random, ...message } = pushBody(rt.deps.cwd, options, undefined);
    await pushListRun(rt, message as ListPushMessage, options);
    return;
  }
  for (const flag of ['idColumn', 'dataId', 'maxRecipients', 'manifest', 'resume'] as const) {
    if (options[flag] !== undefined) throw new UsageError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for a list push (--to)`);
  }
  const family = await rt.family();
  const condition = conditionFromFlags(rt.deps.cwd, options);
  checkCondition(condition, family);
  const body = pushBody(rt.deps.cwd, options, condition);
  const problems = validatePushRequest(body, family);
  if (problems.length > 0) {
    const msgBody = problems.some((p) => p.message.includes('MsgBody'));
    throw new UsageError(`invalid push: ${problems.map((p) => `${p.message} (the API would answer ${p.code})`).join('; ')}`, {
      hint: msgBody ? 'give the message with --text or --msg-body FILE (im_push needs a MsgBody)' : undefined,
    });
  }
  const op = await rt.operation('push');
  const asking = !options.yes && !options.dryRun;
  const show = asking ? (line: string) => rt.stderr(line) : (line: string) => rt.info(line);
  const pretty = JSON.stringify(body, null, 2);
  const showRequest = (): void => {
    show(`push to: ${showCondition(condition)}`);
    if (!options.dryRun) show(`request: POST ${op.path}\n${pretty}`);
  };
  if (asking && !rt.deps.io.stdinIsTTY) {
    // Refused before any request: nothing is sent, not even the attribute-name check.
    showRequest();
    throw new UsageError('push send needs confirmation, and stdin is not a terminal: nothing was sent', {
      hint: 'check the request above (and `im-attrs audience` for who it reaches), then pass --yes; or --dry-run',
    });
  }
  await withRun(rt, options, async (run) => {
    const uses = attrUses(condition);
    if (uses.length > 0) checkAttrNames(uses, namesInSlotOrder(await run.call(await rt.operation('getAttrNames'), undefined)));
    showRequest();
    if (options.roster?.length) {
      // Who it reaches among the accounts the user knows, evaluated exactly as `audience` does.
      const reach = await reachOf(run, condition, options.roster);
      show(`reaches ${thousands(reach.matched)} of ${plural(reach.evaluated, 'account')} in the roster${reach.failed ? ` (${plural(reach.failed, 'account')} could not be read)` : ''}`);
      if (reach.matched === 0 && !options.allowEmpty) {
        throw new UsageError(`the condition reaches none of the ${plural(reach.evaluated, 'account')} in the roster; nothing was sent`, {
          hint: 'check the condition with `im-attrs audience` (values are matched exactly, case included), or pass --allow-empty',
        });
      }
    }
    if (asking && !(await run.confirm(`Send this push to every account matching ${showCondition(condition)}? It reaches real users and counts against the daily quota.`))) {
      throw new UsageError('not confirmed; nothing was sent');
    }
    // --dry-run: the body on stdout, nothing sent. A push that may have arrived is MaybeSentError, never sent again.
    const answer = await run.write(op, body, 'push send');
    if (answer === undefined) return;
    rt.deps.io.stdout.write(options.json ? `${JSON.stringify(answer.answer)}\n` : `${answer.TaskId}\n`);
    rt.info(`push sent to ${await run.target()}: TaskId ${answer.TaskId}${family === 'timpush' ? ` (statistics: im-attrs --api timpush push stats ${answer.TaskId})` : ''}`);
  });
}

export async function pushRevokeRun(rt: Runtime, taskId: string, options: { offlineTitle?: string; offlineDesc?: string }): Promise<void> {
  // operationFor throws a ConfigError (with a --api hint) for a family without it.
  const op = (await rt.operation('revokePush'))!;
  const offline: Record<string, string> = {};
  if (options.offlineTitle !== undefined) offline.Title = options.offlineTitle;
  if (options.offlineDesc !== undefined) offline.Desc = options.offlineDesc;
  await withRun(rt, {}, async (run) => {
    try {
      await run.call(op, { TaskId: taskId, OfflinePushInfo: offline });
      rt.info(`recalled: ${taskId}`);
    } catch (error) {
      // Recalled already (by us on a retry, or by someone else): what was asked for holds.
      if (error instanceof ApiError && error.apiCode === 90050) {
        rt.info(`${taskId} was already recalled`);
        return;
      }
      throw error;
    }
  });
}

/** How many of the roster's accounts `condition` matches: the targeting read of `audience`, counted. */
async function reachOf(run: Run, condition: Condition | undefined, files: readonly string[]): Promise<{ matched: number; evaluated: number; failed: number }> {
  const { rt } = run;
  const needs = conditionNeeds(condition);
  if (!needs.attrs && !needs.tags) needs.attrs = true;
  const operation = targetingOperation(await rt.operation('getAttrs'), await rt.operation('getTags'), needs);
  const items = await accountIds(rt, accountSources(rt, [], files), undefined);
  let matched = 0;
  let evaluated = 0;
  let failed = 0;
  try {
    await runJob(run, {
      operation,
      verb: 'push send --roster',
      noSave: true,
      items,
      onResults: (records) => {
        for (const record of records) {
          evaluated++;
          if (matches(condition, record.Attrs, record.Tags ?? [])) matched++;
        }
      },
    });
  } catch (error) {
    // Accounts that could not be read are counted as such; anything else ends the push here.
    if (!(error instanceof PartialFailureError)) throw error;
    failed = error.failed;
  }
  return { matched, evaluated, failed };
}

/** A task's funnel as every format prints it; json and ndjson are the API's Results entries. */
const STATS_PROJECTION: Projection<PushStats> = {
  header: ['task', 'total', 'sent', 'delivered', 'clicked'],
  cells: (r) => [r.TaskID, String(r.TotalCount), String(r.SentCount), String(r.DeliveredCount), String(r.ClickCount)],
  json: (r) => r.raw,
  table: {
    header: ['task', 'total', 'sent', 'delivered', 'clicked'],
    cells: (r) => [r.TaskID, thousands(r.TotalCount), thousands(r.SentCount), thousands(r.DeliveredCount), thousands(r.ClickCount)],
  },
};

export async function pushStatsRun(rt: Runtime, taskIds: string[], options: ReadOptions): Promise<void> {
  const format = await resolveOutputFormat(rt, options);
  const op = (await rt.operation('pushStatistics'))!;
  const ids = [...new Set(taskIds)];
  const rows: PushStats[] = [];
  const missing: string[] = [];
  await withRun(rt, {}, async (run) => {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += MAX_STATS_TASKS) chunks.push(ids.slice(i, i + MAX_STATS_TASKS));
    if (chunks.length === 0) chunks.push([]);
    for (const chunk of chunks) {
      const outcome = await run.callBatch(op, chunk, undefined);
      rows.push(...outcome.results);
      for (const f of outcome.failures) {
        missing.push(chunk[f.index]!);
        rt.stderr(`${rt.chalk.red('failed:')} ${chunk[f.index]!}: ${f.reason}`);
      }
    }
  });
  writeRows(rt.deps.io.stdout, format, STATS_PROJECTION, rows, tableLayout(rt, options));
  if (missing.length > 0) {
    throw new PartialFailureError(`${plural(missing.length, 'TaskId')} without statistics; the others were printed`, missing.length, {
      hint: 'statistics cover TIMPush condition pushes of the last 30 days (im_push TaskIds are not accepted)',
    });
  }
}
