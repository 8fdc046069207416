// The controller manager: builds one API client (x509 identity system:kube-controller-manager) and runs the
// controllers on it until stopped. `k8ts server` starts it in-process once the API server is listening.

import type { Client } from '../client/interface.js';
import { shareInformers } from '../client/informer.js';
import { RestClient, type RestConfig } from '../client/rest.js';
import { consoleLogger, errorMessage, type Controller, type Logger } from './controller.js';

export interface ManagerOptions {
  /** Controller names to run; default all. */
  controllers?: string[];
  log?: Logger;
  /** node-lifecycle: how long without a heartbeat before a node is Unknown (--node-monitor-grace-period); 40 s. */
  nodeMonitorGracePeriodMs?: number;
  /** pod-garbage-collector: terminated pods kept (--terminated-pod-gc-threshold); 12500, ≤ 0 disables. */
  terminatedPodGCThreshold?: number;
  /** pod-garbage-collector: how long a pod's node must be missing before its pods are deleted; 40 s. */
  podGCQuarantineMs?: number;
  /** nodeipam: the range pod CIDRs of nodes come from (--cluster-cidr); 10.42.0.0/16. */
  clusterCIDR?: string;
  /** root-ca-certificate-publisher-controller: the CA bundle published as kube-root-ca.crt; without it, not run. */
  rootCACert?: string;
}

export const CONTROLLERS = ['namespace', 'garbagecollector', 'replicaset', 'replicationcontroller', 'deployment', 'job', 'ttl-after-finished', 'cronjob', 'serviceaccount', 'daemonset', 'statefulset', 'endpoint', 'endpointslice', 'node-lifecycle', 'taint-eviction-controller', 'pod-garbage-collector', 'resourcequota', 'nodeipam', 'persistentvolume-binder-controller', 'root-ca-certificate-publisher-controller'] as const;

export class ControllerManager {
  private readonly running: Array<{ c: Controller; done: Promise<void> }> = [];
  private readonly log: Logger;

  constructor(
    private readonly client: Client,
    private readonly opts: ManagerOptions = {},
  ) {
    this.log = opts.log ?? consoleLogger('controller-manager');
    // One cache and one watch per resource for all controllers, as kube-controller-manager's shared informers,
    // which also cache objects without their managedFields.
    shareInformers(client, { stripManagedFields: true });
  }

