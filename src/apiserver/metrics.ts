// metrics.k8s.io/v1beta1 served by the API server itself (what metrics-server does upstream): NodeMetrics and
// PodMetrics, list and get, computed from each Ready node's kubelet Summary API (/stats/summary) on request.

import { badRequest, methodNotAllowed, notFound } from '../api/errors.js';
import type { KindDef } from '../api/kinds/types.js';
import { parseLabelSelector, SelectorParseError, type Selector } from '../api/selectors/labels.js';
import type { KubeObject } from '../api/types.js';
import type { KubeletProxy } from './proxy.js';
import type { ResourceStore } from './registry/store.js';

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const metricsKind = (kind: string, plural: string, namespaced: boolean): KindDef => ({ group: GROUP, version: VERSION, kind, plural, singular: '', namespaced, verbs: ['get', 'list'] });

export const metricsKinds: KindDef[] = [metricsKind('NodeMetrics', 'nodes', false), metricsKind('PodMetrics', 'pods', true)];

/** The window metrics-server reports (its default resolution). */
const WINDOW = '10.0s';

/** CPU in nanocores and memory in Ki, as metrics-server formats its quantities. */
export function usage(nanoCores: number | undefined, workingSetBytes: number | undefined): { cpu: string; memory: string } {
  return { cpu: `${Math.max(0, Math.round(nanoCores ?? 0))}n`, memory: `${Math.max(0, Math.floor((workingSetBytes ?? 0) / 1024))}Ki` };
}

type Rec = Record<string, any>;

interface Summary {
  node: { nodeName: string; cpu?: Rec; memory?: Rec };
  pods?: Array<{ podRef: { name: string; namespace: string }; containers?: Array<{ name: string; cpu?: Rec; memory?: Rec }> }>;
}

export class MetricsApi {
  constructor(
    private readonly resources: ResourceStore,
    private readonly kind: (group: string, plural: string) => KindDef | undefined,
    private readonly kubelets: KubeletProxy,
  ) {}

  private async summaries(onlyNode?: string): Promise<Array<{ node: KubeObject; summary: Summary }>> {
    const nodeDef = this.kind('', 'nodes')!;
    const nodes = onlyNode ? [await this.resources.get(nodeDef, undefined, onlyNode)] : (await this.resources.list(nodeDef, undefined)).items;
    const out = await Promise.all(
      nodes.map(async (node) => {
        try {
          return { node, summary: (await this.kubelets.getJSON(node.metadata.name!, '/stats/summary')) as Summary };
        } catch {
          return undefined; // an unreachable kubelet has no metrics (metrics-server skips it)
        }
      }),
    );
    return out.filter((x): x is { node: KubeObject; summary: Summary } => x !== undefined);
  }

  private selector(query: URLSearchParams): Selector | undefined {
    const ls = query.get('labelSelector');
    if (!ls) return undefined;
    try {
      return parseLabelSelector(ls);
    } catch (e) {
      if (e instanceof SelectorParseError) throw badRequest(`unable to parse requirement: ${e.message}`);
      throw e;
    }
  }

  /** GET /apis/metrics.k8s.io/v1beta1/{nodes|namespaces/{ns}/pods|pods}[/{name}]. */
  async handle(method: string, def: KindDef, ns: string | undefined, name: string | undefined, query: URLSearchParams): Promise<KubeObject> {
    if (method !== 'GET') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const sel = this.selector(query);
    const now = new Date().toISOString();
    if (def.kind === 'NodeMetrics') {
      const items: KubeObject[] = [];
      for (const { node, summary } of await this.summaries(name)) {
        if (sel && !sel.matches(node.metadata.labels)) continue;
        items.push({
          kind: 'NodeMetrics',
          apiVersion: `${GROUP}/${VERSION}`,
          metadata: { name: node.metadata.name, creationTimestamp: now, labels: node.metadata.labels },
          timestamp: summary.node.cpu?.time ?? now,
          window: WINDOW,
          usage: usage(summary.node.cpu?.usageNanoCores, summary.node.memory?.workingSetBytes),
        });
      }
      if (name) {
        if (!items[0]) throw notFound(GROUP, 'nodemetrics', name);
        return items[0];
      }
      return { kind: 'NodeMetricsList', apiVersion: `${GROUP}/${VERSION}`, metadata: {}, items } as unknown as KubeObject;
    }
    const podDef = this.kind('', 'pods')!;
    const pods = new Map((await this.resources.list(podDef, ns)).items.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
    const items: KubeObject[] = [];
    for (const { summary } of await this.summaries()) {
      for (const ps of summary.pods ?? []) {
        const pod = pods.get(`${ps.podRef.namespace}/${ps.podRef.name}`);
        if (!pod || (name && pod.metadata.name !== name) || !ps.containers?.length) continue;
        if (sel && !sel.matches(pod.metadata.labels)) continue;
        items.push({
          kind: 'PodMetrics',
          apiVersion: `${GROUP}/${VERSION}`,
          metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: now, labels: pod.metadata.labels },
          timestamp: ps.containers[0]?.cpu?.time ?? now,
          window: WINDOW,
          containers: ps.containers.map((c) => ({ name: c.name, usage: usage(c.cpu?.usageNanoCores, c.memory?.workingSetBytes) })),
        });
      }
    }
    items.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    if (name) {
      if (!items[0]) throw notFound(GROUP, 'podmetrics', name);
      return items[0];
    }
    return { kind: 'PodMetricsList', apiVersion: `${GROUP}/${VERSION}`, metadata: {}, items } as unknown as KubeObject;
  }
}
