/**
 * `im-attrs config trust [path]` and `config untrust [path]`: the trust list of project config
 * files (README "Security model"; src/config/trust.ts). Trusting reads the file (so it must parse)
 * but never runs one: JavaScript configs are not trusted from a project directory at all.
 */
import path from 'node:path';
import { Command } from 'commander';
import { loadConfigFile, type LoadedConfigFile } from '../config/load.js';
import { trustFile, trustStorePath, untrustFile } from '../config/trust.js';
import { ConfigError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';

const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/** The file named, or the one the search finds from here (never --config: that one is trusted already). */
async function targetFile(rt: Runtime, file: string | undefined): Promise<LoadedConfigFile> {
  if (file !== undefined) {
    const resolved = path.resolve(rt.deps.cwd, file);
    if (JS_EXTENSIONS.has(path.extname(resolved))) {
      throw new ConfigError(`${resolved} is a JavaScript config; im-attrs never runs one from a project directory, trusted or not`, {
        hint: 'write the settings as .imadminrc (JSON or YAML), or keep the JS file in ~/.config/imadmin',
      });
    }
    const loaded = await loadConfigFile(rt.deps, resolved);
    return { ...loaded!, kind: 'project' };
  }
  const found = await loadConfigFile(rt.deps, undefined);
  if (!found) throw new ConfigError('no config file found from here', { hint: 'name the file: im-attrs config trust path/to/.imadminrc' });
  return found;
}

export function newTrustCommands(rt: Runtime): Command[] {
  const trust = new Command('trust')
    .summary('trust a project config file to route your credentials (its endpoint, region, app, identifier)')
    .description(
      'Record a project config file (one found walking up from the current directory) as trusted, so that ' +
        'its endpoint, region, sdkAppId and identifier are used with credentials from elsewhere (IMADMIN_SECRET_KEY, ' +
        'another file). The trust list (trusted.json in ~/.config/imadmin) keeps the real path and the SHA-256 ' +
        'of the content: when the file changes, it is refused again until trusted again. Default: the file ' +
        'found from the current directory.',
    )
    .argument('[path]', 'the config file (default: the one found from here)')
    .action(async (file: string | undefined) => {
      const target = await targetFile(rt, file);
      if (target.kind === 'own' && file === undefined) {
        rt.info(`${target.filepath} is your own config file; it needs no trust`);
        return;
      }
      await trustFile(rt.deps, target);
      rt.info(`trusted ${target.realpath} (sha256 ${target.sha256.slice(0, 12)}…) in ${trustStorePath(rt.deps)}`);
    });
  const untrust = new Command('untrust')
    .summary('remove a config file from the trust list')
    .description('Remove a project config file from the trust list; it is then refused again when it routes your credentials.')
    .argument('[path]', 'the config file (default: the one found from here)')
    .action(async (file: string | undefined) => {
      const target = await targetFile(rt, file);
      const removed = await untrustFile(rt.deps, target.realpath);
      rt.info(removed ? `untrusted ${target.realpath}` : `${target.realpath} was not trusted`);
    });
  return [trust, untrust];
}
