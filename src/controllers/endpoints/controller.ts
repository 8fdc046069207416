// Endpoints controller (upstream pkg/controller/endpoint): keeps a core/v1 Endpoints object, named as the Service,
// for every Service with a selector — the selected pods' addresses, ready or not, per port set — and deletes it
// when the Service goes. Services without a selector (and ExternalName ones) are left to whoever writes theirs.

import type { KubeObject } from '../../api/types.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { isNotFound, objectKey, splitKey, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { HEADLESS_LABEL, LAST_CHANGE_TRIGGER_TIME, isNamespaceTerminating, isServiceIPSet, rfc3339Nano, selectorMatches, serviceSelector, serviceSpec, servicesForLabels, servicesToUpdateOnPodChange, TriggerTimeTracker } from '../endpointslice/util.js';
import { desiredEndpoints, OVER_CAPACITY, subsetsEqual, truncateSubsets } from './subsets.js';
import { ENDPOINTS, PODS, SERVICES } from '../../client/resources.js';
export { ENDPOINTS, PODS, SERVICES };

/** Endpoints carrying this annotation are leader-election locks, not a Service's: never cleaned up. */
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/** The Endpoints in the cache is one this controller already replaced. */
export class StaleEndpointsCache extends Error {}

export interface EndpointsControllerOptions {
  workers?: number;
  log?: Logger;
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => (a ?? {})[k] === (b ?? {})[k]);
};

export class EndpointsController implements Controller {
  readonly name = 'endpoint';
  /** Keys are Service keys "namespace/name". */
  readonly queue = new WorkQueue<string>();
  readonly services: Informer;
  readonly pods: Informer;
  readonly endpoints: Informer;
  private readonly podsByNs = new Map<string, Map<string, KubeObject>>();
  private readonly triggerTimes = new TriggerTimeTracker();
  /** Resource versions of Endpoints this controller has replaced: seeing one again means the cache is behind. */
  private readonly stale = new Map<string, string>();
  private readonly recorder: EventRecorder;
  private readonly log: Logger;

  constructor(
    private readonly client: Client,
    private readonly opts: EndpointsControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.recorder = new EventRecorder(client, 'endpoint-controller');
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.services = new Informer(client, SERVICES, { onError: onError('services') });
    this.pods = new Informer(client, PODS, { onError: onError('pods') });
    this.endpoints = new Informer(client, ENDPOINTS, { onError: onError('endpoints') });
    const svcChanged = (o: KubeObject) => this.queue.add(objectKey(o));
    this.services.addEventHandler({ add: svcChanged, update: (_o, n) => svcChanged(n), delete: svcChanged });
    this.pods.addEventHandler({
      add: (p) => {
        this.index(p);
        this.podTouched(p);
      },
      update: (o, n) => {
        this.index(n);
        for (const k of servicesToUpdateOnPodChange(this.services.list(), o, n)) this.queue.add(k);
      },
      delete: (p) => {
        this.podsByNs.get(p.metadata.namespace ?? '')?.delete(objectKey(p));
        this.podTouched(p);
      },
    });
    // Someone deleted an Endpoints object: put it back if its Service still wants one.
    this.endpoints.addEventHandler({ delete: (e) => this.queue.add(objectKey(e)) });
  }

