// TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): deletes a finished Job (and, through
// the garbage collector, its pods) ttlSecondsAfterFinished after its Complete/Failed condition, re-checking the
// fresh object first. Requeues exactly at the expiry time instead of polling.

import type { KubeObject } from '../../api/types.js';
import { Informer } from '../../client/informer.js';
import { isNotFound, objectKey, splitKey, type Client } from '../../client/interface.js';
import { realScheduler, runWorkers, WorkQueue, type Scheduler } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { JOBS, finishedCondition, specOf } from './controller.js';

export interface TTLControllerOptions {
  workers?: number;
  log?: Logger;
  now?: () => number;
  schedule?: Scheduler;
}

/** When a finished job with a TTL expires (ms since the epoch), or undefined when it never will. */
export function expiresAt(job: KubeObject): number | undefined {
  const ttl = specOf(job).ttlSecondsAfterFinished;
  if (ttl == null || job.metadata.deletionTimestamp) return undefined;
  const c = finishedCondition(job);
  if (!c) return undefined;
  const finished = Date.parse(c.lastTransitionTime ?? '');
  if (Number.isNaN(finished)) return undefined;
  return finished + ttl * 1000;
}

export class TTLAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished';
  readonly queue: WorkQueue<string>;
  readonly jobs: Informer;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly client: Client,
    private readonly opts: TTLControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? Date.now;
    this.queue = new WorkQueue<string>({ schedule: opts.schedule ?? realScheduler });
    this.jobs = new Informer(client, JOBS, { onError: (e) => this.log(`jobs informer: ${errorMessage(e)}`) });
    const enqueue = (j: KubeObject) => {
      if (expiresAt(j) !== undefined) this.queue.add(objectKey(j));
    };
    this.jobs.addEventHandler({ add: enqueue, update: (_o, j) => enqueue(j) });
  }

  async run(): Promise<void> {
    this.jobs.start();
    await this.jobs.hasSynced;
    await runWorkers(this.queue, this.opts.workers ?? 2, (k) => this.sync(k), (k, e) => this.log(`cleaning up job ${k}: ${errorMessage(e)}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.jobs.stop();
  }

  async sync(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached) return;
    const at = expiresAt(cached);
    if (at === undefined) return;
    if (this.now() < at) {
      this.queue.addAfter(key, at - this.now());
      return;
    }
    const { namespace, name } = splitKey(key);
    let fresh: KubeObject;
    try {
      fresh = await this.client.get(JOBS, namespace, name);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const freshAt = expiresAt(fresh);
    if (freshAt === undefined) return;
    if (this.now() < freshAt) {
      this.queue.addAfter(key, freshAt - this.now());
      return;
    }
    try {
      await this.client.delete(JOBS, namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
