// The kubelet: registers its Node, renews its Lease, watches the pods bound to it and hands each to the pod
// workers (podworker.ts) through a work queue keyed by pod uid, so that one pod is never synced twice at once.
// On start it adopts what the runtime already runs (containers survive a kubelet restart) and removes sandboxes
// and volume directories of pods that no longer exist. It reaches the cluster only through the API client.

import type { KubeObject } from '../api/types.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import { isNotFound, type Client, type Resource } from '../client/interface.js';
import { CONFIGMAPS, LEASES, NODES, PODS, SECRETS, SERVICES } from '../client/resources.js';
import { WorkQueue, runWorkers } from '../client/workqueue.js';
import type { Runtime } from '../runtime/interface.js';
import { NODE_LEASE_NAMESPACE, leaseObject, nodeConditions } from '../api/corev1/node.js';
import { hostFacts, nodeObject, nodeResources, nodeStatus, type HostFacts, type NodeIdentity } from './node.js';
import { PodWorkers } from './podworker.js';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, type HookRunner, type KubeletBackend, type Pod, type ProbeManager, type VolumeManager } from './types.js';


export interface KubeletOptions {
  client: Client;
  nodeName: string;
  nodeIP: string;
  runtime: Runtime;
  volumes: VolumeManager;
  prober: ProbeManager;
  hooks: HookRunner;
  /** `<data-dir>/kubelet`: pods' volume dirs live under it; its filesystem is the node's ephemeral storage. */
  rootDir: string;
  /** Where container logs go (`<podLogsDir>/<ns>_<name>_<uid>/<container>/<n>.log`). */
  podLogsDir: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** The kubelet server's port, reported in status.daemonEndpoints. */
  kubeletPort: number;
  kubeletVersion: string;
  maxPods?: number;
  /** A fixed pod CIDR (--pod-cidr); otherwise the one the node IPAM controller puts into the Node's spec. */
  podCIDR?: string;
  cgroupRoot?: string;
  /** Lease renewal (upstream: 10 s). */
  leaseRenewMs?: number;
  /** Node status re-post with fresh heartbeats (upstream nodeStatusReportFrequency: 5 min; 1 min here). */
  statusReportMs?: number;
  /** Every known pod is synced again this often (volume contents follow their sources). */
  resyncMs?: number;
  crashBackoffMs?: { initial: number; max: number };
  workers?: number;
  log?: (m: string) => void;
}

export class Kubelet implements KubeletBackend {
  readonly nodeName: string;
  readonly workers: PodWorkers;
  private readonly queue = new WorkQueue<string>();
  private readonly podInformer: Informer;
  private readonly services: Informer;
  private readonly events: EventRecorder;
  private readonly log: (m: string) => void;
  private facts!: HostFacts;
  private identity!: NodeIdentity;
  private nodeUID = '';
  private leaseRV: string | undefined;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readyTransition = Date.now();

