// The simulated kubelet's pod lifecycle as a pure function: given a pod bound to a simulated node and the time,
// the status the kubelet would report next, the Events it would record and when to look again. No I/O.
//
// A pod says how it runs with annotations (all optional; every regular container behaves the same way):
//   sim.k8ts.io/start-seconds: "N"   stay Pending (ContainerCreating) N seconds before the containers run (default 0)
//   sim.k8ts.io/ready-seconds: "N"   containers turn ready N seconds after they start (default 0); "never": never ready
//   sim.k8ts.io/run-seconds: "N"     containers exit N seconds after they start (default: they run until deleted)
//   sim.k8ts.io/exit-code: "N"       the exit code when they do (default 0: reason Completed; otherwise Error)
// restartPolicy decides what follows an exit: Always restarts, OnFailure restarts on a non-zero code, Never leaves
// the container terminated; once every container is terminated the pod is Succeeded (all codes 0) or Failed.
// Restarts follow the kubelet's crash back-off: the first is immediate, then base·2^(n−1) capped at 5 minutes,
// waiting in CrashLoopBackOff meanwhile. Init containers complete at once (exit 0); sidecars (init containers with
// restartPolicy Always) run and are ready like regular containers but never exit. A deleted pod's running
// containers end on SIGTERM (exit 143, pod Failed) after min(its grace period, the node's stop time, 500 ms by
// default); then the pod is deleted with grace 0, as the kubelet does.

import { createHash } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import { rfc3339 } from '../api/time.js';

export const ANNOTATION_START_SECONDS = 'sim.k8ts.io/start-seconds';
export const ANNOTATION_READY_SECONDS = 'sim.k8ts.io/ready-seconds';
export const ANNOTATION_RUN_SECONDS = 'sim.k8ts.io/run-seconds';
export const ANNOTATION_EXIT_CODE = 'sim.k8ts.io/exit-code';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter((x): x is Obj => !!obj(x)) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const time = (v: unknown): number => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? 0 : t;
};

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  fieldPath: string;
}

export interface PodPlan {
  /** The whole new status to write; undefined when nothing changed. */
  status?: Obj;
  events: PodEvent[];
  /** Sync again after this many ms (a container is due to start, turn ready, exit or restart). */
  wakeInMs?: number;
}

export interface PodContext {
  now: number;
  hostIP: string;
  /** Allocates (or returns the already allocated) pod address; called only once the sandbox exists. */
  podIP: () => string;
  /** First crash back-off delay (kubelet: 10 s). */
  backoffBaseMs: number;
}

interface Timings {
  startMs: number;
  readyMs: number;
  runMs: number | undefined;
  exitCode: number;
}

const MAX_BACKOFF_MS = 300_000;

function seconds(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

export function podTimings(pod: KubeObject): Timings {
  const a = pod.metadata.annotations ?? {};
  const ready = a[ANNOTATION_READY_SECONDS];
  const code = Number(a[ANNOTATION_EXIT_CODE] ?? 0);
  return {
    startMs: seconds(a[ANNOTATION_START_SECONDS]) ?? 0,
    readyMs: ready?.trim() === 'never' ? Infinity : (seconds(ready) ?? 0),
    runMs: seconds(a[ANNOTATION_RUN_SECONDS]),
    exitCode: Number.isInteger(code) ? code : 1,
  };
}

/** docker.io/library/busybox:1.36 from busybox:1.36, as container runtimes report `image`. */
export function normalizeImage(image: string): string {
  let name = image;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    name = `docker.io/${slash < 0 ? 'library/' : ''}${name}`;
  }
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !name.includes('@')) name += ':latest';
  return name;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

export function imageID(image: string): string {
  const n = normalizeImage(image);
  const at = n.indexOf('@');
  if (at >= 0) return n;
  const repo = n.slice(0, n.lastIndexOf(':') > n.lastIndexOf('/') ? n.lastIndexOf(':') : n.length);
  return `${repo}@sha256:${sha(n)}`;
}

function containerID(pod: KubeObject, name: string, restartCount: number): string {
  return `sim://${sha(`${pod.metadata.uid ?? ''}/${name}/${restartCount}`)}`;
}

