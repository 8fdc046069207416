// ServiceAccounts controller (upstream pkg/controller/serviceaccount/serviceaccounts_controller.go): every Active
// namespace has a `default` ServiceAccount — made when the namespace appears, made again if someone deletes it.

import type { KubeObject } from '../../api/types.js';
import { Informer } from '../../client/informer.js';
import { ApiError, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { NAMESPACES, SERVICEACCOUNTS } from '../../client/resources.js';
export { NAMESPACES, SERVICEACCOUNTS };

export interface ServiceAccountsControllerOptions {
  /** ServiceAccounts every namespace gets (upstream --service-account names; default ["default"]). */
  names?: string[];
  workers?: number;
  log?: Logger;
}

export class ServiceAccountsController implements Controller {
  readonly name = 'serviceaccount';
  /** Keys are namespace names. */
  readonly queue = new WorkQueue<string>();
  private readonly namespaces: Informer;
  private readonly accounts: Informer;
  private readonly names: string[];
  private readonly log: Logger;

  constructor(
    private readonly client: Client,
    private readonly opts: ServiceAccountsControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.names = opts.names ?? ['default'];
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.namespaces = new Informer(client, NAMESPACES, { resyncMs: 5 * 60_000, onError: onError('namespaces') });
    this.accounts = new Informer(client, SERVICEACCOUNTS, { onError: onError('serviceaccounts') });
    const nsChanged = (o: KubeObject) => this.queue.add(o.metadata.name ?? '');
    this.namespaces.addEventHandler({ add: nsChanged, update: (_old, o) => nsChanged(o) });
    // Only a deletion can take away an account this controller keeps (upstream serviceAccountDeleted).
    this.accounts.addEventHandler({
      delete: (o) => {
        if (this.names.includes(o.metadata.name ?? '') && o.metadata.namespace) this.queue.add(o.metadata.namespace);
      },
    });
  }

  async run(): Promise<void> {
    this.namespaces.start();
    this.accounts.start();
    await Promise.all([this.namespaces.hasSynced, this.accounts.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 1, (ns) => this.sync(ns), (ns, e) => this.log(`namespace ${ns}: ${errorMessage(e)}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.namespaces.stop(), this.accounts.stop()]);
  }

  /** Creates whichever of the accounts is missing in an Active namespace (upstream syncNamespace). */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const phase = (ns.status as { phase?: string } | undefined)?.phase;
    if (phase && phase !== 'Active') return;
    for (const name of this.names) {
      if (this.accounts.get(`${namespace}/${name}`)) continue;
      try {
        await this.client.create(SERVICEACCOUNTS, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
      } catch (e) {
        // AlreadyExists: the cache is behind. Forbidden: the namespace began terminating meanwhile.
        if (e instanceof ApiError && (e.code === 409 || e.code === 403)) continue;
        throw e;
      }
    }
  }
}
