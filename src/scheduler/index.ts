// kube-scheduler for k8ts: a plugin framework (framework/), in-tree plugins (plugins/), the scheduling queue and
// cache, run as a client of the API server. `k8ts server` starts one in-process (schedulerFor) after listening.

import { RestClient, type RestConfig } from '../client/rest.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

export { Scheduler, numFeasibleNodesToFind, type SchedulerOptions } from './scheduler.js';
export { Registry } from './framework/registry.js';
export { Status } from './framework/status.js';
export { defaultProfile, inTreeRegistry, DEFAULT_SCHEDULER_NAME } from './plugins/registry.js';

/** A scheduler talking to the API server over HTTPS with the given client certificate. */
export function schedulerFor(cfg: RestConfig, opts: SchedulerOptions = {}): { scheduler: Scheduler; close(): void } {
  const client = new RestClient({ userAgent: 'k8ts-scheduler', ...cfg });
  return { scheduler: new Scheduler(client, opts), close: () => client.close() };
}
