/**
 * The plan file: ndjson, one account a line, readable by a person and by jq
 * (`jq -c 'select(.To_Account)' plan.ndjson`). Written by `plan --out`, read by `apply PLAN`.
 *
 *     {"plan":1,"time":"2026-12-07T06:15:00.000Z","sdkAppId":1400000000,"family":"all_member_push","endpoint":"https://…","prune":true,"tagPrefix":null,"tags":true,"inputs":["crm.csv"]}
 *     {"To_Account":"alice","set":{"city":"Lyon"},"remove":[],"addTags":[],"removeTags":[],"before":{"Attrs":{"city":"Paris","sex":"F"},"Tags":["vip"]}}
 *     {"end":true,"counts":{"accounts":50000,"unchanged":49500,"changed":500,…},"failed":0}
 *
 * Only accounts with changes are listed. `before` is the state each change was computed from:
 * `apply` re-reads the accounts and refuses to write one whose state moved since. The last line
 * says the plan is complete (a plan cut short by Ctrl-C has none; apply says so).
 */
import { createReadStream } from 'node:fs';
import { kindOf } from '../api/envelope.js';
import { UsageError } from '../errors.js';
import { readTextLines } from '../input/accounts.js';
import type { AccountState, Change } from './diff.js';

export const PLAN_VERSION = 1;

/** The first line of a plan file: which app it is for, when and how it was made. */
export interface PlanHeader {
  plan: number;
  time: string;
  sdkAppId: number;
  family: string;
  endpoint: string;
  prune: boolean;
  tagPrefix: string | null;
  /** Whether the accounts' tags were read (the desired state had tags). */
  tags: boolean;
  inputs: string[];
}

/** The last line: the counts of the whole plan. */
export interface PlanTrailer {
  end: true;
  counts: object;
  /** Accounts that could not be read (not in the plan). */
  failed: number;
}

/** Longest plan line accepted: an account with 10 attributes and 100 tags of 50 bytes, escaped, before and after. */
const MAX_PLAN_LINE_BYTES = 256 * 1024;

const HINT = 'a plan file is what `im-attrs plan --out FILE` writes; make it again';

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');
const isStringRecord = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');

/** Checks one change line; the problem, or undefined. */
function changeProblem(value: Record<string, unknown>): string | undefined {
  if (typeof value.To_Account !== 'string' || value.To_Account === '') return '"To_Account" must be a non-empty string';
  if (!isStringRecord(value.set)) return `"set" must be an object of name → value, not ${kindOf(value.set)}`;
  for (const key of ['remove', 'addTags', 'removeTags'] as const) if (!isStrings(value[key])) return `"${key}" must be a list of strings, not ${kindOf(value[key])}`;
  const before = value.before as Record<string, unknown> | undefined;
  if (typeof before !== 'object' || before === null || !isStringRecord(before.Attrs)) return '"before" must be {"Attrs":{…}} (and "Tags" when tags were read)';
  if (before.Tags !== undefined && !isStrings(before.Tags)) return '"before.Tags" must be a list of strings';
  return undefined;
}

/** What a first pass over a plan file finds: checked whole before anything is sent. */
export interface PlanSummary {
  header: PlanHeader;
  trailer: PlanTrailer | undefined;
  /** Accounts with changes. */
  accounts: number;
  /** Whether any change adds or removes tags. */
  tagChanges: boolean;
}

async function* planLines(file: string, label: string): AsyncGenerator<{ line: number; value: Record<string, unknown> }> {
  let line = 0;
  let stream: NodeJS.ReadableStream;
  try {
    stream = createReadStream(file);
    for await (const text of readTextLines(stream, label, MAX_PLAN_LINE_BYTES)) {
      line++;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new UsageError(`line ${line} of ${label} is not JSON`, { hint: HINT });
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`line ${line} of ${label} is not a plan line (${kindOf(value)})`, { hint: HINT });
      yield { line, value: value as Record<string, unknown> };
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read the plan ${label}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { hint: 'check the path', cause: error });
  }
}

/** The first pass: header, every change checked (and each account once), trailer. Throws a UsageError naming the line. */
export async function checkPlan(file: string, label: string): Promise<PlanSummary> {
  let header: PlanHeader | undefined;
  let trailer: PlanTrailer | undefined;
  let accounts = 0;
  let tagChanges = false;
  const seen = new Set<string>();
  for await (const { line, value } of planLines(file, label)) {
    if (header === undefined) {
      if (value.plan !== PLAN_VERSION || typeof value.sdkAppId !== 'number' || typeof value.family !== 'string') {
        throw new UsageError(`${label} is not an im-attrs plan (line ${line} is not a plan header)`, { hint: HINT });
      }
      header = value as unknown as PlanHeader;
      continue;
    }
    if (value.end === true) {
      trailer = value as unknown as PlanTrailer;
      continue;
    }
    if (trailer) throw new UsageError(`line ${line} of ${label} comes after the plan's last line`, { hint: HINT });
    const problem = changeProblem(value);
    if (problem) throw new UsageError(`line ${line} of ${label}: ${problem}`, { hint: HINT });
    const change = value as unknown as Change;
    if (seen.has(change.To_Account)) throw new UsageError(`line ${line} of ${label}: the account ${JSON.stringify(change.To_Account)} is planned twice`, { hint: HINT });
    seen.add(change.To_Account);
    accounts++;
    if (change.addTags.length || change.removeTags.length) tagChanges = true;
  }
  if (!header) throw new UsageError(`${label} is empty: not an im-attrs plan`, { hint: HINT });
  return { header, trailer, accounts, tagChanges };
}

/** The second pass (after checkPlan): the changes, in file order. */
export async function* planChanges(file: string, label: string): AsyncGenerator<Change> {
  for await (const { value } of planLines(file, label)) {
    if (value.plan !== undefined || value.end === true) continue;
    yield value as unknown as Change;
  }
}

/** Whether two states are the same: attributes (as sets of name=value) and, when the plan read them, tags (as sets). */
export function sameState(planned: AccountState, now: AccountState): boolean {
  const a = Object.entries(planned.Attrs);
  if (a.length !== Object.keys(now.Attrs).length) return false;
  for (const [name, value] of a) if (!Object.hasOwn(now.Attrs, name) || now.Attrs[name] !== value) return false;
  if (planned.Tags === undefined) return true;
  const tags = new Set(now.Tags ?? []);
  return planned.Tags.length === tags.size && planned.Tags.every((t) => tags.has(t));
}

/** What moved between the plan and now, for a message: `city: Paris → Berlin`, `tags: +x -y`. */
export function describeMove(planned: AccountState, now: AccountState): string {
  const parts: string[] = [];
  const names = new Set([...Object.keys(planned.Attrs), ...Object.keys(now.Attrs)]);
  for (const name of names) {
    const was = Object.hasOwn(planned.Attrs, name) ? planned.Attrs[name] : undefined;
    const is = Object.hasOwn(now.Attrs, name) ? now.Attrs[name] : undefined;
    if (was !== is) parts.push(`${name}: ${was === undefined ? '(none)' : JSON.stringify(was)} → ${is === undefined ? '(none)' : JSON.stringify(is)}`);
  }
  if (planned.Tags !== undefined) {
    const before = new Set(planned.Tags);
    const after = new Set(now.Tags ?? []);
    const added = [...after].filter((t) => !before.has(t));
    const removed = [...before].filter((t) => !after.has(t));
    if (added.length || removed.length) parts.push(`tags: ${[...added.map((t) => `+${t}`), ...removed.map((t) => `-${t}`)].join(' ')}`);
  }
  return parts.join(', ');
}
