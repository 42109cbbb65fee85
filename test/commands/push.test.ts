import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deliveriesOf } from '../../src/emulator/delivery.js';
import type { FaultKind } from '../../src/emulator/server.js';
import { runCli, useEmulator, useTempDir } from '../helpers/cli.js';
import { TestClock } from '../helpers/emulator-api.js';

const TEXT = (text: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }];

describe('im-attrs push send: guard-rails', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 30, rateLimit: 0, now: clock.now });
  const pushes = () => app.emulator.requests.filter((r) => r.command.endsWith('push'));
  const files = useTempDir();

  it('without a terminal and without --yes sends nothing (no request at all) and exits 2, after printing the request', async () => {
    const result = await runCli(['push', 'send', '--tags-or', 'vip', '--text', 'hi'], { env: app.env });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    const random = /"MsgRandom": (\d+)/.exec(result.stderr)?.[1];
    assert.equal(
      result.stderr,
      'push to: {"TagsOr":["vip"]}\n' +
        `request: POST v4/all_member_push/im_push\n${JSON.stringify({ MsgRandom: Number(random), Condition: { TagsOr: ['vip'] }, MsgBody: TEXT('hi') }, null, 2)}\n` +
        'im-attrs: push send needs confirmation, and stdin is not a terminal: nothing was sent\n' +
        'hint: check the request above (and `im-attrs audience` for who it reaches), then pass --yes; or --dry-run\n',
    );
    assert.equal(app.emulator.requests.length, 0);
  });

  it('--dry-run prints the body on stdout and sends nothing; every push gets a fresh MsgRandom', async () => {
    const flags = ['push', 'send', '--dry-run', '--attrs-and', 'city=Seoul', '--text', 'hi', '--lifetime', '12h', '--from', 'admin', '--offline-title', 'T', '--offline-desc', 'D'];
    const first = await runCli(flags, { env: app.env });
    const second = await runCli(flags, { env: app.env });
    assert.equal(first.code, 0, first.stderr);
    const body = JSON.parse(first.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['From_Account', 'MsgRandom', 'MsgLifeTime', 'Condition', 'MsgBody', 'OfflinePushInfo']);
    assert.deepEqual({ ...body, MsgRandom: 0 }, {
      From_Account: 'admin',
      MsgRandom: 0,
      MsgLifeTime: 43200,
      Condition: { AttrsAnd: { city: 'Seoul' } },
      MsgBody: TEXT('hi'),
      OfflinePushInfo: { Title: 'T', Desc: 'D' },
    });
    assert.ok(Number.isInteger(body.MsgRandom) && (body.MsgRandom as number) >= 0 && (body.MsgRandom as number) < 2 ** 32);
    assert.notEqual((JSON.parse(second.stdout) as { MsgRandom: number }).MsgRandom, body.MsgRandom);
    assert.equal(
      first.stderr,
      `push to: {"AttrsAnd":{"city":"Seoul"}}\n--dry-run: POST v4/all_member_push/im_push (to app 1400000000 at ${new URL(app.emulator.url).host}); nothing was sent\n`,
    );
    // Only the attribute-name check: no push.
    assert.deepEqual(app.emulator.requests.map((r) => r.command), ['im_get_attr_name', 'im_get_attr_name']);
  });

  it('on a terminal asks, and sends only on "y"', async () => {
    const no = await runCli(['push', 'send', '--text', 'hi'], { env: app.env, stdinIsTTY: true, stdin: 'n\n' });
    assert.equal(no.code, 2);
    assert.ok(
      no.stderr.endsWith(
        `\nSend this push to every account matching none (every account)? It reaches real users and counts against the daily quota.\nTarget: app 1400000000 at ${new URL(app.emulator.url).host}. [y/N] im-attrs: not confirmed; nothing was sent\n`,
      ),
      no.stderr,
    );
    assert.equal(pushes().length, 0);
    clock.advance(1001);
    const yes = await runCli(['push', 'send', '--text', 'hi'], { env: app.env, stdinIsTTY: true, stdin: 'y\n' });
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal(yes.stdout, `${app.emulator.pushes.at(-1)!.TaskId}\n`);
    assert.equal(pushes().length, 1);
    assert.deepEqual(pushes()[0]!.path, '/v4/all_member_push/im_push');
  });

  it('--json prints the whole answer; the TaskId alone otherwise', async () => {
    clock.advance(1001);
    const result = await runCli(['--api', 'timpush', 'push', 'send', '--yes', '--json', '--tags-and', 'vip', '--offline-title', 'Sale'], { env: app.env });
    assert.equal(result.code, 0, result.stderr);
    const task = app.emulator.pushes.at(-1)!;
    assert.deepEqual(JSON.parse(result.stdout), { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, TaskId: task.TaskId });
    assert.deepEqual(pushes().map((r) => [r.path, { ...(r.body as object), MsgRandom: 0 }]), [
      ['/v4/timpush/push', { MsgRandom: 0, Condition: { TagsAnd: ['vip'] }, OfflinePushInfo: { Title: 'Sale' } }],
    ]);
    assert.equal(task.msgRandom, (pushes()[0]!.body as { MsgRandom: number }).MsgRandom);
  });

  it('refuses, before any request, a --lifetime over 7 days and an im_push without a message', async () => {
    const long = await runCli(['push', 'send', '--yes', '--text', 'x', '--lifetime', '8d'], { env: app.env });
    assert.equal(long.code, 2);
    assert.equal(long.stderr, "im-attrs: --lifetime 8d is longer than 7 days (604,800 s), the API's maximum (it would answer 90026)\n");
    const empty = await runCli(['push', 'send', '--yes'], { env: app.env });
    assert.equal(empty.code, 2);
    assert.equal(
      empty.stderr,
      'im-attrs: invalid push: Invalid format of MsgBody: a non-empty array of {MsgType, MsgContent} (the API would answer 90002)\nhint: give the message with --text or --msg-body FILE (im_push needs a MsgBody)\n',
    );
    assert.equal(app.emulator.requests.length, 0);
  });

  it('--msg-body sends the raw MsgBody array; --text with it is a contradiction; the --dry-run body feeds `audience --condition`', async () => {
    const msgBody = [{ MsgType: 'TIMCustomElem', MsgContent: { Data: 'promo', Desc: 'Promo' } }];
    const file = files.write('body.json', JSON.stringify(msgBody));
    const dry = await runCli(['push', 'send', '--dry-run', '--msg-body', file, '--tags-or', 'vip'], { env: app.env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual((JSON.parse(dry.stdout) as { MsgBody: unknown }).MsgBody, msgBody);
    const both = await runCli(['push', 'send', '--dry-run', '--msg-body', file, '--text', 'x'], { env: app.env });
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'im-attrs: --text and --msg-body contradict each other\nhint: give one of them\n');
    const request = files.write('request.json', dry.stdout);
    const preview = await runCli(['audience', 'user000005', 'user000006', '--condition', request, '--count'], { env: app.env });
    assert.equal(preview.code, 0, preview.stderr);
    assert.equal(preview.stdout, '1\n');
    assert.equal(pushes().length, 0);
  });

  it('a push refused as less than a second after the last one (90024: nothing sent) is waited out and sent again', async () => {
    clock.advance(1001);
    assert.equal((await runCli(['push', 'send', '--yes', '--text', 'one'], { env: app.env })).code, 0);
    app.emulator.resetLog();
    const pending = runCli(['push', 'send', '--yes', '--text', 'two'], { env: app.env });
    // The emulator's clock moves only when told: let it pass the second once the first attempt was refused.
    while (!app.emulator.requests.some((r) => r.outcome === '90024')) await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1001);
    const second = await pending;
    assert.equal(second.code, 0, second.stderr);
    // Refused (90024) until the clock passed the second, then accepted once: one push, never two.
    const outcomes = pushes().map((r) => r.outcome);
    assert.equal(outcomes.at(-1), '0');
    assert.ok(outcomes.length >= 2 && outcomes.slice(0, -1).every((o) => o === '90024'), outcomes.join());
  });
});

