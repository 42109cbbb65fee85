/** `im-attrs remove` (work in progress). */
import { Command } from 'commander';
import type { Runtime } from '../runtime.js';

export function newRemoveCommand(rt: Runtime): Command {
  void rt;
  return new Command('remove').description('(work in progress)');
}
