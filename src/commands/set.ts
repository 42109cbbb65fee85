/** `im-attrs set` (work in progress). */
import { Command } from 'commander';
import type { Runtime } from '../runtime.js';

export function newSetCommand(rt: Runtime): Command {
  void rt;
  return new Command('set').description('(work in progress)');
}
