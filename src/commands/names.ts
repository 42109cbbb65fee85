/** `im-attrs names` (work in progress). */
import { Command } from 'commander';
import type { Runtime } from '../runtime.js';

export function newNamesCommand(rt: Runtime): Command {
  void rt;
  return new Command('names').description('(work in progress)');
}