  async run(): Promise<void> {
    this.services.start();
    this.pods.start();
    this.endpoints.start();
    await Promise.all([this.services.hasSynced, this.pods.hasSynced, this.endpoints.hasSynced]);
    this.checkLeftoverEndpoints();
    await runWorkers(this.queue, this.opts.workers ?? 5, (k) => this.sync(k), (k, e) => {
      // A cache a write behind is retried quietly: the informer catches up within milliseconds.
      if (!(e instanceof StaleEndpointsCache)) this.log(`error syncing endpoints for service ${k}, retrying: ${errorMessage(e)}`);
    });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.services.stop(), this.pods.stop(), this.endpoints.stop()]);
    await this.recorder.flush();
  }

  private index(p: KubeObject): void {
    const ns = p.metadata.namespace ?? '';
    let m = this.podsByNs.get(ns);
    if (!m) this.podsByNs.set(ns, (m = new Map()));
    m.set(objectKey(p), p);
  }

  private podTouched(p: KubeObject): void {
    for (const k of servicesForLabels(this.services.list(), p.metadata.namespace, p.metadata.labels)) this.queue.add(k);
  }

  /** Endpoints left from Services deleted while no controller ran get a sync, which deletes them. */
  private checkLeftoverEndpoints(): void {
    for (const ep of this.endpoints.list()) {
      if (ep.metadata.annotations?.[LEADER_ANNOTATION] !== undefined) continue;
      this.queue.add(objectKey(ep));
    }
  }

  /** Brings the Endpoints of Service `key` in line with its pods (upstream syncService). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ns = namespace ?? '';
    const svc = this.services.get(key);
    if (!svc) {
      try {
        await this.client.delete(ENDPOINTS, ns, name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      this.triggerTimes.delete(ns, name);
      this.stale.delete(key);
      return;
    }
    if (serviceSpec(svc).type === 'ExternalName') return;
    const selector = serviceSelector(svc);
    if (!selector) return;

    const pods = [...(this.podsByNs.get(ns)?.values() ?? [])].filter((p) => selectorMatches(selector, p.metadata.labels));
    // Computed on every sync so the tracker's state moves on even when nothing is written.
    const triggerTime = this.triggerTimes.compute(svc, pods);
    const { subsets } = desiredEndpoints(svc, pods);
    const truncated = truncateSubsets(subsets);
    const finalSubsets = truncated ?? subsets;

    const current = this.endpoints.get(key);
    if (current && this.stale.get(key) === current.metadata.resourceVersion) {
      throw new StaleEndpointsCache(`endpoints informer cache is out of date, resource version ${current.metadata.resourceVersion} already processed for endpoints ${key}`);
    }
    const currentLabels = { ...(current?.metadata.labels ?? {}) };
    delete currentLabels[HEADLESS_LABEL];
    const annotations = current?.metadata.annotations ?? {};
    const capacityOk = truncated ? annotations[OVER_CAPACITY] === 'truncated' : annotations[OVER_CAPACITY] === undefined;
    if (current && subsetsEqual(current.subsets, finalSubsets) && sameLabels(currentLabels, svc.metadata.labels) && capacityOk) return;

    const next: KubeObject = current ? structuredClone(current) : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns } };
    next.apiVersion ??= 'v1';
    next.kind ??= 'Endpoints';
    // An empty list is absent on the wire (omitempty), as upstream's Endpoints without addresses read back.
    if (finalSubsets.length) next.subsets = finalSubsets;
    else delete next.subsets;
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (isServiceIPSet(svc)) delete labels[HEADLESS_LABEL];
    else labels[HEADLESS_LABEL] = '';
    next.metadata.labels = labels;
    const ann: Record<string, string> = { ...(next.metadata.annotations ?? {}) };
    if (triggerTime) ann[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime);
    else delete ann[LAST_CHANGE_TRIGGER_TIME];
    if (truncated) ann[OVER_CAPACITY] = 'truncated';
    else delete ann[OVER_CAPACITY];
    next.metadata.annotations = ann;

    try {
      if (!current) {
        await this.client.create(ENDPOINTS, ns, next);
      } else {
        const updated = await this.client.update(ENDPOINTS, ns, next);
        if (updated.metadata.resourceVersion !== current.metadata.resourceVersion) this.stale.set(key, current.metadata.resourceVersion ?? '');
      }
    } catch (e) {
      // The namespace is terminating (NamespaceLifecycle refuses creates): nothing to do until it is gone.
      if (!current && isNamespaceTerminating(e)) return;
      if (!current) this.recorder.event(next, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${ns}/${name}: ${errorMessage(e)}`);
      else this.recorder.event(next, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${ns}/${name}: ${errorMessage(e)}`);
      throw e;
    }
  }
}
