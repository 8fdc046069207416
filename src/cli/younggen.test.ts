// younggen.ts: while held, V8's new space keeps its initial size however many young objects survive; after end(),
// or once the heap passes the threshold, it grows again as V8 decides. Each case runs in a
// fresh node process (V8 never shrinks the new space, so cases would see each other's growth).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const moduleUrl = new URL('./younggen.js', import.meta.url).href;

/**
 * Runs `body` in a fresh process after `hold` was taken; `grow()` allocates young objects of which a third survive
 * (as start-up's caches do), in chunks with a timer turn between them. Prints the new space's committed MB.
 */
function newSpaceAfter(body: string): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { holdYoungGeneration } from ${JSON.stringify(moduleUrl)};
    const keep = [];
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const grow = async () => { for (let c = 0; c < 30; c++) { for (let i = 0; i < 50000; i++) { const o = { i, s: 'x' + i }; if (i % 3 === 0) keep.push(o); } await sleep(5); } };
    ${body}
    console.log(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').physical_space_size / 1048576);`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
}

test('held, the new space stays at its initial size (≤ 2 MB committed); without a hold it grows', () => {
  const held = newSpaceAfter(`const h = holdYoungGeneration({ maxHeldHeapMB: 4096 }); await grow();`);
  assert.ok(held <= 2, `new space ${held} MB while held`);
  const free = newSpaceAfter(`await grow();`);
  assert.ok(free > 2, `new space ${free} MB without a hold`);
});

test('end() lets it grow again', () => {
  const mb = newSpaceAfter(`const h = holdYoungGeneration({ maxHeldHeapMB: 4096 }); await grow(); h.end(); await grow();`);
  assert.ok(mb > 2, `new space ${mb} MB after end()`);
});

test('a heap past maxHeldHeapMB ends the hold by itself (a start-up over much data)', () => {
  const mb = newSpaceAfter(`const h = holdYoungGeneration({ maxHeldHeapMB: 8, intervalMs: 10 }); await grow(); await grow();`);
  assert.ok(mb > 2, `new space ${mb} MB once the heap passed 8 MB`);
});
