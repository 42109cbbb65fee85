/**
 * Composite operations: one batch, several calls, one record per account. `get --tags` is the
 * first: get_attr and get_tag for the same accounts, merged into records that carry both
 * (`{"To_Account","Attrs","Tags"}`), the audit view of what a push would target.
 *
 * It stays a descriptor (operation.ts): the runner splits, paces, retries and reports it like any
 * other; only `send` differs, making the second call after taking its own turn of the pacer.
 */
import type { AttrRecord } from '../model.js';
import { batchOperation, type BatchOperation, type BatchOutcome, type ItemFailure } from './operation.js';
import type { TagRecord } from './tags.js';

/**
 * get_attr then get_tag for each batch. An account is a result only when both calls answered for
 * it; otherwise it fails with the first reason (attributes first). A call that fails as a whole
 * fails the batch, which the runner retries (both calls: they are reads).
 */
export function attrsWithTags(getAttrs: BatchOperation<string, AttrRecord>, getTags: BatchOperation<string, TagRecord>): BatchOperation<string, AttrRecord> {
  const merge = (accounts: readonly string[], attrs: BatchOutcome<string, AttrRecord>, tags: BatchOutcome<string, TagRecord>): BatchOutcome<string, AttrRecord> => {
    const attrsOf = new Map(attrs.results.map((r) => [r.To_Account, r]));
    const tagsOf = new Map(tags.results.map((r) => [r.To_Account, r.Tags]));
    const failed = new Map<string, ItemFailure<string>>();
    for (const f of [...attrs.failures, ...tags.failures]) if (!failed.has(f.item)) failed.set(f.item, f);
    const results: AttrRecord[] = [];
    const failures: ItemFailure<string>[] = [];
    for (const account of accounts) {
      const record = attrsOf.get(account);
      const accountTags = tagsOf.get(account);
      if (record && accountTags) results.push({ To_Account: account, Attrs: record.Attrs, Tags: accountTags });
      else failures.push(failed.get(account) ?? { item: account, reason: 'not in the response' });
    }
    return { results, failures };
  };
  return batchOperation({
    family: getAttrs.family,
    path: `${getAttrs.path}+${getTags.command}`,
    maxItems: Math.min(getAttrs.maxItems, getTags.maxItems),
    retrySafe: getAttrs.retrySafe && getTags.retrySafe,
    writes: false,
    codes: [...new Set([...getAttrs.codes, ...getTags.codes])],
    accountOf: (account) => account,
    body: (accounts) => getAttrs.body(accounts),
    // Only `send` is used by the runner; `read` answers a lone get_attr envelope (no tags known).
    read: (envelope, accounts, ctx) => getAttrs.read(envelope, accounts, ctx),
    async send(caller, items, { signal, onSent, pacer }) {
      const attrs = await caller.call(getAttrs, items, { signal, onSent });
      const sent = await pacer.acquire(signal);
      const tags = await caller.call(getTags, items, { signal, onSent: sent });
      return merge(items, attrs, tags);
    },
  });
}
