// The pod status the kubelet reports, computed from what the runtime says about the pod's containers and what
// the pod worker decided (back-off, pull errors, config errors): phase (upstream's getPhase), conditions,
// container statuses with state/lastState/restartCount, IPs and QoS class. Pure: no I/O, no clock of its own.

import type { ContainerStatus } from '../runtime/interface.js';
import { isSidecar } from './initcontainers.js';
import { qosClass } from './qos.js';
import type { Container, Pod } from './types.js';
import { rfc3339 } from '../api/time.js';

/** One container of the pod spec as the pod worker sees it. */
export interface ContainerView {
  name: string;
  /** The newest runtime instance of this container (highest attempt), if any. */
  current?: ContainerStatus;
  /** The instance before it (for lastState). */
  previous?: ContainerStatus;
  /** Why it is not running when the pod worker holds it back: ContainerCreating, CrashLoopBackOff, ErrImagePull … */
  waiting?: { reason: string; message?: string };
  ready: boolean;
  started: boolean;
  /** Image ID as reported (`<repo>@sha256:…` or `sha256:…`). */
  imageID?: string;
}

export interface PodStatusInput {
  pod: Pod;
  hostIP: string;
  podIPs: string[];
  sandboxReady: boolean;
  initContainers: ContainerView[];
  containers: ContainerView[];
  /** The pod has been asked to stop for good (deleted, or its phase is terminal already). */
  terminal?: 'Succeeded' | 'Failed';
  /** Extra phase failure, e.g. activeDeadlineSeconds: {reason: 'DeadlineExceeded', message}. */
  failure?: { reason: string; message: string };
  nowMs: number;
}

export const CONTAINER_ID_PREFIX = 'runc://';


/** The CRI terminated reason as the API shows it. */
function terminatedReason(s: ContainerStatus): string {
  if (s.reason === 'OOMKilled') return 'OOMKilled';
  if (s.reason && s.reason !== 'Completed' && s.reason !== 'Error') return s.reason;
  return (s.exitCode ?? 0) === 0 ? 'Completed' : 'Error';
}

function terminated(s: ContainerStatus): Record<string, unknown> {
  const t: Record<string, unknown> = {
    exitCode: s.exitCode ?? 0,
    reason: terminatedReason(s),
    startedAt: s.startedAt ? rfc3339(s.startedAt) : null,
    finishedAt: s.finishedAt ? rfc3339(s.finishedAt) : null,
    containerID: CONTAINER_ID_PREFIX + s.id,
  };
  if (s.message) t.message = s.message;
  return t;
}

/** One v1.ContainerStatus. */
export function containerStatus(spec: Container, v: ContainerView): Record<string, unknown> {
  const out: Record<string, unknown> = { name: v.name, image: spec.image, imageID: v.imageID ?? '', ready: false, restartCount: v.current?.metadata.attempt ?? 0, started: false };
  const cur = v.current;
  let state: Record<string, unknown>;
  let last: Record<string, unknown> = {};
  if (cur && cur.state === 'CONTAINER_RUNNING' && !v.waiting) {
    state = { running: { startedAt: rfc3339(cur.startedAt ?? cur.createdAt) } };
    out.ready = v.ready;
    out.started = v.started;
    if (v.previous && v.previous.state === 'CONTAINER_EXITED') last = { terminated: terminated(v.previous) };
  } else if (v.waiting) {
    state = { waiting: v.waiting.message ? { reason: v.waiting.reason, message: v.waiting.message } : { reason: v.waiting.reason } };
    if (cur && cur.state === 'CONTAINER_EXITED') last = { terminated: terminated(cur) };
    else if (v.previous && v.previous.state === 'CONTAINER_EXITED') last = { terminated: terminated(v.previous) };
  } else if (cur && cur.state === 'CONTAINER_EXITED') {
    state = { terminated: terminated(cur) };
    if (v.previous && v.previous.state === 'CONTAINER_EXITED') last = { terminated: terminated(v.previous) };
  } else {
    state = { waiting: { reason: 'ContainerCreating' } };
  }
  out.state = state;
  out.lastState = last;
  if (cur) out.containerID = CONTAINER_ID_PREFIX + cur.id;
  return out;
}

const exitedOk = (v: ContainerView): boolean => v.current?.state === 'CONTAINER_EXITED' && (v.current.exitCode ?? 0) === 0 && !v.waiting;
const exitedFailed = (v: ContainerView): boolean => v.current?.state === 'CONTAINER_EXITED' && (v.current.exitCode ?? 0) !== 0;
const runningStarted = (v: ContainerView): boolean => v.current?.state === 'CONTAINER_RUNNING' && !v.waiting && v.started;

const wasInitialized = (pod: Pod): boolean => ((pod.status?.conditions ?? []) as Array<{ type: string; status: string }>).some((c) => c.type === 'Initialized' && c.status === 'True');

/**
 * The init containers still keeping the pod from being initialized: regular ones until they exit 0, sidecars until
 * they run past their startup probe. Once initialized, a pod stays so (a sidecar restarting holds nothing up).
 */
