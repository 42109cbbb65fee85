/**
 * Composite reads: one batch, two requests over the same accounts, one record per account. The
 * attributes and the tags of a batch, for `get --tags` (the audit view) and `audience` (which
 * fetches only what its condition needs).
 *
 * It stays a descriptor (operation.ts): the runner splits, paces, retries and reports it like any
 * other; only `send` differs. Both requests start at the batch's pacer turn: they go to different
 * endpoints, each under its own 100 calls/s limit. Sent one after the other, the second would
 * start a round trip later, bunch up and overrun its own window (measured on the emulator,
 * 100,000 accounts at 30 ms: 24 of 1,024 get_tag calls refused with 60007, against 2 of 1,002).
 */
import type { AttrRecord } from '../model.js';
import type { BatchOperation, BatchOutcome, ItemFailure } from './operation.js';
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
      // Both start at the batch's pacer slot: each endpoint's request starts then follow the
      // pacer's schedule exactly (one after the other, the second would start a round trip
      // later, bunch up, and overrun its own 100 calls/s window).
      const [attrs, tags] = await Promise.all([client.call(getAttrs, accounts, options), client.call(getTags, accounts, { signal: options.signal })]);
      return joinOutcomes(accounts, attrs, tags);
    },
  };
}

function mapResults<I, A, B>(outcome: BatchOutcome<I, A>, map: (a: A) => B): BatchOutcome<I, B> {
  return { results: outcome.results.map(map), failures: outcome.failures };
}

/** Attributes and tags of the same accounts as one record each, in request order. */
export function joinOutcomes(accounts: readonly string[], attrs: BatchOutcome<string, AttrRecord>, tags: BatchOutcome<string, TagRecord>): BatchOutcome<string, AttrRecord> {
  const attrsOf = new Map(attrs.results.map((r) => [r.To_Account, r.Attrs]));
  const tagsOf = new Map(tags.results.map((r) => [r.To_Account, r.Tags]));
  const failed = new Map<string, ItemFailure<string>>();
  for (const f of [...attrs.failures, ...tags.failures]) if (!failed.has(f.item)) failed.set(f.item, f);
  const out: BatchOutcome<string, AttrRecord> = { results: [], failures: [] };
  for (const account of accounts) {
    const failure = failed.get(account);
    const a = attrsOf.get(account);
    const t = tagsOf.get(account);
    if (failure) out.failures.push(failure);
    else if (a === undefined || t === undefined) out.failures.push({ item: account, reason: 'not in the response' });
    else out.results.push({ To_Account: account, Attrs: a, Tags: t });
  }
  return out;
}
