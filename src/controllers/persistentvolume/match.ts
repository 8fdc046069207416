// The PV binder's matching rules (pure), after upstream's volume index: which Available PersistentVolume a claim
// gets (the smallest that fits: capacity, access modes, class, selector, volumeMode, node affinity, no other claim),
// whether a volume satisfies a claim that names it, and the class/provisioning facts the binder reads.

import { parseQuantity, compareQuantity, type Quantity } from '../../api/quantity.js';
import { fromLabelSelector } from '../../api/selectors/labels.js';
import type { KubeObject } from '../../api/types.js';
import { termMatches } from '../../api/corev1/nodeaffinity.js';
import type { Node, NodeSelectorTerm } from '../../api/corev1/types.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
const ANN_BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';

type Spec = Record<string, any>;
const spec = (o: KubeObject): Spec => (o.spec ?? {}) as Spec;
const status = (o: KubeObject): Spec => (o.status ?? {}) as Spec;

/** GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName, else "". */
export function claimClass(claim: KubeObject): string {
  const ann = claim.metadata.annotations?.[ANN_BETA_CLASS];
  if (ann !== undefined) return ann;
  return String(spec(claim).storageClassName ?? '');
}

/** GetPersistentVolumeClass: the beta annotation, else spec.storageClassName, else "". */
export function volumeClass(pv: KubeObject): string {
  const ann = pv.metadata.annotations?.[ANN_BETA_CLASS];
  if (ann !== undefined) return ann;
  return String(spec(pv).storageClassName ?? '');
}

const storageOf = (list: unknown): Quantity | undefined => {
  const v = (list as Record<string, unknown> | undefined)?.storage;
  if (v === undefined || v === null) return undefined;
  try {
    return parseQuantity(v as string);
  } catch {
    return undefined;
  }
};

export const requestedStorage = (claim: KubeObject): Quantity => storageOf(spec(claim).resources?.requests) ?? parseQuantity(0);
export const volumeStorage = (pv: KubeObject): Quantity => storageOf(spec(pv).capacity) ?? parseQuantity(0);

/** Every mode the claim asks for is one the volume offers. */
export function accessModesFit(claim: KubeObject, pv: KubeObject): boolean {
  const offered = new Set<string>((spec(pv).accessModes ?? []) as string[]);
  return ((spec(claim).accessModes ?? []) as string[]).every((m) => offered.has(m));
}

/** volumeMode (unset = Filesystem) is the same on both. */
export function volumeModeFits(claim: KubeObject, pv: KubeObject): boolean {
  return (spec(claim).volumeMode || 'Filesystem') === (spec(pv).volumeMode || 'Filesystem');
}

/** The PV's required node affinity admits `node` (no affinity admits every node). */
export function nodeAffinityFits(pv: KubeObject, node: Node | undefined): boolean {
  const terms = spec(pv).nodeAffinity?.required?.nodeSelectorTerms as NodeSelectorTerm[] | undefined;
  if (!terms || !node) return true;
  return terms.some((t) => termMatches(t, node));
}

/** IsVolumeBoundToClaim: the volume's claimRef names this claim (and its uid, when the ref has one). */
export function isVolumeBoundToClaim(pv: KubeObject, claim: KubeObject): boolean {
  const ref = spec(pv).claimRef as Spec | undefined;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

/**
 * FindMatchingVolume: a volume pre-bound to this claim wins if it is big enough; otherwise the smallest Available,
 * unclaimed volume that fits. `node` (delayed binding) also requires the PV's node affinity to admit it.
 */
export function findBestMatch(claim: KubeObject, volumes: KubeObject[], node?: Node): KubeObject | undefined {
  const want = requestedStorage(claim);
  const cls = claimClass(claim);
  const sel = spec(claim).selector ? fromLabelSelector(spec(claim).selector) : undefined;
  let best: KubeObject | undefined;
  let bestQty: Quantity | undefined;
  for (const pv of [...volumes].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    if (pv.metadata.deletionTimestamp) continue;
    if (!volumeModeFits(claim, pv) || !accessModesFit(claim, pv)) continue;
    const qty = volumeStorage(pv);
    if (isVolumeBoundToClaim(pv, claim)) {
      if (compareQuantity(qty, want) < 0 || !nodeAffinityFits(pv, node)) continue;
      return pv;
    }
    if (status(pv).phase !== 'Available') continue;
    if (spec(pv).claimRef) continue;
    if (sel && !sel.matches(pv.metadata.labels)) continue;
    if (volumeClass(pv) !== cls) continue;
    if (!nodeAffinityFits(pv, node)) continue;
    if (compareQuantity(qty, want) < 0) continue;
    if (!bestQty || compareQuantity(qty, bestQty) < 0) {
      best = pv;
      bestQty = qty;
    }
  }
  return best;
}

/** checkVolumeSatisfyClaim: why a volume a claim names cannot serve it (undefined: it can). */
export function volumeMismatch(pv: KubeObject, claim: KubeObject): string | undefined {
  if (compareQuantity(volumeStorage(pv), requestedStorage(claim)) < 0) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(claim)) return 'storageClassName does not match';
  if (!volumeModeFits(claim, pv)) return 'incompatible volumeMode';
  if (!accessModesFit(claim, pv)) return 'incompatible accessMode';
  return undefined;
}

/** What the binder does about an unbound claim with no fitting volume, per its StorageClass. */
export type NoMatch =
  | { kind: 'wait-first-consumer' }
  | { kind: 'no-class' }
  | { kind: 'class-not-found'; message: string }
  | { kind: 'no-plugin'; message: string }
  | { kind: 'external'; provisioner: string; message: string };

/**
 * Upstream's branches for a claim nothing fits: delayed binding without a consumer (no selected node) waits; no class → a
 * FailedBinding event; a class with an in-tree (`kubernetes.io/…`) provisioner this binder has no plugin for, or
 * that is missing, → ProvisioningFailed; any other provisioner is external → ExternalProvisioning.
 */
export function noMatchAction(claim: KubeObject, cls: KubeObject | undefined, waitingForConsumer: boolean): NoMatch {
  if (waitingForConsumer) return { kind: 'wait-first-consumer' };
  const name = claimClass(claim);
  if (!name) return { kind: 'no-class' };
  if (!cls) return { kind: 'class-not-found', message: `storageclass.storage.k8s.io ${JSON.stringify(name)} not found` };
  const provisioner = String((cls as Spec).provisioner ?? '');
  if (provisioner.startsWith('kubernetes.io/')) return { kind: 'no-plugin', message: `no volume plugin matched name: ${provisioner}` };
  return {
    kind: 'external',
    provisioner,
    message: `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
  };
}

/** IsDelayBindingMode: the claim's class binds on first consumer. */
export function isDelayBinding(cls: KubeObject | undefined): boolean {
  return (cls as Spec | undefined)?.volumeBindingMode === 'WaitForFirstConsumer';
}
