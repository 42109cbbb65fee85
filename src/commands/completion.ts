/** `im-attrs completion` (work in progress). */
import { Command } from 'commander';
import type { Runtime } from '../runtime.js';

export function newCompletionCommand(rt: Runtime): Command {
  void rt;
  return new Command('completion').description('(work in progress)');
}
