/**
 * The endpoint table: every endpoint the emulator serves is one row (context.ts `Endpoint`):
 * its path, handler, calls per second, and the account and body limits the server enforces before
 * the handler runs. The rows live with their handlers, by area; this file puts them together.
 */
import { accountEndpoints } from './accounts.js';
import { ampAttrEndpoints, timpushAttrEndpoints } from './attrs.js';
import type { EmulatorContext, Endpoint } from './context.js';
import type { PushEdition } from './limits.js';
import { createPushes } from './push.js';
import { reportEndpoints } from './reports.js';
import { createSchedule, type SchedTask } from './schedule.js';
import { ampTagEndpoints, timpushTagEndpoints } from './tags.js';

/** The endpoint table and what must run when the emulator's clock moves. */
export interface EndpointTable {
  /** path → row */
  byPath: ReadonlyMap<string, Endpoint>;
  /** Brings everything that depends on the clock up to now (fires due sched tasks). */
  tick: () => void;
  /** The sched tasks not deleted, by TaskID. */
  schedTasks: ReadonlyMap<number, SchedTask>;
}

export interface TableOptions {
  pushEdition: PushEdition;
}

/** Builds every row. */
export function createEndpointTable(ctx: EmulatorContext, options: TableOptions): EndpointTable {
  const pushes = createPushes(ctx, options.pushEdition);
  const schedule = createSchedule(ctx, pushes);
  const rows: Endpoint[] = [
    ...ampAttrEndpoints(ctx),
    ...ampTagEndpoints(ctx),
    ...timpushAttrEndpoints(ctx),
    ...timpushTagEndpoints(ctx),
    ...pushes.endpoints,
    ...schedule.endpoints,
    ...reportEndpoints(ctx),
    ...accountEndpoints(ctx),
  ];
  const byPath = new Map<string, Endpoint>();
  for (const r of rows) {
    if (byPath.has(r.path)) throw new Error(`two endpoint rows for ${r.path}`);
    byPath.set(r.path, r);
  }
  return { byPath, tick: schedule.tick, schedTasks: schedule.tasks };
}
