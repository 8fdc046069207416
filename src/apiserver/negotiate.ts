// Alternative representations a client asks for in Accept — `as=Table`, `as=PartialObjectMetadata` (get, watch)
// and `as=PartialObjectMetadataList` (list), with `g=meta.k8s.io;v=v1|v1beta1` — chosen as upstream does: the
// first media range this endpoint can serve wins, a plain one (`application/json`, `*/*`) means the object itself.

import type { KubeObject, ListMeta } from '../api/types.js';

export type MetaVersion = 'v1' | 'v1beta1';
export type Target = 'object' | 'list' | 'watch';
/** What to reply with: a Table, metadata only, or (undefined) the object or list itself. */
export type Representation = { as: 'Table'; version: MetaVersion } | { as: 'PartialObjectMetadata'; version: MetaVersion } | undefined;

const cache = new Map<string, Representation | null>();

function parse(accept: string, target: Target): Representation {
  for (const part of accept.split(',')) {
    const params = new Map<string, string>();
    const [type = '', ...rest] = part.split(';');
    for (const kv of rest) {
      const eq = kv.indexOf('=');
      if (eq > 0) params.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
    }
    const as = params.get('as');
    if (as === undefined) {
      const t = type.trim();
      if (t === 'application/json' || t === '*/*' || t === 'application/*' || t === 'application/yaml' || t === '') return undefined;
      continue; // e.g. protobuf without `as`: we answer in JSON, so look for a better match first
    }
    const v = params.get('v');
    if (params.get('g') !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
    if (as === 'Table') return { as: 'Table', version: v };
    if (as === (target === 'list' ? 'PartialObjectMetadataList' : 'PartialObjectMetadata')) return { as: 'PartialObjectMetadata', version: v };
  }
  return undefined;
}

/** The representation Accept asks for at this kind of endpoint (memoised: clients send a handful of headers). */
export function representation(accept: string | undefined, target: Target): Representation {
  if (!accept || !accept.includes('as=')) return undefined;
  const key = `${target} ${accept}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  const r = parse(accept, target);
  if (cache.size > 1_000) cache.clear();
  cache.set(key, r ?? null);
  return r;
}

/** The object as meta.k8s.io PartialObjectMetadata (its metadata, managedFields included, as upstream). */
export function partialObjectMetadata(obj: KubeObject, version: MetaVersion): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export function partialObjectMetadataList(items: KubeObject[], listMeta: ListMeta, version: MetaVersion): Record<string, unknown> {
  return { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${version}`, metadata: listMeta, items: items.map((o) => partialObjectMetadata(o, version)) };
}
