// EndpointSlice controller (upstream pkg/controller/endpointslice): keeps discovery.k8s.io/v1 EndpointSlices
// `<service>-<random>` for every Service with a selector — labelled with the Service name and this controller,
// owned by the Service (the garbage collector removes them with it), at most 100 endpoints each, with per-endpoint
// ready/serving/terminating conditions, node and zone. The plan is reconciler.ts; this file does the I/O.

import type { KubeObject } from '../../api/types.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { isNotFound, objectKey, splitKey, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { CONTROLLER_NAME, DEFAULT_MAX_ENDPOINTS_PER_SLICE, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, mergeCreatesIntoDeletes, reconcile, ZONE_LABEL } from './reconciler.js';
import { EndpointSliceTracker } from './tracker.js';
import { isNamespaceTerminating, LAST_CHANGE_TRIGGER_TIME, podSpec, rfc3339Nano, selectorMatches, serviceSelector, serviceSpec, servicesForLabels, servicesToUpdateOnPodChange, TriggerTimeTracker } from './util.js';
import { ENDPOINTSLICES, NODES, PODS, SERVICES } from '../../client/resources.js';
export { ENDPOINTSLICES, NODES, PODS, SERVICES };

/** A slice change made by someone else is looked at after this long (upstream endpointSliceChangeMinSyncDelay). */
const SLICE_CHANGE_MIN_SYNC_DELAY_MS = 1000;

export class StaleInformerCache extends Error {}

