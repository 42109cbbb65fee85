/**
 * A push `Condition` from the command line, for `audience` and `push send`: from flags
 * (`--attrs-and city=Paris`, `--tags-or vip`, …) or from `--condition FILE` holding the exact JSON
 * object the push API takes, so one file feeds the preview and the push. Checked locally with the
 * one Condition module the emulator's push uses too (src/push/condition.ts), before any request;
 * attribute names are checked against the app's (get_attr_name) with did-you-mean.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ApiFamily } from '../api/operation.js';
import { UsageError } from '../errors.js';
import { CONDITION_READINGS, validateCondition, type Condition } from '../push/condition.js';
import { collect } from '../util/text.js';
import { didYouMean } from '../util/suggest.js';

/** A condition file larger than this is not a condition (ten 50-byte tags per list is < 2 KB). */
const MAX_CONDITION_FILE_BYTES = 64 * 1024;

export interface ConditionFlags {
  attrsAnd?: string[];
  attrsOr?: string[];
  tagsAnd?: string[];
  tagsOr?: string[];
  tagsNot?: string[];
  condition?: string;
}

/** Adds the condition flags to a command. */
export function addConditionOptions(command: Command): Command {
  return command
    .option('--attrs-and <name=value>', 'accounts whose attribute NAME is VALUE, all of them (repeatable; AttrsAnd)', collect)
    .option('--attrs-or <name=value>', 'accounts with at least one of these attribute values (repeatable; AttrsOr)', collect)
    .option('--tags-and <tag>', 'accounts with every one of these tags (repeatable; TagsAnd)', collect)
    .option('--tags-or <tag>', 'accounts with at least one of these tags (repeatable; TagsOr)', collect)
    .option('--tags-not <tag>', 'TIMPush only: leave out accounts with any of these tags (repeatable; TagsNot)', collect)
    .option('--condition <file>', 'the Condition as the push API takes it, a JSON object, or a whole request body (`push send --dry-run`) (instead of the flags above)');
}

/** The `--help` block on conditions: the rules checked locally and the readings where the docs are silent. */
export const CONDITION_HELP = `
Condition (checked before any request; a condition the API would refuse is exit 2):
  Attribute and tag conditions cannot be mixed (90039); at most 10 tags per list (90032);
  a tag is 1-50 bytes (90040, 90020); a tag may not be in both TagsOr and TagsAnd (90022);
  attribute names must be the app's (\`im-attrs names\`; 90033); TagsNot is TIMPush only.
  Readings where Tencent's documentation is silent (the emulator's push reads them the same way):
${CONDITION_READINGS.map((r) => wrap(r, 96, '  - ', '    ')).join('\n')}`;

/** Wraps `text` at `width` columns, the first line after `first`, the others after `rest`. */
function wrap(text: string, width: number, first: string, rest: string): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    if (line.length + word.length > width && line.trim() !== '-' && line !== rest) {
      lines.push(line.trimEnd());
      line = rest;
    }
    line += `${word} `;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

