// Taint eviction controller (upstream pkg/controller/tainteviction, the NoExecuteTaintManager): deletes pods bound
// to nodes with NoExecute taints they do not tolerate — at once, or after the smallest tolerationSeconds of the
// tolerations they use — marking them DisruptionTarget=True (DeletionByTaintManager) first, with the
// TaintManagerEviction events upstream records. Evictions are cancelled when the taints go or the pod does.

import type { KubeObject } from '../../api/types.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { isNotFound, objectKey, splitKey, type Client, type Resource } from '../../client/interface.js';
import { realScheduler, runWorkers, WorkQueue, type Scheduler } from '../../client/workqueue.js';
import { toleratesTaint } from '../../api/corev1/tolerations.js';
import type { Taint, Toleration } from '../../api/corev1/types.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { NODES, PODS } from '../../client/resources.js';
import { rfc3339 } from '../../api/time.js';
export { NODES, PODS };

/** Upstream retries the condition-and-delete this many times, 10 ms apart. */
const RETRIES = 5;

export interface TaintEvictionOptions {
  log?: Logger;
  now?: () => number;
  /** Timer seam for the delayed evictions (tests run time by hand). */
  schedule?: Scheduler;
  workers?: number;
}

const noExecuteTaints = (node: KubeObject | undefined): Taint[] => (((node?.spec ?? {}) as { taints?: Taint[] }).taints ?? []).filter((t) => t.effect === 'NoExecute');
const tolerationsOf = (pod: KubeObject): Toleration[] => ((pod.spec ?? {}) as { tolerations?: Toleration[] }).tolerations ?? [];
const nodeNameOf = (pod: KubeObject): string => ((pod.spec ?? {}) as { nodeName?: string }).nodeName ?? '';
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/**
 * v1helper.GetMatchingTolerations: whether every taint is tolerated, and the tolerations that did it (the first
 * matching one per taint).
 */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): { all: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((x) => toleratesTaint(x, taint));
    if (!t) return { all: false, used: [] };
    used.push(t);
  }
  return { all: true, used };
}

/** getMinTolerationTime: the smallest tolerationSeconds in ms (≤ 0 counts as 0), -1 when all are unbounded. */
export function minTolerationMs(used: readonly Toleration[]): number {
  if (used.length === 0) return 0;
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? -1 : min * 1000;
}

/** A scheduled eviction (TimedWorker); `cancel` undefined once it has fired, which keeps the pod from re-queuing. */
interface Work {
  createdAt: number;
  fireAt: number;
  cancel: (() => void) | undefined;
}