describe('im-attrs push send: a push that may have reached the server is never sent again', () => {
  const faults: Array<[FaultKind, string[]]> = [
    ['reset', []],
    ['http502', []],
    ['garbage', []],
    ['timeout', ['--timeout', '1']],
  ];
  for (const [kind, flags] of faults) {
    describe(kind, () => {
      const app = useEmulator({ seedUsers: 5, rateLimit: 0, faults: [{ kind, fraction: 1 }] });
      it(`${kind}: reported "may have been sent", exit 1, exactly one request`, async () => {
        const result = await runCli([...flags, 'push', 'send', '--yes', '--tags-or', 'vip', '--text', 'hi'], { env: app.env });
        assert.equal(result.code, 1);
        assert.equal(result.stdout, '');
        assert.match(result.stderr, /: the request may have been sent \(v4\/all_member_push\/im_push\); it was not sent again\n/);
        assert.match(result.stderr, /\nhint: check what arrived before sending it again: `im-attrs --api timpush push stats` \(TIMPush\) or the Chat console\n$/);
        assert.equal(app.emulator.requests.length, 1);
      });
    });
  }
});

describe('im-attrs push send: a refusal is not "may have been sent"', () => {
  const app = useEmulator({ seedUsers: 5, rateLimit: 0, pushQuota: 0 });
  it('90047 (daily quota used up): the server refused it; exit 1 with the hint, one request, not retried', async () => {
    const result = await runCli(['push', 'send', '--yes', '--text', 'hi'], { env: app.env });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /\nim-attrs: im_push: error 90047: the daily push limit \(0\) is reached \(refused: nothing was sent\)\nhint: the quota \(100 pushes a day by default, 10 on TIMPush Free\) resets daily; more can be bought in the console\n$/,
    );
    assert.equal(app.emulator.requests.length, 1);
  });
});

