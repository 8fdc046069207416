// V8's young generation during `k8ts server` start-up: held at its initial size while the server loads its modules,
// opens the store and launches its components, then free to grow under load as V8 decides.
//
// V8 doubles the new space (up to 16 MB per semi-space, 32 MB committed) whenever many young objects survive a
// scavenge. Start-up is exactly that case — modules, the schemas and the components' first objects are long-lived —
// so the new space grows to ~12 MB committed and stays there on an idle server although it holds almost nothing
// (V8 does not shrink it without allocation). A big young generation pays off under request load only: held at
// 1 MB for good, a create costs ~40% more server CPU (more scavenges, more promotion), and even a hold until the
// event loop goes quiet costs a load that starts right after "ready" ~20%. So growth is off
// (--semi-space-growth-factor=1) from the first line of `k8ts server` until its components are launched (before
// their informers' first lists arrive), then back to V8's default (2). The heap passing `maxHeldHeapMB` ends the
// hold early (a start-up over much data, whose garbage a small young generation would promote). The semi-space
// maximum itself (--max-semi-space-size) is fixed when the heap is set up, before any of our code runs, so it cannot
// be lowered here.

import { getHeapStatistics, setFlagsFromString } from 'node:v8';

const V8_DEFAULT_GROWTH = 2;

export interface YoungGenerationHold {
  /** Growth resumes now (idempotent). */
  end(): void;
}

/** Holds the young generation at its current size until end(), or until the heap in use passes `maxHeldHeapMB`. */
export function holdYoungGeneration(opts: { maxHeldHeapMB?: number; intervalMs?: number } = {}): YoungGenerationHold {
  const maxHeld = (opts.maxHeldHeapMB ?? 40) * 1048576;
  setFlagsFromString('--semi-space-growth-factor=1');
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(check);
    setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
  };
  const check = setInterval(() => {
    if (getHeapStatistics().used_heap_size > maxHeld) end();
  }, opts.intervalMs ?? 100);
  check.unref();
  return { end };
}
