/**
 * `push send --to FILE|-`: a push to an exact list of accounts (TIMPush timpush/batch, 1-500
 * accounts a call, at the edition's rate). The roster comes from every input `get` takes
 * (arguments of --to are files or "-": ID lists, record files with --id-column, ndjson from
 * `audience`/`get`, a --failures file), deduplicated and streamed.
 *
 * Nobody may get it twice and nobody may be dropped:
 * - each call's accounts are written to a manifest (push/manifest.ts) and synced before the call
 *   leaves; its end (TaskId, the accounts the answer named, or "may have been sent") after;
 * - a call whose request may have arrived without an answer is never sent again (the operation is
 *   `retrySafe: false`): it is named as "may have been sent", and `push report --manifest` shows
 *   what arrived;
 * - `--resume MANIFEST` sends exactly the calls the manifest does not show as sent or started.
 * Guard-rails as for a condition push: the count and the first accounts, the message, a question
 * on a terminal (--yes otherwise), --dry-run, and --max-recipients.
 */
import path from 'node:path';
import { MAX_DATA_ID_BYTES, PUSH_EDITIONS, type PushEdition } from '../api/facts.js';
import { withEdition, type ListPushCall, type ListPushMessage, type RosterItem } from '../api/push.js';
import { describeSource } from '../config/resolve.js';
import { ConfigError, UsageError } from '../errors.js';
import { countAccounts } from '../input/id-files.js';
import { accountIds, accountSources } from '../input/sources.js';
import { runJob, type CallEnd } from '../jobs/runner.js';
import { withRun, type EngineFlags, type WriteFlags } from '../jobs/run.js';
import { doneRanges, ManifestWriter, messageDigest, readManifest } from '../push/manifest.js';
import type { Runtime } from '../runtime/runtime.js';
import { listedId } from '../jobs/failures.js';
import { plural, thousands } from '../util/text.js';

/** What `push send --to` reads besides the message options. */
export interface ListPushFlags extends EngineFlags, WriteFlags {
  to?: string[];
  idColumn?: string;
  dataId?: string;
  maxRecipients?: string;
  manifest?: string;
  resume?: string;
}

/** Accounts shown before the question. */
const SHOWN_ACCOUNTS = 5;

/** The TIMPush edition the list push is paced for: the `pushEdition` setting, else the lowest. */
async function edition(rt: Runtime): Promise<PushEdition> {
  const setting = (await rt.settings()).values.pushEdition;
  if (setting === undefined || setting.value.trim() === '') return 'free';
  const value = setting.value.trim().toLowerCase();
  if (!(PUSH_EDITIONS as readonly string[]).includes(value)) {
    throw new ConfigError(`pushEdition "${setting.value}" (from ${describeSource(setting.source)}) is not a TIMPush edition`, { hint: `use one of ${PUSH_EDITIONS.join(', ')}` });
  }
  return value as PushEdition;
}

/** The roster with positions, the ranges a resumed run skips left out (and checked against the manifest). */
async function* roster(ids: AsyncIterable<string>, skip: ReadonlyArray<{ from: number; to: number; accounts?: string[] | undefined }>, manifest: string | undefined): AsyncGenerator<RosterItem> {
  let position = 0;
  let next = 0;
  for await (const account of ids) {
    while (next < skip.length && position >= skip[next]!.to) next++;
    const range = skip[next];
    if (range && position >= range.from && position < range.to) {
      const expected = range.accounts?.[position - range.from];
      if (expected !== undefined && expected !== account) {
        throw new UsageError(`the roster differs from the one the manifest ${manifest} was written for: position ${position} is ${listedId(account)}, the manifest has ${listedId(expected)}`, {
          hint: 'resume with the same --to input (the same files, in the same order)',
        });
      }
    } else yield { account, position };
    position++;
  }
}