  constructor(private readonly o: KubeletOptions) {
    this.nodeName = o.nodeName;
    this.log = o.log ?? ((m) => console.error(`${new Date().toISOString()} kubelet: ${m}`));
    this.events = new EventRecorder(o.client, 'kubelet', o.nodeName);
    const onError = (e: unknown) => this.log(`watch: ${(e as Error).message}`);
    this.podInformer = new Informer(o.client, PODS, { fieldSelector: `spec.nodeName=${o.nodeName}`, onError });
    this.services = new Informer(o.client, SERVICES, { onError });
    const get = async (r: Resource, ns: string, name: string): Promise<KubeObject | undefined> => {
      try {
        return await o.client.get(r, ns, name);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    };
    this.workers = new PodWorkers({
      client: o.client,
      runtime: o.runtime,
      volumes: o.volumes,
      prober: o.prober,
      hooks: o.hooks,
      nodeName: o.nodeName,
      nodeIP: o.nodeIP,
      podLogsDir: o.podLogsDir,
      clusterDNS: o.clusterDNS,
      clusterDomain: o.clusterDomain,
      cgroupRoot: o.cgroupRoot ?? 'k8ts',
      envLookups: {
        configMap: (ns, name) => get(CONFIGMAPS, ns, name),
        secret: (ns, name) => get(SECRETS, ns, name),
        services: (ns) => this.services.list().filter((s) => s.metadata.namespace === ns),
        get nodeAllocatable() {
          return allocatable();
        },
      },
      pullSecrets: async (pod) => {
        const out: KubeObject[] = [];
        for (const ref of (pod.spec?.imagePullSecrets ?? []) as Array<{ name: string }>) {
          const s = await get(SECRETS, pod.metadata.namespace ?? 'default', ref.name);
          if (s) out.push(s);
        }
        return out;
      },
      node: () => o.client.get(NODES, undefined, o.nodeName).catch(() => undefined),
      event: (pod, type, reason, message, fieldPath) => this.events.event(pod, type, reason, message, fieldPath),
      requeue: (uid, ms) => (ms > 0 ? this.queue.addAfter(uid, ms) : this.queue.add(uid)),
      log: this.log,
      ...(o.crashBackoffMs ? { crashBackoffMs: o.crashBackoffMs } : {}),
    });
    const allocatable = (): Record<string, string> => nodeResources(this.facts, this.o.maxPods ?? 110);
  }

  get runtime() {
    return this.o.runtime.runtime;
  }

  pods(): Pod[] {
    return this.workers.pods();
  }

  /** Records an event about a pod as this node's kubelet (the prober's Unhealthy events come through here). */
  recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    this.events.event(pod, type, reason, message, fieldPath);
  }