  /** Starts every enabled controller (modules load lazily); returns once all are launched. */
  async start(): Promise<void> {
    const want = new Set(this.opts.controllers ?? CONTROLLERS);
    const made: Controller[] = [];
    if (want.has('namespace')) {
      const { NamespaceController } = await import('./namespace/controller.js');
      made.push(new NamespaceController(this.client, { log: consoleLogger('namespace-controller') }));
    }
    if (want.has('garbagecollector')) {
      const { GarbageCollector } = await import('./garbagecollector/controller.js');
      made.push(new GarbageCollector(this.client, { log: consoleLogger('garbage-collector') }));
    }
    if (want.has('replicaset') || want.has('replicationcontroller')) {
      const rs = await import('./replicaset/controller.js');
      if (want.has('replicaset')) made.push(new rs.ReplicaSetController(this.client, rs.REPLICASET_KIND, { log: consoleLogger('replicaset-controller') }));
      if (want.has('replicationcontroller')) made.push(new rs.ReplicaSetController(this.client, rs.REPLICATIONCONTROLLER_KIND, { log: consoleLogger('replication-controller') }));
    }
    if (want.has('deployment')) {
      const { DeploymentController } = await import('./deployment/controller.js');
      made.push(new DeploymentController(this.client, { log: consoleLogger('deployment-controller') }));
    }
    if (want.has('job') || want.has('ttl-after-finished')) {
      const job = await import('./job/controller.js');
      const ttl = await import('./job/ttl.js');
      if (want.has('job')) made.push(new job.JobController(this.client, { log: consoleLogger('job-controller') }));
      if (want.has('ttl-after-finished')) made.push(new ttl.TTLAfterFinishedController(this.client, { log: consoleLogger('ttl-after-finished-controller') }));
    }
    if (want.has('cronjob')) {
      const { CronJobController } = await import('./cronjob/controller.js');
      made.push(new CronJobController(this.client, { log: consoleLogger('cronjob-controller') }));
    }
    if (want.has('daemonset')) {
      const { DaemonSetController } = await import('./daemonset/controller.js');
      made.push(new DaemonSetController(this.client, { log: consoleLogger('daemonset-controller') }));
    }
    if (want.has('statefulset')) {
      const { StatefulSetController } = await import('./statefulset/controller.js');
      made.push(new StatefulSetController(this.client, { log: consoleLogger('statefulset-controller') }));
    }
    if (want.has('serviceaccount')) {
      const { ServiceAccountsController } = await import('./serviceaccount/controller.js');
      made.push(new ServiceAccountsController(this.client, { log: consoleLogger('serviceaccount-controller') }));
    }
    if (want.has('root-ca-certificate-publisher-controller') && this.opts.rootCACert) {
      const { RootCACertPublisher } = await import('./rootcacertpublisher/controller.js');
      made.push(new RootCACertPublisher(this.client, { rootCA: this.opts.rootCACert, log: consoleLogger('root-ca-certificate-publisher-controller') }));
    }
    if (want.has('resourcequota')) {
      const { ResourceQuotaController } = await import('./resourcequota/controller.js');
      made.push(new ResourceQuotaController(this.client, { log: consoleLogger('resourcequota-controller') }));
    }
    if (want.has('node-lifecycle')) {
      const { NodeLifecycleController } = await import('./nodelifecycle/controller.js');
      made.push(new NodeLifecycleController(this.client, { nodeMonitorGracePeriodMs: this.opts.nodeMonitorGracePeriodMs, log: consoleLogger('node-lifecycle-controller') }));
    }
    if (want.has('nodeipam')) {
      const { NodeIpamController } = await import('./nodeipam/controller.js');
      made.push(new NodeIpamController(this.client, { clusterCIDR: this.opts.clusterCIDR, log: consoleLogger('node-ipam-controller') }));
    }
    if (want.has('taint-eviction-controller')) {
      const { TaintEvictionController } = await import('./tainteviction/controller.js');
      made.push(new TaintEvictionController(this.client, { log: consoleLogger('taint-eviction-controller') }));
    }
    if (want.has('pod-garbage-collector')) {
      const { PodGCController } = await import('./podgc/controller.js');
      made.push(new PodGCController(this.client, { terminatedPodGCThreshold: this.opts.terminatedPodGCThreshold, quarantineMs: this.opts.podGCQuarantineMs, log: consoleLogger('pod-garbage-collector') }));
    }
    if (want.has('endpoint')) {
      const { EndpointsController } = await import('./endpoints/controller.js');
      made.push(new EndpointsController(this.client, { log: consoleLogger('endpoints-controller') }));
    }
    if (want.has('endpointslice')) {
      const { EndpointSliceController } = await import('./endpointslice/controller.js');
      made.push(new EndpointSliceController(this.client, { log: consoleLogger('endpointslice-controller') }));
    }
    if (want.has('persistentvolume-binder-controller')) {
      const { PersistentVolumeController } = await import('./persistentvolume/controller.js');
      made.push(new PersistentVolumeController(this.client, { log: consoleLogger('persistentvolume-binder-controller') }));
    }
    for (const c of made) {
      const done = c.run().catch((e: unknown) => this.log(`${c.name} controller stopped with an error: ${errorMessage(e)}`));
      this.running.push({ c, done });
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.running.map(({ c }) => c.stop()));
    await Promise.all(this.running.map(({ done }) => done));
  }
}

/** A manager talking to `server` over HTTPS with the given client certificate. */
export function managerFor(cfg: RestConfig, opts: ManagerOptions = {}): { manager: ControllerManager; close(): void } {
  const client = new RestClient({ userAgent: 'k8ts-controller-manager', ...cfg });
  return { manager: new ControllerManager(client, opts), close: () => client.close() };
}
