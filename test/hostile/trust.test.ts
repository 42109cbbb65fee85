/**
 * Issue 11, "Credential hijack" and "Code execution": a config file the user did not write or
 * trust never gets a request signed with the user's key, and never runs. Each case drives the
 * real CLI in-process against a scripted server on 127.0.0.1 that counts what it receives.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { runCli, tempDir, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from '../helpers/cli.js';
import { writeConfig } from '../config/fixtures.js';
import { json, startScripted, type ScriptedServer } from './servers.js';

const OK_GET = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', UserAttrs: [{ To_Account: 'alice', Attrs: { city: 'Rome' } }] };

describe('trust: a project config file does not get your credentials until you trust it', () => {
  let server: ScriptedServer;
  const tmp = tempDir();
  const home = path.join(tmp.dir, 'home');
  const repo = path.join(home, 'src', 'cloned-repo');
  const rc = path.join(repo, '.imadminrc');
  const env = { IMADMIN_SECRET_KEY: TEST_SECRET_KEY };
  const run = (args: string[], extra: Record<string, string> = {}) => runCli(args, { cwd: repo, homeDir: home, env: { ...env, ...extra } });

  before(async () => {
    server = await startScripted((_req, res) => json(res, OK_GET));
    mkdirSync(repo, { recursive: true });
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });
  beforeEach(() => {
    server.requests.length = 0;
    writeConfig(rc, { endpoint: server.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, usersigTtl: '180d' }, 0o644);
  });

  it('refuses a repo-local .imadminrc with an endpoint while the key is in IMADMIN_SECRET_KEY: 0 requests, exit 3', async () => {
    const result = await run(['get', 'alice', '-o', 'ndjson']);
    assert.deepEqual(result, {
      code: 3,
      stdout: '',
      stderr:
        `im-attrs: ${rc} is not trusted: it sets endpoint, sdkAppId, identifier, and the credentials would be sent where it says ` +
        `(secretKey from env IMADMIN_SECRET_KEY)\n` +
        `hint: read it; if you wrote it or agree with it, run: im-attrs config trust ${rc}\n`,
    });
    assert.equal(server.requests.length, 0);
  });

  it('sends requests once the file is trusted, and refuses it again when it changes', async () => {
    const trusted = await run(['config', 'trust']);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.match(trusted.stderr, /^trusted .*cloned-repo\/\.imadminrc \(sha256 [0-9a-f]{12}…\) in .*trusted\.json\n$/);
    const ok = await run(['get', 'alice', '-o', 'ndjson']);
    assert.deepEqual(ok, { code: 0, stdout: '{"To_Account":"alice","Attrs":{"city":"Rome"}}\n', stderr: '' });
    assert.equal(server.requests.length, 1);

    writeConfig(rc, { endpoint: server.url, sdkAppId: TEST_SDKAPPID, identifier: 'someone-else' }, 0o644);
    const changed = await run(['get', 'alice', '-o', 'ndjson']);
    assert.equal(changed.code, 3);
    assert.equal(changed.stderr.split('\n')[0], `im-attrs: ${rc} has changed since you trusted it: it sets endpoint, sdkAppId, identifier, and the credentials would be sent where it says (secretKey from env IMADMIN_SECRET_KEY)`);
    assert.equal(server.requests.length, 1);
  });

  it('config untrust removes the file from the list', async () => {
    assert.equal((await run(['config', 'trust', rc])).code, 0);
    assert.deepEqual(await run(['config', 'untrust', rc]), { code: 0, stdout: '', stderr: `untrusted ${rc}\n` });
    assert.equal((await run(['get', 'alice', '-o', 'ndjson'])).code, 3);
    assert.equal(server.requests.length, 0);
  });

  it('uses a project file that holds its own credentials (nothing of yours goes anywhere)', async () => {
    writeConfig(rc, { endpoint: server.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: 'their-own-key-0123456789' }, 0o600);
    const result = await runCli(['get', 'alice', '-o', 'ndjson'], { cwd: repo, homeDir: home, env: {} });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.requests.length, 1);
  });

  it('counts a ${IMADMIN_*} reference in the file as your credential', async () => {
    writeConfig(rc, { endpoint: server.url, sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: '${IMADMIN_KEY_FOR_REPO}' }, 0o600);
    const result = await runCli(['get', 'alice'], { cwd: repo, homeDir: home, env: { IMADMIN_KEY_FOR_REPO: TEST_SECRET_KEY } });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /is not trusted: it sets endpoint, sdkAppId, identifier, and the credentials would be sent where it says \(secretKey from the environment via \$\{…\}\)/);
    assert.equal(server.requests.length, 0);
  });

  it('expands only IMADMIN_* variables in a project file ("identifier": "${AWS_SECRET_ACCESS_KEY}")', async () => {
    writeConfig(rc, { endpoint: server.url, sdkAppId: TEST_SDKAPPID, identifier: '${AWS_SECRET_ACCESS_KEY}', secretKey: 'their-own-key-0123456789' }, 0o600);
    const result = await runCli(['get', 'alice'], { cwd: repo, homeDir: home, env: { AWS_SECRET_ACCESS_KEY: 'aws-secret-value' } });
    assert.deepEqual(result, {
      code: 3,
      stdout: '',
      stderr:
        `im-attrs: identifier (from ${rc}) refers to \${AWS_SECRET_ACCESS_KEY}; a project config file may only refer to IMADMIN_* variables\n` +
        'hint: use an IMADMIN_* variable, or move the setting to your own ~/.config/imadmin/config.json\n',
    });
    assert.equal(server.requests.length, 0);
  });

  it('uses the same file given with --config (you chose it)', async () => {
    const result = await run(['get', 'alice', '-o', 'ndjson', '--config', rc]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.requests.length, 1);
  });

  it('config show and doctor say the file is not trusted', async () => {
    const show = await run(['config', 'show']);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout.split('\n').slice(0, 2).join('\n'), `file     ${rc}\ntrust    project file, not trusted: requests refused`);
    const doctor = await run(['doctor', '--json']);
    const config = (JSON.parse(doctor.stdout) as { checks: Array<{ id: string; status: string; message: string }> }).checks.find((c) => c.id === 'config');
    assert.deepEqual({ status: config?.status, message: config?.message }, { status: 'fail', message: `${rc}; project file, not trusted: requests refused` });
    assert.equal(server.requests.length, 0);
  });
});

describe('trust: a config file never runs code unless it is yours', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());
  const home = path.join(tmp.dir, 'home');
  const repo = path.join(home, 'work', 'repo');
  const marker = path.join(tmp.dir, 'ran');
  const code = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); module.exports = { identifier: 'x' };\n`;

  for (const [name, args] of [
    ['config path (run by shell completion)', ['config', 'path']],
    ['config profiles (run by shell completion)', ['config', 'profiles']],
    ['get', ['get', 'alice']],
  ] as const) {
    it(`does not run imadmin.config.js of a parent directory for ${name}`, async () => {
      writeConfig(path.join(home, 'work', 'imadmin.config.js'), code, 0o644);
      const result = await runCli([...args], { cwd: repo, homeDir: home, env: { IMADMIN_SECRET_KEY: TEST_SECRET_KEY } });
      mkdirSync(repo, { recursive: true });
      assert.equal(existsSync(marker), false);
      assert.deepEqual(result, {
        code: 3,
        stdout: '',
        stderr:
          `im-attrs: ${path.join(home, 'work', 'imadmin.config.js')} is a JavaScript config in a project directory; im-attrs does not run it\n` +
          `hint: JavaScript configs load only from ${path.join(home, '.config', 'imadmin')} or with --config; use .imadminrc (JSON or YAML) here\n`,
      });
    });
  }

  it('refuses a JS config in your own folder that others can write to', async () => {
    const file = writeConfig(path.join(home, '.config', 'imadmin', 'config.js'), code, 0o666);
    const result = await runCli(['config', 'path'], { cwd: home, homeDir: home });
    assert.equal(existsSync(marker), false);
    assert.equal(result.code, 3);
    assert.equal(result.stderr.split('\n')[0], `im-attrs: ${file} is a JavaScript config that others can change (mode 666); im-attrs does not run it`);
  });

  it('shell completion (config profiles --no-code) never runs a JavaScript config, not even your own', async () => {
    const file = writeConfig(path.join(home, '.config', 'imadmin', 'config.js'), code, 0o600);
    const result = await runCli(['config', 'profiles', '--no-code'], { cwd: home, homeDir: home });
    assert.equal(existsSync(marker), false);
    assert.deepEqual(result, { code: 3, stdout: '', stderr: `im-attrs: ${file} is a JavaScript config; it is not run here (shell completion never runs one)\n` });
    rmSync(file);
  });

  it('refuses a config file owned by another user (like git safe.directory)', async () => {
    const outside = path.join(tmp.dir, 'shared');
    const file = writeConfig(path.join(outside, '.imadminrc'), { identifier: 'x' }, 0o644);
    const result = await runCli(['config', 'show'], { cwd: outside, homeDir: home, uid: 4242 });
    assert.equal(result.code, 3);
    assert.equal(result.stderr.split('\n')[0], `im-attrs: config file ${file} belongs to another user (uid 0); im-attrs reads only config files you own`);
    assert.equal(readFileSync(file, 'utf8').includes('identifier'), true);
  });

  it('writes nothing when asked to trust a JavaScript file', async () => {
    const file = writeConfig(path.join(repo, 'imadmin.config.mjs'), 'export default {};\n', 0o644);
    writeFileSync(path.join(repo, '.keep'), '');
    const result = await runCli(['config', 'trust', file], { cwd: repo, homeDir: home });
    assert.equal(result.code, 3);
    assert.equal(result.stderr.split('\n')[0], `im-attrs: ${file} is a JavaScript config; im-attrs never runs one from a project directory, trusted or not`);
    assert.equal(existsSync(path.join(home, '.config', 'imadmin', 'trusted.json')), false);
  });
});
