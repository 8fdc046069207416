// EndpointSliceTracker (upstream k8s.io/endpointslice/util/endpointslice_tracker.go): what this controller last
// wrote for each Service's slices, so it can tell its own writes from someone else's in the informer's events, and
// refuse to reconcile from a cache that has not caught up with its own creates, updates and deletes (which would
// otherwise create duplicate slices). Upstream tracks metadata.generation; k8ts tracks the resourceVersion, which
// is the store's mod revision (an integer that only grows; ARCHITECTURE invariant), so "older" is a comparison.

import type { KubeObject } from '../../api/types.js';
import { LABEL_SERVICE_NAME } from './reconciler.js';

const DELETION_EXPECTED = -1;

const rvOf = (s: KubeObject): number => {
  const n = Number(s.metadata.resourceVersion ?? '0');
  return Number.isFinite(n) ? n : 0;
};

export class EndpointSliceTracker {
  /** Service key → slice uid → last written resourceVersion (or DELETION_EXPECTED). */
  private readonly bySvc = new Map<string, Map<string, number>>();

  private svcKey(s: KubeObject): string | undefined {
    const name = s.metadata.labels?.[LABEL_SERVICE_NAME];
    return name ? `${s.metadata.namespace}/${name}` : undefined;
  }

  private forSlice(s: KubeObject, make: boolean): Map<string, number> | undefined {
    const k = this.svcKey(s);
    if (!k) return undefined;
    let m = this.bySvc.get(k);
    if (!m && make) this.bySvc.set(k, (m = new Map()));
    return m;
  }

  /** Records a slice as returned by a create or update. */
  update(s: KubeObject): void {
    this.forSlice(s, true)?.set(s.metadata.uid ?? '', rvOf(s));
  }

  expectDeletion(s: KubeObject): void {
    this.forSlice(s, true)?.set(s.metadata.uid ?? '', DELETION_EXPECTED);
  }

  has(s: KubeObject): boolean {
    return this.forSlice(s, false)?.has(s.metadata.uid ?? '') ?? false;
  }

  /** True when the slice changed after (or without) our last write of it: someone else touched it. */
  shouldSync(s: KubeObject): boolean {
    const g = this.forSlice(s, false)?.get(s.metadata.uid ?? '');
    return g === undefined || (g !== DELETION_EXPECTED && rvOf(s) > g);
  }

  /** Forgets a deleted slice; true if this controller deleted it. */
  handleDeletion(s: KubeObject): boolean {
    const m = this.forSlice(s, false);
    const uid = s.metadata.uid ?? '';
    const g = m?.get(uid);
    m?.delete(uid);
    return g === DELETION_EXPECTED;
  }

  /**
   * StaleSlices: the cache is behind if a slice is older than our write of it, still there though we deleted it,
   * or missing though we wrote it.
   */
  staleSlices(namespace: string, name: string, slices: KubeObject[]): boolean {
    const m = this.bySvc.get(`${namespace}/${name}`);
    if (!m) return false;
    const seen = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata.uid ?? '';
      seen.add(uid);
      const g = m.get(uid);
      if (g !== undefined && (g === DELETION_EXPECTED || g > rvOf(s))) return true;
    }
    for (const [uid, g] of m) if (g !== DELETION_EXPECTED && !seen.has(uid)) return true;
    return false;
  }

  deleteService(namespace: string, name: string): void {
    this.bySvc.delete(`${namespace}/${name}`);
  }
}
