import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestLog, runCli, seededIds, useEmulator, useTempDir } from '../helpers/cli.js';
import { post, TestClock } from '../helpers/emulator-api.js';

/** 2026-12-24 07:00:00 UTC: the tests' "now". */
const NOW = Date.UTC(2026, 11, 24, 7, 0, 0);
const NOW_SEC = NOW / 1000;
const SEVEN_DAYS = 7 * 86_400;

describe('im-attrs push report (TIMPush statistics, loss and trace)', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 60, rateLimit: 0, now: clock.now }, { perTest: true });
  const files = useTempDir();
  const env = (): Record<string, string> => ({ ...app.env, IMADMIN_API: 'timpush' });
  const report = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(['push', 'report', ...args], { env: env(), now: clock.now, ...options });
  /** What the emulator answers to a request, asked directly (the CLI's report must hold the same). */
  const raw = async (path: string, body: object): Promise<Record<string, unknown>> => (await post(app.emulator, path, body)).body as Record<string, unknown>;

  it('reports a push: the funnel as bars, per platform, loss reasons per stage and platform, one user\'s trace', async () => {
    clock.ms = NOW;
    const sent = await post(app.emulator, 'timpush/push', { MsgRandom: 7, OfflinePushInfo: { Title: 'Sale' } });
    const task = sent.body.TaskId as string;
    const user = app.emulator.pushes.at(-1)!.recipients[0]!;
    clock.advance(3600_000);
    app.emulator.resetLog();

    const json = await report([task, '--user', user, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stderr, '');
    assert.deepEqual(requestLog(app.emulator), [
      ['timpush/all_member_push_statistics', { TaskID: [task] }],
      ['timpush/all_member_push_loss', { StartTime: NOW_SEC + 3600 - SEVEN_DAYS, EndTime: NOW_SEC + 3600, TaskID: [task] }],
      ['timpush/all_member_push_trace', { TaskID: task, UserID: user }],
    ]);
    const stats = (await raw('timpush/all_member_push_statistics', { TaskID: [task] })).Results as Array<Record<string, number>>;
    const loss = (await raw('timpush/all_member_push_loss', { TaskID: [task] })).Results as unknown[];
    const trace = (await raw('timpush/all_member_push_trace', { TaskID: task, UserID: user })).InstanceTrace as unknown[];
    const parsed = JSON.parse(json.stdout) as Record<string, unknown> & { totals: Record<string, unknown> };
    assert.deepEqual(parsed.statistics, stats);
    assert.deepEqual(parsed.loss, loss);
    assert.deepEqual(parsed.traces, [{ TaskID: task, UserID: user, InstanceTrace: trace }]);
    assert.deepEqual(parsed.missing, []);
    const [s] = stats;
    assert.deepEqual(
      [parsed.totals.TotalCount, parsed.totals.SentCount, parsed.totals.DeliveredCount, parsed.totals.ClickCount],
      [s!.TotalCount, s!.SentCount, s!.DeliveredCount, s!.ClickCount],
    );
    assert.equal(trace.length, 1);

    const text = await report([task, '--user', user]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n');
    assert.equal(lines[0], `Push report: 1 task (${task})`);
    assert.equal(lines[2], 'Funnel');
    const bar = (n: number): string => '█'.repeat(Math.round((n / s!.TotalCount!) * 40)).padEnd(40);
    assert.match(lines[3]!, new RegExp(`^  total +${s!.TotalCount}  ${bar(s!.TotalCount!)}  100\\.0%$`));
    assert.match(lines[4]!, new RegExp(`^  sent +${s!.SentCount}  ${bar(s!.SentCount!)} +${((s!.SentCount! / s!.TotalCount!) * 100).toFixed(1)}%$`));
    assert.ok(text.stdout.includes('\nLost before sending (ReadyToSendLoss)\n  count  platform'), text.stdout);
    assert.ok(text.stdout.includes('\nSent, not delivered (PostSendDeliveredLoss)\n'), text.stdout);
    assert.ok(text.stdout.includes(`\nTrace of ${user} in ${task}: 1 device\n  device `), text.stdout);
    assert.ok(lines.every((l) => l.length <= 80), 'fits 80 columns');
    // Every loss reason the server gave is in the text, with its count and ErrInfo as given.
    for (const entry of loss as Array<{ PlatformReadyToSendLoss: Array<{ ErrCount: number; ErrCode: string; ErrInfo: string }> }>) {
      for (const l of entry.PlatformReadyToSendLoss) assert.match(text.stdout, new RegExp(`\\n +${l.ErrCount}  [^\\n]+  ${l.ErrCode} +${l.ErrInfo}\\n`));
    }
  });

  it('--manifest adds up the batch tasks of a list push (sent and may-have-been-sent lines; the others ignored)', async () => {
    clock.ms = NOW;
    const ids = seededIds(1, 60);
    const tasks: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await post(app.emulator, 'timpush/batch', { MsgRandom: 100 + i, To_Account: ids.slice(i * 20, i * 20 + 20), OfflinePushInfo: { Title: 'List' } });
      assert.equal(answer.body.ErrorCode, 0, JSON.stringify(answer.body));
      tasks.push(answer.body.TaskId as string);
    }
    const line = (call: number, state: string, TaskId?: string): string =>
      JSON.stringify({ call, from: (call - 1) * 20, to: call * 20, accounts: ids.slice((call - 1) * 20, call * 20), state, ...(TaskId ? { TaskId } : {}) });
    const manifest = files.write(
      'list.manifest.ndjson',
      [line(1, 'sent', tasks[0]), line(2, 'may-have-been-sent', tasks[1]), line(3, 'sent', tasks[2]), line(4, 'failed', 'batch_not_reported'), line(5, 'may-have-been-sent'), line(3, 'sent', tasks[2])].join('\n') + '\n',
    );
    clock.advance(60_000);
    app.emulator.resetLog();
    const result = await report(['--manifest', manifest, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'warning: --manifest: 1 call sent or maybe sent without a TaskId (the answer was lost): not in the report\n');
    assert.deepEqual(requestLog(app.emulator), [
      ['timpush/all_member_push_statistics', { TaskID: tasks }],
      ['timpush/all_member_push_loss', { StartTime: NOW_SEC + 60 - SEVEN_DAYS, EndTime: NOW_SEC + 60, TaskID: tasks }],
    ]);
    const stats = (await raw('timpush/all_member_push_statistics', { TaskID: tasks })).Results as Array<Record<string, number>>;
    const sum = (key: string): number => stats.reduce((n, s) => n + s[key]!, 0);
    const parsed = JSON.parse(result.stdout) as { TaskIDs: string[]; totals: Record<string, number> };
    assert.deepEqual(parsed.TaskIDs, tasks);
    assert.equal(parsed.totals.TotalCount, 60);
    assert.deepEqual(
      ['TotalCount', 'SentCount', 'DeliveredCount', 'ClickCount'].map((k) => parsed.totals[k]),
      ['TotalCount', 'SentCount', 'DeliveredCount', 'ClickCount'].map(sum),
    );

    const text = await report(['--manifest', manifest]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^Push report: 3 tasks \\(${tasks.join(', ')}\\)\\n\\nFunnel\\n  total +60  █{40}  100\\.0%\\n`));
  });

  it('shows a progress line on a terminal while it traces (one call per task and user)', async () => {
    clock.ms = NOW;
    const task = (await post(app.emulator, 'timpush/push', { MsgRandom: 8, OfflinePushInfo: { Title: 'x' } })).body.TaskId as string;
    app.emulator.resetLog();
    // Unpaced (IMADMIN_RATE=0): the two trace calls need not wait a second for each other here.
    const result = await report([task, '--user', 'user000001', '--user', 'user000002'], { stderrIsTTY: true, env: { ...env(), IMADMIN_RATE: '0' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, `\rtrace 1/2 (1 call/s): user000001 in ${task}\x1b[K\rtrace 2/2 (1 call/s): user000002 in ${task}\x1b[K\r\x1b[K`);
    assert.deepEqual(
      requestLog(app.emulator).filter(([command]) => command === 'timpush/all_member_push_trace'),
      [
        ['timpush/all_member_push_trace', { TaskID: task, UserID: 'user000001' }],
        ['timpush/all_member_push_trace', { TaskID: task, UserID: 'user000002' }],
      ],
    );
  });

  it('names a TaskId without statistics and exits 5, reporting the others', async () => {
    clock.ms = NOW;
    const task = (await post(app.emulator, 'timpush/push', { MsgRandom: 9, OfflinePushInfo: { Title: 'x' } })).body.TaskId as string;
    const result = await report([task, 'batch_unknown', '--json']);
    assert.equal(result.code, 5);
    assert.equal(
      result.stderr,
      'failed: batch_unknown: no statistics for this TaskId (unknown, not a TIMPush condition push, or older than 30 days)\n' +
        'im-attrs: 1 TaskId without statistics; the report covers the others\n' +
        'hint: statistics cover TIMPush pushes of the last 30 days (condition, batch and fired scheduled pushes; im_push TaskIds are not accepted)\n',
    );
    const parsed = JSON.parse(result.stdout) as { missing: string[]; statistics: Array<{ TaskID: string }> };
    assert.deepEqual(parsed.missing, ['batch_unknown']);
    assert.deepEqual(parsed.statistics.map((s) => s.TaskID), [task]);
    assert.deepEqual(app.emulator.requests.map((r) => r.command).slice(-2), ['timpush/all_member_push_statistics', 'timpush/all_member_push_loss']);
  });

  it('refuses all_member_push and a scheduled TaskID before any request', async () => {
    clock.ms = NOW;
    const legacy = await report(['abc_def'], { env: app.env });
    assert.equal(legacy.code, 3);
    assert.match(legacy.stderr, /^im-attrs: the all_member_push API family has no pushStatistics operation in im-attrs yet\nhint: use --api timpush/);
    const sched = await report(['1234567890']);
    assert.equal(sched.code, 2);
    assert.equal(
      sched.stderr,
      "im-attrs: 1234567890 is a scheduled task's TaskID, not a push TaskId\nhint: `im-attrs --api timpush push schedule show 1234567890` names the push it fired (push task)\n",
    );
    assert.equal(app.emulator.requests.length, 0);
  });
});
