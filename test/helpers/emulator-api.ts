/**
 * Raw HTTP calls to the emulator for tests of endpoints the CLI does not speak yet (tags, the
 * v4/timpush family, push, account_check): a real POST over loopback with a signed query, the
 * parsed answer back. Also a settable clock to inject as the emulator's `now`.
 */
import type { Emulator } from '../../src/emulator/server.js';
import { generate } from '../../src/usersig.js';
import { TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from './cli.js';

/** Valid for 30 days, so a test may move the emulator's clock a day or two ahead. */
const USERSIG = generate({ sdkAppId: TEST_SDKAPPID, identifier: TEST_ADMIN, secretKey: TEST_SECRET_KEY, expireSeconds: 30 * 86400 });

export interface RawAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** POSTs `body` (JSON, or a string sent as is) to `/v4/<path>` and returns status and parsed JSON. */
export async function post(emulator: Emulator, path: string, body: unknown): Promise<RawAnswer> {
  const query = new URLSearchParams({ sdkappid: String(TEST_SDKAPPID), identifier: TEST_ADMIN, usersig: USERSIG, random: '1', contenttype: 'json' });
  const response = await fetch(`${emulator.url}/v4/${path}?${query}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** GETs an /_emulator/… page as JSON. */
export async function getJson(emulator: Emulator, page: string): Promise<unknown> {
  return (await fetch(`${emulator.url}/_emulator/${page}`)).json();
}

/** A clock for the emulator's `now`: starts at the real time, moves only when told. */
export class TestClock {
  ms = Date.now();
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const OK = { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0 };
/** The FAIL envelope with `code` and any ErrorInfo (tests compare the info separately when it matters). */
export function failed(answer: RawAnswer): number | undefined {
  return answer.body.ActionStatus === 'FAIL' ? answer.body.ErrorCode : undefined;
}
