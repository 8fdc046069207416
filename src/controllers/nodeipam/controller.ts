// Node IPAM controller (upstream nodeipam, RangeAllocator): gives every Node without one a pod CIDR out of the
// cluster CIDR (--cluster-cidr, default 10.42.0.0/16 as k3s; /24 per node) by setting spec.podCIDR(s), which the
// kubelet hands to its runtime's CNI configuration. Blocks go back to the pool when their Node is deleted.

import type { KubeObject } from '../../api/types.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import type { Client } from '../../client/interface.js';
import { NODES } from '../../client/resources.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { CidrSet } from './cidrs.js';

export interface NodeIpamOptions {
  clusterCIDR?: string;
  nodeMaskSize?: number;
  log?: Logger;
}

const podCIDROf = (n: KubeObject): string | undefined => (n as { spec?: { podCIDR?: string } }).spec?.podCIDR || undefined;

export class NodeIpamController implements Controller {
  readonly name = 'nodeipam';
  readonly queue = new WorkQueue<string>();
  private readonly nodes: Informer;
  private readonly set: CidrSet;
  private readonly log: Logger;
  private readonly events: EventRecorder;

  constructor(
    private readonly client: Client,
    opts: NodeIpamOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.set = new CidrSet(opts.clusterCIDR ?? '10.42.0.0/16', opts.nodeMaskSize ?? 24);
    this.events = new EventRecorder(client, 'cidrAllocator');
    this.nodes = new Informer(client, NODES, { onError: (e) => this.log(`nodes informer: ${errorMessage(e)}`) });
    this.nodes.addEventHandler({
      add: (n) => this.queue.add(n.metadata.name ?? ''),
      update: (_o, n) => this.queue.add(n.metadata.name ?? ''),
      delete: (n) => {
        const cidr = podCIDROf(n);
        if (cidr) this.set.release(cidr);
      },
    });
  }

  async run(): Promise<void> {
    this.nodes.start();
    await this.nodes.hasSynced;
    // Blocks already held (after a restart) are taken before anything new is handed out.
    for (const n of this.nodes.list()) {
      const cidr = podCIDROf(n);
      if (cidr) this.set.occupy(cidr);
    }
    await runWorkers(this.queue, 1, (name) => this.sync(name), (name, e) => this.log(`node ${name}: ${errorMessage(e)}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    this.nodes.stop();
    await this.events.flush();
  }

  async sync(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node || node.metadata.deletionTimestamp) return;
    const have = podCIDROf(node);
    if (have) {
      this.set.occupy(have);
      return;
    }
    const cidr = this.set.allocateNext();
    if (!cidr) {
      this.events.event({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: node.metadata.uid ?? '' } }, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      throw new Error(`no pod CIDR left in ${this.set.clusterCIDR} for node ${name}`);
    }
    try {
      await this.client.patch(NODES, undefined, name, 'application/merge-patch+json', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      this.log(`set node ${name} PodCIDR to [${cidr}]`);
    } catch (e) {
      this.set.release(cidr);
      throw e;
    }
  }
}