/** Crash back-off before restart number restartCount+1: 0 for the first restart, then base·2^(n−1), max 5 min. */
export function crashBackoffMs(restartCount: number, baseMs: number): number {
  if (restartCount <= 0) return 0;
  return Math.min(baseMs * 2 ** (restartCount - 1), MAX_BACKOFF_MS);
}

const fieldPath = (name: string, init: boolean): string => `spec.${init ? 'initContainers' : 'containers'}{${name}}`;

function startEvents(c: Obj, init: boolean): PodEvent[] {
  const name = str(c.name);
  const fp = fieldPath(name, init);
  return [
    { type: 'Normal', reason: 'Pulled', message: `Container image "${str(c.image)}" already present on machine`, fieldPath: fp },
    { type: 'Normal', reason: 'Created', message: `Created container: ${name}`, fieldPath: fp },
    { type: 'Normal', reason: 'Started', message: `Started container ${name}`, fieldPath: fp },
  ];
}

function running(pod: KubeObject, c: Obj, now: number, restartCount: number, ready: boolean, lastState: Obj = {}): Obj {
  const image = str(c.image);
  return {
    containerID: containerID(pod, str(c.name), restartCount),
    image: normalizeImage(image),
    imageID: imageID(image),
    lastState,
    name: str(c.name),
    ready,
    restartCount,
    started: true,
    state: { running: { startedAt: rfc3339(now) } },
  };
}

function terminatedState(cs: Obj, exitCode: number, now: number): Obj {
  return {
    terminated: {
      containerID: str(cs.containerID),
      exitCode,
      finishedAt: rfc3339(now),
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: str(obj(obj(cs.state)?.running)?.startedAt) || rfc3339(now),
    },
  };
}

function condition(type: string, status: boolean, now: number, old: Obj[], reason?: string, message?: string): Obj {
  const prev = old.find((c) => c.type === type);
  const s = status ? 'True' : 'False';
  const c: Obj = { lastProbeTime: null, lastTransitionTime: prev && prev.status === s && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now), status: s, type };
  if (!status && reason) c.reason = reason;
  if (!status && message) c.message = message;
  return c;
}

const OWN_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

/** Pod conditions in the kubelet's order, keeping PodScheduled and other writers' conditions as they are. */
function conditions(old: Obj[], now: number, o: { sandbox: boolean; terminal: boolean; unready: string[] }): Obj[] {
  const ready = o.unready.length === 0 && !o.terminal;
  const reason = o.terminal ? 'PodCompleted' : 'ContainersNotReady';
  const message = o.terminal ? undefined : `containers with unready status: [${o.unready.join(' ')}]`;
  const scheduled = old.find((c) => c.type === 'PodScheduled') ?? condition('PodScheduled', true, now, old);
  return [
    condition('PodReadyToStartContainers', o.sandbox && !o.terminal, now, old),
    condition('Initialized', true, now, old, o.terminal ? 'PodCompleted' : undefined),
    condition('Ready', ready, now, old, reason, message),
    condition('ContainersReady', ready, now, old, reason, message),
    scheduled,
    ...old.filter((c) => !OWN_CONDITIONS.has(str(c.type))),
  ];
}

/**
 * Semantic equality of two statuses: key order and null-vs-absent do not count (a merge patch or the server may
 * drop nulls and reorder keys; treating that as a change would write the same status forever).
 */
export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => equal(x, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  const ao = a as Obj;
  const bo = b as Obj;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!equal(ao[k], bo[k])) return false;
  return true;
}

