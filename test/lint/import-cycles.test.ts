/**
 * The lint fails an import cycle however it is closed. import-x/no-cycle skips type-only imports,
 * and a type-only cycle (runtime.ts <-> config/connect.ts) once passed the lint: these plant small
 * trees in a temporary directory and lint them with the project's own eslint.config.js.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { tempDir } from '../helpers/cli.js';

const CONFIG = fileURLToPath(new URL('../../../eslint.config.js', import.meta.url));

/** Writes `files` (path under the tree: text) into a fresh directory, lints it, and lists the rule's messages. */
async function lintTree(files: Record<string, string>): Promise<string[]> {
  const { dir, cleanup } = tempDir('im-attrs-lint-');
  after(cleanup);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const eslint = new ESLint({ cwd: dir, overrideConfigFile: CONFIG });
  const results = await eslint.lintFiles(Object.keys(files));
  return results.flatMap((r) =>
    r.messages.map((m) => `${path.relative(dir, r.filePath)}:${m.line}:${m.column} ${m.ruleId ?? '(parse)'}: ${m.message}`),
  );
}

describe('the lint fails every import cycle among relative imports', { timeout: 60_000 }, () => {
  it('reports a cycle of two type-only imports (import-x/no-cycle alone lets it pass)', async () => {
    const messages = await lintTree({
      'src/a.ts': "import type { B } from './b.js';\n\nexport interface A {\n  b?: B;\n}\n",
      'src/b.ts': "import type { A } from './a.js';\n\nexport interface B {\n  a?: A;\n}\n",
    });
    assert.deepEqual(messages, [
      'src/a.ts:1:24 import-cycles/no-cycle: Import cycle (type-only and dynamic imports count): a.ts -> b.ts -> a.ts',
      'src/b.ts:1:24 import-cycles/no-cycle: Import cycle (type-only and dynamic imports count): b.ts -> a.ts -> b.ts',
    ]);
  });

  it('reports a cycle closed by a dynamic import() across src/ and test/, and a type re-export', async () => {
    const messages = await lintTree({
      'src/run.ts': "export async function run(): Promise<number> {\n  return (await import('../test/probe.js')).probe;\n}\n",
      'test/probe.ts': "export type { Shape } from './shape.js';\nexport const probe = 1;\n",
      'test/shape.ts': "import type { run } from '../src/run.js';\n\nexport type Shape = typeof run;\n",
    });
    assert.deepEqual(messages, [
      'src/run.ts:2:24 import-cycles/no-cycle: Import cycle (type-only and dynamic imports count): run.ts -> ../test/probe.ts -> ../test/shape.ts -> run.ts',
      'test/probe.ts:1:28 import-cycles/no-cycle: Import cycle (type-only and dynamic imports count): probe.ts -> shape.ts -> ../src/run.ts -> probe.ts',
      'test/shape.ts:1:26 import-cycles/no-cycle: Import cycle (type-only and dynamic imports count): shape.ts -> ../src/run.ts -> probe.ts -> shape.ts',
    ]);
  });

  it('passes the same imports when they run one way', async () => {
    const messages = await lintTree({
      'src/a.ts': "import type { B } from './b.js';\n\nexport interface A {\n  b?: B;\n}\n",
      'src/b.ts': "export interface B {\n  n: number;\n}\n",
      'test/a.test.ts': "import type { A } from '../src/a.js';\n\nexport const a: A = { b: { n: 1 } };\nexport const b = import('../src/b.js');\n",
    });
    assert.deepEqual(messages, []);
  });
});
