// Namespace lifecycle controller (upstream pkg/controller/namespace): empties a Terminating namespace of every
// namespaced resource found by discovery, reports progress in status.conditions, then clears its "kubernetes"
// finalizer through /finalize so the API server can remove it.

import type { KubeObject } from '../../api/types.js';
import { Informer } from '../../client/informer.js';
import { isConflict, isNotFound, ApiError, type ApiResource, type Client, type Resource } from '../../client/interface.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { NAMESPACES } from '../../client/resources.js';
export { NAMESPACES };

export const FINALIZER_KUBERNETES = 'kubernetes';
/** Upstream's guess for how long content with finalizers takes to go. */
const FINALIZER_ESTIMATE_SECONDS = 15;

export interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

/** Condition types in upstream order, with the reason and message each has when nothing is wrong. */
const CONDITION_OK: ReadonlyArray<[type: string, reason: string, message: string]> = [
  ['NamespaceDeletionDiscoveryFailure', 'ResourcesDiscovered', 'All resources successfully discovered'],
  ['NamespaceDeletionGroupVersionParsingFailure', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'],
  ['NamespaceDeletionContentFailure', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
  ['NamespaceContentRemaining', 'ContentRemoved', 'All content successfully removed'],
  ['NamespaceFinalizersRemaining', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'],
];

/** What one pass over a namespace's content found. */
export interface ContentReport {
  discoveryErrors: string[];
  deleteErrors: string[];
  /** "pods." → instances left */
  remaining: Map<string, number>;
  /** finalizer → instances left carrying it */
  finalizers: Map<string, number>;
  /** Seconds until remaining content is expected to be gone (0: nothing left). */
  estimateSeconds: number;
}

/**
 * The five conditions upstream's namespace deleter maintains, from a report; a condition whose status, reason
 * and message are unchanged keeps its lastTransitionTime.
 */
export function namespaceConditions(report: ContentReport, old: NamespaceCondition[], now: string): NamespaceCondition[] {
  const sorted = (m: Map<string, number>, fmt: (k: string, n: number) => string) =>
    [...m]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, n]) => fmt(k, n))
      .join(', ');
  const failing: Record<string, [string, string] | undefined> = {
    NamespaceDeletionDiscoveryFailure: report.discoveryErrors.length
      ? ['DiscoveryFailed', `Discovery failed for some groups, ${report.discoveryErrors.length} failing: ${report.discoveryErrors.join(', ')}`]
      : undefined,
    NamespaceDeletionContentFailure: report.deleteErrors.length
      ? ['ContentDeletionFailed', `Failed to delete all resource types, ${report.deleteErrors.length} remaining: ${report.deleteErrors.join(', ')}`]
      : undefined,
    NamespaceContentRemaining: report.remaining.size
      ? ['SomeResourcesRemain', `Some resources are remaining: ${sorted(report.remaining, (k, n) => `${k} has ${n} resource instances`)}`]
      : undefined,
    NamespaceFinalizersRemaining: report.finalizers.size
      ? ['SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${sorted(report.finalizers, (k, n) => `${k} in ${n} resource instances`)}`]
      : undefined,
  };
  return CONDITION_OK.map(([type, okReason, okMessage]) => {
    const f = failing[type];
    const next: NamespaceCondition = { type, status: f ? 'True' : 'False', reason: f ? f[0] : okReason, message: f ? f[1] : okMessage };
    const prev = old.find((c) => c.type === type);
    const same = prev && prev.status === next.status && prev.reason === next.reason && prev.message === next.message;
    return { type, status: next.status, lastTransitionTime: same ? prev.lastTransitionTime : now, reason: next.reason, message: next.message };
  });
}

export interface NamespaceControllerOptions {
  workers?: number;
  log?: Logger;
  /** Longest wait before looking again at a namespace whose content is still going (default 2 s). */
  maxRequeueMs?: number;
  /**
   * Delay between seeing a deleted namespace and emptying it, so last-moment creations inside it land first
   * (upstream namespaceDeletionGracePeriod, 5 s; the default here too).
   */
  deletionGraceMs?: number;
}

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  readonly queue = new WorkQueue<string>();
  private readonly informer: Informer;
  private readonly log: Logger;

  constructor(
    private readonly client: Client,
    private readonly opts: NamespaceControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.informer = new Informer(client, NAMESPACES, { resyncMs: 5 * 60_000, onError: (e) => this.log(`namespaces informer: ${errorMessage(e)}`) });
    const enqueue = (o: KubeObject) => {
      // Only namespaces being deleted have work (upstream enqueueNamespace, delay included).
      if (o.metadata.deletionTimestamp) this.queue.addAfter(o.metadata.name ?? '', opts.deletionGraceMs ?? 5000);
    };
    this.informer.addEventHandler({ add: enqueue, update: (_old, o) => enqueue(o) });
  }

  async run(): Promise<void> {
    this.informer.start();
    await this.informer.hasSynced;
    await runWorkers(this.queue, this.opts.workers ?? 2, (name) => this.sync(name), (name, e) => this.log(`deletion of namespace ${name} failed: ${errorMessage(e)}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.informer.stop();
  }

  /** One pass for a namespace (upstream namespacedResourcesDeleter.Delete). Throws to retry with backoff. */
  async sync(name: string): Promise<void> {
    let ns: KubeObject;
    try {
      ns = await this.client.get(NAMESPACES, undefined, name);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (!ns.metadata.deletionTimestamp) return;
    if (!finalizersOf(ns).includes(FINALIZER_KUBERNETES)) return;

    const report = await this.deleteAllContent(name);
    ns = await this.updateConditions(ns, report);
    if (report.discoveryErrors.length || report.deleteErrors.length) {
      throw new Error([...report.discoveryErrors, ...report.deleteErrors].join('; '));
    }
    if (report.estimateSeconds > 0) {
      // Upstream waits estimate/2+1 s; k8ts's deletions are mostly immediate, so look again sooner.
      this.queue.addAfter(name, Math.min((report.estimateSeconds / 2 + 1) * 1000, this.opts.maxRequeueMs ?? 2000));
      return;
    }
    await this.finalize(name, ns);
  }

  private async deleteAllContent(ns: string): Promise<ContentReport> {
    const report: ContentReport = { discoveryErrors: [], deleteErrors: [], remaining: new Map(), finalizers: new Map(), estimateSeconds: 0 };
    let resources: ApiResource[];
    try {
      resources = await this.client.discover();
    } catch (e) {
      report.discoveryErrors.push(errorMessage(e));
      return report;
    }
    const deletable = resources.filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
    await Promise.all(
      deletable.map(async (r) => {
        try {
          await this.deleteResource(r, ns, report);
        } catch (e) {
          report.deleteErrors.push(errorMessage(e));
        }
      }),
    );
    return report;
  }

  /** Deletes every object of one resource in ns, then counts what is left (upstream deleteAllContentForGroupVersionResource). */
  private async deleteResource(r: ApiResource, ns: string, report: ContentReport): Promise<void> {
    let collected = false;
    if (r.verbs.includes('deletecollection')) {
      try {
        await this.client.deleteCollection(r, ns, { propagationPolicy: 'Background' });
        collected = true;
      } catch (e) {
        if (!(e instanceof ApiError && (e.code === 404 || e.code === 405))) throw e;
      }
    }
    if (!collected) {
      const list = await this.client.list(r, ns);
      for (const o of list.items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(r, ns, o.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    const left = (await this.client.list(r, ns)).items;
    if (!left.length) return;
    const label = `${r.resource}.${r.group}`;
    report.remaining.set(label, left.length);
    let graceful = 0;
    let withFinalizers = false;
    for (const o of left) {
      for (const f of o.metadata.finalizers ?? []) {
        withFinalizers = true;
        report.finalizers.set(f, (report.finalizers.get(f) ?? 0) + 1);
      }
      if (o.metadata.deletionTimestamp) graceful = Math.max(graceful, Math.ceil((Date.parse(o.metadata.deletionTimestamp) - Date.now()) / 1000), 1);
    }
    const estimate = withFinalizers ? Math.max(graceful, FINALIZER_ESTIMATE_SECONDS) : graceful;
    if (estimate === 0) throw new Error(`unexpected items still remain in namespace: ${ns} for gvr: ${r.group}/${r.version}, Resource=${r.resource}`);
    report.estimateSeconds = Math.max(report.estimateSeconds, estimate);
  }

  /** Writes the report as status.conditions when they changed; returns the namespace as now stored. */
  private async updateConditions(ns: KubeObject, report: ContentReport): Promise<KubeObject> {
    const status = (ns.status ?? {}) as { phase?: string; conditions?: NamespaceCondition[] };
    const old = status.conditions ?? [];
    const next = namespaceConditions(report, old, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    if (JSON.stringify(next) === JSON.stringify(old)) return ns;
    try {
      return await this.client.update(NAMESPACES, undefined, { ...structuredClone(ns), status: { ...status, conditions: next } }, 'status');
    } catch (e) {
      // Conditions are informational; the next pass writes them again (upstream only logs this).
      if (!isNotFound(e)) this.log(`namespace ${ns.metadata.name}: status update: ${errorMessage(e)}`);
      return ns;
    }
  }

  /** Removes "kubernetes" from spec.finalizers through /finalize, re-reading on conflicts. */
  private async finalize(name: string, ns: KubeObject): Promise<void> {
    let cur = ns;
    for (let attempt = 0; ; attempt++) {
      const next = structuredClone(cur);
      const spec = (next.spec ?? (next.spec = {})) as { finalizers?: string[] };
      spec.finalizers = finalizersOf(cur).filter((f) => f !== FINALIZER_KUBERNETES);
      try {
        await this.client.update(NAMESPACES, undefined, next, 'finalize');
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e) || attempt >= 5) throw e;
        try {
          cur = await this.client.get(NAMESPACES, undefined, name);
        } catch (g) {
          if (isNotFound(g)) return;
          throw g;
        }
        if (!finalizersOf(cur).includes(FINALIZER_KUBERNETES)) return;
      }
    }
  }
}

function finalizersOf(ns: KubeObject): string[] {
  return ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).slice();
}
