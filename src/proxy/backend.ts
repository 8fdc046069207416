// The seam between the proxy's sync loop and a data plane: apply the desired rules (incrementally against the last
// successful apply) and remove everything on shutdown. Implemented by nftables.ts and iptables.ts.

import type { ServicePortRule } from './model.js';

export interface SyncResult {
  /** Service ports whose rules were (re)written in this sync. */
  changed: number;
  /** Whether the whole rule set was written (first sync, or after a failure). */
  full: boolean;
}

export interface Backend {
  readonly name: 'nftables' | 'iptables';
  /** Applies `rules` in one atomic transaction; after a failure the next call rewrites everything. */
  sync(rules: readonly ServicePortRule[]): Promise<SyncResult>;
  /** Removes every rule, chain, set and table this backend created (idempotent). */
  cleanup(): Promise<void>;
}

/** A rendered service port: its chains (name → rule lines), and its entries in shared sets/maps or top-level chains. */
export interface Fragment {
  chains: Map<string, string[]>;
  /** Declarations the fragment owns besides chains (nft sets); name → declaration body. */
  sets: Map<string, string>;
  /** Entries in shared structures, as opaque strings the backend knows how to add and remove. */
  entries: string[];
}

export const MASQ_MARK = 0x4000;

/** What changed between two applies, fragment by fragment (compared by rendered text). */
export function diffFragments(
  prev: ReadonlyMap<string, Fragment>,
  next: ReadonlyMap<string, Fragment>,
): { changed: string[]; removed: string[] } {
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [k, f] of next) {
    const p = prev.get(k);
    if (!p || !sameFragment(p, f)) changed.push(k);
  }
  for (const k of prev.keys()) if (!next.has(k)) removed.push(k);
  return { changed, removed };
}

function sameFragment(a: Fragment, b: Fragment): boolean {
  if (a.chains.size !== b.chains.size || a.sets.size !== b.sets.size || a.entries.length !== b.entries.length) return false;
  for (const [n, rules] of a.chains) {
    const o = b.chains.get(n);
    if (!o || o.length !== rules.length || o.some((r, i) => r !== rules[i])) return false;
  }
  for (const [n, d] of a.sets) if (b.sets.get(n) !== d) return false;
  return a.entries.every((e, i) => e === b.entries[i]);
}

/** Renders each rule once: a rule equal (by JSON) to last sync's keeps its fragment, so a sync costs what changed. */
export class FragmentCache {
  private last = new Map<string, { json: string; fragment: Fragment }>();

  render(rules: readonly ServicePortRule[], render: (r: ServicePortRule) => Fragment): Map<string, Fragment> {
    const seen = new Map<string, { json: string; fragment: Fragment }>();
    const out = new Map<string, Fragment>();
    for (const r of rules) {
      const json = JSON.stringify(r);
      const hit = this.last.get(r.key);
      const fragment = hit && hit.json === json ? hit.fragment : render(r);
      seen.set(r.key, { json, fragment });
      out.set(r.key, fragment);
    }
    this.last = seen;
    return out;
  }
}