/** The next step for a pod that is not being deleted. */
export function planPod(pod: KubeObject, ctx: PodContext): PodPlan {
  const spec = obj(pod.spec) ?? {};
  const status = obj(pod.status) ?? {};
  const phase = str(status.phase);
  if (phase === 'Succeeded' || phase === 'Failed') return { events: [] };
  const now = ctx.now;
  const t = podTimings(pod);
  const containers = objs(spec.containers);
  const initContainers = objs(spec.initContainers);
  const oldConditions = objs(status.conditions);
  const base: Obj = { ...status, hostIP: ctx.hostIP, hostIPs: [{ ip: ctx.hostIP }] };
  const events: PodEvent[] = [];
  const startTime = time(status.startTime);
  const creating = !startTime || objs(status.containerStatuses).some((cs) => str(obj(obj(cs.state)?.waiting)?.reason) === 'ContainerCreating');

  if (creating) {
    const since = startTime || now;
    if (now < since + t.startMs) {
      // The sandbox is "being created": Pending, containers waiting in ContainerCreating.
      const next: Obj = {
        ...base,
        phase: 'Pending',
        startTime: rfc3339(since),
        conditions: conditions(oldConditions, now, { sandbox: false, terminal: false, unready: containers.map((c) => str(c.name)) }),
        containerStatuses: containers.map((c) => ({
          image: str(c.image),
          imageID: '',
          lastState: {},
          name: str(c.name),
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: 'ContainerCreating' } },
        })),
      };
      return { status: equal(next, status) ? undefined : next, events, wakeInMs: since + t.startMs - now };
    }
    // Start everything now: init containers complete, sidecars and containers run.
    const ip = spec.hostNetwork === true ? ctx.hostIP : ctx.podIP();
    const ready = t.readyMs === 0;
    const initStatuses = initContainers.map((c) => {
      events.push(...startEvents(c, true));
      if (c.restartPolicy === 'Always') return running(pod, c, now, 0, true);
      const cs = running(pod, c, now, 0, false);
      return { ...cs, started: false, state: terminatedState(cs, 0, now) };
    });
    const statuses = containers.map((c) => {
      events.push(...startEvents(c, false));
      return running(pod, c, now, 0, ready);
    });
    const next: Obj = {
      ...base,
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: rfc3339(since),
      conditions: conditions(oldConditions, now, { sandbox: true, terminal: false, unready: ready ? [] : containers.map((c) => str(c.name)) }),
      containerStatuses: statuses,
    };
    if (initStatuses.length) next.initContainerStatuses = initStatuses;
    return { status: next, events, wakeInMs: nextWake(next, t, ctx, now) };
  }

  // Running: move each container along its timeline.
  const restartPolicy = str(spec.restartPolicy) || 'Always';
  const old = new Map(objs(status.containerStatuses).map((cs) => [str(cs.name), cs]));
  const statuses = containers.map((c): Obj => {
    const name = str(c.name);
    const cs = old.get(name);
    if (!cs) {
      events.push(...startEvents(c, false));
      return running(pod, c, now, 0, t.readyMs === 0);
    }
    const state = obj(cs.state) ?? {};
    const restartCount = typeof cs.restartCount === 'number' ? cs.restartCount : 0;
    const run = obj(state.running);
    if (run) {
      const startedAt = time(run.startedAt);
      if (t.runMs !== undefined && now >= startedAt + t.runMs) {
        const term = terminatedState(cs, t.exitCode, now);
        const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && t.exitCode !== 0);
        if (!restart) return { ...cs, ready: false, started: false, state: term };
        const delay = crashBackoffMs(restartCount, ctx.backoffBaseMs);
        if (delay === 0) {
          events.push(...startEvents(c, false));
          return running(pod, c, now, restartCount + 1, t.readyMs === 0, term);
        }
        events.push({ type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid ?? ''})`, fieldPath: fieldPath(name, false) });
        return { ...cs, lastState: term, ready: false, started: false, state: { waiting: { message: backoffMessage(pod, name, delay), reason: 'CrashLoopBackOff' } } };
      }
      const ready = now >= startedAt + t.readyMs;
      return ready === cs.ready ? cs : { ...cs, ready };
    }
    const waiting = obj(state.waiting);
    if (waiting && str(waiting.reason) === 'CrashLoopBackOff') {
      const finished = time(obj(obj(cs.lastState)?.terminated)?.finishedAt);
      if (now >= finished + crashBackoffMs(restartCount, ctx.backoffBaseMs)) {
        events.push(...startEvents(c, false));
        return running(pod, c, now, restartCount + 1, t.readyMs === 0, obj(cs.lastState));
      }
    }
    return cs;
  });
  const terminated = statuses.map((cs) => obj(obj(cs.state)?.terminated));
  const terminal = terminated.every((x) => x !== undefined);
  const next: Obj = {
    ...base,
    phase: terminal ? (terminated.every((x) => x!.exitCode === 0) ? 'Succeeded' : 'Failed') : 'Running',
    conditions: conditions(oldConditions, now, { sandbox: true, terminal, unready: statuses.filter((cs) => cs.ready !== true).map((cs) => str(cs.name)) }),
    containerStatuses: statuses,
  };
  if (terminal) next.initContainerStatuses = stopSidecars(status.initContainerStatuses, now);
  if (next.initContainerStatuses === undefined) delete next.initContainerStatuses;
  return { status: equal(next, status) ? undefined : next, events, wakeInMs: terminal ? undefined : nextWake(next, t, ctx, now) };
}

function backoffMessage(pod: KubeObject, name: string, delay: number): string {
  return `back-off ${Math.round(delay / 1000)}s restarting failed container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid ?? ''})`;
}

/** Sidecars (still running init containers) stop with the pod. */
function stopSidecars(v: unknown, now: number): Obj[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return objs(v).map((cs) => (obj(obj(cs.state)?.running) ? { ...cs, ready: false, started: false, state: terminatedState(cs, 0, now) } : cs));
}

/** When the earliest pending transition (turning ready, exiting, leaving back-off) is due. */
function nextWake(status: Obj, t: Timings, ctx: PodContext, now: number): number | undefined {
  let at = Infinity;
  for (const cs of objs(status.containerStatuses)) {
    const state = obj(cs.state) ?? {};
    const run = obj(state.running);
    if (run) {
      const startedAt = time(run.startedAt);
      if (cs.ready !== true && t.readyMs !== Infinity) at = Math.min(at, startedAt + t.readyMs);
      if (t.runMs !== undefined) at = Math.min(at, startedAt + t.runMs);
    } else if (str(obj(state.waiting)?.reason) === 'CrashLoopBackOff') {
      const finished = time(obj(obj(cs.lastState)?.terminated)?.finishedAt);
      at = Math.min(at, finished + crashBackoffMs(typeof cs.restartCount === 'number' ? cs.restartCount : 0, ctx.backoffBaseMs));
    }
  }
  return at === Infinity ? undefined : Math.max(0, at - now);
}

/** Exit code of a container stopped by SIGTERM (128 + 15): an interrupted run counts as failed (Jobs rely on it). */
export const STOPPED_EXIT_CODE = 143;

/**
 * The status the kubelet reports once it has stopped a deleted pod's containers (each ends on SIGTERM: exit 143,
 * reason Error, so the pod is Failed), or undefined if there is nothing to report (never started, or terminal).
 */
export function stoppedStatus(pod: KubeObject, now: number): Obj | undefined {
  const status = obj(pod.status) ?? {};
  const phase = str(status.phase);
  const statuses = objs(status.containerStatuses);
  if (phase === 'Succeeded' || phase === 'Failed' || statuses.length === 0) return undefined;
  const stop = (cs: Obj): Obj => {
    const st = obj(cs.state) ?? {};
    if (st.terminated) return cs;
    if (st.running) return { ...cs, ready: false, started: false, state: terminatedState(cs, STOPPED_EXIT_CODE, now) };
    return { ...cs, ready: false, started: false, state: { terminated: { exitCode: 137, finishedAt: null, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was deleted.  The container used to be Running', startedAt: null } } };
  };
  const next = statuses.map(stop);
  const failed = next.some((cs) => obj(obj(cs.state)?.terminated)?.exitCode !== 0);
  const out: Obj = {
    ...status,
    phase: failed ? 'Failed' : 'Succeeded',
    conditions: conditions(objs(status.conditions), now, { sandbox: false, terminal: true, unready: [] }),
    containerStatuses: next,
  };
  if (Array.isArray(status.initContainerStatuses)) out.initContainerStatuses = objs(status.initContainerStatuses).map(stop);
  return out;
}

/** Killing events for the containers a deletion stops. */
export function killingEvents(pod: KubeObject): PodEvent[] {
  const status = obj(pod.status) ?? {};
  const out: PodEvent[] = [];
  for (const [key, init] of [['containerStatuses', false], ['initContainerStatuses', true]] as const)
    for (const cs of objs(status[key])) if (obj(obj(cs.state)?.running)) out.push({ type: 'Normal', reason: 'Killing', message: `Stopping container ${str(cs.name)}`, fieldPath: fieldPath(str(cs.name), init) });
  return out;
}