function pairs(flag: string, values: readonly string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string> = {};
  for (const text of values) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected NAME=VALUE`, { hint: `e.g. ${flag} city=Paris` });
    const name = text.slice(0, eq);
    const value = text.slice(eq + 1);
    if (Object.hasOwn(out, name) && out[name] !== value) {
      throw new UsageError(`${flag} gives ${name} twice (${JSON.stringify(out[name])} and ${JSON.stringify(value)})`, {
        hint: flag === '--attrs-and' ? `an account has one ${name}: use --attrs-or for "either value"` : 'a condition maps each attribute to one value',
      });
    }
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The condition of the flags or of --condition FILE (resolved against `cwd`); undefined when none is given (every account). */
export function conditionFromFlags(cwd: string, flags: ConditionFlags): Condition | undefined {
  const fromFlags: Condition = {};
  const attrsAnd = pairs('--attrs-and', flags.attrsAnd);
  const attrsOr = pairs('--attrs-or', flags.attrsOr);
  if (attrsAnd) fromFlags.AttrsAnd = attrsAnd;
  if (attrsOr) fromFlags.AttrsOr = attrsOr;
  if (flags.tagsAnd?.length) fromFlags.TagsAnd = flags.tagsAnd;
  if (flags.tagsOr?.length) fromFlags.TagsOr = flags.tagsOr;
  if (flags.tagsNot?.length) fromFlags.TagsNot = flags.tagsNot;
  const hasFlags = Object.keys(fromFlags).length > 0;
  if (flags.condition === undefined) return hasFlags ? fromFlags : undefined;
  if (hasFlags) {
    throw new UsageError('--condition and the --attrs-*/--tags-* flags contradict each other', { hint: 'give the whole condition in the file, or only flags' });
  }
  return readConditionFile(path.resolve(cwd, flags.condition));
}

/** Reads a JSON Condition object (a whole push body's `Condition` field is accepted too). */
export function readConditionFile(file: string): Condition {
  let text: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new UsageError(`--condition ${file} is not a regular file`);
    if (stat.size > MAX_CONDITION_FILE_BYTES) throw new UsageError(`--condition ${file} is larger than ${MAX_CONDITION_FILE_BYTES / 1024} KB; is it a condition?`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--condition ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (error) {
    throw new UsageError(`--condition ${file} is not JSON: ${(error as Error).message}`, {
      hint: 'give the Condition object as the push API takes it, e.g. {"AttrsAnd":{"city":"Paris"}}',
    });
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).some((k) => k === 'MsgRandom' || k === 'MsgBody')) {
    // A whole push body (`push send --dry-run` output): its Condition is what is meant ({}: none, every account).
    value = (value as { Condition?: unknown }).Condition ?? {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`--condition ${file} must hold a JSON object (the push API's Condition)`, { hint: 'e.g. {"TagsOr":["vip","beta"]}' });
  }
  return value as Condition;
}

/**
 * Every documented rule that can be checked without the app's attribute names; a UsageError
 * (exit 2) listing each problem with the code the API would answer.
 */
export function checkCondition(condition: Condition | undefined, family: ApiFamily): void {
  const problems = validateCondition(condition, family);
  if (problems.length === 0) return;
  const tagsNot = problems.some((p) => p.message.includes('TagsNot is TIMPush only'));
  const lines = problems.map((p) => `${p.message} (the API would answer ${p.code})`);
  throw new UsageError(`invalid condition:${lines.length === 1 ? ` ${lines[0]!}` : `\n  ${lines.join('\n  ')}`}`, {
    hint: tagsNot ? 'TagsNot needs the TIMPush family: --api timpush' : 'see the condition rules in --help',
  });
}

/** The attribute names a condition uses. */
export function conditionAttrNames(condition: Condition | undefined): string[] {
  return [...new Set([...Object.keys(condition?.AttrsAnd ?? {}), ...Object.keys(condition?.AttrsOr ?? {})])];
}

/** Whether a condition has any tag clause / any attribute clause. */
export function conditionNeeds(condition: Condition | undefined): { attrs: boolean; tags: boolean } {
  const tags = [condition?.TagsAnd, condition?.TagsOr, condition?.TagsNot].some((l) => (l?.length ?? 0) > 0);
  return { attrs: conditionAttrNames(condition).length > 0, tags };
}

/** Names the app does not have: a UsageError (exit 2) with did-you-mean, as the API would answer 90033. */
export function checkAttrNames(used: ReadonlyArray<readonly [what: string, name: string]>, appNames: readonly string[]): void {
  const unknown = used.filter(([, name]) => !appNames.includes(name));
  if (unknown.length === 0) return;
  const lines = unknown.map(([what, name]) => `${what}: "${name}" is not one of the app's attributes${didYouMean(name, appNames)}`);
  throw new UsageError(lines.length === 1 ? lines[0]! : `unknown attributes:\n  ${lines.join('\n  ')}`, {
    hint: appNames.length ? `the app's attributes: ${appNames.join(', ')} (\`im-attrs names\`)` : 'the app has no attribute names yet: `im-attrs names set 0=city`',
  });
}

/** Where each attribute name of a condition is used, for checkAttrNames. */
export function attrUses(condition: Condition | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of Object.keys(condition?.AttrsAnd ?? {})) out.push(['AttrsAnd', name]);
  for (const name of Object.keys(condition?.AttrsOr ?? {})) out.push(['AttrsOr', name]);
  return out;
}

/** The condition as one line for messages: `{"AttrsAnd":{"city":"Paris"}}`, or "none: every account". */
export function showCondition(condition: Condition | undefined): string {
  return condition === undefined || Object.keys(condition).length === 0 ? 'none (every account)' : JSON.stringify(condition);
}
