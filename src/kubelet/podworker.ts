// The pod workers: one sync of one pod at a time (the kubelet's work queue is keyed by pod uid), bringing the
// runtime in line with the pod spec as upstream's SyncPod / computePodActions: volumes, then the sandbox, then init
// containers in order, then the regular containers with restartPolicy and crash-loop back-off; liveness failures
// and spec changes restart a container; deletion runs preStop, stops gracefully and removes everything. Every sync
// ends by reporting the status (status.ts) when it changed.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/interface.js';
import { isNotFound } from '../client/interface.js';
import { PODS } from '../client/resources.js';
import type { ContainerConfig, ContainerStatus, PodSandboxConfig, Runtime, SecurityContext } from '../runtime/interface.js';
import { Backoff } from './backoff.js';
import { parseResolvConf, podDNSConfig, podHostnameAndDomain, type DnsEvent } from './dns.js';
import { commandLine, containerEnv, type EnvLookups } from './env.js';
import { ImageManager, ImageUnavailable, type EventFn } from './images.js';
import { containerResources, podCgroupParent, qosClass } from './qos.js';
import { PRESTOP_FAILED_MESSAGE } from './prober/hooks.js';
import { computePodStatus, type ContainerView } from './status.js';
import { isSidecar, planInitContainers } from './initcontainers.js';
import { admitPod } from './admission.js';
import type { Node } from '../api/corev1/types.js';
import {
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_GRACE,
  ContainerConfigError,
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  VolumeError,
  type Container,
  type HookRunner,
  type Pod,
  type ProbeManager,
  type ProbeResult,
  type VolumeManager,
} from './types.js';

/** Container annotation: hash of the container spec it was made from (a changed spec restarts the container). */
export const ANNOTATION_CONTAINER_HASH = 'io.kubernetes.container.hash';

export interface PodWorkerOptions {
  client: Client;
  runtime: Runtime;
  volumes: VolumeManager;
  prober: ProbeManager;
  hooks: HookRunner;
  nodeName: string;
  nodeIP: string;
  podLogsDir: string;
  clusterDNS: string[];
  clusterDomain: string;
  cgroupRoot: string;
  envLookups: EnvLookups;
  pullSecrets: (pod: Pod) => Promise<KubeObject[]>;
  /** The kubelet's Node as the API has it (labels, allocatable, taints), for admitting new pods; undefined: admit. */
  node?: () => Promise<KubeObject | undefined>;
  /** Record an event about the pod (fieldPath names the container). */
  event: (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) => void;
  /** Sync this pod again after ms (0: soon). */
  requeue: (uid: string, ms: number) => void;
  log: (m: string) => void;
  now?: () => number;
  /** Crash-loop back-off (upstream: 10 s doubling to 5 min). */
  crashBackoffMs?: { initial: number; max: number };
}

/** What the kubelet remembers about a pod between syncs (rebuilt from the runtime after a restart). */
interface PodState {
  uid: string;
  pod: Pod;
  /** Gone from the API: stop everything and forget it. */
  gone: boolean;
  sandboxId?: string;
  podIPs: string[];
  /** Held-back containers by name: why they are not running. */
  waiting: Map<string, { reason: string; message?: string }>;
  /** Container ids with an exit watcher. */
  watched: Set<string>;
  /** Container ids whose liveness or startup probe failed: to be killed and restarted. */
  unhealthy: Set<string>;
  /** Container ids whose postStart hook is running (not yet started for status). */
  terminating?: Promise<void>;
  terminated: boolean;
  lastStatus?: string;
  volumeError?: string;
  /** Next wait before retrying a failed volume set-up: 100 ms doubling to 2 s (upstream's reconciler polls every 100 ms). */
  volumeRetryMs?: number;
  failure?: { reason: string; message: string };
  /** Passed the kubelet's admission (admission.ts); counted against the node from then on. */
  admitted?: boolean;
  /** Rejected by it: failed, nothing ever started. */
  rejected?: boolean;
  /** Start-up phase marks (ms since first seen), kept only with K8TS_POD_TRACE set and until the pod first runs. */
  trace?: { t0: number; marks: string[] };
}

/** With K8TS_POD_TRACE=1 the kubelet logs each new pod's start-up phases (where the time to Running goes). */
const TRACE = process.env.K8TS_POD_TRACE === '1';
const mark = (st: PodState, what: string): void => {
  if (st.trace) st.trace.marks.push(`${what}=${Math.round(performance.now() - st.trace.t0)}`);
};

const fieldPathOf = (pod: Pod, name: string): string => {
  const inits = (pod.spec?.initContainers ?? []) as Container[];
  return inits.some((c) => c.name === name) ? `spec.initContainers{${name}}` : `spec.containers{${name}}`;
};

