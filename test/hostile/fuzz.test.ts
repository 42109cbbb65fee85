/**
 * Property-based tests of the im_get_attr response parser (fast-check): whatever body a server
 * sends, parsing ends in a typed ApiError or in a result where every requested account appears
 * exactly once (as a record or as a failure with a printable reason) and no account that was not
 * requested appears at all. First the pure parser with many bodies, then the real client over
 * loopback with fewer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseGetAttrs, type GetAttrsResult } from '../../src/api/attrs.js';
import { parseEnvelope } from '../../src/api/envelope.js';
import { FAMILIES } from '../../src/api/families.js';
import type { AttrRecord } from '../../src/model.js';
import { ImClient, staticCredentials } from '../../src/api/client.js';
import { ApiError } from '../../src/errors.js';
import { TEST_ADMIN, TEST_SDKAPPID } from '../helpers/cli.js';
import { startScripted, type ScriptedServer } from './servers.js';

const COMMAND = 'im_get_attr';

/** Account IDs, with the names that trip plain objects used as maps. */
const accountId = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'alice', 'bob', ''));
const requestedAccounts = fc.uniqueArray(accountId, { minLength: 1, maxLength: 8 });

/** A JSON value that is sometimes of the right type and often not. */
const attrValue = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
const attrsObject = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('__proto__')), attrValue, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** An envelope-like body for a request of `requested`: right, wrong or half right. */
function envelope(requested: string[]): fc.Arbitrary<unknown> {
  const account = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...requested) }, { weight: 1, arbitrary: accountId }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });
  const entry = fc.oneof(
    { weight: 6, arbitrary: fc.record({ To_Account: account, Attrs: attrsObject }, { requiredKeys: ['To_Account'] }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
  const errorEntry = fc.record({ To_Account: account, ErrorCode: fc.oneof(fc.integer(), fc.jsonValue({ maxDepth: 0 })), ErrorInfo: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 0 })) });
  return fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    {
      weight: 6,
      arbitrary: fc.record(
        {
          ActionStatus: fc.oneof({ weight: 6, arbitrary: fc.constant('OK') }, { weight: 1, arbitrary: fc.constant('FAIL') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }),
          ErrorCode: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer() }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }),
          ErrorInfo: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 0 })),
          UserAttrs: fc.oneof({ weight: 8, arbitrary: fc.array(entry, { maxLength: 12 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
          ErrorList: fc.array(errorEntry, { maxLength: 3 }),
          RequestId: fc.string(),
        },
        { requiredKeys: [] },
      ),
    },
  );
}

/** A body: the envelope as JSON, sometimes cut short or replaced by noise. */
const bodyFor = (requested: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: envelope(requested).map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.tuple(envelope(requested), fc.nat()).map(([value, cut]) => { const text = JSON.stringify(value); return text.slice(0, cut % (text.length + 1)); }) },
    { weight: 1, arbitrary: fc.string() },
  );

const scenario = requestedAccounts.chain((requested) => fc.tuple(fc.constant(requested), bodyFor(requested)));

/** The invariants of a parsed answer to `requested`. */
function checkResult(requested: string[], result: GetAttrsResult): void {
  const accounts = [...result.records.map((r) => r.To_Account), ...result.missing.map((m) => m.account)];
  assert.deepEqual([...accounts].sort(), [...requested].sort(), 'every requested account exactly once, and no other');
  // Records and failures each keep request order.
  const order = (list: string[]): number[] => list.map((a) => requested.indexOf(a));
  for (const list of [result.records.map((r) => r.To_Account), result.missing.map((m) => m.account)]) {
    assert.deepEqual(order(list), [...order(list)].sort((a, b) => a - b));
  }
  for (const record of result.records) {
    for (const value of Object.values(record.Attrs)) assert.equal(typeof value, 'string');
  }
  for (const m of result.missing) {
    assert.equal(typeof m.reason, 'string');
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(m.reason, /[\u0000-\u001f\u007f-\u009f]/, 'reasons carry no control characters');
  }
}

/** Parses like the client does: envelope, then (only for OK/0) the attributes. */
function parse(requested: string[], text: string): GetAttrsResult | undefined {
  const env = parseEnvelope(COMMAND, text);
  if (env.ActionStatus !== 'OK' || env.ErrorCode !== 0) return undefined;
  return parseGetAttrs(COMMAND, env, requested);
}

describe('the im_get_attr response parser under random bodies', () => {
  it('throws nothing but ApiError and never yields an account that was not requested (pure, 3,000 bodies)', () => {
    fc.assert(
      fc.property(scenario, ([requested, text]) => {
        let result: GetAttrsResult | undefined;
        try {
          result = parse(requested, text);
        } catch (error) {
          assert.ok(error instanceof ApiError, `${(error as Error).name}: ${(error as Error).message}`);
          assert.match(error.message, /^im_get_attr: /);
          return;
        }
        if (result) checkResult(requested, result);
      }),
      { numRuns: 3_000 },
    );
  });

  it('reads an answer in request order exactly as the same answer shuffled (the fast path and the general one agree; 1,000 answers)', () => {
    fc.assert(
      fc.property(requestedAccounts, fc.array(attrsObject, { minLength: 8, maxLength: 8 }), fc.nat(), (requested, attrs, seed) => {
        const entries = requested.map((account, i) => ({ To_Account: account, Attrs: attrs[i] }));
        // A different order: rotated by at least one place, or reversed for two (no-op for one).
        const shift = 1 + (seed % Math.max(1, entries.length - 1));
        const shuffled = [...entries.slice(shift), ...entries.slice(0, shift)];
        const run = (list: unknown[]): unknown => {
          try {
            return parseGetAttrs(COMMAND, { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', UserAttrs: list }, requested);
          } catch (error) {
            return { error: (error as Error).message };
          }
        };
        assert.deepEqual(run(entries), run(shuffled));
      }),
      { numRuns: 1000 },
    );
  });

  describe('through the real client over loopback', () => {
    let server: ScriptedServer;
    let nextBody = '';
    let client: ImClient;
    before(async () => {
      server = await startScripted((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(nextBody) });
        res.end(nextBody);
      });
      client = new ImClient({
        baseUrl: server.url,
        sdkAppId: TEST_SDKAPPID,
        identifier: TEST_ADMIN,
        credentials: staticCredentials('fuzz-usersig-that-must-never-be-printed'),
        userAgent: 'im-attrs-fuzz',
        timeoutMs: 5_000,
      });
    });
    after(async () => {
      client.close();
      await server.close();
    });

    it('rejects with ApiError or resolves with exactly the requested accounts (200 bodies)', async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ([requested, text]) => {
          nextBody = text;
          let result: GetAttrsResult;
          try {
            result = await getAttrs(client, requested);
          } catch (error) {
            assert.ok(error instanceof ApiError, `${(error as Error).name}: ${(error as Error).message}`);
            assert.ok(!error.message.includes('fuzz-usersig'), 'no UserSig in the message');
            return;
          }
          checkResult(requested, result);
        }),
        { numRuns: 200 },
      );
    });
  });
});

/** get-attributes as the tests knew it: records and missing accounts of one call. */
async function getAttrs(client: ImClient, accounts: readonly string[]): Promise<{ records: AttrRecord[]; missing: { account: string; reason: string }[] }> {
  const { results, failures } = await client.callBatch(FAMILIES.all_member_push.getAttrs!, accounts, undefined);
  return { records: results, missing: failures.map((f) => ({ account: accounts[f.index]!, reason: f.reason })) };
}
