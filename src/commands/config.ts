/** `im-attrs config` (work in progress). */
import { Command } from 'commander';
import type { Runtime } from '../runtime.js';

export function newConfigCommand(rt: Runtime): Command {
  void rt;
  return new Command('config').description('(work in progress)');
}
