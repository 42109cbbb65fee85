/** What an emulator handler answers: an HTTP status (200 unless given) and the JSON envelope. */
export interface Answer {
  status?: number;
  body: Record<string, unknown>;
}

export function fail(code: number, info: string, extra: Record<string, unknown> = {}): Answer {
  return { body: { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, ...extra } };
}

export function ok(extra: Record<string, unknown> = {}): Answer {
  return { body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...extra } };
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