export interface EndpointSliceControllerOptions {
  /** --max-endpoints-per-slice; 100. */
  maxEndpointsPerSlice?: number;
  workers?: number;
  log?: Logger;
}

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  readonly queue = new WorkQueue<string>();
  readonly services: Informer;
  readonly pods: Informer;
  readonly nodes: Informer;
  readonly slices: Informer;
  readonly tracker = new EndpointSliceTracker();
  private readonly podsByNs = new Map<string, Map<string, KubeObject>>();
  /** Service key → slice key → slice, from the `kubernetes.io/service-name` label. */
  private readonly slicesBySvc = new Map<string, Map<string, KubeObject>>();
  private readonly triggerTimes = new TriggerTimeTracker();
  private readonly recorder: EventRecorder;
  private readonly log: Logger;

  constructor(
    private readonly client: Client,
    private readonly opts: EndpointSliceControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.recorder = new EventRecorder(client, 'endpoint-slice-controller');
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.services = new Informer(client, SERVICES, { onError: onError('services') });
    this.pods = new Informer(client, PODS, { onError: onError('pods') });
    this.nodes = new Informer(client, NODES, { onError: onError('nodes') });
    this.slices = new Informer(client, ENDPOINTSLICES, { onError: onError('endpointslices') });

    const svcChanged = (o: KubeObject) => this.queue.add(objectKey(o));
    this.services.addEventHandler({ add: svcChanged, update: (_o, n) => svcChanged(n), delete: svcChanged });
    this.pods.addEventHandler({
      add: (p) => {
        this.indexPod(p);
        this.podTouched(p);
      },
      update: (o, n) => {
        this.indexPod(n);
        for (const k of servicesToUpdateOnPodChange(this.services.list(), o, n)) this.queue.add(k);
      },
      delete: (p) => {
        this.podsByNs.get(p.metadata.namespace ?? '')?.delete(objectKey(p));
        this.podTouched(p);
      },
    });
    // Zones come from node labels, which may be set after the node registers.
    this.nodes.addEventHandler({
      update: (o, n) => {
        if (o.metadata.labels?.[ZONE_LABEL] !== n.metadata.labels?.[ZONE_LABEL]) this.nodeZoneChanged(n.metadata.name ?? '');
      },
    });
    this.slices.addEventHandler({
      add: (s) => {
        this.indexSlice(s);
        if (this.managed(s) && this.tracker.shouldSync(s)) this.queueForSlice(s);
      },
      update: (o, n) => {
        this.unindexSlice(o);
        this.indexSlice(n);
        if (o.metadata.labels?.[LABEL_SERVICE_NAME] !== n.metadata.labels?.[LABEL_SERVICE_NAME]) {
          this.queueForSlice(n);
          this.queueForSlice(o);
          return;
        }
        if (this.managed(o) !== this.managed(n) || (this.managed(n) && this.tracker.shouldSync(n))) this.queueForSlice(n);
      },
      delete: (s) => {
        this.unindexSlice(s);
        if (!this.managed(s)) return;
        // Not a deletion of ours (or one we never tracked, e.g. from before a restart): put the slice back.
        const ours = this.tracker.has(s) && this.tracker.handleDeletion(s);
        if (!ours) this.queueForSlice(s);
      },
    });
  }

  async run(): Promise<void> {
    for (const i of [this.services, this.pods, this.nodes, this.slices]) i.start();
    await Promise.all([this.services.hasSynced, this.pods.hasSynced, this.nodes.hasSynced, this.slices.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 5, (k) => this.sync(k), (k, e) => {
      if (!(e instanceof StaleInformerCache)) this.log(`error syncing endpoint slices for service ${k}, retrying: ${errorMessage(e)}`);
    });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.services.stop(), this.pods.stop(), this.nodes.stop(), this.slices.stop()]);
    await this.recorder.flush();
  }

  private managed(s: KubeObject): boolean {
    return s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME;
  }

  private sliceSvcKey(s: KubeObject): string | undefined {
    const name = s.metadata.labels?.[LABEL_SERVICE_NAME];
    return name ? `${s.metadata.namespace}/${name}` : undefined;
  }

  private indexSlice(s: KubeObject): void {
    const k = this.sliceSvcKey(s);
    if (!k) return;
    let m = this.slicesBySvc.get(k);
    if (!m) this.slicesBySvc.set(k, (m = new Map()));
    m.set(objectKey(s), s);
  }

  private unindexSlice(s: KubeObject): void {
    const k = this.sliceSvcKey(s);
    if (!k) return;
    const m = this.slicesBySvc.get(k);
    m?.delete(objectKey(s));
    if (m?.size === 0) this.slicesBySvc.delete(k);
  }

  private queueForSlice(s: KubeObject): void {
    const k = this.sliceSvcKey(s);
    if (k) this.queue.addAfter(k, SLICE_CHANGE_MIN_SYNC_DELAY_MS);
  }

  private indexPod(p: KubeObject): void {
    const ns = p.metadata.namespace ?? '';
    let m = this.podsByNs.get(ns);
    if (!m) this.podsByNs.set(ns, (m = new Map()));
    m.set(objectKey(p), p);
  }

  private podTouched(p: KubeObject): void {
    for (const k of servicesForLabels(this.services.list(), p.metadata.namespace, p.metadata.labels)) this.queue.add(k);
  }

  private nodeZoneChanged(node: string): void {
    for (const pods of this.podsByNs.values()) for (const p of pods.values()) if (podSpec(p).nodeName === node) this.podTouched(p);
  }

  /** Brings the slices of Service `key` in line with its pods (upstream syncService + Reconcile + finalize). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ns = namespace ?? '';
    const svc = this.services.get(key);
    if (!svc) {
      // The slices go with the Service through their ownerReference (garbage collector).
      this.triggerTimes.delete(ns, name);
      this.tracker.deleteService(ns, name);
      return;
    }
    if (serviceSpec(svc).type === 'ExternalName') return;
    const selector = serviceSelector(svc);
    if (!selector) return;

    const pods = [...(this.podsByNs.get(ns)?.values() ?? [])].filter((p) => selectorMatches(selector, p.metadata.labels));
    const slices = [...(this.slicesBySvc.get(key)?.values() ?? [])].filter((s) => this.managed(s) && !s.metadata.deletionTimestamp);
    if (this.tracker.staleSlices(ns, name, slices)) throw new StaleInformerCache('EndpointSlice informer cache is out of date');
    const triggerTime = this.triggerTimes.compute(svc, pods);

    const planned = reconcile({ service: svc, pods, slices, node: (n) => this.nodes.get(n), maxEndpointsPerSlice: this.opts.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE });
    const plan = mergeCreatesIntoDeletes(planned, svc);
    try {
      await this.finalize(svc, plan.create, plan.update, plan.delete, triggerTime);
    } catch (e) {
      this.recorder.event(svc, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${ns}/${name}: ${errorMessage(e)}`);
      throw e;
    }
    if (plan.errors.length) throw new Error(plan.errors.join('; '));
  }

  private async finalize(svc: KubeObject, create: KubeObject[], update: KubeObject[], del: KubeObject[], triggerTime: number): Promise<void> {
    const ns = svc.metadata.namespace ?? '';
    const stamp = (s: KubeObject) => {
      const ann = { ...(s.metadata.annotations ?? {}) };
      if (triggerTime) ann[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime);
      else delete ann[LAST_CHANGE_TRIGGER_TIME];
      s.metadata.annotations = ann;
    };
    // No new slices for a Service being deleted: the garbage collector would race them.
    if (!svc.metadata.deletionTimestamp) {
      for (const s of create) {
        stamp(s);
        try {
          this.tracker.update(await this.client.create(ENDPOINTSLICES, ns, s));
        } catch (e) {
          if (isNamespaceTerminating(e)) return;
          throw new Error(`failed to create EndpointSlice for Service ${ns}/${svc.metadata.name}: ${errorMessage(e)}`);
        }
      }
    }
    for (const s of update) {
      stamp(s);
      try {
        this.tracker.update(await this.client.update(ENDPOINTSLICES, ns, s));
      } catch (e) {
        throw new Error(`failed to update ${s.metadata.name} EndpointSlice for Service ${ns}/${svc.metadata.name}: ${errorMessage(e)}`);
      }
    }
    for (const s of del) {
      try {
        await this.client.delete(ENDPOINTSLICES, ns, s.metadata.name ?? '');
        this.tracker.expectDeletion(s);
      } catch (e) {
        if (isNotFound(e)) continue;
        throw new Error(`failed to delete ${s.metadata.name} EndpointSlice for Service ${ns}/${svc.metadata.name}: ${errorMessage(e)}`);
      }
    }
  }
}
