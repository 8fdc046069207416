// Controller references (upstream metav1.GetControllerOf and pkg/controller ControllerRefManager): who controls
// an object, the ownerReference a controller writes, and claiming — adopting orphans that match the owner's
// selector and releasing owned objects that no longer match — with merge patches guarded by resourceVersion.

import type { KubeObject, OwnerReference } from '../../api/types.js';
import type { Selector } from '../../api/selectors/labels.js';
import { ApiError, isNotFound, type Client, type Resource } from '../../client/interface.js';

/** The ownerReference with controller: true, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** The controller ref a workload controller puts on what it creates (controller and blockOwnerDeletion true). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export interface ClaimOptions {
  client: Client;
  /** Resource of the objects being claimed (pods, replicasets). */
  resource: Resource;
  owner: KubeObject;
  ownerApiVersion: string;
  ownerKind: string;
  selector: Selector;
  /**
   * Re-reads the owner from the API before the first adoption (upstream RecheckDeletionTimestamp): resolves to
   * false when it is gone, replaced (other uid) or being deleted, so nothing is adopted by a dying owner.
   */
  canAdopt: () => Promise<boolean>;
  /** Called with failures to adopt or release (the object is then left out of the result). */
  onError?: (obj: KubeObject, err: unknown) => void;
}

const isInvalid = (e: unknown): boolean => e instanceof ApiError && e.code === 422;

/**
 * Upstream ClaimObject over a list: returns the objects the owner controls after adopting matching orphans and
 * releasing owned objects that no longer match. Objects controlled by someone else are never touched.
 */
export async function claimObjects(objs: KubeObject[], o: ClaimOptions): Promise<KubeObject[]> {
  const uid = o.owner.metadata.uid;
  const ownerDeleting = !!o.owner.metadata.deletionTimestamp;
  const claimed: KubeObject[] = [];
  let adoptable: boolean | undefined;
  for (const obj of objs) {
    const ref = controllerOf(obj);
    const matches = o.selector.matches(obj.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches) {
        claimed.push(obj);
        continue;
      }
      // Owned but no longer selected: release, unless the owner is going away anyway.
      if (ownerDeleting) continue;
      try {
        await patchOwners(o.client, o.resource, obj, (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid));
      } catch (e) {
        if (!isNotFound(e) && !isInvalid(e)) o.onError?.(obj, e);
      }
      continue;
    }
    // An orphan: adopt it if it matches and neither side is being deleted.
    if (ownerDeleting || !matches || obj.metadata.deletionTimestamp) continue;
    adoptable ??= await o.canAdopt();
    if (!adoptable) continue;
    try {
      const ref2 = newControllerRef(o.owner, o.ownerApiVersion, o.ownerKind);
      const adopted = await patchOwners(o.client, o.resource, obj, [...(obj.metadata.ownerReferences ?? []), ref2]);
      claimed.push(adopted);
    } catch (e) {
      if (!isNotFound(e)) o.onError?.(obj, e);
    }
  }
  return claimed;
}

/** Replaces ownerReferences by merge patch, with uid and resourceVersion as preconditions. */
async function patchOwners(client: Client, r: Resource, obj: KubeObject, owners: OwnerReference[]): Promise<KubeObject> {
  const m = obj.metadata;
  return await client.patch(r, m.namespace, m.name ?? '', 'application/merge-patch+json', {
    metadata: { ownerReferences: owners.length ? owners : null, uid: m.uid, resourceVersion: m.resourceVersion },
  });
}
