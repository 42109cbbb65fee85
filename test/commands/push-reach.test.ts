/**
 * `push send --roster`: before anything is sent, how many of the user's accounts the condition
 * reaches (the audience evaluation); a condition that reaches none is refused unless --allow-empty.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, seededIds, useEmulator, useTempDir } from '../helpers/cli.js';

const files = useTempDir();

describe('im-attrs push send --roster', () => {
  const app = useEmulator({ seedUsers: 300, rateLimit: 0 });

  it('says how many of the roster a condition reaches, as audience counts them, and refuses a condition that reaches none', async () => {
    const roster = files.write('roster.txt', `${seededIds(1, 300).join('\n')}\n`);
    const audience = await runCli(['audience', '--file', roster, '--attrs-and', 'city=Tokyo', '--count', '--rate', '0'], { env: app.env });
    assert.equal(audience.code, 0, audience.stderr);
    const expected = Number(audience.stdout.trim());
    assert.ok(expected > 0);
    app.emulator.resetLog();

    const dry = await runCli(['push', 'send', '--attrs-and', 'city=Tokyo', '--text', 'hi', '--roster', roster, '--dry-run', '--rate', '0'], { env: app.env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, new RegExp(`^reaches ${expected} of 300 accounts in the roster$`, 'm'));
    assert.equal(app.emulator.requests.filter((r) => r.command === 'im_push').length, 0);

    const none = await runCli(['push', 'send', '--attrs-and', 'city=tokyo', '--text', 'hi', '--roster', roster, '--yes', '--rate', '0'], { env: app.env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /im-attrs: the condition reaches none of the 300 accounts in the roster; nothing was sent\n/);
    assert.equal(app.emulator.requests.filter((r) => r.command === 'im_push').length, 0);

    const allowed = await runCli(['push', 'send', '--attrs-and', 'city=tokyo', '--text', 'hi', '--roster', roster, '--allow-empty', '--dry-run', '--rate', '0'], { env: app.env });
    assert.equal(allowed.code, 0, allowed.stderr);
  });
});
