/**
 * A push's content from the command line (`push send`, `push schedule create|edit`): the message
 * (--text or --msg-body), offline notification, sender and lifetime, as the request body the push
 * APIs take (PUSH-FAMILY.md §2.1), each with a fresh MsgRandom.
 */
import { randomInt } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { MAX_MSG_LIFETIME_SECONDS, MAX_MSG_RANDOM } from './condition.js';

/** The content flags as commander parses them. */
export interface PushContentFlags {
  text?: string;
  msgBody?: string;
  lifetime?: string;
  offlineTitle?: string;
  offlineDesc?: string;
  from?: string;
}

/** A --msg-body file larger than TIMPush's whole-body limit (10 KB, 90056) is refused anyway; this is generous. */
const MAX_MSG_BODY_FILE_BYTES = 64 * 1024;

/** `--lifetime 3600`, `90m`, `12h`, `7d` → seconds, at most 7 days (EN/37166 MsgLifeTime; 90026 beyond). */
export function parseLifetime(text: string): number {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(text);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match?.[2] ?? ''] ?? 1;
  const seconds = match ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(seconds)) throw new UsageError(`--lifetime "${text}" is not a duration`, { hint: 'seconds, or a number with s, m, h or d: --lifetime 12h' });
  if (seconds > MAX_MSG_LIFETIME_SECONDS) {
    throw new UsageError(`--lifetime ${text} is longer than 7 days (${MAX_MSG_LIFETIME_SECONDS.toLocaleString('en-US')} s), the API's maximum (it would answer 90026)`);
  }
  return seconds;
}

function readMsgBody(cwd: string, file: string): unknown[] {
  const resolved = path.resolve(cwd, file);
  let value: unknown;
  try {
    const stat = statSync(resolved);
    if (!stat.isFile()) throw new UsageError(`--msg-body ${resolved} is not a regular file`);
    if (stat.size > MAX_MSG_BODY_FILE_BYTES) throw new UsageError(`--msg-body ${resolved} is larger than ${MAX_MSG_BODY_FILE_BYTES / 1024} KB`);
    value = JSON.parse(readFileSync(resolved, 'utf8').replace(/^\ufeff/, ''));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--msg-body ${resolved} cannot be read: ${error instanceof SyntaxError ? error.message : ((error as NodeJS.ErrnoException).code ?? String(error))}`);
  }
  if (!Array.isArray(value) || value.length === 0 || value.some((e) => typeof e !== 'object' || e === null || typeof (e as { MsgType?: unknown }).MsgType !== 'string')) {
    throw new UsageError(`--msg-body ${resolved} must hold the MsgBody array: [{"MsgType":"TIMTextElem","MsgContent":{"Text":"…"}}]`);
  }
  return value;
}

/** The request body of `push send`, with a fresh MsgRandom. */
export function pushBody(cwd: string, options: PushContentFlags, condition: object | undefined): Record<string, unknown> {
  if (options.text !== undefined && options.msgBody !== undefined) throw new UsageError('--text and --msg-body contradict each other', { hint: 'give one of them' });
  const body: Record<string, unknown> = {};
  if (options.from !== undefined) body.From_Account = options.from;
  // "used by the backend for message deduplication" (EN/37166): a new one for every push.
  body.MsgRandom = randomInt(0, MAX_MSG_RANDOM + 1);
  if (options.lifetime !== undefined) body.MsgLifeTime = parseLifetime(options.lifetime);
  if (condition !== undefined) body.Condition = condition;
  if (options.text !== undefined) body.MsgBody = [{ MsgType: 'TIMTextElem', MsgContent: { Text: options.text } }];
  else if (options.msgBody !== undefined) body.MsgBody = readMsgBody(cwd, options.msgBody);
  const offline: Record<string, string> = {};
  if (options.offlineTitle !== undefined) offline.Title = options.offlineTitle;
  if (options.offlineDesc !== undefined) offline.Desc = options.offlineDesc;
  if (Object.keys(offline).length > 0) body.OfflinePushInfo = offline;
  return body;
}