describe('im-attrs push revoke and push stats (TIMPush)', () => {
  const clock = new TestClock();
  const app = useEmulator({ seedUsers: 40, rateLimit: 0, now: clock.now });
  const env = () => ({ ...app.env, IMADMIN_API: 'timpush' });
  const send = async (flags: string[]): Promise<string> => {
    clock.advance(1001);
    const result = await runCli(['push', 'send', '--yes', ...flags], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  };

  it('revokes a push with timpush/revoke (TaskId and OfflinePushInfo); a second revoke finds it already recalled', async () => {
    const task = await send(['--tags-or', 'vip']);
    app.emulator.resetLog();
    const result = await runCli(['push', 'revoke', task, '--offline-title', 'Recalled'], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, `recalled: ${task}\n`);
    assert.deepEqual(app.emulator.requests.map((r) => [r.path, r.body]), [['/v4/timpush/revoke', { TaskId: task, OfflinePushInfo: { Title: 'Recalled' } }]]);
    assert.equal(app.emulator.pushes.at(-1)!.revokedAt, clock.ms);
    clock.advance(1001);
    const again = await runCli(['push', 'revoke', task], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, `${task} was already recalled\n`);
  });

  it('refuses revoke and stats on all_member_push, which has neither, before any request', async () => {
    for (const args of [['push', 'revoke', 'x'], ['push', 'stats', 'x']]) {
      const result = await runCli(args, { env: app.env });
      assert.equal(result.code, 3);
      assert.match(result.stderr, /^im-attrs: the all_member_push API family has no (revokePush|pushStatistics) operation in im-attrs yet\nhint: use --api timpush/);
    }
    assert.equal(app.emulator.requests.length, 0);
  });

  it('prints total, sent, delivered and clicked per TaskId (5 per call), "sucess" being a success; an unknown TaskId is exit 5', async () => {
    const a = await send(['--tags-or', 'lang-en']);
    const b = await send(['--tags-and', 'vip']);
    app.emulator.resetLog();
    // The emulator's counts come from each recipient's delivery (src/emulator/delivery.ts).
    const funnel = (id: string) => {
      const ds = deliveriesOf(app.emulator.state, app.emulator.pushes.find((t) => t.TaskId === id)!);
      return [ds.length, ds.filter((d) => d.sent).length, ds.filter((d) => d.reached).length, ds.filter((d) => d.clicked).length].join('\t');
    };
    const result = await runCli(['push', 'stats', a, b], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `task\ttotal\tsent\tdelivered\tclicked\n${a}\t${funnel(a)}\n${b}\t${funnel(b)}\n`);
    assert.deepEqual(app.emulator.requests.map((r) => [r.path, r.body]), [['/v4/timpush/all_member_push_statistics', { TaskID: [a, b] }]]);

    const json = await runCli(['push', 'stats', a, '--json'], { env: env() });
    assert.equal(json.code, 0, json.stderr);
    const [entry] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.equal(entry!.TaskID, a);
    assert.ok(Array.isArray(entry!.PlatformStatistics));

    const unknown = await runCli(['push', 'stats', a, 'no-such-task'], { env: env() });
    assert.equal(unknown.code, 5);
    assert.equal(unknown.stdout, `task\ttotal\tsent\tdelivered\tclicked\n${a}\t${funnel(a)}\n`);
    assert.match(unknown.stderr, /^failed: no-such-task: no statistics for this TaskId/);
  });
});
