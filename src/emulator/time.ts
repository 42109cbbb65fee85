/**
 * The "YYYY-MM-DD HH:MM:SS" times of the sched-task and report pages. SchedAt is documented as
 * UTC ("Scheduled time in the format YYYY-MM-DD HH:MM:SS (UTC time)", EN/78839); the emulator
 * writes every other such time (CreateAt, PushTime, EventTime) in UTC too, for one reading.
 */

const PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Unix ms → "YYYY-MM-DD HH:MM:SS" (UTC). */
export function formatUtc(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** "YYYY-MM-DD HH:MM:SS" (UTC) → Unix ms, or undefined when it is not such a time (2025-02-30 is not). */
export function parseUtc(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2025-02-30 over into March: a time that does not round-trip is not a date.
  return formatUtc(ms) === text ? ms : undefined;
}
