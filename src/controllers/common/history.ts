// ControllerRevision history shared by the DaemonSet and StatefulSet controllers (upstream pkg/controller/history
// and the two controllers' getPatch/constructHistory): revision data `{"spec":{"template":{…,"$patch":"replace"}}}`,
// the `<owner>-<hash>` name with the `controller-revision-hash` label, equality by data, creating the next
// revision (bumping a collision count on a name clash with other data) and truncating old revisions.

import type { KubeObject } from '../../api/types.js';
import { ApiError, type Client, type Resource } from '../../client/interface.js';
import { canonical, fnv32a, safeEncodeString } from '../deployment/hash.js';
import { controllerOf, newControllerRef } from './controllerref.js';
import { CONTROLLERREVISIONS } from '../../client/resources.js';
export { CONTROLLERREVISIONS };

export const REVISION_HASH_LABEL = 'controller-revision-hash';

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec?: Record<string, unknown>;
}

/**
 * The revision data upstream's getPatch stores: the template, marked to replace (not merge) when applied. Keys are
 * sorted at every level, as Go's json.Marshal of a map writes them: kubectl's `rollout undo` compares these bytes
 * with its own encoding of the live template to report "skipped rollback".
 */
export function revisionData(template: PodTemplate | undefined): Record<string, unknown> {
  return sortKeys({ spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } }) as Record<string, unknown>;
}

/** A deep copy with object keys in sorted order (nulls and empty values kept, unlike the hash's canonical form). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/** The template held by a revision's data. */
export function templateOf(rev: KubeObject): PodTemplate {
  const t = structuredClone(((rev as { data?: { spec?: { template?: Record<string, unknown> } } }).data?.spec?.template ?? {}) as Record<string, unknown>);
  delete t.$patch;
  return t as PodTemplate;
}

/** Upstream HashControllerRevision: FNV-32a over the data (canonical JSON here) and the collision count. */
export function hashRevision(data: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(JSON.stringify(canonical(data))));
  if (collisionCount) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

export const revisionNumber = (rev: KubeObject): number => Number((rev as { revision?: number }).revision ?? 0);
export const sameData = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/** Revisions in the owner's namespace that it controls, oldest revision first. */
export function ownedRevisions(all: KubeObject[], owner: KubeObject): KubeObject[] {
  return all
    .filter((r) => r.metadata.namespace === owner.metadata.namespace && controllerOf(r)?.uid === owner.metadata.uid)
    .sort((a, b) => revisionNumber(a) - revisionNumber(b) || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
}

export interface HistoryOwner {
  obj: KubeObject;
  apiVersion: string;
  kind: string;
  template: PodTemplate | undefined;
  collisionCount: number;
}

export interface CurrentRevision {
  revision: KubeObject;
  /** The collision count after this call (persist it in the owner's status when it changed). */
  collisionCount: number;
}

/**
 * Finds the revision equal to the owner's template, creating it (revision = max + 1) or bumping an older equal one
 * to the newest number, as upstream's constructHistory/getStatefulSetRevisions. `revisions` are the owned ones.
 */
export async function currentRevision(client: Client, owner: HistoryOwner, revisions: KubeObject[]): Promise<CurrentRevision> {
  const data = revisionData(owner.template);
  const max = revisions.reduce((m, r) => Math.max(m, revisionNumber(r)), 0);
  const equal = revisions.filter((r) => sameData((r as { data?: unknown }).data, data));
  const ns = owner.obj.metadata.namespace;
  if (equal.length) {
    const newest = equal[equal.length - 1];
    if (revisionNumber(newest) === max) return { revision: newest, collisionCount: owner.collisionCount };
    const bumped = structuredClone(newest) as KubeObject & { revision?: number };
    bumped.revision = max + 1;
    return { revision: await client.update(CONTROLLERREVISIONS, ns, bumped), collisionCount: owner.collisionCount };
  }
  let collisionCount = owner.collisionCount;
  for (let attempt = 0; attempt < 10; attempt++) {
    const hash = hashRevision(data, collisionCount);
    const rev: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${owner.obj.metadata.name}-${hash}`,
        namespace: ns,
        labels: { ...(owner.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
        ownerReferences: [newControllerRef(owner.obj, owner.apiVersion, owner.kind)],
      },
      data,
      revision: max + 1,
    } as KubeObject;
    try {
      return { revision: await client.create(CONTROLLERREVISIONS, ns, rev), collisionCount };
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
      // Same name: ours with equal data (created by an earlier sync the cache has not seen) is fine; else collide.
      const existing = await client.get(CONTROLLERREVISIONS, ns, rev.metadata.name ?? '');
      if (controllerOf(existing)?.uid === owner.obj.metadata.uid && sameData((existing as { data?: unknown }).data, data)) return { revision: existing, collisionCount };
      collisionCount++;
    }
  }
  throw new Error(`too many hash collisions creating a ControllerRevision for ${owner.kind} ${owner.obj.metadata.name}`);
}

/** Deletes the oldest revisions not in `live` beyond `limit` (upstream cleanupHistory/truncateHistory). */
export async function truncateHistory(client: Client, revisions: KubeObject[], live: Set<string>, limit: number): Promise<void> {
  const old = revisions.filter((r) => !live.has(r.metadata.name ?? ''));
  const excess = old.length - Math.max(0, limit);
  for (let i = 0; i < excess; i++) {
    try {
      await client.delete(CONTROLLERREVISIONS, old[i].metadata.namespace, old[i].metadata.name ?? '');
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
}
