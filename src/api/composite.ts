/**
 * Composite reads: one batch, two requests over the same accounts, one record per account. The
 * attributes and the tags of a batch, for `get --tags` (the audit view) and `audience` (which
 * fetches only what its condition needs).
 *
 * It stays a descriptor (operation.ts): the runner splits, paces, retries and reports it like any
 * other; only `send` differs. The attribute request takes the batch's turn of get_attr's pacer,
 * the tag request a turn of get_tag's own pacer (`options.pace`): each endpoint has its own
 * 100 calls/s, and the two requests leave together instead of one round trip apart (sent one
 * after the other, the second would bunch up and overrun its window).
 */
import type { AttrRecord } from '../model.js';
import { failuresByAccount, type BatchOperation, type BatchOutcome, type ItemFailure } from './operation.js';
import type { TagRecord } from './tags.js';

/** What a read fetches for each account: attributes, tags, or both. */
export interface TargetingNeeds {
  attrs: boolean;
  tags: boolean;
}

/**
 * The read `get --tags` and `audience` run per batch: the attributes (get_attr), the tags (get_tag), or both, as
 * one AttrRecord per account (`Tags` set when tags were fetched). With both, it is a composite
 * (operation.ts `send`): two requests over the same accounts, and an account is a result only
 * when both answered for it; otherwise it fails with the first reason (never "not matched").
 */
export function targetingOperation(
  getAttrs: BatchOperation<string, AttrRecord>,
  getTags: BatchOperation<string, TagRecord>,
  needs: TargetingNeeds,
): BatchOperation<string, AttrRecord> {
  const tagRecord = (r: TagRecord): AttrRecord => ({ To_Account: r.To_Account, Attrs: {}, Tags: r.Tags });
  if (!needs.tags) return getAttrs;
  if (!needs.attrs) {
    const { send: _unused, ...plain } = getTags;
    return { ...plain, read: (envelope, accounts, ctx) => mapResults(getTags.read(envelope, accounts, ctx), tagRecord) };
  }
  return {
    ...getAttrs,
    command: `${getAttrs.command}+${getTags.command}`,
    async send(client, accounts, options) {
      const tagTurn = options.pace(getTags, options.signal);
      const [attrs, tags] = await Promise.all([
        client.callBatch(getAttrs, accounts, undefined, { signal: options.signal, onSent: options.onSent }),
        tagTurn.then((sent) => client.callBatch(getTags, accounts, undefined, { signal: options.signal, onSent: sent })),
      ]);
      return joinOutcomes(accounts, attrs, tags);
    },
  };
}

function mapResults<A, B>(outcome: BatchOutcome<A>, map: (a: A) => B): BatchOutcome<B> {
  return { results: outcome.results.map(map), failures: outcome.failures };
}

/** Attributes and tags of the same accounts as one record each, in request order; an account fails with the first reason either gave. */
export function joinOutcomes(accounts: readonly string[], attrs: BatchOutcome<AttrRecord>, tags: BatchOutcome<TagRecord>): BatchOutcome<AttrRecord> {
  const attrsOf = new Map(attrs.results.map((r) => [r.To_Account, r.Attrs]));
  const tagsOf = new Map(tags.results.map((r) => [r.To_Account, r.Tags]));
  const failed = new Map<number, ItemFailure>();
  for (const f of [...attrs.failures, ...tags.failures]) if (!failed.has(f.index)) failed.set(f.index, f);
  const results: AttrRecord[] = [];
  const failures = failuresByAccount(accounts, (a) => a, (account) => {
    const a = attrsOf.get(account);
    const t = tagsOf.get(account);
    if (a === undefined || t === undefined) return { reason: 'not in the response' };
    results.push({ To_Account: account, Attrs: a, Tags: t });
    return undefined;
  });
  // The readers' own reasons win over "not in the response".
  for (const f of failures) {
    const own = failed.get(f.index);
    if (own) Object.assign(f, { reason: own.reason, code: own.code });
  }
  return { results, failures };
}