  async start(): Promise<void> {
    this.facts = hostFacts(this.o.rootDir);
    const v = await this.o.runtime.runtime.version();
    this.identity = {
      name: this.o.nodeName,
      internalIP: this.o.nodeIP,
      kubeletPort: this.o.kubeletPort,
      kubeletVersion: this.o.kubeletVersion,
      containerRuntimeVersion: `${v.runtimeName}://${v.runtimeVersion}`,
      maxPods: this.o.maxPods ?? 110,
    };
    await this.register();
    await this.renewLease();
    const podCIDR = await this.waitForPodCIDR();
    if (podCIDR && this.o.runtime.runtime.updateRuntimeConfig) await this.o.runtime.runtime.updateRuntimeConfig({ podCidr: podCIDR });

    this.podInformer.addEventHandler({
      add: (p) => this.workers.upsert(p as Pod),
      update: (_o, p) => this.workers.upsert(p as Pod),
      delete: (p) => this.workers.remove(p.metadata.uid ?? ''),
    });
    this.services.start();
    this.podInformer.start();
    await Promise.all([this.podInformer.hasSynced, this.services.hasSynced]);
    await this.adopt();
    this.running = runWorkers(this.queue, this.o.workers ?? 16, (uid) => this.workers.sync(uid), (uid, e) => this.log(`sync pod ${uid}: ${(e as Error).message}`));
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(() => {
        if (this.stopped) return;
        Promise.resolve(fn()).catch((e: unknown) => this.log((e as Error).message));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.leaseRenewMs ?? 10_000, () => this.renewLease());
    every(this.o.statusReportMs ?? 60_000, () => this.reportNodeStatus());
    every(this.o.resyncMs ?? 10_000, () => {
      for (const p of this.workers.pods()) this.queue.add(p.metadata.uid ?? '');
    });
    this.log(`node ${this.o.nodeName} registered; syncing pods`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.podInformer.stop();
    this.services.stop();
    this.queue.shutDown();
    await this.running;
    await this.o.prober.stop();
    await this.events.flush();
  }

  /** Creates the Node, or refreshes its status when it exists (a restarted kubelet keeps its Node). */
  private async register(): Promise<void> {
    const now = Date.now();
    for (;;) {
      try {
        const node = await this.o.client.create(NODES, undefined, nodeObject(this.identity, this.facts, now));
        this.nodeUID = node.metadata.uid ?? '';
        this.events.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.o.nodeName, uid: this.nodeUID } }, 'Normal', 'Starting', 'Starting kubelet.');
        this.events.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.o.nodeName, uid: this.nodeUID } }, 'Normal', 'RegisteredNode', `Node ${this.o.nodeName} event: Registered Node ${this.o.nodeName} in Controller`);
        return;
      } catch (e) {
        if ((e as { code?: number }).code !== 409) {
          this.log(`unable to register node: ${(e as Error).message}; retrying`);
          await new Promise((r) => setTimeout(r, 1000));
          if (this.stopped) return;
          continue;
        }
      }
      const existing = await this.o.client.get(NODES, undefined, this.o.nodeName);
      this.nodeUID = existing.metadata.uid ?? '';
      this.events.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.o.nodeName, uid: this.nodeUID } }, 'Normal', 'Starting', 'Starting kubelet.');
      await this.reportNodeStatus();
      return;
    }
  }

  private async reportNodeStatus(): Promise<void> {
    const images = (await this.o.runtime.images.listImages().catch(() => [])).map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: i.size }));
    const now = Date.now();
    const status = nodeStatus(this.identity, this.facts, now, this.readyTransition, images);
    status.conditions = nodeConditions(now, this.readyTransition);
    await this.o.client.patch(NODES, undefined, this.o.nodeName, 'application/merge-patch+json', { status }, 'status');
  }

  private async renewLease(): Promise<void> {
    const now = Date.now();
    try {
      const out = this.leaseRV
        ? await this.o.client.update(LEASES, NODE_LEASE_NAMESPACE, leaseObject(this.o.nodeName, this.nodeUID, now, this.leaseRV))
        : await this.o.client.create(LEASES, NODE_LEASE_NAMESPACE, leaseObject(this.o.nodeName, this.nodeUID, now));
      this.leaseRV = out.metadata.resourceVersion;
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code === 409 || code === 404) {
        // Someone else's write (or a restart): read it and renew on the next tick.
        try {
          this.leaseRV = (await this.o.client.get(LEASES, NODE_LEASE_NAMESPACE, this.o.nodeName)).metadata.resourceVersion;
        } catch (e2) {
          if (isNotFound(e2)) this.leaseRV = undefined;
        }
        return;
      }
      throw e;
    }
  }

  /** The node's pod CIDR: the flag, or the Node's spec once the node IPAM controller has set it (bounded wait). */
  private async waitForPodCIDR(): Promise<string | undefined> {
    if (this.o.podCIDR) {
      await this.o.client.patch(NODES, undefined, this.o.nodeName, 'application/merge-patch+json', { spec: { podCIDR: this.o.podCIDR, podCIDRs: [this.o.podCIDR] } }).catch(() => undefined);
      return this.o.podCIDR;
    }
    const until = Date.now() + 60_000;
    while (!this.stopped && Date.now() < until) {
      const node = await this.o.client.get(NODES, undefined, this.o.nodeName).catch(() => undefined);
      const cidr = (node as any)?.spec?.podCIDR as string | undefined;
      if (cidr) return cidr;
      await new Promise((r) => setTimeout(r, 250));
    }
    this.log('no pod CIDR assigned to the node (is the node IPAM controller running?); pods get no network until it is');
    return undefined;
  }

  /** After a restart: keep what belongs to known pods, stop and remove the rest (sandboxes and volume dirs). */
  private async adopt(): Promise<void> {
    const known = new Set(this.podInformer.list().map((p) => p.metadata.uid ?? ''));
    for (const s of await this.o.runtime.runtime.listPodSandboxes()) {
      const uid = s.labels[LABEL_POD_UID] ?? s.metadata.uid;
      if (known.has(uid) || this.workers.known(uid)) continue;
      this.log(`removing orphaned pod sandbox ${s.id} of ${s.labels[LABEL_POD_NAMESPACE]}/${s.labels[LABEL_POD_NAME]}`);
      this.workers.remove(uid, { apiVersion: 'v1', kind: 'Pod', metadata: { name: s.metadata.name, namespace: s.metadata.namespace, uid }, spec: { containers: [] } });
    }
    for (const uid of await this.o.volumes.podsOnDisk()) {
      if (!known.has(uid) && !this.workers.known(uid)) await this.o.volumes.tearDownPod(uid).catch((e: unknown) => this.log(`tear down volumes of ${uid}: ${(e as Error).message}`));
    }
  }
}

