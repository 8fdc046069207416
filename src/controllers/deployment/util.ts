// Pure Deployment rules (upstream pkg/controller/deployment/util/deployment_util.go): surge/unavailable
// arithmetic, revision and replica annotations, template equality ignoring pod-template-hash, conditions and
// the completeness/progress/timeout tests. No I/O, so tests can table them.

import type { KubeObject, LabelSelector } from '../../api/types.js';
import { canonical } from './hash.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const ROLLBACK_TO = 'deprecated.deployment.rollback.to';
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
export const POD_TEMPLATE_HASH = 'pod-template-hash';
/** Upstream maxRevHistoryLengthInChars. */
export const MAX_REV_HISTORY_CHARS = 2000;
const MAX_INT32 = 2147483647;

// Condition reasons (upstream util constants).
export const NewReplicaSetCreated = 'NewReplicaSetCreated';
export const FoundNewReplicaSet = 'FoundNewReplicaSet';
export const ReplicaSetUpdated = 'ReplicaSetUpdated';
export const NewRSAvailable = 'NewReplicaSetAvailable';
export const TimedOut = 'ProgressDeadlineExceeded';
export const FailedRSCreate = 'ReplicaSetCreateError';
export const Paused = 'DeploymentPaused';
export const Resumed = 'DeploymentResumed';
export const MinimumReplicasAvailable = 'MinimumReplicasAvailable';
export const MinimumReplicasUnavailable = 'MinimumReplicasUnavailable';

export interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: unknown;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

export interface RSSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
}

export interface RSStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Array<{ type: string; status: 'True' | 'False' | 'Unknown'; lastTransitionTime?: string; reason?: string; message?: string }>;
}

