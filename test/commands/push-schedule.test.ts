import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestLog, runCli, seededIds, useEmulator, useTempDir } from '../helpers/cli.js';
import { post, TestClock } from '../helpers/emulator-api.js';
import { parseUserTime } from '../../src/commands/push-schedule.js';
import { UsageError } from '../../src/errors.js';

/** 2026-12-24 07:00:00 UTC = 08:00 in Paris: the tests' "now". */
const NOW = Date.UTC(2026, 11, 24, 7, 0, 0);
const FIRST = 1234567890;
const SDKAPPID = 1400000000;

describe('im-attrs push schedule (TIMPush scheduled pushes)', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 40, rateLimit: 0, now: clock.now }, { perTest: true });
  const files = useTempDir();
  const env = (): Record<string, string> => ({ ...app.env, IMADMIN_API: 'timpush', TZ: 'Europe/Paris' });
  const cli = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(['push', 'schedule', ...args], { env: env(), now: clock.now, ...options });

  it('creates a push 2 minutes ahead, lists it, edits it; once the clock passes it, it fires and cancel is refused', async () => {
    clock.ms = NOW;
    const created = await cli(['create', '--at', '2026-12-24T08:02', '--tags-or', 'vip', '--offline-title', 'Sale', '--offline-desc', '-20%', '--yes']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, `${FIRST}\n`);
    assert.equal(
      created.stderr,
      'schedule: 1 scheduled task (Type Tag) at 2026-12-24 08:02 Europe/Paris = 2026-12-24 07:02:00 UTC\n' +
        'to: {"TagsOr":["vip"]}\n' +
        `scheduled task ${FIRST}: 2026-12-24 08:02 Europe/Paris = 2026-12-24 07:02:00 UTC\n`,
    );
    const add = app.emulator.requests[0]!.body as { Content: { MsgRandom: number } };
    assert.deepEqual(requestLog(app.emulator), [
      [
        'timpush/add_sched_task',
        {
          Sdkappid: SDKAPPID,
          Type: 'Tag',
          SchedAt: '2026-12-24 07:02:00',
          Content: { MsgRandom: add.Content.MsgRandom, Condition: { TagsOr: ['vip'] }, OfflinePushInfo: { Title: 'Sale', Desc: '-20%' } },
        },
      ],
    ]);

    app.emulator.resetLog();
    const list = await cli(['list', '-o', 'tsv']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `task\ttype\tsched_at_utc\tstatus\ttitle\tpush_task_id\n${FIRST}\tTag\t2026-12-24 07:02:00\tpending\tSale\t\n`);
    assert.deepEqual(requestLog(app.emulator), [
      ['timpush/list_sched_task', { Sdkappid: SDKAPPID, Offset: 0, Want: 20, OrderBy: 'schedat', Asc: false, BeginTime: '2026-12-24 07:00:00', EndTime: '2027-01-23 07:00:00' }],
    ]);

    app.emulator.resetLog();
    const edit = await cli(['edit', String(FIRST), '--at', '2026-12-24T08:03', '--offline-title', 'Big sale', '--yes']);
    assert.equal(edit.code, 0, edit.stderr);
    assert.equal(
      edit.stderr,
      `edit task ${FIRST} (Tag, pending):\n` +
        '  sched at: 2026-12-24 08:02 Europe/Paris = 2026-12-24 07:02:00 UTC → 2026-12-24 08:03 Europe/Paris = 2026-12-24 07:03:00 UTC\n' +
        '  OfflinePushInfo: {"Title":"Sale","Desc":"-20%"} → {"Title":"Big sale","Desc":"-20%"}\n' +
        `task ${FIRST} updated: 2026-12-24 08:03 Europe/Paris = 2026-12-24 07:03:00 UTC\n`,
    );
    assert.deepEqual(requestLog(app.emulator), [
      ['timpush/get_sched_task', { Sdkappid: SDKAPPID, TaskID: FIRST }],
      ['timpush/modify_sched_task', { Sdkappid: SDKAPPID, TaskID: FIRST, Type: 'Tag', SchedAt: '2026-12-24 07:03:00', Content: { OfflinePushInfo: { Title: 'Big sale', Desc: '-20%' } } }],
    ]);

    // Past the new time: the emulator fires the task on its next request.
    clock.advance(4 * 60_000);
    const shown = await cli(['show', String(FIRST), '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const info = JSON.parse(shown.stdout) as { Status: string; PushTaskID: string; SchedAt: string; Title: string };
    assert.equal(info.Status, 'dispatched');
    assert.equal(info.SchedAt, '2026-12-24 07:03:00');
    assert.equal(info.Title, 'Big sale');
    assert.equal(info.PushTaskID, app.emulator.pushes.at(-1)!.TaskId);

    app.emulator.resetLog();
    const cancel = await cli(['cancel', String(FIRST), '--yes']);
    assert.equal(cancel.code, 1);
    assert.equal(cancel.stdout, '');
    assert.equal(
      cancel.stderr,
      `im-attrs: task ${FIRST} is no longer pending (dispatched): it can no longer be cancelled\n` +
        `hint: it fired as push ${info.PushTaskID}: see how it went with \`im-attrs --api timpush push report ${info.PushTaskID}\`\n`,
    );
    assert.deepEqual(requestLog(app.emulator), [['timpush/get_sched_task', { Sdkappid: SDKAPPID, TaskID: FIRST }]]);
  });

  it('says the same when delete_sched_task answers 90107 (C2) itself', async () => {
    clock.ms = NOW;
    const created = await cli(['create', '--at', '2026-12-24T07:30Z', '--offline-title', 'All', '--yes']);
    assert.equal(created.code, 0, created.stderr);
    const c2 = { ActionStatus: 'FAIL', ErrorInfo: 'delete failed: task dispatching', ErrorCode: 90107, TaskID: 0 };
    const cancel = await cli(['cancel', String(FIRST), '--yes'], { proxy: (command) => (command === 'delete_sched_task' ? c2 : undefined) });
    assert.equal(cancel.code, 1);
    assert.equal(
      cancel.stderr,
      `cancel task ${FIRST}: All, 2026-12-24 08:30 Europe/Paris = 2026-12-24 07:30:00 UTC, "All"\n` +
        `im-attrs: task ${FIRST} is no longer pending (dispatching): it can no longer be cancelled\n` +
        `hint: once it has fired, \`im-attrs --api timpush push schedule show ${FIRST}\` names its push TaskId; then \`im-attrs --api timpush push report PUSHTASKID\`\n`,
    );
    // The emulator never saw the delete (the proxy answered it); the task is still there.
    assert.ok(app.emulator.requests.every((r) => r.command !== 'timpush/delete_sched_task'));
    const cancelled = await cli(['cancel', String(FIRST), '--yes']);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.deepEqual(requestLog(app.emulator).at(-1), ['timpush/delete_sched_task', { Sdkappid: SDKAPPID, TaskID: FIRST, Type: 'All' }]);
  });

  it('refuses a time in the past before sending anything', async () => {
    clock.ms = NOW;
    const result = await cli(['create', '--at', '2026-12-24T07:59', '--offline-title', 'Late', '--yes']);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'im-attrs: --at 2026-12-24 07:59 Europe/Paris = 2026-12-24 06:59:00 UTC is in the past (now: 2026-12-24 08:00 Europe/Paris = 2026-12-24 07:00:00 UTC): nothing was sent\n' +
        'hint: give a time in the future\n',
    );
    assert.equal(app.emulator.requests.length, 0);
  });

  it('--to with 1,200 accounts makes 3 User tasks of 500, 500 and 200, after one confirmation', async () => {
    clock.ms = NOW;
    const ids = seededIds(1, 1200);
    const result = await cli(['create', '--at', '2026-12-24T10:00', '--to', files.write('to.txt', ids.join('\n')), '--text', 'You won'], { stdin: 'y\n', stdinIsTTY: true });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${FIRST}\n${FIRST + 1}\n${FIRST + 2}\n`);
    assert.equal(result.stderr.split('[y/N]').length, 2, 'one question');
    assert.match(result.stderr, /^schedule: 3 scheduled tasks \(Type User\) at 2026-12-24 10:00 Europe\/Paris = 2026-12-24 09:00:00 UTC\nto: 1,200 accounts in 3 tasks of at most 500, created one after the other\n/);
    assert.match(result.stderr, /\nCreate 3 scheduled tasks for 2026-12-24 10:00 Europe\/Paris = 2026-12-24 09:00:00 UTC\? When they fire, they reach real users\.\n/);
    assert.match(result.stderr, new RegExp(`scheduled task ${FIRST + 1} \\(accounts 501-1000\\): `));
    const bodies = app.emulator.requests.map((r) => r.body as { Sdkappid: number; Type: string; SchedAt: string; Content: { To_Account: string[]; MsgRandom: number; MsgBody: unknown } });
    assert.deepEqual(
      app.emulator.requests.map((r) => r.command),
      ['timpush/add_sched_task', 'timpush/add_sched_task', 'timpush/add_sched_task'],
    );
    assert.deepEqual(
      bodies,
      [ids.slice(0, 500), ids.slice(500, 1000), ids.slice(1000)].map((chunk, i) => ({
        Sdkappid: SDKAPPID,
        Type: 'User',
        SchedAt: '2026-12-24 09:00:00',
        Content: { MsgRandom: bodies[i]!.Content.MsgRandom, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'You won' } }], To_Account: chunk },
      })),
    );
  });

  it('--dry-run prints each request and sends nothing', async () => {
    clock.ms = NOW;
    const result = await cli(['create', '--at', '2026-12-24T09:00:30+01:00', '--offline-desc', 'Hi', '--dry-run']);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as { Content: { MsgRandom: number } };
    assert.deepEqual(body, { Sdkappid: SDKAPPID, Type: 'All', SchedAt: '2026-12-24 08:00:30', Content: { MsgRandom: body.Content.MsgRandom, OfflinePushInfo: { Desc: 'Hi' } } });
    assert.equal(app.emulator.requests.length, 0);
  });

  it('list reads every page (25 tasks: Offset 0 and 20) and prints every format', async () => {
    clock.ms = NOW;
    for (let i = 0; i < 25; i++) {
      const answer = await post(app.emulator, 'timpush/add_sched_task', {
        Sdkappid: SDKAPPID,
        Type: 'All',
        SchedAt: `2026-12-${25 + Math.floor(i / 10)} 0${i % 10}:00:00`,
        Content: { OfflinePushInfo: { Title: `t${i}` } },
      });
      assert.equal(answer.body.ErrorCode, 0, JSON.stringify(answer.body));
    }
    app.emulator.resetLog();
    const result = await cli(['list', '--asc', '-o', 'csv']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'task,type,sched_at_utc,status,title,push_task_id');
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      Array.from({ length: 25 }, (_, i) => String(FIRST + i)),
    );
    assert.equal(result.stderr, '25 scheduled tasks from 2026-12-24 08:00 Europe/Paris = 2026-12-24 07:00:00 UTC to 2027-01-23 08:00 Europe/Paris = 2027-01-23 07:00:00 UTC\n');
    const page = { Sdkappid: SDKAPPID, Want: 20, OrderBy: 'schedat', Asc: true, BeginTime: '2026-12-24 07:00:00', EndTime: '2027-01-23 07:00:00' };
    assert.deepEqual(requestLog(app.emulator), [
      ['timpush/list_sched_task', { ...page, Offset: 0 }],
      ['timpush/list_sched_task', { ...page, Offset: 20 }],
    ]);

    const ndjson = await cli(['list', '--keyword', 't7', '-o', 'ndjson']);
    assert.equal(ndjson.code, 0, ndjson.stderr);
    assert.deepEqual(
      ndjson.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { Title: string }).Title),
      ['t7'],
    );
    const table = await cli(['list', '--keyword', 't7', '-o', 'table']);
    assert.equal(
      table.stdout,
      'task        type  sched at (UTC)       local                          status   title  push task\n' +
        '──────────  ────  ───────────────────  ─────────────────────────────  ───────  ─────  ─────────\n' +
        `${FIRST + 7}  All   2026-12-25 07:00:00  2026-12-25 08:00 Europe/Paris  pending  t7\n`,
    );
  });

  const refusals: Array<[string, string[], Record<string, string>, number, string]> = [
    ['a span over 90 days', ['list', '--from', '2026-12-24T00:00Z', '--until', '2027-04-01T00:00Z'], {}, 2, 'im-attrs: 2026-12-24 00:00:00 UTC to 2027-04-01 00:00:00 UTC spans more than 90 days, the most list_sched_task is taken to allow\nhint: list a shorter span with --from and --until, several times if needed\n'],
    ['a push TaskId given as a TaskID', ['show', 'batch_667015d4_537529d8'], {}, 2, 'im-attrs: "batch_667015d4_537529d8" is not a scheduled task\'s TaskID (a positive integer)\nhint: that looks like a push TaskId: read it with `im-attrs --api timpush push report`\n'],
    ['an attribute condition', ['create', '--at', '2026-12-25T00:00Z', '--attrs-and', 'city=Paris', '--text', 'x', '--yes'], {}, 2, 'im-attrs: an attribute condition cannot be scheduled: a scheduled push is All, Tag or User (DELIVERY.md §2, EN/78839), none of which takes attributes\nhint: list the accounts with `im-attrs audience` and schedule them with --to FILE, or tag them and schedule a tag condition\n'],
    ['the all_member_push family', ['list'], { IMADMIN_API: 'all_member_push' }, 3, 'im-attrs: the all_member_push API family has no scheduled pushes (they are TIMPush only: timpush/*_sched_task)\nhint: use --api timpush (or `api: timpush` in the config) if the app runs on TIMPush\n'],
    ['no terminal and no --yes', ['create', '--at', '2026-12-25T00:00Z', '--text', 'x'], {}, 2, ''],
  ];
  for (const [name, args, extra, code, stderr] of refusals) {
    it(`refuses ${name} before any request`, async () => {
      clock.ms = NOW;
      const result = await cli(args, { env: { ...env(), ...extra } });
      assert.equal(result.code, code, result.stderr);
      if (stderr) assert.equal(result.stderr, stderr);
      else assert.match(result.stderr, /im-attrs: this needs confirmation, and stdin is not a terminal: nothing was sent\n/);
      assert.equal(app.emulator.requests.length, 0);
    });
  }
});

describe('parseUserTime: a time in the user\'s terms → Unix ms', () => {
  const cases: Array<[string, string, number | string]> = [
    ['2026-12-24T09:00', 'Europe/Paris', Date.UTC(2026, 11, 24, 8, 0, 0)],
    ['2026-07-01 09:00:15', 'Europe/Paris', Date.UTC(2026, 6, 1, 7, 0, 15)],
    ['2026-12-24T08:00Z', 'Asia/Tokyo', Date.UTC(2026, 11, 24, 8, 0, 0)],
    ['2026-12-24T09:00-0500', 'Europe/Paris', Date.UTC(2026, 11, 24, 14, 0, 0)],
    ['2026-03-29T02:30', 'Europe/Paris', '--at "2026-03-29T02:30" does not exist in Europe/Paris (the clocks skip it)'],
    ['2026-02-30T09:00', 'Europe/Paris', '--at "2026-02-30T09:00" is not a valid date and time'],
    ['tomorrow', 'Europe/Paris', '--at "tomorrow" is not a date and time'],
  ];
  for (const [text, zone, expected] of cases) {
    it(`${text} in ${zone}`, () => {
      if (typeof expected === 'number') assert.equal(parseUserTime('--at', text, zone), expected);
      else assert.throws(() => parseUserTime('--at', text, zone), (e: unknown) => e instanceof UsageError && e.message === expected);
    });
  }
});
