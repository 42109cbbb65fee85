import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import { UsageError } from '../src/errors.js';
import {
  DEFAULT_ADMIN_TTL_SECONDS,
  TENCENT_DEFAULT_TTL_SECONDS,
  decode,
  formatDuration,
  generate,
  parseDuration,
  verify,
  type DecodedUserSig,
  type VerifyResult,
} from '../src/usersig.js';

/** The official package is CommonJS without types; this is the part of it the tests use. */
interface OfficialApi {
  genUserSig(userid: string, expire: number): string;
  genSig(userid: string, expire: number, userBuf: Buffer | null): string;
}
const require = createRequire(import.meta.url);
const official = require('tls-sig-api-v2') as {
  Api: new (sdkappid: number | string, key: string) => OfficialApi;
};

// API.md section 4: the test vector, reproduced with the official package and time frozen.
const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
const APP = 1400000000;
const TIME = 1700000000;
const EXPIRE = 15552000;
const VECTOR_SIG = 'JCzxanF8NTTXau4m+2h9wv7gYJnyNksm0xm1NEXU274=';
const VECTOR =
  'eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwokpuZl5mcUlRYkl*UVQBcUp2YkFBZkpSlaGJgZQAJEpycxNVbIyNEcVTa0oyCwCiZuamhrBRYsz05WslLycqyoS89ws-EJCIhJLTXK1jTIsy8vM0yO98ir9sotzDSpyDf1cI0KNzE1slWoBQr40pw__';
const VECTOR_DECODED: DecodedUserSig = {
  version: '2.0',
  identifier: 'administrator',
  sdkAppId: APP,
  time: TIME,
  expire: EXPIRE,
  expiresAt: TIME + EXPIRE,
  sig: VECTOR_SIG,
};

