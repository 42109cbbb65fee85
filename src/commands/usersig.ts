/** `im-attrs usersig gen|inspect|verify` (work in progress). */
import { Command } from 'commander';
import type { Runtime } from '../runtime.js';

export function newUsersigCommand(rt: Runtime): Command {
  void rt;
  return new Command('usersig').description('Sign, inspect and verify UserSigs offline');
}
