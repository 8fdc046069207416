// API discovery documents built from the served kinds: aggregated discovery v2/v2beta1 on /api and /apis, and the
// legacy APIVersions / APIGroupList / APIGroup / APIResourceList documents. Built once, served as cached strings.

import { createHash } from 'node:crypto';
import type { KindDef } from '../api/kinds/types.js';

export const DEFAULT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export interface ServedResource {
  def: KindDef;
  version: string;
}

export interface GroupInfo {
  group: string;
  /** Versions in preference order. */
  versions: string[];
}

interface SubresourceDoc {
  name: string;
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

function subresourcesOf(def: KindDef): SubresourceDoc[] {
  const out: SubresourceDoc[] = [];
  const extra = def.extraSubresources ?? [];
  const names = new Set(extra.map((e) => e.name));
  if (def.status && !names.has('status')) out.push({ name: 'status', group: def.group, version: def.version, kind: def.kind, verbs: ['get', 'patch', 'update'] });
  if (def.scale && !names.has('scale')) out.push({ name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  for (const e of extra) out.push({ name: e.name, group: e.group, version: e.version, kind: e.kind, verbs: e.verbs });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function storageVersionHash(def: KindDef): string {
  return createHash('sha256').update(`${def.group}/${def.version}/${def.kind}`).digest('base64').slice(0, 11);
}

export class Discovery {
  private readonly byGroup = new Map<string, Map<string, KindDef[]>>();
  private cache = new Map<string, string>();

  constructor(
    kinds: readonly KindDef[],
    public groups: GroupInfo[],
  ) {
    for (const g of groups) this.byGroup.set(g.group, new Map(g.versions.map((v) => [v, []])));
    for (const def of kinds) {
      const versions = [def.version, ...(def.otherVersions ?? []).map((v) => v.version)];
      for (const v of versions) {
        let gm = this.byGroup.get(def.group);
        if (!gm) {
          gm = new Map();
          this.byGroup.set(def.group, gm);
          this.groups.push({ group: def.group, versions: [v] });
        }
        let list = gm.get(v);
        if (!list) {
          list = [];
          gm.set(v, list);
          const gi = this.groups.find((x) => x.group === def.group);
          if (gi && !gi.versions.includes(v)) gi.versions.push(v);
        }
        list.push(def);
      }
    }
    // Upstream lists a group version's resources alphabetically (kubectl `get all` follows this order).
    for (const gm of this.byGroup.values()) for (const list of gm.values()) list.sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0));
    // Drop groups/versions with nothing served.
    for (const g of this.groups) g.versions = g.versions.filter((v) => (this.byGroup.get(g.group)?.get(v)?.length ?? 0) > 0);
    this.groups = this.groups.filter((g) => g.versions.length > 0);
  }

  /** Kinds served at group/version. */
  kinds(group: string, version: string): KindDef[] | undefined {
    return this.byGroup.get(group)?.get(version);
  }

  preferredVersion(group: string): string | undefined {
    return this.groups.find((g) => g.group === group)?.versions[0];
  }

  private memo(key: string, build: () => unknown): string {
    let s = this.cache.get(key);
    if (s === undefined) {
      s = JSON.stringify(build());
      this.cache.set(key, s);
    }
    return s;
  }

  /** Aggregated discovery (apidiscovery.k8s.io v2 or v2beta1) for /api (core) or /apis (named groups). */
  aggregated(core: boolean, apiVersion: 'v2' | 'v2beta1'): string {
    return this.memo(`agg:${core}:${apiVersion}`, () => ({
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${apiVersion}`,
      metadata: {},
      items: this.groups
        .filter((g) => (g.group === '') === core)
        .map((g) => ({
          metadata: { name: g.group, creationTimestamp: null },
          versions: g.versions.map((v) => ({
            version: v,
            resources: (this.kinds(g.group, v) ?? []).map((def) => {
              const r: Record<string, unknown> = {
                resource: def.plural,
                responseKind: { group: def.group, version: v, kind: def.kind },
                scope: def.namespaced ? 'Namespaced' : 'Cluster',
                singularResource: def.singular,
                verbs: def.verbs ?? DEFAULT_VERBS,
              };
              if (def.shortNames?.length) r.shortNames = def.shortNames;
              if (def.categories?.length) r.categories = def.categories;
              const subs = subresourcesOf(def);
              if (subs.length)
                r.subresources = subs.map((s) => ({
                  subresource: s.name,
                  responseKind: { group: s.group === def.group && s.version === def.version ? def.group : s.group, version: s.group === def.group && s.version === def.version ? v : s.version, kind: s.kind },
                  verbs: s.verbs,
                }));
              return r;
            }),
            freshness: 'Current',
          })),
        })),
    }));
  }

  /** Legacy /api. */
  apiVersions(serverAddress: string): string {
    return this.memo(`versions:${serverAddress}`, () => ({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    }));
  }

  private groupDoc(g: GroupInfo): Record<string, unknown> {
    const gv = (v: string) => ({ groupVersion: `${g.group}/${v}`, version: v });
    return { name: g.group, versions: g.versions.map(gv), preferredVersion: gv(g.versions[0]) };
  }

  /** Legacy /apis. */
  apiGroupList(): string {
    return this.memo('groups', () => ({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.groups.filter((g) => g.group !== '').map((g) => this.groupDoc(g)),
    }));
  }

  /** Legacy /apis/<group>. */
  apiGroup(group: string): string | undefined {
    const g = this.groups.find((x) => x.group === group && group !== '');
    if (!g) return undefined;
    return this.memo(`group:${group}`, () => ({ kind: 'APIGroup', apiVersion: 'v1', ...this.groupDoc(g) }));
  }

  /** Legacy /api/v1 or /apis/<group>/<version>. */
  resourceList(group: string, version: string): string | undefined {
    const kinds = this.kinds(group, version);
    if (!kinds) return undefined;
    return this.memo(`rl:${group}/${version}`, () => {
      const resources: Record<string, unknown>[] = [];
      for (const def of kinds) {
        const r: Record<string, unknown> = {
          name: def.plural,
          singularName: def.singular,
          namespaced: def.namespaced,
          kind: def.kind,
          verbs: def.verbs ?? DEFAULT_VERBS,
        };
        if (def.shortNames?.length) r.shortNames = def.shortNames;
        if (def.categories?.length) r.categories = def.categories;
        if (!def.verbs || def.verbs.includes('get')) r.storageVersionHash = storageVersionHash(def);
        resources.push(r);
        for (const s of subresourcesOf(def)) {
          const sr: Record<string, unknown> = { name: `${def.plural}/${s.name}`, singularName: '', namespaced: def.namespaced, kind: s.kind, verbs: s.verbs };
          if (s.group !== def.group || s.version !== def.version) {
            sr.group = s.group;
            sr.version = s.version;
          }
          resources.push(sr);
        }
      }
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
    });
  }
}