export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  /** Keys "node/<name>" and "pod/<namespace>/<name>@<nodeName>". */
  readonly queue = new WorkQueue<string>();
  readonly nodes: Informer;
  readonly pods: Informer;
  readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly schedule: Scheduler;
  /** Node name → its NoExecute taints, for nodes that have some. */
  private readonly tainted = new Map<string, Taint[]>();
  private readonly podsByNode = new Map<string, Map<string, KubeObject>>();
  /** Pod key → scheduled or fired eviction (the TimedWorkerQueue). */
  private readonly work = new Map<string, Work>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly client: Client,
    private readonly opts: TaintEvictionOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.schedule = opts.schedule ?? realScheduler;
    this.recorder = new EventRecorder(client, 'taint-eviction-controller', undefined, this.now);
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.nodes = new Informer(client, NODES, { onError: onError('nodes') });
    this.pods = new Informer(client, PODS, { fieldSelector: 'spec.nodeName!=', onError: onError('pods') });
    this.nodes.addEventHandler({
      add: (n) => this.queue.add(`node/${n.metadata.name}`),
      update: (o, n) => {
        if (!same(noExecuteTaints(o), noExecuteTaints(n))) this.queue.add(`node/${n.metadata.name}`);
      },
      delete: (n) => this.queue.add(`node/${n.metadata.name}`),
    });
    this.pods.addEventHandler({
      add: (p) => {
        this.index(p);
        this.queue.add(`pod/${objectKey(p)}@${nodeNameOf(p)}`);
      },
      update: (o, p) => {
        this.index(p);
        if (same(tolerationsOf(o), tolerationsOf(p)) && nodeNameOf(o) === nodeNameOf(p)) return;
        this.queue.add(`pod/${objectKey(p)}@${nodeNameOf(p)}`);
      },
      delete: (p) => {
        this.podsByNode.get(nodeNameOf(p))?.delete(objectKey(p));
        this.queue.add(`pod/${objectKey(p)}@${nodeNameOf(p)}`);
      },
    });
  }

  async run(): Promise<void> {
    this.nodes.start();
    this.pods.start();
    await Promise.all([this.nodes.hasSynced, this.pods.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 1, async (k) => this.sync(k), (k, e) => this.log(`sync ${k}: ${errorMessage(e)}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    for (const w of this.work.values()) w.cancel?.();
    this.work.clear();
    await Promise.all([this.nodes.stop(), this.pods.stop(), ...this.inFlight]);
    await this.recorder.flush();
  }

  private index(p: KubeObject): void {
    const node = nodeNameOf(p);
    let m = this.podsByNode.get(node);
    if (!m) this.podsByNode.set(node, (m = new Map()));
    m.set(objectKey(p), p);
  }

  /** Scheduled (not yet fired) evictions: pod key → when. */
  scheduled(): Map<string, number> {
    return new Map([...this.work].filter(([, w]) => w.cancel).map(([k, w]) => [k, w.fireAt]));
  }

  sync(key: string): void {
    if (key.startsWith('node/')) return this.handleNodeUpdate(key.slice(5));
    const at = key.lastIndexOf('@');
    this.handlePodUpdate(key.slice(4, at), key.slice(at + 1));
  }

  private handlePodUpdate(podKey: string, nodeName: string): void {
    const pod = this.pods.get(podKey);
    if (!pod) return this.cancelWithEvent(podKey);
    if (nodeNameOf(pod) !== nodeName || !nodeName) return;
    const taints = this.tainted.get(nodeName);
    if (!taints) return;
    this.processPodOnNode(podKey, tolerationsOf(pod), taints, this.now());
  }

  private handleNodeUpdate(name: string): void {
    const node = this.nodes.get(name);
    if (!node) {
      this.tainted.delete(name);
      return;
    }
    const taints = noExecuteTaints(node);
    if (taints.length) this.tainted.set(name, taints);
    else this.tainted.delete(name);
    const pods = [...(this.podsByNode.get(name)?.values() ?? [])];
    if (!taints.length) {
      for (const p of pods) this.cancelWithEvent(objectKey(p));
      return;
    }
    const now = this.now();
    for (const p of pods) this.processPodOnNode(objectKey(p), tolerationsOf(p), taints, now);
  }

  /** Upstream processPodOnNode. */
  private processPodOnNode(podKey: string, tolerations: Toleration[], taints: Taint[], now: number): void {
    if (!taints.length) return this.cancelWithEvent(podKey);
    const { all, used } = matchingTolerations(taints, tolerations);
    if (!all) {
      this.cancelWithEvent(podKey);
      this.addWork(podKey, now, now);
      return;
    }
    const min = minTolerationMs(used);
    if (min < 0) {
      this.cancelWithEvent(podKey);
      return;
    }
    let start = now;
    const trigger = start + min;
    const w = this.work.get(podKey);
    if (w?.cancel) {
      start = w.createdAt;
      // The eviction already scheduled is due no later than this one would be: keep it.
      if (start + min < trigger) return;
      this.cancelWithEvent(podKey);
    }
    this.addWork(podKey, start, trigger);
  }

  private addWork(podKey: string, createdAt: number, fireAt: number): void {
    if (this.work.has(podKey)) return;
    const w: Work = { createdAt, fireAt, cancel: undefined };
    w.cancel = this.schedule(() => {
      w.cancel = undefined;
      const p = this.evict(podKey).then(
        (ok) => {
          // A failed eviction is forgotten so the next update can schedule it again (as upstream).
          if (!ok && this.work.get(podKey) === w) this.work.delete(podKey);
        },
        () => undefined,
      );
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }, Math.max(0, fireAt - this.now()));
    this.work.set(podKey, w);
  }

  private cancelWithEvent(podKey: string): void {
    const w = this.work.get(podKey);
    if (!w) return;
    w.cancel?.();
    this.work.delete(podKey);
    const { namespace, name } = splitKey(podKey);
    this.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } }, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${podKey}`);
  }

  /** deletePodHandler: the event, then DisruptionTarget and delete, retried. Resolves whether it succeeded. */
  private async evict(podKey: string): Promise<boolean> {
    const { namespace, name } = splitKey(podKey);
    this.log(`deleting pod ${podKey}`);
    this.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${podKey}`);
    for (let i = 1; ; i++) {
      try {
        await this.addConditionAndDelete(namespace, name);
        return true;
      } catch (e) {
        if (i >= RETRIES) {
          this.log(`evicting pod ${podKey}: ${errorMessage(e)}`);
          return false;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  private async addConditionAndDelete(namespace: string | undefined, name: string): Promise<void> {
    const pod = await this.client.get(PODS, namespace, name);
    const status = (pod.status ??= {}) as { conditions?: Array<Record<string, unknown>> };
    const conds = (status.conditions ??= []);
    const want = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' };
    const old = conds.find((c) => c.type === 'DisruptionTarget');
    if (!old || old.status !== want.status || old.reason !== want.reason || old.message !== want.message) {
      const next = { ...want, lastProbeTime: null, lastTransitionTime: old && old.status === want.status ? old.lastTransitionTime : rfc3339(this.now()) };
      if (old) conds.splice(conds.indexOf(old), 1, next);
      else conds.push(next);
      await this.client.update(PODS, namespace, pod, 'status');
    }
    try {
      await this.client.delete(PODS, namespace, name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
