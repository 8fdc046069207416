// Discovery: the served resources from aggregated discovery (apidiscovery.k8s.io/v2 on /api and /apis) or, when a
// server does not offer it, the legacy documents (/api, /api/v1, /apis, /apis/<group>/<version>).

import type { ApiResource } from './interface.js';

export const AGGREGATED_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

/** Fetches a path and returns its parsed JSON body (throws ApiError for non-2xx). */
export type GetJSON = (path: string, accept?: string) => Promise<unknown>;

interface AggResource {
  resource: string;
  responseKind?: { kind?: string };
  scope?: string;
  verbs?: string[];
}
interface AggList {
  kind?: string;
  items?: Array<{ metadata?: { name?: string }; versions?: Array<{ version: string; resources?: AggResource[] }> }>;
}

/** Resources of one aggregated APIGroupDiscoveryList, preferred (first) version of each group only. */
export function fromAggregated(doc: AggList): ApiResource[] {
  const out: ApiResource[] = [];
  for (const g of doc.items ?? []) {
    const v = g.versions?.[0];
    if (!v) continue;
    for (const r of v.resources ?? []) {
      out.push({ group: g.metadata?.name ?? '', version: v.version, resource: r.resource, kind: r.responseKind?.kind ?? '', namespaced: r.scope === 'Namespaced', verbs: r.verbs ?? [] });
    }
  }
  return out;
}

interface LegacyResourceList {
  resources?: Array<{ name: string; kind: string; namespaced: boolean; verbs?: string[] }>;
}

/** Resources of one legacy APIResourceList (subresources such as pods/status dropped). */
export function fromResourceList(group: string, version: string, doc: LegacyResourceList): ApiResource[] {
  return (doc.resources ?? [])
    .filter((r) => !r.name.includes('/'))
    .map((r) => ({ group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] }));
}

export async function discover(get: GetJSON): Promise<ApiResource[]> {
  const [core, groups] = await Promise.all([get('/api', AGGREGATED_ACCEPT), get('/apis', AGGREGATED_ACCEPT)]);
  const out: ApiResource[] = [];
  for (const [doc, isCore] of [
    [core, true],
    [groups, false],
  ] as const) {
    const d = doc as AggList & { versions?: string[]; groups?: Array<{ name: string; preferredVersion?: { version: string }; versions?: Array<{ version: string }> }> };
    if (d.kind === 'APIGroupDiscoveryList') {
      out.push(...fromAggregated(d));
    } else if (isCore) {
      const v = d.versions?.[0] ?? 'v1';
      out.push(...fromResourceList('', v, (await get(`/api/${v}`)) as LegacyResourceList));
    } else {
      const lists = await Promise.all(
        (d.groups ?? []).map(async (g) => {
          const v = g.preferredVersion?.version ?? g.versions?.[0]?.version;
          return v ? fromResourceList(g.name, v, (await get(`/apis/${g.name}/${v}`)) as LegacyResourceList) : [];
        }),
      );
      for (const l of lists) out.push(...l);
    }
  }
  return out;
}
