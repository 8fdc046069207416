// The scheduler reaches the cluster only through the API client: no file under src/scheduler imports the API
// server, storage, the CLI or the controllers (the repository-wide check in src/layering.test.ts, for this folder).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('src/scheduler imports nothing from apiserver, storage, cli or controllers', () => {
  const files = tsFiles(join(srcRoot, 'scheduler'));
  assert.ok(files.length > 10, 'found the scheduler sources');
  const bad: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const target = relative(srcRoot, resolve(dirname(f), spec));
      if (/^(apiserver|storage|cli|controllers)\//.test(target)) bad.push(`${relative(srcRoot, f)} → ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});