const podDesc = (pod: Pod): string => `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;

/** The hash that decides whether a running container still matches its spec (upstream: HashContainer). */
export function containerHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify({ ...c, resources: undefined })).digest('hex').slice(0, 8);
}

function securityContext(pod: Pod, c: Container): SecurityContext {
  const psc = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const out: SecurityContext = {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  if (runAsNonRoot !== undefined) out.runAsNonRoot = runAsNonRoot;
  const groups = [...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])];
  if (groups.length > 0) out.supplementalGroups = groups;
  if (sc.readOnlyRootFilesystem) out.readonlyRootfs = true;
  if (sc.privileged) out.privileged = true;
  if (sc.capabilities) out.capabilities = { add: sc.capabilities.add ?? [], drop: sc.capabilities.drop ?? [] };
  if (sc.allowPrivilegeEscalation === false) out.noNewPrivs = true;
  // The container's seccompProfile over the pod's; unset is Unconfined (upstream without SeccompDefault).
  const seccomp = sc.seccompProfile ?? psc.seccompProfile;
  if (seccomp?.type === 'RuntimeDefault' || seccomp?.type === 'Unconfined' || seccomp?.type === 'Localhost')
    out.seccomp = { type: seccomp.type, ...(seccomp.localhostProfile ? { localhostProfile: String(seccomp.localhostProfile) } : {}) };
  return out;
}

/** restartPolicy for one exited container. */
function shouldRestart(pod: Pod, exitCode: number): boolean {
  const p = pod.spec?.restartPolicy ?? 'Always';
  return p === 'Always' || (p === 'OnFailure' && exitCode !== 0);
}

/** The node's resolv.conf (what Default pods get, and the search domains ClusterFirst pods add); none if unreadable. */
function hostResolvConf(): ReturnType<typeof parseResolvConf> {
  try {
    return parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
  } catch {
    return { servers: [], searches: [], options: [] };
  }
}

export class PodWorkers {
  private readonly states = new Map<string, PodState>();
  private readonly images: ImageManager;
  private readonly crash: Backoff;
  private readonly now: () => number;
  /** Admissions run one after another, so two new pods never both take the last of a resource. */
  private admissions: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: PodWorkerOptions) {
    this.now = o.now ?? Date.now;
    this.images = new ImageManager(o.runtime.images, o.pullSecrets, this.now);
    this.crash = new Backoff(o.crashBackoffMs?.initial ?? 10_000, o.crashBackoffMs?.max ?? 300_000);
    o.prober.onResult((r) => this.onProbe(r));
  }

  /** The pods the kubelet currently runs (for the server backend). */
  pods(): Pod[] {
    return [...this.states.values()].filter((s) => !s.gone).map((s) => s.pod);
  }

  /** The sandbox of a pod (for streaming and probes). */
  sandboxOf(uid: string): string | undefined {
    return this.states.get(uid)?.sandboxId;
  }

  /** A pod was added or changed in the API. */
  upsert(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    const st = this.states.get(uid);
    if (st) st.pod = pod;
    else this.states.set(uid, { uid, pod, gone: false, podIPs: [], waiting: new Map(), watched: new Set(), unhealthy: new Set(), terminated: false, ...(TRACE && !pod.status?.startTime ? { trace: { t0: performance.now(), marks: [] } } : {}) });
    this.o.requeue(uid, 0);
  }

  /** The pod is gone from the API (or found only in the runtime): stop and clean up. */
  remove(uid: string, lastKnown?: Pod): void {
    const st = this.states.get(uid);
    if (st) st.gone = true;
    else if (lastKnown) this.states.set(uid, { uid, pod: lastKnown, gone: true, podIPs: [], waiting: new Map(), watched: new Set(), unhealthy: new Set(), terminated: false });
    this.o.requeue(uid, 0);
  }

  known(uid: string): boolean {
    return this.states.has(uid);
  }

  private onProbe(r: ProbeResult): void {
    const st = this.states.get(r.podUid);
    if (!st) return;
    if (!r.success && (r.kind === 'liveness' || r.kind === 'startup')) st.unhealthy.add(r.containerId);
    this.o.requeue(r.podUid, 0);
  }

  private eventFor(st: PodState, name: string): EventFn {
    return (type, reason, message) => this.o.event(st.pod, type, reason, message, fieldPathOf(st.pod, name));
  }

  // ---- the sync ------------------------------------------------------------------------------------------------------

  async sync(uid: string): Promise<void> {
    const st = this.states.get(uid);
    if (!st) return;
    mark(st, 'sync');
    const pod = st.pod;
    if (st.gone || pod.metadata.deletionTimestamp) {
      await this.syncTerminating(st);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Terminal: make sure nothing runs any more; the status stays as written.
      if (!st.terminated) await this.startTermination(st, 0, false);
      return;
    }
    const deadline = pod.spec?.activeDeadlineSeconds;
    const started = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
    if (deadline !== undefined && started !== undefined && this.now() - started >= deadline * 1000 && !st.failure) {
      st.failure = { reason: 'DeadlineExceeded', message: `Pod was active on the node longer than the specified deadline` };
      this.o.event(pod, 'Normal', 'DeadlineExceeded', st.failure.message);
    }
    if (st.rejected || (!st.admitted && !(await this.admit(st)))) return;
    if (st.failure) {
      await this.startTermination(st, pod.spec?.terminationGracePeriodSeconds ?? 30, false);
      await st.terminating;
      await this.report(st, await this.views(st), 'Failed');
      return;
    }

    mark(st, 'admitted');
    // 1. Volumes and 2. the sandbox. A pod's first sandbox is made while its volumes are set up (they do not depend
    // on each other, and each is mostly waiting on programs and the API); its addresses are reported only once the
    // volumes are up, as upstream's kubelet, which makes the sandbox after them, shows none before.
    const sandboxFirst = st.sandboxId === undefined && !st.volumeError ? this.ensureSandbox(st) : undefined;
    try {
      await this.o.volumes.setUpPod(pod);
      mark(st, 'volumes');
      st.volumeError = undefined;
      st.volumeRetryMs = undefined;
    } catch (e) {
      await sandboxFirst?.catch(() => false);
      if (!(e instanceof VolumeError)) throw e;
      if (st.volumeError !== e.message) this.o.event(pod, 'Warning', e.reason, e.message);
      st.volumeError = e.message;
      await this.report(st, await this.views(st));
      // A missing ConfigMap or Secret is often only a moment away (kube-root-ca.crt in a namespace just made).
      st.volumeRetryMs = Math.min(2000, st.volumeRetryMs ? st.volumeRetryMs * 2 : 100);
      this.o.requeue(uid, st.volumeRetryMs);
      return;
    }

    if (!(await (sandboxFirst ?? this.ensureSandbox(st)))) return;
    mark(st, 'sandbox');

    // 3. Containers.
    const views = await this.views(st);
    const inits = (pod.spec?.initContainers ?? []) as Container[];
    const containers = (pod.spec?.containers ?? []) as Container[];
    const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
    const previouslyInitialized = (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Initialized' && c.status === 'True');
    const plan = planInitContainers(
      inits.map((c, i) => {
        const cur = views.init[i]!.current;
        const state = cur?.state === 'CONTAINER_RUNNING' ? 'running' : cur?.state === 'CONTAINER_CREATED' ? 'created' : cur?.state === 'CONTAINER_EXITED' ? 'exited' : undefined;
        return {
          sidecar: isSidecar(c),
          ...(state ? { state } : {}),
          ...(cur?.exitCode !== undefined ? { exitCode: cur.exitCode } : {}),
          started: state === 'running' ? this.o.prober.isStarted(uid, c.name) : !c.startupProbe,
          unhealthy: cur !== undefined && st.unhealthy.has(cur.id),
          changed: cur !== undefined && cur.annotations[ANNOTATION_CONTAINER_HASH] !== undefined && cur.annotations[ANNOTATION_CONTAINER_HASH] !== containerHash(c),
        };
      }),
      restartPolicy,
      previouslyInitialized,
    );
    for (let i = 0; i < inits.length; i++) {
      const cur = views.init[i]!.current;
      if (cur?.state === 'CONTAINER_RUNNING' || cur?.state === 'CONTAINER_CREATED') this.watch(st, cur.id, inits[i]!.name);
    }
    let initDone = plan.initialized;
    for (const step of plan.steps) {
      const c = inits[step.index]!;
      const cur = views.init[step.index]!.current;
      let exited = cur?.state === 'CONTAINER_EXITED' ? cur : undefined;
      if (step.action === 'restart' && cur) {
        const changed = cur.annotations[ANNOTATION_CONTAINER_HASH] !== undefined && cur.annotations[ANNOTATION_CONTAINER_HASH] !== containerHash(c);
        const why = changed ? `Container ${c.name} definition changed, will be restarted` : `Container ${c.name} failed ${c.startupProbe && !this.o.prober.isStarted(uid, c.name) ? 'startup' : 'liveness'} probe, will be restarted`;
        this.eventFor(st, c.name)('Normal', 'Killing', why);
        await this.killContainer(st, c, cur.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
        st.unhealthy.delete(cur.id);
        exited = changed ? undefined : await this.o.runtime.runtime.containerStatus(cur.id).catch(() => undefined);
      }
      const ok = !(exited && (await this.backedOff(st, c, exited))) && (await this.startContainer(st, c, (cur?.metadata.attempt ?? -1) + 1));
      if (!ok) {
        // The rest waits for this one (a pod already initialized waits for nothing).
        if (!previouslyInitialized) {
          initDone = false;
          break;
        }
      }
    }
    if (plan.failed !== undefined) {
      await this.startTermination(st, 0, false);
      await st.terminating;
      await this.report(st, await this.views(st));
      return;
    }
    if (initDone) {
      for (let i = 0; i < containers.length; i++) {
        const c = containers[i]!;
        const cur = views.main[i]!.current;
        if (cur && (cur.state === 'CONTAINER_RUNNING' || cur.state === 'CONTAINER_CREATED')) {
          const hashChanged = cur.annotations[ANNOTATION_CONTAINER_HASH] !== undefined && cur.annotations[ANNOTATION_CONTAINER_HASH] !== containerHash(c);
          const unhealthy = st.unhealthy.has(cur.id);
          if (!hashChanged && !unhealthy) {
            this.watch(st, cur.id, c.name);
            continue;
          }
          const why = hashChanged ? `Container ${c.name} definition changed, will be restarted` : `Container ${c.name} failed ${c.startupProbe && !this.o.prober.isStarted(uid, c.name) ? 'startup' : 'liveness'} probe, will be restarted`;
          this.eventFor(st, c.name)('Normal', 'Killing', why);
          await this.killContainer(st, c, cur.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
          st.unhealthy.delete(cur.id);
          if (!hashChanged && !shouldRestart(pod, 137)) continue;
          const exited = await this.o.runtime.runtime.containerStatus(cur.id).catch(() => undefined);
          if (!hashChanged && exited && (await this.backedOff(st, c, exited))) continue;
          await this.startContainer(st, c, cur.metadata.attempt + 1);
          continue;
        }
        if (cur?.state === 'CONTAINER_EXITED') {
          if (!shouldRestart(pod, cur.exitCode ?? 0)) {
            st.waiting.delete(c.name);
            continue;
          }
          if (await this.backedOff(st, c, cur)) continue;
          await this.startContainer(st, c, cur.metadata.attempt + 1);
          continue;
        }
        await this.startContainer(st, c, 0);
      }
      // Under Never/OnFailure, once every regular container is done for good the sidecars are stopped (1.32).
      if (restartPolicy !== 'Always' && containers.length > 0 && inits.some(isSidecar)) {
        const now = await this.views(st);
        const done = now.main.every((v) => v.current?.state === 'CONTAINER_EXITED' && !shouldRestart(pod, v.current.exitCode ?? 0));
        if (done) {
          await this.startTermination(st, pod.spec?.terminationGracePeriodSeconds ?? 30);
          await st.terminating;
        }
      }
    }
    await this.report(st, await this.views(st));
  }

  /**
   * The kubelet's admission of a new pod, one pod at a time (upstream HandlePodAdditions): a rejected pod is Failed
   * with the first failing check as its reason and `Pod was rejected: …` as its message. A pod with a startTime was
   * admitted before (by this kubelet before a restart) and is kept.
   */
  private async admit(st: PodState): Promise<boolean> {
    if (st.pod.status?.startTime || !this.o.node) {
      st.admitted = true;
      return true;
    }
    const verdict = this.admissions.then(async () => {
      const node = await this.o.node!();
      const others = [...this.states.values()].filter((o) => o !== st && o.admitted && !o.gone && !o.rejected && !['Succeeded', 'Failed'].includes(o.pod.status?.phase ?? '')).map((o) => o.pod);
      const r = node ? admitPod(st.pod, node as Node, others) : ({ admit: true } as const);
      if (r.admit) st.admitted = true;
      return r;
    });
    this.admissions = verdict.catch(() => undefined);
    const r = await verdict;
    if (r.admit) return true;
    st.rejected = true;
    this.o.event(st.pod, 'Warning', r.reason, r.message);
    const status = { phase: 'Failed', reason: r.reason, message: `Pod was rejected: ${r.message}`, qosClass: qosClass(st.pod) };
    try {
      const out = await this.o.client.patch(PODS, st.pod.metadata.namespace, st.pod.metadata.name ?? '', 'application/merge-patch+json', { status }, 'status');
      if ((out.metadata.uid ?? '') === st.uid) st.pod = out as Pod;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return false;
  }

  /** Crash-loop back-off for an exited container: true (and CrashLoopBackOff recorded) while it must wait. */
  private async backedOff(st: PodState, c: Container, exited: ContainerStatus): Promise<boolean> {
    const key = `${st.uid}/${c.name}`;
    const finished = exited.finishedAt ?? this.now();
    const now = this.now();
    if (this.crash.inBackoffSince(key, finished, now)) {
      const message = `back-off ${Math.round(this.crash.get(key) / 1000)}s restarting failed container=${c.name} pod=${podDesc(st.pod)}`;
      if (st.waiting.get(c.name)?.reason !== 'CrashLoopBackOff') this.eventFor(st, c.name)('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podDesc(st.pod)}`);
      st.waiting.set(c.name, { reason: 'CrashLoopBackOff', message });
      this.o.requeue(st.uid, Math.max(10, finished + this.crash.get(key) - now + 10));
      return true;
    }
    this.crash.next(key, finished);
    return false;
  }

  private watch(st: PodState, id: string, name: string): void {
    if (st.watched.has(id)) return;
    st.watched.add(id);
    this.o.runtime.runtime.waitContainer(id).then(
      () => {
        st.watched.delete(id);
        this.o.prober.removeContainer(st.uid, name);
        this.o.requeue(st.uid, 0);
      },
      () => st.watched.delete(id),
    );
  }

  // ---- sandbox ---------------------------------------------------------------------------------------------------------

  private sandboxConfig(pod: Pod, attempt: number, onEvent?: (e: DnsEvent) => void): PodSandboxConfig {
    const spec = pod.spec ?? {};
    const ns = pod.metadata.namespace ?? 'default';
    const hostNetwork = spec.hostNetwork === true;
    const dns = podDNSConfig(pod, { clusterDNS: this.o.clusterDNS, clusterDomain: this.o.clusterDomain, host: hostResolvConf() });
    for (const e of dns.events) onEvent?.(e);
    const names = podHostnameAndDomain(pod, this.o.clusterDomain);
    const ports: PodSandboxConfig['portMappings'] = [];
    for (const c of (spec.containers ?? []) as Container[]) {
      for (const p of (c.ports ?? []) as Array<Record<string, any>>) {
        if (p.hostPort) ports.push({ protocol: p.protocol ?? 'TCP', containerPort: p.containerPort, hostPort: p.hostPort, ...(p.hostIP ? { hostIp: p.hostIP } : {}) });
      }
    }
    const sysctls: Record<string, string> = {};
    for (const s of (spec.securityContext?.sysctls ?? []) as Array<{ name: string; value: string }>) sysctls[s.name] = s.value;
    return {
      metadata: { name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '', namespace: ns, attempt },
      hostname: hostNetwork ? '' : names.hostname,
      ...(!hostNetwork && names.domain ? { hostDomain: names.domain } : {}),
      logDirectory: `${this.o.podLogsDir}/${ns}_${pod.metadata.name}_${pod.metadata.uid}`,
      dnsConfig: dns.config,
      hostAliases: ((spec.hostAliases ?? []) as Array<{ ip: string; hostnames?: string[] }>).map((a) => ({ ip: a.ip, hostnames: a.hostnames ?? [] })),
      portMappings: ports,
      labels: { ...(pod.metadata.labels ?? {}), [LABEL_POD_NAME]: pod.metadata.name ?? '', [LABEL_POD_NAMESPACE]: ns, [LABEL_POD_UID]: pod.metadata.uid ?? '' },
      annotations: { ...(pod.metadata.annotations ?? {}) },
      cgroupParent: podCgroupParent(pod, this.o.cgroupRoot),
      hostNetwork,
      hostPID: spec.hostPID === true,
      hostIPC: spec.hostIPC === true,
      ...(Object.keys(sysctls).length > 0 ? { sysctls } : {}),
    };
  }

  /** Finds or makes the pod's ready sandbox; false when it could not (event recorded, sync requeued). */
  private async ensureSandbox(st: PodState): Promise<boolean> {
    const rt = this.o.runtime.runtime;
    const mine = await rt.listPodSandboxes({ labelSelector: { [LABEL_POD_UID]: st.uid } });
    const ready = mine.filter((s) => s.state === 'SANDBOX_READY').sort((a, b) => b.metadata.attempt - a.metadata.attempt)[0];
    if (ready) {
      if (st.sandboxId !== ready.id || st.podIPs.length === 0) {
        st.sandboxId = ready.id;
        const status = await rt.podSandboxStatus(ready.id);
        st.podIPs = st.pod.spec?.hostNetwork ? [this.o.nodeIP] : [status.network.ip, ...status.network.additionalIps].filter(Boolean);
      }
      // Stale sandboxes (an older attempt) go.
      for (const s of mine) if (s.id !== ready.id) await this.removeSandbox(s.id);
      return true;
    }
    const attempt = mine.reduce((m, s) => Math.max(m, s.metadata.attempt + 1), 0);
    if (mine.length > 0) {
      this.o.event(st.pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      for (const s of mine) await this.removeSandbox(s.id);
    }
    try {
      const id = await rt.runPodSandbox(this.sandboxConfig(st.pod, attempt, (e) => this.o.event(st.pod, e.type, e.reason, e.message)));
      st.sandboxId = id;
      const status = await rt.podSandboxStatus(id);
      st.podIPs = st.pod.spec?.hostNetwork ? [this.o.nodeIP] : [status.network.ip, ...status.network.additionalIps].filter(Boolean);
      return true;
    } catch (e) {
      this.o.event(st.pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
      await this.report(st, await this.views(st));
      this.o.requeue(st.uid, 5000);
      return false;
    }
  }

  private async removeSandbox(id: string): Promise<void> {
    const rt = this.o.runtime.runtime;
    await rt.stopPodSandbox(id);
    await rt.removePodSandbox(id);
  }

  // ---- containers ------------------------------------------------------------------------------------------------------

  /** The runtime instances of each spec container: newest and the one before; older ones are removed. */
  private async views(st: PodState): Promise<{ init: ContainerView[]; main: ContainerView[] }> {
    const rt = this.o.runtime.runtime;
    const list = st.sandboxId ? await rt.listContainers({ labelSelector: { [LABEL_POD_UID]: st.uid } }) : [];
    const byName = new Map<string, typeof list>();
    for (const c of list) {
      const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
      const arr = byName.get(name) ?? [];
      arr.push(c);
      byName.set(name, arr);
    }
    const view = async (c: Container): Promise<ContainerView> => {
      const arr = (byName.get(c.name) ?? []).sort((a, b) => b.metadata.attempt - a.metadata.attempt || b.createdAt - a.createdAt);
      for (const old of arr.slice(2)) await rt.removeContainer(old.id).catch(() => undefined);
      const [cur, prev] = await Promise.all(arr.slice(0, 2).map((x) => rt.containerStatus(x.id).catch(() => undefined)));
      const running = cur?.state === 'CONTAINER_RUNNING';
      const waiting = running ? undefined : st.waiting.get(c.name);
      if (running) st.waiting.delete(c.name);
      const started = running && this.o.prober.isStarted(st.uid, c.name);
      const imageID = cur ? await this.imageIdOf(cur.image) : undefined;
      return {
        name: c.name,
        ...(cur ? { current: cur } : {}),
        ...(prev ? { previous: prev } : {}),
        ...(waiting ? { waiting } : {}),
        ready: running && started && this.o.prober.isReady(st.uid, c.name),
        started,
        ...(imageID ? { imageID } : {}),
      };
    };
    const init: ContainerView[] = [];
    for (const c of (st.pod.spec?.initContainers ?? []) as Container[]) init.push(await view(c));
    const main: ContainerView[] = [];
    for (const c of (st.pod.spec?.containers ?? []) as Container[]) main.push(await view(c));
    return { init, main };
  }

  private readonly imageIds = new Map<string, string>();

  private async imageIdOf(imageId: string): Promise<string | undefined> {
    const hit = this.imageIds.get(imageId);
    if (hit) return hit;
    const img = await this.o.runtime.images.imageStatus(imageId).catch(() => undefined);
    const out = img ? (img.repoDigests[0] ?? img.id) : imageId;
    this.imageIds.set(imageId, out);
    return out;
  }

  /** Creates and starts one container; false when it could not (the reason is in st.waiting, a retry queued). */
  private async startContainer(st: PodState, c: Container, attempt: number): Promise<boolean> {
    const pod = st.pod;
    const ev = this.eventFor(st, c.name);
    const rt = this.o.runtime.runtime;
    let image;
    try {
      image = await this.images.ensure(pod, c, ev);
      mark(st, `image:${c.name}`);
    } catch (e) {
      if (!(e instanceof ImageUnavailable)) throw e;
      st.waiting.set(c.name, { reason: e.reason, message: e.message });
      const at = this.images.retryAt(pod, c);
      this.o.requeue(st.uid, Math.max(1000, at - this.now() + 10));
      return false;
    }
    let config: ContainerConfig;
    try {
      const podForEnv = { ...pod, status: { ...(pod.status ?? {}), hostIP: this.o.nodeIP, hostIPs: [{ ip: this.o.nodeIP }], podIP: st.podIPs[0] ?? '', podIPs: st.podIPs.map((ip) => ({ ip })) } };
      const envs = await containerEnv(podForEnv, c, this.o.envLookups);
      const { command, args } = commandLine(c, image.config, envs);
      const mounts = await this.o.volumes.containerMounts(pod, c);
      config = {
        metadata: { name: c.name, attempt },
        image: image.id,
        command,
        args,
        ...(c.workingDir ? { workingDir: c.workingDir } : {}),
        envs,
        mounts,
        logPath: `${c.name}/${attempt}.log`,
        stdin: c.stdin === true,
        stdinOnce: c.stdinOnce === true,
        tty: c.tty === true,
        labels: { [LABEL_POD_NAME]: pod.metadata.name ?? '', [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? '', [LABEL_POD_UID]: st.uid, [LABEL_CONTAINER_NAME]: c.name },
        annotations: {
          [ANNOTATION_CONTAINER_HASH]: containerHash(c),
          [ANNOTATION_RESTART_COUNT]: String(attempt),
          [ANNOTATION_TERMINATION_GRACE]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
        },
        linux: { resources: containerResources(c), securityContext: securityContext(pod, c) },
        ...(image.config.stopSignal ? { stopSignal: image.config.stopSignal } : {}),
      };
    } catch (e) {
      if (!(e instanceof ContainerConfigError)) throw e;
      if (st.waiting.get(c.name)?.message !== e.message) ev('Warning', 'Failed', `Error: ${e.message}`);
      st.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: e.message });
      this.o.requeue(st.uid, 5000);
      return false;
    }
    const sandboxConfig = this.sandboxConfig(pod, 0);
    let id: string;
    try {
      mark(st, `config:${c.name}`);
      id = await rt.createContainer(st.sandboxId!, config, sandboxConfig);
      mark(st, `created:${c.name}`);
    } catch (e) {
      const msg = (e as Error).message;
      // runAsNonRoot and similar checks surface as config errors, as upstream's kubelet reports them.
      const reason = /runAsNonRoot|non-numeric user|unable to find user/.test(msg) ? 'CreateContainerConfigError' : 'CreateContainerError';
      if (st.waiting.get(c.name)?.message !== msg) ev('Warning', 'Failed', `Error: ${msg}`);
      st.waiting.set(c.name, { reason, message: msg });
      this.o.requeue(st.uid, 5000);
      return false;
    }
    ev('Normal', 'Created', `Created container: ${c.name}`);
    try {
      await rt.startContainer(id);
    } catch (e) {
      ev('Warning', 'Failed', `Error: failed to start container "${c.name}": ${(e as Error).message}`);
      this.watch(st, id, c.name);
      this.o.requeue(st.uid, 0);
      return false;
    }
    mark(st, `started:${c.name}`);
    st.waiting.delete(c.name);
    ev('Normal', 'Started', `Started container ${c.name}`);
    this.watch(st, id, c.name);
    const podIP = st.podIPs[0] ?? this.o.nodeIP;
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      try {
        await this.o.hooks.run(pod, c, id, postStart, podIP, (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
      } catch (e) {
        ev('Warning', 'FailedPostStartHook', (e as Error).message);
        await this.killContainer(st, c, id, pod.spec?.terminationGracePeriodSeconds ?? 30, true);
        return false;
      }
    }
    this.o.prober.addContainer(pod, c, id, podIP);
    return true;
  }

  /** preStop (unless skipped), then the stop signal with the grace period, then SIGKILL. */
  private async killContainer(st: PodState, c: Container | undefined, id: string, graceSeconds: number, skipPreStop = false): Promise<void> {
    const began = this.now();
    const preStop = c?.lifecycle?.preStop;
    if (preStop && !skipPreStop && graceSeconds > 0) {
      try {
        await this.o.hooks.run(st.pod, c!, id, preStop, st.podIPs[0] ?? this.o.nodeIP, graceSeconds * 1000);
      } catch (e) {
        // Upstream's event says only this (the hook's output may hold secrets); the detail goes to the log.
        this.o.log(`preStop hook of ${c!.name} in ${podDesc(st.pod)}: ${(e as Error).message}`);
        this.eventFor(st, c!.name)('Warning', 'FailedPreStopHook', PRESTOP_FAILED_MESSAGE);
      }
    }
    const left = Math.max(0, graceSeconds - Math.floor((this.now() - began) / 1000));
    // Upstream gives the container at least 2 s after preStop.
    await this.o.runtime.runtime.stopContainer(id, preStop && graceSeconds > 0 ? Math.max(2, left) : left);
    if (c) this.o.prober.removeContainer(st.uid, c.name);
  }

  // ---- termination -----------------------------------------------------------------------------------------------------

  /**
   * Stops every container and the sandbox, once: the regular containers in parallel (each with preStop and the grace
   * period), then the sidecars one by one in reverse order with what is left of it (upstream 1.32).
   */
  private startTermination(st: PodState, graceSeconds: number, events = true): Promise<void> {
    if (st.terminating) return st.terminating;
    st.terminating = (async () => {
      const rt = this.o.runtime.runtime;
      const began = this.now();
      const list = (await rt.listContainers({ labelSelector: { [LABEL_POD_UID]: st.uid } })).filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED');
      const inits = (st.pod.spec?.initContainers ?? []) as Container[];
      const specs = [...inits, ...((st.pod.spec?.containers ?? []) as Container[])];
      const nameOf = (c: (typeof list)[number]) => c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
      const sidecars = inits.filter(isSidecar).map((s) => s.name);
      const stop = async (c: (typeof list)[number], grace: number) => {
        const name = nameOf(c);
        if (events) this.eventFor(st, name)('Normal', 'Killing', `Stopping container ${name}`);
        await this.killContainer(st, specs.find((s) => s.name === name), c.id, grace).catch((e: unknown) => this.o.log(`stop ${name} of ${podDesc(st.pod)}: ${(e as Error).message}`));
      };
      await Promise.all(list.filter((c) => !sidecars.includes(nameOf(c))).map((c) => stop(c, graceSeconds)));
      await this.stopSidecars(st, list, sidecars, graceSeconds, began, stop);
      this.o.prober.removePod(st.uid);
      for (const s of await rt.listPodSandboxes({ labelSelector: { [LABEL_POD_UID]: st.uid } })) await rt.stopPodSandbox(s.id);
      st.terminated = true;
    })();
    return st.terminating;
  }

  /** Sidecars in reverse spec order, each with the grace period left since `began` (at least 2 s if there was one). */
  private async stopSidecars<T extends { labels: Record<string, string>; metadata: { name: string } }>(st: PodState, running: T[], sidecars: string[], graceSeconds: number, began: number, stop: (c: T, grace: number) => Promise<void>): Promise<void> {
    for (const name of [...sidecars].reverse()) {
      const c = running.find((x) => (x.labels[LABEL_CONTAINER_NAME] ?? x.metadata.name) === name);
      if (!c) continue;
      const left = Math.max(0, graceSeconds - Math.floor((this.now() - began) / 1000));
      await stop(c, graceSeconds > 0 ? Math.max(2, left) : 0);
    }
  }

  private async syncTerminating(st: PodState): Promise<void> {
    const pod = st.pod;
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const t = this.startTermination(st, st.gone ? Math.min(grace, 2) : grace);
    // Termination runs apart from the sync loop; it requeues when done.
    if (!st.terminated) {
      void t.then(
        () => this.o.requeue(st.uid, 0),
        (e: unknown) => {
          this.o.log(`terminating ${podDesc(pod)}: ${(e as Error).message}`);
          st.terminating = undefined;
          this.o.requeue(st.uid, 1000);
        },
      );
      return;
    }
    if (!st.gone) {
      // Final status (terminal phase, as upstream since 1.27), then the kubelet's own delete with grace 0.
      const views = await this.views(st);
      const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
      const allOk = views.main.every((v) => v.current?.state === 'CONTAINER_EXITED' && (v.current.exitCode ?? 0) === 0);
      await this.report(st, views, restartPolicy !== 'Always' && allOk ? 'Succeeded' : 'Failed').catch(() => undefined);
      try {
        await this.o.client.delete(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: st.uid } } as any);
      } catch (e) {
        if (!isNotFound(e) && !/Precondition failed|uid/.test((e as Error).message)) throw e;
      }
    }
    await this.cleanup(st);
  }

  /** Removes the pod's containers, sandboxes and volumes and forgets it. */
  private async cleanup(st: PodState): Promise<void> {
    const rt = this.o.runtime.runtime;
    for (const c of await rt.listContainers({ labelSelector: { [LABEL_POD_UID]: st.uid } })) await rt.removeContainer(c.id);
    for (const s of await rt.listPodSandboxes({ labelSelector: { [LABEL_POD_UID]: st.uid } })) {
      await rt.stopPodSandbox(s.id);
      await rt.removePodSandbox(s.id);
    }
    await this.o.volumes.tearDownPod(st.uid);
    this.images.forgetPod(st.uid);
    this.crash.forgetPrefix(`${st.uid}/`);
    this.o.prober.removePod(st.uid);
    if (st.gone) this.states.delete(st.uid);
    else {
      // Deleted by us with grace 0: the DELETED event will follow; nothing more to do until then.
      st.gone = true;
    }
  }

  // ---- status ----------------------------------------------------------------------------------------------------------

  private async report(st: PodState, views: { init: ContainerView[]; main: ContainerView[] }, terminal?: 'Succeeded' | 'Failed'): Promise<void> {
    if (st.gone) return;
    const init = views.init.map((v) => (st.volumeError && !v.current ? { ...v, waiting: { reason: 'PodInitializing' } } : v));
    const main = views.main.map((v) => (!v.current && !v.waiting ? { ...v, waiting: { reason: 'ContainerCreating' } } : v));
    const status = computePodStatus({
      pod: st.pod,
      hostIP: this.o.nodeIP,
      podIPs: st.volumeError ? [] : st.podIPs,
      sandboxReady: st.sandboxId !== undefined && !st.terminated && !st.volumeError,
      initContainers: init,
      containers: main,
      ...(terminal ? { terminal } : {}),
      ...(st.failure ? { failure: st.failure } : {}),
      nowMs: this.now(),
    });
    const text = JSON.stringify(status);
    if (text === st.lastStatus) return;
    const oldConds = JSON.stringify(st.pod.status ?? {});
    if (oldConds === text) {
      st.lastStatus = text;
      return;
    }
    try {
      mark(st, `patch:${status.phase}`);
      const out = await this.o.client.patch(PODS, st.pod.metadata.namespace, st.pod.metadata.name ?? '', 'application/merge-patch+json', { status }, 'status');
      st.lastStatus = text;
      if ((out.metadata.uid ?? '') === st.uid) st.pod = out as Pod;
      if (st.trace && status.phase === 'Running') {
        mark(st, 'patched');
        process.stderr.write(`pod-trace ${st.pod.metadata.namespace}/${st.pod.metadata.name} ${st.trace.marks.join(' ')}\n`);
        delete st.trace;
      }
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}
