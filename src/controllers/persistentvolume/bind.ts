// What binding writes, as upstream's binder writes it (pure): the PV's claimRef and bound-by-controller annotation,
// the claim's volumeName with bind-completed / bound-by-controller, and both statuses. Each function returns the
// changed copy, or undefined when the object already says so (a no-op sync writes nothing).

import { deepEqual } from '../../api/kinds/core/common.js';
import type { KubeObject } from '../../api/types.js';
import { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, isVolumeBoundToClaim } from './match.js';

type Spec = Record<string, any>;

/** The ObjectReference a bound PV carries (with the claim's uid and resourceVersion). */
export function claimRefFor(claim: KubeObject): Spec {
  return {
    kind: 'PersistentVolumeClaim',
    namespace: claim.metadata.namespace,
    name: claim.metadata.name,
    uid: claim.metadata.uid,
    apiVersion: 'v1',
    resourceVersion: claim.metadata.resourceVersion,
  };
}

/** bindVolumeToClaim: claimRef → the claim; bound-by-controller when the binder (not the user) made the link. */
export function volumeBoundTo(pv: KubeObject, claim: KubeObject): KubeObject | undefined {
  const ref = (pv.spec as Spec | undefined)?.claimRef as Spec | undefined;
  const refOk = ref && ref.name === claim.metadata.name && ref.namespace === claim.metadata.namespace && ref.uid === claim.metadata.uid;
  const byController = !isVolumeBoundToClaim(pv, claim);
  if (refOk && !byController) return undefined;
  const next = structuredClone(pv);
  next.spec = { ...(next.spec as Spec), claimRef: claimRefFor(claim) };
  if (byController) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
  return next;
}

/** bindClaimToVolume: volumeName, bind-completed, and bound-by-controller when the binder chose the volume. */
export function claimBoundTo(claim: KubeObject, pv: KubeObject): KubeObject | undefined {
  const spec = (claim.spec ?? {}) as Spec;
  const ann = claim.metadata.annotations ?? {};
  const setName = spec.volumeName !== pv.metadata.name;
  if (!setName && ann[ANN_BIND_COMPLETED] === 'yes') return undefined;
  const next = structuredClone(claim);
  const annotations: Record<string, string> = { ...ann, [ANN_BIND_COMPLETED]: 'yes' };
  if (setName) {
    next.spec = { ...spec, volumeName: pv.metadata.name };
    annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
  }
  next.metadata.annotations = annotations;
  return next;
}

/** The claim's status for `phase`: Bound copies the volume's accessModes and capacity, other phases clear them. */
export function claimWithStatus(claim: KubeObject, phase: string, pv?: KubeObject): KubeObject | undefined {
  const cur = (claim.status ?? {}) as Spec;
  const want: Spec = { ...cur, phase };
  if (pv) {
    const ps = (pv.spec ?? {}) as Spec;
    want.accessModes = structuredClone(ps.accessModes ?? []);
    want.capacity = structuredClone(ps.capacity ?? {});
  } else {
    delete want.accessModes;
    delete want.capacity;
  }
  if (deepEqual(want, cur)) return undefined;
  const next = structuredClone(claim);
  next.status = want;
  return next;
}

/** The volume's status for `phase` (lastPhaseTransitionTime moves with the phase); undefined when already so. */
export function volumeWithPhase(pv: KubeObject, phase: string, now: Date, message?: string): KubeObject | undefined {
  const cur = (pv.status ?? {}) as Spec;
  if (cur.phase === phase && (message === undefined || cur.message === message)) return undefined;
  const next = structuredClone(pv);
  const st: Spec = { ...cur, phase };
  if (cur.phase !== phase) st.lastPhaseTransitionTime = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (message !== undefined) st.message = message;
  else delete st.message;
  next.status = st;
  return next;
}

/** unbindVolume: a controller-made binding to a claim that went elsewhere is undone; the PV is Available again. */
export function volumeUnbound(pv: KubeObject): KubeObject {
  const next = structuredClone(pv);
  const ann = { ...(next.metadata.annotations ?? {}) };
  if (ann[ANN_BOUND_BY_CONTROLLER] !== undefined) {
    // Bound by the binder: forget the claim entirely. Pre-bound by a user: keep the name, drop the uid.
    const spec = { ...(next.spec as Spec) };
    delete spec.claimRef;
    next.spec = spec;
    delete ann[ANN_BOUND_BY_CONTROLLER];
  } else {
    const spec = { ...(next.spec as Spec) };
    spec.claimRef = { ...(spec.claimRef as Spec) };
    delete spec.claimRef.uid;
    next.spec = spec;
  }
  next.metadata.annotations = ann;
  if (Object.keys(ann).length === 0) delete next.metadata.annotations;
  return next;
}
