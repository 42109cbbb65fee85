import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, useTempDir } from '../helpers/cli.js';

describe('config current and config use without a profile', () => {
  const tmp = useTempDir();
  const file = tmp.write(
    'config.json',
    JSON.stringify({
      defaultProfile: 'test',
      profiles: {
        test: { endpoint: 'http://127.0.0.1:9', sdkAppId: 1400000001, identifier: 'administrator', secretKey: 'k' },
        prod: { region: 'sgp', sdkAppId: 1400000002, identifier: 'admin', secretKey: 'k' },
      },
    }),
  );

  it('config current names the profile, why it is in use, the file, the app, the endpoint and the API family', async () => {
    const byDefault = await runCli(['--config', file, 'config', 'current']);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.equal(
      byDefault.stdout,
      [
        `profile   test (from ${file})`,
        `file      ${file}`,
        'app       SDKAppID 1400000001, identifier "administrator"',
        `endpoint  http://127.0.0.1:9 (endpoint from ${file}, profile "test")`,
        'api       all_member_push',
        '',
      ].join('\n'),
    );
    const byFlag = await runCli(['--config', file, '--profile', 'prod', 'config', 'current', '--json']);
    assert.deepEqual(JSON.parse(byFlag.stdout), {
      profile: { name: 'prod', from: 'flag --profile' },
      file,
      sdkAppId: '1400000002',
      identifier: 'admin',
      endpoint: `adminapisgp.im.qcloud.com (region sgp from ${file}, profile "prod")`,
      region: 'sgp',
      api: 'all_member_push',
      usable: true,
    });
    assert.equal(path.isAbsolute(file), true);
  });

  it('config use alone lists the profiles and says how to pick one', async () => {
    const result = await runCli(['--config', file, 'config', 'use']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'test\nprod\n');
    assert.equal(result.stderr, 'make one the default: im-attrs config use <profile>\n');
  });
});