/** Takes the first `n` items off a stream and gives them back in front of the rest. */
async function peek<T>(items: AsyncIterable<T>, n: number): Promise<{ head: T[]; all: AsyncIterable<T> }> {
  const iterator = items[Symbol.asyncIterator]();
  const head: T[] = [];
  while (head.length < n) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
  }
  async function* all(): AsyncGenerator<T> {
    yield* head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { head, all: all() };
}

/** A default manifest name in the working directory, dated (UTC). */
function defaultManifest(rt: Runtime): string {
  // To the millisecond: two pushes started from one directory get two manifests (an existing one is refused).
  const stamp = new Date(rt.deps.now()).toISOString().replace(/[-:]/g, '');
  return path.join(rt.deps.cwd, `im-attrs-push-${stamp}.manifest.ndjson`);
}

/**
 * Sends `message` to the roster of `flags.to` (see the file comment). `message` is the request
 * body without accounts and MsgRandom (each call gets its own).
 */
export async function pushListRun(rt: Runtime, message: ListPushMessage, flags: ListPushFlags): Promise<void> {
  const family = await rt.family();
  if (family !== 'timpush') {
    throw new ConfigError('the all_member_push family has no list push (push send --to uses TIMPush timpush/batch)', {
      hint: 'use --api timpush (or `api: timpush` in the config), or push to a condition instead',
    });
  }
  if (message.MsgBody === undefined && message.OfflinePushInfo === undefined) {
    throw new UsageError('a list push needs a message', { hint: 'give --text, --msg-body FILE, or --offline-title/--offline-desc' });
  }
  if (flags.dataId !== undefined) {
    if (Buffer.byteLength(flags.dataId) > MAX_DATA_ID_BYTES) throw new UsageError(`--data-id is ${Buffer.byteLength(flags.dataId)} bytes, over the API's limit of ${MAX_DATA_ID_BYTES} (it would answer 90057)`);
    message = { ...message, DataId: flags.dataId };
  }
  const maxRecipients = flags.maxRecipients === undefined ? undefined : Number(flags.maxRecipients);
  if (maxRecipients !== undefined && (!Number.isSafeInteger(maxRecipients) || maxRecipients < 1)) throw new UsageError(`--max-recipients must be a whole number of at least 1, not "${flags.maxRecipients}"`);
  if (flags.resume && flags.manifest && path.resolve(rt.deps.cwd, flags.resume) !== path.resolve(rt.deps.cwd, flags.manifest)) {
    throw new UsageError('--resume appends to the manifest it resumes: give it alone, without --manifest');
  }
  const op = withEdition((await rt.operation('listPush'))!, await edition(rt));
  const digest = messageDigest(message);
  const resumed = flags.resume ? readManifest(path.resolve(rt.deps.cwd, flags.resume)) : undefined;
  if (resumed && resumed.message !== digest) {
    throw new UsageError(`the message differs from the one the manifest ${flags.resume} was sent with; nothing was sent`, {
      hint: 'resume with the same --text/--msg-body/--offline-*/--from/--lifetime/--data-id options',
    });
  }
  const skip = resumed ? doneRanges(resumed) : [];
  const sources = accountSources(rt, [], flags.to ?? []);
  const ids = await accountIds(rt, sources, flags.idColumn);
  const listed = await countAccounts(sources, flags.idColumn);
  const skipped = skip.reduce((n, r) => n + (r.to - r.from), 0);
  const total = listed === undefined ? undefined : Math.max(0, listed - skipped);
  // Read ahead what the question shows; with --max-recipients and no count, up to one past it.
  const ahead = maxRecipients !== undefined && total === undefined ? maxRecipients + 1 : SHOWN_ACCOUNTS;
  const { head, all } = await peek(roster(ids, skip, flags.resume), ahead);
  const known = total ?? (head.length < ahead ? head.length : undefined);
  if (maxRecipients !== undefined && (known ?? head.length) > maxRecipients) {
    throw new UsageError(`the roster has ${known === undefined ? `more than ${thousands(maxRecipients)}` : thousands(known)} accounts, over --max-recipients ${thousands(maxRecipients)}; nothing was sent`);
  }
  if (head.length === 0) {
    rt.info(resumed ? `push send --resume: every call of ${flags.resume} was sent or may have been sent; nothing left to send` : 'push send --to: the roster is empty; nothing was sent');
    return;
  }
  const count = known === undefined ? `at least ${thousands(head.length)} accounts (streamed; the count is known at the end)` : plural(known, 'account');
  const first = head.slice(0, SHOWN_ACCOUNTS).map((i) => listedId(i.account)).join(' ');
  const asking = !flags.yes && !flags.dryRun;
  const show = asking ? (line: string) => rt.stderr(line) : (line: string) => rt.info(line);
  show(`push to: ${count}${resumed ? ` (resuming ${flags.resume}: ${plural(skipped, 'account')} already sent or started)` : ''}: ${first}${(known ?? Infinity) > SHOWN_ACCOUNTS ? ' …' : ''}`);
  show(`message: ${JSON.stringify(message)}`);
  show(`request: POST ${op.path}, at most ${op.maxItems} accounts a call, ${op.callsPerSecond} calls/s (pushEdition)`);
  await withRun(rt, flags, async (run) => {
    if (asking && !(await run.confirm(`Push this message to ${count}? It reaches real users; a call that may have arrived is never sent again.`))) {
      throw new UsageError('not confirmed; nothing was sent');
    }
    if (flags.dryRun) {
      await runJob(run, { operation: op, params: message, verb: 'push send', items: all, total: known });
      return;
    }
    const manifestFile = resumed ? path.resolve(rt.deps.cwd, flags.resume!) : path.resolve(rt.deps.cwd, flags.manifest ?? defaultManifest(rt));
    const manifest = ManifestWriter.open(manifestFile, resumed ? undefined : { message: digest, started: new Date(rt.deps.now()).toISOString() });
    rt.info(`manifest: ${manifestFile} (one line per call; if the run stops: im-attrs push send … --resume ${manifestFile})`);
    let nextCall = resumed?.nextCall ?? 1;
    const callOf = new Map<number, number>();
    const range = (items: RosterItem[]): { call: number; from: number; to: number } => {
      const from = items[0]!.position;
      return { call: callOf.get(from)!, from, to: items[items.length - 1]!.position + 1 };
    };
    const out = rt.deps.io.stdout;
    try {
      await runJob<RosterItem, ListPushCall, ListPushMessage>(run, {
        operation: op,
        params: message,
        verb: 'push send',
        items: all,
        total: known,
        // The roster's own IDs are what a re-run reads (--to): --save-failed writes them so.
        saveLine: (item) => item.account,
        rerun: (file) => `im-attrs push send --resume ${manifestFile} (or --to ${file} with the same message)`,
        onSending: (items) => {
          const from = items[0]!.position;
          if (!callOf.has(from)) callOf.set(from, nextCall++);
          manifest.append({ ...range(items), state: 'sending', accounts: items.map((i) => i.account) });
        },
        onCall: (end: CallEnd<RosterItem, ListPushCall>) => {
          // Never sent (the run stopped first): no call line; a resume sends those accounts.
          if (end.kind === 'unsent') return;
          const where = range(end.items);
          if (end.kind === 'answered' && end.results.length > 0) {
            const TaskId = end.results[0]!.TaskId;
            const failed = end.failures.map((f) => ({ account: f.item.account, code: f.code ?? null, reason: f.reason }));
            manifest.append({ ...where, state: 'sent', TaskId, ...(failed.length ? { failed } : {}) });
            out.write(`${TaskId}\n`);
          } else if (end.kind === 'unknown') {
            manifest.append({ ...where, state: 'may-have-been-sent', reason: end.reason });
          } else {
            // Refused whole (an error code, or the run's fatal error): nothing was sent; a resume sends it.
            const reason = end.kind === 'refused' ? end.reason : (end.failures[0]?.reason ?? 'failed');
            manifest.append({ ...where, state: 'failed', reason });
          }
        },
      });
    } finally {
      manifest.close();
    }
  });
}