export const dspec = (d: KubeObject): DeploymentSpec => (d.spec ?? {}) as DeploymentSpec;
export const dstatus = (d: KubeObject): DeploymentStatus => (d.status ?? {}) as DeploymentStatus;
export const rsspec = (rs: KubeObject): RSSpec => (rs.spec ?? {}) as RSSpec;
export const rsstatus = (rs: KubeObject): RSStatus => (rs.status ?? {}) as RSStatus;
export const replicasOf = (d: KubeObject): number => dspec(d).replicas ?? 1;
export const rsReplicas = (rs: KubeObject): number => rsspec(rs).replicas ?? 0;

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) {
    if (/^-?\d+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid value "${v}": must be an integer or percentage (e.g '5%')`);
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

export const isRollingUpdate = (d: KubeObject): boolean => (dspec(d).strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/** Upstream ResolveFenceposts: surge rounds up, unavailable down; both zero → unavailable 1. */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): [surge: number, unavailable: number] {
  const surge = scaledValue(maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function maxSurge(d: KubeObject): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = dspec(d).strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d))[0];
}

export function maxUnavailable(d: KubeObject): number {
  const n = replicasOf(d);
  if (!isRollingUpdate(d) || n === 0) return 0;
  const ru = dspec(d).strategy?.rollingUpdate;
  const u = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, n)[1];
  return Math.min(u, n);
}

export const sumSpecReplicas = (rss: Array<KubeObject | undefined>): number => rss.reduce((n, rs) => n + (rs ? rsReplicas(rs) : 0), 0);
export const sumStatus = (rss: Array<KubeObject | undefined>, f: 'replicas' | 'readyReplicas' | 'availableReplicas'): number =>
  rss.reduce((n, rs) => n + (rs ? (rsstatus(rs)[f] ?? 0) : 0), 0);
/**
 * Available pods an RS can still count on: its status, but never more than spec.replicas. Right after a scale-down
 * the RS status still counts the pods being deleted (the ReplicaSet controller reports the pods it saw before
 * deleting), so a rolling update that trusted it would scale down again on pods that are already going.
 */
export const availableWithin = (rs: KubeObject | undefined): number => (rs ? Math.max(0, Math.min(rsReplicas(rs), rsstatus(rs).availableReplicas ?? 0)) : 0);
export const sumAvailableWithin = (rss: Array<KubeObject | undefined>): number => rss.reduce((n, rs) => n + availableWithin(rs), 0);

export const revisionOf = (o: KubeObject): number => {
  const v = Number.parseInt(o.metadata.annotations?.[REVISION] ?? '', 10);
  return Number.isFinite(v) ? v : 0;
};
export const maxRevision = (rss: KubeObject[]): number => rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);

const ts = (o: KubeObject): number => Date.parse(o.metadata.creationTimestamp ?? '') || 0;
/** controller.ReplicaSetsByCreationTimestamp (oldest first, then by name). */
export const byCreation = (a: KubeObject, b: KubeObject): number => ts(a) - ts(b) || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0);
/** ReplicaSetsByRevision (lowest first, ties by creation). */
export const byRevision = (a: KubeObject, b: KubeObject): number => revisionOf(a) - revisionOf(b) || byCreation(a, b);
/** ReplicaSetsBySizeNewer: larger first, then newer first. */
export const bySizeNewer = (a: KubeObject, b: KubeObject): number => rsReplicas(b) - rsReplicas(a) || byCreation(b, a);
/** ReplicaSetsBySizeOlder: larger first, then older first. */
export const bySizeOlder = (a: KubeObject, b: KubeObject): number => rsReplicas(b) - rsReplicas(a) || byCreation(a, b);

export const activeRSs = (rss: Array<KubeObject | undefined>): KubeObject[] => rss.filter((rs): rs is KubeObject => !!rs && rsReplicas(rs) > 0);

/** Templates equal once the pod-template-hash label is ignored (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  const strip = (t: PodTemplate | undefined): unknown => {
    const c = structuredClone(t ?? {}) as PodTemplate;
    if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH];
    return canonical(c);
  };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** The RS whose template matches the Deployment's, oldest first if several (upstream FindNewReplicaSet). */
export function findNewRS(d: KubeObject, rss: KubeObject[]): KubeObject | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rsspec(rs).template, dspec(d).template));
}

/** Replica annotations need writing (upstream ReplicasAnnotationsNeedUpdate). */
export function replicasAnnotationsNeedUpdate(rs: KubeObject, desired: number, max: number): boolean {
  const a = rs.metadata.annotations ?? {};
  return a[DESIRED_REPLICAS] !== String(desired) || a[MAX_REPLICAS] !== String(max);
}

export function setReplicasAnnotations(rs: KubeObject, desired: number, max: number): boolean {
  if (!replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
  rs.metadata.annotations = { ...(rs.metadata.annotations ?? {}), [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(max) };
  return true;
}

const SKIP_COPY = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO]);

/** Upstream SetNewReplicaSetAnnotations: copy the Deployment's annotations, bump the revision, keep history. */
export function setNewRSAnnotations(d: KubeObject, rs: KubeObject, newRevision: number, exists: boolean): boolean {
  let changed = false;
  const a = (rs.metadata.annotations ??= {});
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIP_COPY.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const oldRevision = a[REVISION];
  const had = oldRevision !== undefined;
  let oldInt = 0;
  if (had && oldRevision !== '') {
    oldInt = Number.parseInt(oldRevision, 10);
    if (!Number.isFinite(oldInt)) return false;
  }
  if (oldInt < newRevision) {
    a[REVISION] = String(newRevision);
    changed = true;
    if (had) {
      const history = a[REVISION_HISTORY] ?? '';
      if (history === '') a[REVISION_HISTORY] = oldRevision!;
      else {
        const olds = history.split(',');
        let total = history.length + oldRevision!.length + 1;
        let start = 0;
        while (total > MAX_REV_HISTORY_CHARS && start < olds.length) {
          total -= olds[start]!.length + 1;
          start++;
        }
        if (total <= MAX_REV_HISTORY_CHARS) a[REVISION_HISTORY] = [...olds.slice(start), oldRevision!].join(',');
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

export const hasProgressDeadline = (d: KubeObject): boolean => {
  const p = dspec(d).progressDeadlineSeconds;
  return p !== undefined && p !== null && p !== MAX_INT32;
};

export const getCondition = (s: DeploymentStatus, type: string): Condition | undefined => s.conditions?.find((c) => c.type === type);

export function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: string): Condition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** Upstream SetDeploymentCondition: same status and reason → unchanged; same status → keeps the transition time. */
export function setCondition(s: DeploymentStatus, c: Condition): void {
  const cur = getCondition(s, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== c.type), c];
}

export function removeCondition(s: DeploymentStatus, type: string): void {
  if (!s.conditions) return;
  s.conditions = s.conditions.filter((x) => x.type !== type);
  if (!s.conditions.length) delete s.conditions;
}

/** Upstream DeploymentComplete. */
export function deploymentComplete(d: KubeObject, s: DeploymentStatus): boolean {
  const n = replicasOf(d);
  return (s.updatedReplicas ?? 0) === n && (s.replicas ?? 0) === n && (s.availableReplicas ?? 0) === n && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Upstream DeploymentProgressing: more updated, fewer old, more ready or more available than last recorded. */
export function deploymentProgressing(d: KubeObject, s: DeploymentStatus): boolean {
  const o = dstatus(d);
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0);
}

/** Upstream DeploymentTimedOut. */
export function deploymentTimedOut(d: KubeObject, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === NewRSAvailable) return false;
  if (c.reason === TimedOut) return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return Number.isFinite(from) && from + (dspec(d).progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/** NewRSNewReplicas: how big the new RS may be now. */
export function newRSNewReplicas(d: KubeObject, all: Array<KubeObject | undefined>, newRS: KubeObject): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const n = replicasOf(d);
  const surge = scaledValue(dspec(d).strategy?.rollingUpdate?.maxSurge ?? '25%', n, true);
  const current = sumSpecReplicas(all);
  const maxTotal = n + surge;
  if (current >= maxTotal) return rsReplicas(newRS);
  const up = Math.min(maxTotal - current, n - rsReplicas(newRS));
  return rsReplicas(newRS) + up;
}

/** Upstream IsSaturated. */
export function isSaturated(d: KubeObject, rs: KubeObject | undefined): boolean {
  if (!rs) return false;
  const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
  const n = replicasOf(d);
  return desired === String(n) && rsReplicas(rs) === n && (rsstatus(rs).availableReplicas ?? 0) === n;
}

/** Upstream GetReplicaSetProportion (proportional scaling of a mid-rollout Deployment). */
export function rsProportion(rs: KubeObject, d: KubeObject, toAdd: number, added: number): number {
  if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = rsFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function rsFraction(rs: KubeObject, d: KubeObject): number {
  if (replicasOf(d) === 0) return -rsReplicas(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const ann = Number.parseInt(rs.metadata.annotations?.[MAX_REPLICAS] ?? '', 10);
  const annotated = Number.isFinite(ann) ? ann : (dstatus(d).replicas ?? 0);
  const size = (rsReplicas(rs) * deploymentReplicas) / annotated;
  return roundHalfAway(size) - rsReplicas(rs);
}

const roundHalfAway = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

/** pod-template-hash added to a label map / selector. */
export function withHashLabel(labels: Record<string, string> | undefined, hash: string): Record<string, string> {
  return { ...(labels ?? {}), [POD_TEMPLATE_HASH]: hash };
}

export function selectorWithHash(sel: LabelSelector | undefined, hash: string): LabelSelector {
  const s = structuredClone(sel ?? {});
  s.matchLabels = withHashLabel(s.matchLabels, hash);
  return s;
}

/** Status compared as upstream's reflect.DeepEqual would after a JSON round trip (zero fields omitted). */
export function canonicalStatus(s: DeploymentStatus): unknown {
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (v !== undefined && v !== null && v !== 0 && !(Array.isArray(v) && !v.length)) c[k] = v;
  return canonical(c);
}
