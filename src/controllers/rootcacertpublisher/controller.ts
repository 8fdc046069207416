// Root CA certificate publisher (upstream pkg/controller/certificates/rootcacertpublisher): every Active namespace
// has a `kube-root-ca.crt` ConfigMap holding the cluster CA as `ca.crt`, which kube-api-access volumes project.
// Made when a namespace appears, made again when deleted, put back when someone edits its data or annotation.

import type { KubeObject } from '../../api/types.js';
import { Informer } from '../../client/informer.js';
import { ApiError, type Client } from '../../client/interface.js';
import { CONFIGMAPS, NAMESPACES } from '../../client/resources.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCACertPublisherOptions {
  /** The PEM bundle to publish (the cluster CA). */
  rootCA: string;
  workers?: number;
  log?: Logger;
}

export class RootCACertPublisher implements Controller {
  readonly name = 'root-ca-certificate-publisher-controller';
  /** Keys are namespace names. */
  readonly queue = new WorkQueue<string>();
  private readonly namespaces: Informer;
  private readonly configMaps: Informer;
  private readonly log: Logger;

  constructor(
    private readonly client: Client,
    private readonly opts: RootCACertPublisherOptions,
  ) {
    this.log = opts.log ?? (() => undefined);
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    this.namespaces = new Informer(client, NAMESPACES, { onError: onError('namespaces') });
    this.configMaps = new Informer(client, CONFIGMAPS, { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}`, onError: onError('configmaps') });
    const nsChanged = (o: KubeObject) => this.queue.add(o.metadata.name ?? '');
    this.namespaces.addEventHandler({ add: nsChanged, update: (_old, o) => nsChanged(o) });
    const cmChanged = (o: KubeObject) => {
      if (o.metadata.name === ROOT_CA_CONFIGMAP && o.metadata.namespace) this.queue.add(o.metadata.namespace);
    };
    this.configMaps.addEventHandler({ update: (_old, o) => cmChanged(o), delete: cmChanged });
  }

  async run(): Promise<void> {
    this.namespaces.start();
    this.configMaps.start();
    await Promise.all([this.namespaces.hasSynced, this.configMaps.hasSynced]);
    await runWorkers(this.queue, this.opts.workers ?? 1, (ns) => this.sync(ns), (ns, e) => this.log(`namespace ${ns}: ${errorMessage(e)}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.namespaces.stop(), this.configMaps.stop()]);
  }

  /** Creates or corrects the namespace's ConfigMap (upstream syncNamespace); Terminating namespaces are left alone. */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const phase = (ns.status as { phase?: string } | undefined)?.phase;
    if (phase && phase !== 'Active') return;
    const cur = this.configMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    if (!cur) {
      try {
        await this.client.create(CONFIGMAPS, namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
          data: { 'ca.crt': this.opts.rootCA },
        });
      } catch (e) {
        // AlreadyExists: the cache is behind (its update event brings us back). Forbidden: the namespace is terminating.
        if (e instanceof ApiError && (e.code === 409 || e.code === 403)) return;
        throw e;
      }
      return;
    }
    const data = (cur as { data?: Record<string, string> }).data ?? {};
    const same = Object.keys(data).length === 1 && data['ca.crt'] === this.opts.rootCA && cur.metadata.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION;
    if (same) return;
    const next = structuredClone(cur) as KubeObject & { data?: Record<string, string> };
    next.data = { 'ca.crt': this.opts.rootCA };
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [DESCRIPTION_ANNOTATION]: DESCRIPTION };
    await this.client.update(CONFIGMAPS, namespace, next);
  }
}
