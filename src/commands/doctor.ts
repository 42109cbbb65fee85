/** `im-attrs doctor` (work in progress). */
import { Command } from 'commander';
import type { Runtime } from '../runtime.js';

export function newDoctorCommand(rt: Runtime): Command {
  void rt;
  return new Command('doctor').description('(work in progress)');
}