export function incompleteInitContainers(pod: Pod, init: ContainerView[]): string[] {
  if (wasInitialized(pod)) return [];
  const specs = (pod.spec?.initContainers ?? []) as Container[];
  return init.filter((v, i) => !(specs[i] && isSidecar(specs[i]!) ? runningStarted(v) : exitedOk(v))).map((v) => v.name);
}

/** Upstream's getPhase over the container views (sidecars count only while they hold up initialization). */
export function podPhase(pod: Pod, init: ContainerView[], containers: ContainerView[], terminal?: 'Succeeded' | 'Failed'): string {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const initSpecs = (pod.spec?.initContainers ?? []) as Container[];
  const initialized = wasInitialized(pod);
  let pendingInit = 0;
  let failedInit = 0;
  for (let i = 0; i < init.length; i++) {
    const v = init[i]!;
    if (initSpecs[i] && isSidecar(initSpecs[i]!)) {
      if (!initialized && !runningStarted(v)) pendingInit++;
      continue;
    }
    if (exitedOk(v) || initialized) continue;
    if (exitedFailed(v) && !v.waiting) failedInit++;
    else if (exitedFailed(v)) pendingInit++;
    else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const v of containers) {
    const cur = v.current;
    if (cur && cur.state === 'CONTAINER_RUNNING' && !v.waiting) running++;
    else if (cur && cur.state === 'CONTAINER_EXITED' && !v.waiting) {
      stopped++;
      if ((cur.exitCode ?? 0) === 0) succeeded++;
    } else if (v.waiting || !cur || cur.state === 'CONTAINER_CREATED') {
      if (cur?.state === 'CONTAINER_EXITED' || v.previous) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (terminal) return terminal;
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
}

/** The whole status object the kubelet writes (PodScheduled and other foreign conditions are kept). */
export function computePodStatus(input: PodStatusInput): Record<string, unknown> {
  const { pod } = input;
  const old = pod.status ?? {};
  const initSpecs = (pod.spec?.initContainers ?? []) as Container[];
  const specs = (pod.spec?.containers ?? []) as Container[];
  let phase = podPhase(pod, input.initContainers, input.containers, input.terminal);
  if (input.failure) phase = 'Failed';
  const done = phase === 'Succeeded' || phase === 'Failed';

  const conds: Condition[] = [];
  conds.push({ type: 'PodReadyToStartContainers', status: input.sandboxReady && !done ? 'True' : 'False' });
  const incompleteInit = incompleteInitContainers(pod, input.initContainers);
  if (incompleteInit.length === 0) conds.push(done && initSpecs.length > 0 ? { type: 'Initialized', status: 'True', reason: 'PodCompleted' } : { type: 'Initialized', status: 'True' });
  else conds.push({ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incompleteInit.join(' ')}]` });
  const sidecars = input.initContainers.filter((_v, i) => initSpecs[i] && isSidecar(initSpecs[i]!));
  const unready = [...sidecars, ...input.containers].filter((v) => !(v.ready && v.current?.state === 'CONTAINER_RUNNING' && !v.waiting)).map((v) => v.name);
  let ready: Condition;
  if (done) ready = { type: 'Ready', status: 'False', reason: 'PodCompleted' };
  else if (unready.length > 0) ready = { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  else ready = { type: 'Ready', status: 'True' };
  conds.push(ready, { ...ready, type: 'ContainersReady' });

  const oldConds = (old.conditions ?? []) as Array<Record<string, any>>;
  const now = rfc3339(input.nowMs);
  const conditions: Array<Record<string, unknown>> = conds.map((c) => {
    const prev = oldConds.find((o) => o.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : now;
    return { type: c.type, status: c.status, lastProbeTime: null, lastTransitionTime, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) };
  });
  for (const o of oldConds) if (!conds.some((c) => c.type === o.type)) conditions.push(o);

  const status: Record<string, unknown> = {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: old.startTime ?? now,
    qosClass: qosClass(pod),
  };
  if (input.podIPs.length > 0) {
    status.podIP = input.podIPs[0];
    status.podIPs = input.podIPs.map((ip) => ({ ip }));
  } else if (old.podIP && !done) {
    status.podIP = old.podIP;
    status.podIPs = old.podIPs;
  }
  if (input.failure) {
    status.reason = input.failure.reason;
    status.message = input.failure.message;
  }
  if (initSpecs.length > 0)
    status.initContainerStatuses = initSpecs.map((s, i) => {
      const v = input.initContainers[i] ?? { name: s.name, ready: false, started: false };
      const cs = containerStatus(s, v);
      // A regular init container is ready once it has completed (upstream's prober UpdatePodStatus).
      if (!isSidecar(s) && exitedOk(v)) cs.ready = true;
      return cs;
    });
  status.containerStatuses = specs.map((s, i) => {
    const cs = containerStatus(s, input.containers[i] ?? { name: s.name, ready: false, started: false });
    // While init containers run, regular containers wait with reason PodInitializing.
    if (incompleteInit.length > 0 && !input.containers[i]?.current) cs.state = { waiting: { reason: 'PodInitializing' } };
    return cs;
  });
  return status;
}
