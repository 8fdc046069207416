// V8's young generation during `k8ts server` start-up: held at its initial size while the server and its components
// load and fill their caches, then free to grow under load as V8 decides.
//
// V8 doubles the new space (up to 16 MB per semi-space, 32 MB committed) whenever many young objects survive a
// scavenge. Start-up is exactly that case — modules, informer caches and the garbage collector's graph are long-lived
// — so the new space grows to ~12 MB committed, and stays there on an idle server although it holds almost nothing
// (V8 does not shrink it without allocation). A big young generation only pays off under request load: held at
// 1 MB for the whole run, a create costs ~40% more server CPU (more scavenges, more promotion). So growth is off
// (--semi-space-growth-factor=1) only until start-up is over, then back to V8's default (2). A start-up over much
// data (tens of thousands of objects listed by the informers) is the other exception: its list pages are garbage
// that a small young generation would promote, so growth resumes as soon as the heap passes `maxHeldHeapMB`. The
// semi-space maximum itself (--max-semi-space-size) is fixed when the heap is set up, before any of our code runs,
// so it cannot be lowered here.

import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { performance } from 'node:perf_hooks';

const V8_DEFAULT_GROWTH = 2;

export interface YoungGenerationHold {
  /** Start-up work is launched: let growth resume once the event loop is quiet (or after `maxMs` regardless). */
  release(opts?: { quietUtilization?: number; intervalMs?: number; maxMs?: number }): void;
  /** Growth resumes now (idempotent). */
  end(): void;
}

/**
 * Holds the young generation at its current size from now until release()/end(), or until the heap in use passes
 * `maxHeldHeapMB` (checked every `intervalMs` from now on).
 */
export function holdYoungGeneration(opts: { maxHeldHeapMB?: number; intervalMs?: number } = {}): YoungGenerationHold {
  const maxHeld = (opts.maxHeldHeapMB ?? 40) * 1048576;
  setFlagsFromString('--semi-space-growth-factor=1');
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(big);
    if (timer) clearInterval(timer);
    setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
  };
  const big = setInterval(() => {
    if (getHeapStatistics().used_heap_size > maxHeld) end();
  }, opts.intervalMs ?? 100);
  big.unref();
  return {
    end,
    release({ quietUtilization = 0.3, intervalMs = 250, maxMs = 15_000 } = {}) {
      if (ended || timer) return;
      const began = Date.now();
      let last = performance.eventLoopUtilization();
      timer = setInterval(() => {
        const now = performance.eventLoopUtilization();
        const busy = performance.eventLoopUtilization(now, last).utilization;
        last = now;
        if (busy < quietUtilization || Date.now() - began >= maxMs) end();
      }, intervalMs);
      timer.unref();
    },
  };
}
