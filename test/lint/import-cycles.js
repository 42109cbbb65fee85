// A local ESLint plugin with one rule, `import-cycles/no-cycle`: an import cycle among the
// project's own modules fails the lint, whatever kind of import closes it.
//
// Why not only import-x/no-cycle: it skips `import type` and `export type` edges by design (see
// its rule source), so a cycle held together by a type-only import passed the lint although the
// house rule says data flows one way. Here every relative import counts: static, type-only,
// re-exports, dynamic `import()` and `import('./x.js').T` types, as TypeScript's own
// preProcessFile lists them (a scanner, no type checking: the whole tree costs milliseconds).

import { statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The relative imports of each file read so far, by absolute path, with the file's size and
 * mtime so that a file written again (the rule's own test plants files) is read again. ESLint
 * loads this module once per process, so one lint run reads each file once.
 */
const cache = new Map();

/** The absolute paths of the `.ts` files that `text` (the file at `file`) imports relatively. */
function importsOf(file, text) {
  const dir = path.dirname(file);
  const out = [];
  for (const { fileName, pos, end } of ts.preProcessFile(text, true, true).importedFiles) {
    if (!fileName.startsWith('./') && !fileName.startsWith('../')) continue;
    const target = resolve(path.resolve(dir, fileName));
    if (target !== undefined) out.push({ target, pos, end });
  }
  return out;
}

/** The source file a relative specifier names: `./x.js` is `./x.ts` under NodeNext. */
function resolve(spec) {
  const candidates = [];
  if (/\.(?:js|jsx)$/.test(spec)) candidates.push(spec.replace(/\.jsx?$/, '.ts'), spec.replace(/\.jsx?$/, '.tsx'));
  else if (spec.endsWith('.mjs')) candidates.push(spec.replace(/\.mjs$/, '.mts'));
  else if (spec.endsWith('.cjs')) candidates.push(spec.replace(/\.cjs$/, '.cts'));
  candidates.push(spec, `${spec}.ts`, path.join(spec, 'index.ts'));
  for (const candidate of candidates) {
    if (!/\.[cm]?tsx?$/.test(candidate) || candidate.endsWith('.d.ts')) continue;
    if (stat(candidate)?.isFile()) return candidate;
  }
  return undefined;
}

function stat(file) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** The files `file` imports, from the cache while the file is unchanged on disk. */
function edgesOf(file) {
  const info = stat(file);
  if (!info) return [];
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit.targets;
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const targets = [...new Set(importsOf(file, text).map((i) => i.target))];
  cache.set(file, { mtimeMs: info.mtimeMs, size: info.size, targets });
  return targets;
}

/** The shortest chain of imports from `from` back to `to` (both included), or undefined. */
function pathBack(from, to) {
  const parent = new Map([[from, undefined]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i];
    for (const next of edgesOf(file)) {
      if (parent.has(next)) continue;
      parent.set(next, file);
      if (next === to) {
        const chain = [to];
        for (let at = file; at !== undefined; at = parent.get(at)) chain.unshift(at);
        return chain;
      }
      queue.push(next);
    }
  }
  return undefined;
}

const noCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles among relative imports, counting type-only and dynamic imports' },
    schema: [],
    messages: { cycle: 'Import cycle (type-only and dynamic imports count): {{chain}}' },
  },
  create(context) {
    const file = context.filename;
    const { sourceCode } = context;
    return {
      Program() {
        const seen = new Set();
        for (const { target, pos, end } of importsOf(file, sourceCode.text)) {
          // One report per imported file; a self-import is a cycle of one.
          if (seen.has(target)) continue;
          seen.add(target);
          const back = target === file ? [file] : pathBack(target, file);
          if (!back) continue;
          const base = path.dirname(file);
          const chain = [file, ...back].map((f) => path.relative(base, f) || path.basename(f)).join(' -> ');
          context.report({
            loc: { start: sourceCode.getLocFromIndex(pos), end: sourceCode.getLocFromIndex(end) },
            messageId: 'cycle',
            data: { chain },
          });
        }
      },
    };
  },
};

export default {
  meta: { name: 'import-cycles' },
  rules: { 'no-cycle': noCycle },
};
