// Checks the dependency direction written in ARCHITECTURE.md: only the API server reaches storage, components
// (client, controllers, scheduler, simulated nodes) never import the API server, and the wire-format package depends on nothing above it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) out.push(relative(srcRoot, resolve(dirname(file), spec)));
  }
  return out;
}

test('only the API server and its CLI entry import storage', () => {
  const bad: string[] = [];
  for (const f of tsFiles(srcRoot)) {
    const rel = relative(srcRoot, f);
    if (rel.startsWith('storage/') || rel.startsWith('apiserver/') || rel === 'cli/server.ts') continue;
    for (const i of imports(f)) if (i.startsWith('storage/')) bad.push(`${rel} → ${i}`);
  }
  assert.deepEqual(bad, []);
});

test('src/api imports nothing from apiserver, storage or components', () => {
  const bad: string[] = [];
  for (const f of tsFiles(join(srcRoot, 'api'))) {
    const rel = relative(srcRoot, f);
    for (const i of imports(f)) if (!i.startsWith('api/')) bad.push(`${rel} → ${i}`);
  }
  assert.deepEqual(bad, []);
});

test('the components (client, controllers, scheduler, simulated nodes, DNS, ingress) reach the cluster only through the API: no apiserver, storage or cli imports', () => {
  const bad: string[] = [];
  for (const dir of ['client', 'controllers', 'scheduler', 'simnodes', 'dns', 'ingress']) {
    for (const f of tsFiles(join(srcRoot, dir))) {
      const rel = relative(srcRoot, f);
      for (const i of imports(f)) if (i.startsWith('apiserver/') || i.startsWith('storage/') || i.startsWith('cli/')) bad.push(`${rel} → ${i}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('components do not reach into each other: shared core/v1 helpers live in src/api/corev1, not in a component', () => {
  const bad: string[] = [];
  for (const [dir, other] of [
    ['scheduler', 'controllers/'],
    ['controllers', 'scheduler/'],
    ['simnodes', 'controllers/'],
    ['simnodes', 'scheduler/'],
    ['kubelet', 'simnodes/'],
  ] as const) {
    for (const f of tsFiles(join(srcRoot, dir))) {
      const rel = relative(srcRoot, f);
      for (const i of imports(f)) if (i.startsWith(other)) bad.push(`${rel} → ${i}`);
    }
  }
  assert.deepEqual(bad, []);
});