/** zlib + base64 + the UserSig escapes, for hand-made documents. */
function pack(content: unknown): string {
  const bytes = Buffer.isBuffer(content)
    ? content
    : Buffer.from(typeof content === 'string' ? content : JSON.stringify(content), 'utf8');
  return deflateSync(bytes).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

/** The JSON inside a UserSig, for tampering. */
function unpack(userSig: string): Record<string, unknown> {
  const base64 = userSig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  return JSON.parse(inflateSync(Buffer.from(base64, 'base64')).toString('utf8')) as Record<string, unknown>;
}

/** The vector's document with some fields replaced (undefined removes one). */
function vectorDoc(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const doc = { ...unpack(VECTOR), ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete doc[name];
  return doc;
}

/** Runs `fn` and returns the UsageError it throws. */
function usageErrorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a UsageError, but nothing was thrown');
}

describe('usersig constants', () => {
  it('signs for one day by default and knows Tencent signs for 180 days', () => {
    assert.equal(DEFAULT_ADMIN_TTL_SECONDS, 86400);
    assert.equal(TENCENT_DEFAULT_TTL_SECONDS, 15552000);
  });
});

describe('generate', () => {
  it('reproduces the API.md test vector byte for byte', () => {
    const userSig = generate({ sdkAppId: APP, identifier: 'administrator', secretKey: KEY, expireSeconds: EXPIRE, now: TIME });
    assert.equal(userSig, VECTOR);
    assert.equal(unpack(userSig)['TLS.sig'], VECTOR_SIG);
  });

  it('writes the JSON keys in the official order and types', () => {
    const json = JSON.stringify(unpack(VECTOR));
    assert.equal(
      json,
      `{"TLS.ver":"2.0","TLS.identifier":"administrator","TLS.sdkappid":1400000000,"TLS.time":1700000000,` +
        `"TLS.expire":15552000,"TLS.sig":"${VECTOR_SIG}"}`,
    );
  });

  it('treats a decimal-string SDKAppID like the number, leading zeros included', () => {
    for (const sdkAppId of ['1400000000', ' 1400000000 ', '01400000000']) {
      const userSig = generate({ sdkAppId, identifier: 'administrator', secretKey: KEY, expireSeconds: EXPIRE, now: TIME });
      assert.equal(userSig, VECTOR, JSON.stringify(sdkAppId));
    }
  });

  it('uses only the UserSig alphabet', () => {
    for (const identifier of ['a', 'administrator', '管理员', 'é-admin', 'x'.repeat(100)]) {
      const userSig = generate({ sdkAppId: APP, identifier, secretKey: KEY, expireSeconds: 86400, now: TIME });
      assert.match(userSig, /^[A-Za-z0-9*_-]+$/);
    }
  });

  const rejected: Array<[string, Partial<Parameters<typeof generate>[0]>, string]> = [
    ['an empty identifier', { identifier: '' }, 'cannot sign a UserSig: the identifier is empty'],
    ['an identifier with a line break', { identifier: 'admin\nTLS.sdkappid:1' }, 'cannot sign a UserSig: the identifier contains a line break'],
    ['an empty secret key', { secretKey: '' }, 'cannot sign a UserSig: the secret key is empty'],
    ['a zero validity', { expireSeconds: 0 }, 'cannot sign a UserSig: the validity must be a positive whole number of seconds, got 0'],
    ['a negative validity', { expireSeconds: -60 }, 'cannot sign a UserSig: the validity must be a positive whole number of seconds, got -60'],
    ['a fractional validity', { expireSeconds: 1.5 }, 'cannot sign a UserSig: the validity must be a positive whole number of seconds, got 1.5'],
    ['a zero SDKAppID', { sdkAppId: 0 }, 'the SDKAppID must be a positive integer, got 0'],
    ['a non-numeric SDKAppID', { sdkAppId: '14000abc' }, 'the SDKAppID must be a positive integer, got "14000abc"'],
    ['a negative SDKAppID string', { sdkAppId: '-1400000000' }, 'the SDKAppID must be a positive integer, got "-1400000000"'],
  ];
  for (const [name, change, message] of rejected) {
    it(`rejects ${name} with a UsageError`, () => {
      const error = usageErrorOf(() =>
        generate({ sdkAppId: APP, identifier: 'admin', secretKey: KEY, expireSeconds: 86400, now: TIME, ...change }),
      );
      assert.equal(error.message, message);
      assert.equal(error.message.includes(KEY), false);
    });
  }

  it('refuses a now in milliseconds, a caller bug', () => {
    assert.throws(
      () => generate({ sdkAppId: APP, identifier: 'admin', secretKey: KEY, expireSeconds: 60, now: TIME * 1000 }),
      { name: 'RangeError', message: 'usersig: now must be Unix seconds, and 1700000000000 looks like milliseconds' },
    );
  });

  it('signs at the current time when now is not given', () => {
    const before = Math.floor(Date.now() / 1000);
    const { time } = decode(generate({ sdkAppId: APP, identifier: 'admin', secretKey: KEY, expireSeconds: 60 }));
    const after = Math.floor(Date.now() / 1000);
    assert.ok(time >= before && time <= after, `${time} not in [${before}, ${after}]`);
  });
});

describe('agreement with the official tls-sig-api-v2 package', () => {
  const cases: Array<[string | number, string, string, number]> = [
    [1400000000, 'administrator', KEY, 15552000],
    ['1400000000', 'admin', KEY, 86400],
    [1400123456, '管理员', KEY, 604800],
    [20000001, 'é-admin', 'another-secret-key', 300],
    [1600000001, 'user_01-A', 'ключ 🔑 key', 1],
    [4294967295, 'a'.repeat(32), KEY, 180 * 86400],
  ];
  for (const [sdkAppId, identifier, secretKey, expire] of cases) {
    it(`decodes, verifies and regenerates the official UserSig for ${identifier} in app ${sdkAppId}, ${expire}s`, () => {
      const theirs = new official.Api(sdkAppId, secretKey).genUserSig(identifier, expire);
      const decoded = decode(theirs);
      const now = decoded.time;
      assert.deepEqual(decoded, {
        version: '2.0',
        identifier,
        sdkAppId: Number(sdkAppId),
        time: now,
        expire,
        expiresAt: now + expire,
        sig: unpack(theirs)['TLS.sig'],
      });
      assert.deepEqual(verify(theirs, { secretKey, sdkAppId, identifier, now }), { ok: true, decoded });
      assert.deepEqual(verify(theirs, { secretKey, sdkAppId, identifier, now: now + expire }), { ok: true, decoded });
      assert.equal(verify(theirs, { secretKey, now: now + expire + 1 }).ok, false);

      const ours = generate({ sdkAppId, identifier, secretKey, expireSeconds: expire, now });
      assert.equal(ours, theirs);
    });
  }

  it('agrees on a UserSig with a userbuf, byte for byte', () => {
    const userbuf = Buffer.from([0, 0, 5, 0x61, 0x64, 0x6d, 0x69, 0x6e, 0xff, 0x10, 0x80]);
    const theirs = new official.Api(APP, KEY).genSig('admin', 300, userbuf);
    const decoded = decode(theirs);
    assert.deepEqual(decoded.userbuf, userbuf);
    assert.deepEqual(verify(theirs, { secretKey: KEY, sdkAppId: APP, identifier: 'admin', now: decoded.time }), {
      ok: true,
      decoded,
    });
    const ours = generate({ sdkAppId: APP, identifier: 'admin', secretKey: KEY, expireSeconds: 300, now: decoded.time, userbuf });
    assert.equal(ours, theirs);
  });
});

describe('decode', () => {
  it('reads the API.md test vector', () => {
    assert.deepEqual(decode(VECTOR), VECTOR_DECODED);
  });

  it('ignores whitespace around a pasted UserSig', () => {
    assert.deepEqual(decode(`  ${VECTOR}\r\n`), VECTOR_DECODED);
  });

  it('accepts a UserSig without its trailing padding', () => {
    assert.deepEqual(decode(VECTOR.replace(/_+$/, '')), VECTOR_DECODED);
  });

  it('ignores fields it does not know', () => {
    assert.deepEqual(decode(pack(vectorDoc({ 'TLS.extra': [1, 2] }))), VECTOR_DECODED);
  });

  const undecodable = 'not a UserSig: it does not decode (base64/zlib), or it is cut short';
  const cases: Array<[string, string, string]> = [
    ['an empty string', '', 'not a UserSig: it is empty'],
    ['only whitespace', ' \n\t', 'not a UserSig: it is empty'],
    ['a word of impossible length', 'hello', 'not a UserSig: it does not decode (base64/zlib): misplaced padding or wrong length'],
    ['text with a space', 'hello world', 'not a UserSig: it contains a character outside [A-Za-z0-9*_-] at position 6 (U+0020)'],
    ['text with punctuation', 'eJyr!abc', 'not a UserSig: it contains a character outside [A-Za-z0-9*_-] at position 5 ("!")'],
    ['standard base64 with +', VECTOR.replace('*', '+'), 'not a UserSig: it contains a character outside [A-Za-z0-9*_-] at position 57 ("+")'],
    ['a URL-encoded UserSig', VECTOR.replace('*', '%2A'), 'not a UserSig: it contains a character outside [A-Za-z0-9*_-] at position 57 ("%")'],
    ['non-ASCII text', 'eJyré', 'not a UserSig: it contains a character outside [A-Za-z0-9*_-] at position 5 (U+00E9)'],
    ['padding in the middle', `${VECTOR.slice(0, 8)}_${VECTOR.slice(9)}`, 'not a UserSig: it does not decode (base64/zlib): misplaced padding or wrong length'],
    ['too much padding', `${VECTOR.replace(/_+$/, '')}___`, 'not a UserSig: it does not decode (base64/zlib): misplaced padding or wrong length'],
    ['the test vector cut in half', VECTOR.slice(0, VECTOR.length / 2), undecodable],
    ['the test vector missing its last 8 characters', VECTOR.slice(0, -8), undecodable],
    ['valid base64 that is not zlib', Buffer.from('hello world, not zlib').toString('base64').replace(/=/g, '_'), undecodable],
    ['a secret key', KEY, undecodable],
    ['zlib of text that is not JSON', pack('TLS.sig:abc'), 'not a UserSig: it decodes, but not to JSON'],
    ['zlib of bytes that are not UTF-8', pack(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 'not a UserSig: it decodes, but not to UTF-8 text'],
    ['zlib of a JSON array', pack([1, 2]), 'not a UserSig: it decodes to JSON that is not an object'],
    ['zlib of JSON null', pack('null'), 'not a UserSig: it decodes to JSON that is not an object'],
    ['zlib of a huge document', pack(' '.repeat(100_000)), 'not a UserSig: it inflates to more than 65536 bytes'],
    ['a version 1 UserSig', pack({ 'TLS.version': '201512300000', 'TLS.identifier': 'admin', 'TLS.sig': 'MEUCIQ' }),
      'not a UserSig: it is a version 1 (ECDSA) UserSig, which Tencent retired; make a TLSSigAPIv2 one from the secret key'],
    ['JSON missing TLS.ver', pack(vectorDoc({ 'TLS.ver': undefined })), 'not a UserSig: missing TLS.ver'],
    ['JSON with another TLS.ver', pack(vectorDoc({ 'TLS.ver': '3.0' })), 'not a UserSig: TLS.ver is "3.0", and only "2.0" is understood'],
    ['JSON with a numeric TLS.ver', pack(vectorDoc({ 'TLS.ver': 2 })), 'not a UserSig: TLS.ver must be a string, got number'],
    ['JSON missing TLS.identifier', pack(vectorDoc({ 'TLS.identifier': undefined })), 'not a UserSig: missing TLS.identifier'],
    ['JSON with an empty TLS.identifier', pack(vectorDoc({ 'TLS.identifier': '' })), 'not a UserSig: TLS.identifier is empty'],
    ['JSON with a null TLS.identifier', pack(vectorDoc({ 'TLS.identifier': null })), 'not a UserSig: TLS.identifier must be a string, got null'],
    ['JSON missing TLS.sdkappid', pack(vectorDoc({ 'TLS.sdkappid': undefined })), 'not a UserSig: missing TLS.sdkappid'],
    ['JSON with a string TLS.sdkappid', pack(vectorDoc({ 'TLS.sdkappid': '1400000000' })), 'not a UserSig: TLS.sdkappid must be a number, got string'],
    ['JSON with a zero TLS.sdkappid', pack(vectorDoc({ 'TLS.sdkappid': 0 })), 'not a UserSig: TLS.sdkappid must be a positive integer, got 0'],
    ['JSON missing TLS.time', pack(vectorDoc({ 'TLS.time': undefined })), 'not a UserSig: missing TLS.time'],
    ['JSON with a fractional TLS.time', pack(vectorDoc({ 'TLS.time': 1700000000.5 })), 'not a UserSig: TLS.time must be a Unix time in whole seconds, got 1700000000.5'],
    ['JSON with an array TLS.time', pack(vectorDoc({ 'TLS.time': [1] })), 'not a UserSig: TLS.time must be a number, got array'],
    ['JSON missing TLS.expire', pack(vectorDoc({ 'TLS.expire': undefined })), 'not a UserSig: missing TLS.expire'],
    ['JSON with a negative TLS.expire', pack(vectorDoc({ 'TLS.expire': -1 })), 'not a UserSig: TLS.expire must be a whole number of seconds, got -1'],
    ['JSON with a string TLS.expire', pack(vectorDoc({ 'TLS.expire': '86400' })), 'not a UserSig: TLS.expire must be a number, got string'],
    ['JSON missing TLS.sig', pack(vectorDoc({ 'TLS.sig': undefined })), 'not a UserSig: missing TLS.sig'],
    ['JSON with a numeric TLS.sig', pack(vectorDoc({ 'TLS.sig': 42 })), 'not a UserSig: TLS.sig must be a string, got number'],
    ['JSON with a short TLS.sig', pack(vectorDoc({ 'TLS.sig': 'JCzxanF8NTTXau4m' })), 'not a UserSig: TLS.sig is not a base64 HMAC-SHA256 (32 bytes)'],
    ['JSON with a TLS.sig that is not base64', pack(vectorDoc({ 'TLS.sig': `${VECTOR_SIG.slice(0, -2)}!=` })), 'not a UserSig: TLS.sig is not a base64 HMAC-SHA256 (32 bytes)'],
    ['JSON with a TLS.userbuf that is not base64', pack(vectorDoc({ 'TLS.userbuf': 'a b' })), 'not a UserSig: TLS.userbuf is not base64'],
    ['JSON with a numeric TLS.userbuf', pack(vectorDoc({ 'TLS.userbuf': 7 })), 'not a UserSig: TLS.userbuf must be a string, got number'],
  ];
  for (const [name, input, message] of cases) {
    it(`rejects ${name}`, () => {
      const error = usageErrorOf(() => decode(input));
      assert.equal(error.message, message);
      assert.equal(error.exitCode, 2);
      // Never echo what was pasted: it may be a credential.
      if (input.trim().length > 8) assert.equal(error.message.includes(input.trim()), false);
      assert.equal(error.message.includes(VECTOR_SIG), false);
      assert.equal(error.message.includes(KEY), false);
    });
  }

  it('hints that a secret key is not a UserSig', () => {
    assert.equal(
      usageErrorOf(() => decode(KEY)).hint,
      'This looks like a secret key (64 hex digits), not a UserSig: set it as secretKey and im-attrs signs for you.',
    );
  });

  it('hints where a UserSig comes from for other garbage', () => {
    assert.equal(
      usageErrorOf(() => decode('hello')).hint,
      'A UserSig is the long [A-Za-z0-9*_-] string from `im-attrs usersig gen`, the console\'s UserSig tool ' +
        'or TLSSigAPIv2 genUserSig; check that it was copied whole, or set secretKey so im-attrs signs for you.',
    );
  });
});

describe('verify', () => {
  const expiresAt = TIME + EXPIRE;
  const configured = { secretKey: KEY, sdkAppId: APP, identifier: 'administrator' };
  const badSignature =
    'UserSig signature does not match the configured secret key: it was signed with another key, or altered after signing.';

  const tamperedSig = pack(vectorDoc({ 'TLS.sig': `K${VECTOR_SIG.slice(1)}` }));
  const tamperedIdentifier = pack(vectorDoc({ 'TLS.identifier': 'root' }));
  const tamperedExpire = pack(vectorDoc({ 'TLS.expire': EXPIRE * 2 }));
  const forBob = generate({ sdkAppId: APP, identifier: 'bob', secretKey: KEY, expireSeconds: EXPIRE, now: TIME });
  const forOtherApp = generate({ sdkAppId: 1400000001, identifier: 'administrator', secretKey: KEY, expireSeconds: EXPIRE, now: TIME });
  const decodedOf = (userSig: string): DecodedUserSig => decode(userSig);

  const cases: Array<[string, string, Parameters<typeof verify>[1], VerifyResult]> = [
    ['accepts the test vector when it was signed', VECTOR, { ...configured, now: TIME }, { ok: true, decoded: VECTOR_DECODED }],
    ['accepts it without an SDKAppID or identifier to compare', VECTOR, { secretKey: KEY, now: TIME }, { ok: true, decoded: VECTOR_DECODED }],
    ['accepts a decimal-string SDKAppID', VECTOR, { ...configured, sdkAppId: '1400000000', now: TIME }, { ok: true, decoded: VECTOR_DECODED }],
    ['accepts it exactly at time + expire', VECTOR, { ...configured, now: expiresAt }, { ok: true, decoded: VECTOR_DECODED }],
    ['rejects it one second after time + expire', VECTOR, { ...configured, now: expiresAt + 1 },
      { ok: false, reason: 'expired', message: 'UserSig expired on 2024-05-12T22:13:20Z (1s ago)', decoded: VECTOR_DECODED }],
    ['says how long ago it expired', VECTOR, { ...configured, now: expiresAt + 3 * 86400 + 4 * 3600 + 59 },
      { ok: false, reason: 'expired', message: 'UserSig expired on 2024-05-12T22:13:20Z (3d 4h ago)', decoded: VECTOR_DECODED }],
    ['rejects a flipped character in TLS.sig', tamperedSig, { ...configured, now: TIME },
      { ok: false, reason: 'bad-signature', message: badSignature, decoded: decodedOf(tamperedSig) }],
    ['rejects an identifier changed after signing', tamperedIdentifier, { ...configured, now: TIME },
      { ok: false, reason: 'bad-signature', message: badSignature, decoded: decodedOf(tamperedIdentifier) }],
    ['rejects a validity stretched after signing', tamperedExpire, { ...configured, now: TIME },
      { ok: false, reason: 'bad-signature', message: badSignature, decoded: decodedOf(tamperedExpire) }],
    ['rejects the wrong secret key', VECTOR, { ...configured, secretKey: KEY.replace('5', '6'), now: TIME },
      { ok: false, reason: 'bad-signature', message: badSignature, decoded: VECTOR_DECODED }],
    ['mentions the other app when the key is also wrong', VECTOR, { ...configured, sdkAppId: 1400000999, secretKey: 'wrong-secret-key', now: TIME },
      { ok: false, reason: 'bad-signature',
        message: `${badSignature} It was also made for SDKAppID 1400000000, but the configured SDKAppID is 1400000999.`,
        decoded: VECTOR_DECODED }],
    ['rejects a UserSig made for another identifier', forBob, { ...configured, now: TIME },
      { ok: false, reason: 'identifier-mismatch',
        message: 'UserSig was made for identifier "bob", but the configured identifier is "administrator"',
        decoded: decodedOf(forBob) }],
    ['rejects a UserSig made for another app', forOtherApp, { ...configured, now: TIME },
      { ok: false, reason: 'sdkappid-mismatch',
        message: 'UserSig was made for SDKAppID 1400000001, but the configured SDKAppID is 1400000000',
        decoded: decodedOf(forOtherApp) }],
    ['reports a bad signature before an expiry', VECTOR, { ...configured, secretKey: 'wrong-secret-key', now: expiresAt + 1 },
      { ok: false, reason: 'bad-signature', message: badSignature, decoded: VECTOR_DECODED }],
    ['reports another app before another identifier', forOtherApp, { ...configured, identifier: 'bob', now: TIME },
      { ok: false, reason: 'sdkappid-mismatch',
        message: 'UserSig was made for SDKAppID 1400000001, but the configured SDKAppID is 1400000000',
        decoded: decodedOf(forOtherApp) }],
    ['reports another identifier before an expiry', forBob, { ...configured, now: expiresAt + 1 },
      { ok: false, reason: 'identifier-mismatch',
        message: 'UserSig was made for identifier "bob", but the configured identifier is "administrator"',
        decoded: decodedOf(forBob) }],
    ['reports malformed text without a decoded UserSig', 'hello world', { ...configured, now: TIME },
      { ok: false, reason: 'malformed',
        message: 'not a UserSig: it contains a character outside [A-Za-z0-9*_-] at position 6 (U+0020)' }],
    ['reports a truncated UserSig as malformed', VECTOR.slice(0, 96), { ...configured, now: TIME },
      { ok: false, reason: 'malformed', message: 'not a UserSig: it does not decode (base64/zlib), or it is cut short' }],
  ];
  for (const [name, userSig, options, expected] of cases) {
    it(name, () => {
      const result = verify(userSig, options);
      assert.deepEqual(result, expected);
      if (!result.ok) {
        assert.equal(result.message.includes(VECTOR_SIG), false);
        assert.equal(result.message.includes(options.secretKey), false);
      }
    });
  }

  it('round-trips a userbuf and notices when it is altered', () => {
    const userbuf = Buffer.from('room 42, privileges 255', 'utf8');
    const userSig = generate({ sdkAppId: APP, identifier: 'admin', secretKey: KEY, expireSeconds: 300, now: TIME, userbuf });
    const decoded = decode(userSig);
    assert.deepEqual(decoded, {
      version: '2.0',
      identifier: 'admin',
      sdkAppId: APP,
      time: TIME,
      expire: 300,
      expiresAt: TIME + 300,
      sig: unpack(userSig)['TLS.sig'],
      userbuf,
    });
    assert.deepEqual(verify(userSig, { secretKey: KEY, identifier: 'admin', now: TIME }), { ok: true, decoded });

    const altered = pack({ ...unpack(userSig), 'TLS.userbuf': Buffer.from('room 43, privileges 255').toString('base64') });
    assert.equal(verify(altered, { secretKey: KEY, now: TIME }).ok, false);
    const dropped = pack({ ...unpack(userSig), 'TLS.userbuf': undefined });
    assert.deepEqual(verify(dropped, { secretKey: KEY, now: TIME }), {
      ok: false,
      reason: 'bad-signature',
      message: badSignature,
      decoded: decode(dropped),
    });
  });

  it('round-trips an empty userbuf, which is still signed', () => {
    const userSig = generate({ sdkAppId: APP, identifier: 'admin', secretKey: KEY, expireSeconds: 300, now: TIME, userbuf: Buffer.alloc(0) });
    assert.equal(unpack(userSig)['TLS.userbuf'], '');
    assert.deepEqual(decode(userSig).userbuf, Buffer.alloc(0));
    assert.equal(verify(userSig, { secretKey: KEY, now: TIME }).ok, true);
  });

  it('throws a UsageError for an empty secret key rather than calling every UserSig forged', () => {
    assert.equal(usageErrorOf(() => verify(VECTOR, { secretKey: '' })).message, 'cannot verify a UserSig: the secret key is empty');
  });

  it('checks expiry against the current time when now is not given', () => {
    assert.equal(verify(VECTOR, { secretKey: KEY }).ok, false);
    const fresh = generate({ sdkAppId: APP, identifier: 'admin', secretKey: KEY, expireSeconds: 600 });
    assert.equal(verify(fresh, { secretKey: KEY }).ok, true);
  });
});

describe('parseDuration', () => {
  const accepted: Array<[string, number]> = [
    ['3600', 3600],
    ['1', 1],
    ['90s', 90],
    ['90m', 5400],
    ['12h', 43200],
    ['1d', 86400],
    ['180d', 15552000],
    ['1w', 604800],
    ['2w', 1209600],
    [' 12h ', 43200],
    ['1d12h', 129600],
    ['3d 4h', 273600],
    ['59m 10s', 3550],
    ['1w 2d 3h 4m 5s', 788645],
    ['0d 1h', 3600],
  ];
  for (const [text, seconds] of accepted) {
    it(`reads ${JSON.stringify(text)} as ${seconds} seconds`, () => {
      assert.equal(parseDuration(text), seconds);
    });
  }

  const forms =
    'use a whole number of seconds (3600) or whole numbers with units s, m, h, d, w (90s, 90m, 12h, 1d, 180d, 1w, 1d12h)';
  const rejected: Array<[string, string]> = [
    ['0', 'it must be more than zero'],
    ['0h', 'it must be more than zero'],
    ['-5', 'it is not a duration'],
    ['-1d', 'it is not a duration'],
    ['', 'it is not a duration'],
    ['abc', 'it is not a duration'],
    ['1.5h', 'it is not a duration'],
    ['12 hours', 'it is not a duration'],
    ['h', 'it is not a duration'],
    ['1y', 'unknown unit "y"'],
    ['5M', 'unknown unit "M"'],
    ['2W', 'unknown unit "W"'],
    ['1h1d', 'units must each appear once, largest first'],
    ['1h1h', 'units must each appear once, largest first'],
    ['99999999999999999999', 'it is too long'],
    ['99999999999999w', 'it is too long'],
  ];
  for (const [text, why] of rejected) {
    it(`rejects ${JSON.stringify(text)}: ${why}`, () => {
      assert.equal(usageErrorOf(() => parseDuration(text)).message, `invalid duration ${JSON.stringify(text)}: ${why}; ${forms}`);
    });
  }
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [12, '12s'],
    [59, '59s'],
    [60, '1m'],
    [3550, '59m 10s'],
    [3600, '1h'],
    [7230, '2h'],
    [7260, '2h 1m'],
    [86399, '23h 59m'],
    [86400, '1d'],
    [273600, '3d 4h'],
    [273659, '3d 4h'],
    [86400 + 59, '1d'],
    [15552000, '180d'],
    [12.9, '12s'],
    [-90, '-1m 30s'],
  ];
  for (const [seconds, text] of cases) {
    it(`writes ${seconds} seconds as ${JSON.stringify(text)}`, () => {
      assert.equal(formatDuration(seconds), text);
    });
  }

  it('writes what parseDuration reads back', () => {
    for (const seconds of [1, 90, 3550, 3600, 7260, 86400, 273600, 15552000]) {
      assert.equal(parseDuration(formatDuration(seconds)), seconds);
    }
  });

  it('refuses a number that is not finite', () => {
    assert.throws(() => formatDuration(Number.NaN), { name: 'RangeError', message: 'formatDuration: not a finite number: NaN' });
  });
});
