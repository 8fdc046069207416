// Our table of upstream struct-tag facts (k8s.io/api and apimachinery v0.32: `patchStrategy`/`patchMergeKey` tags,
// `+listType`, `+listMapKey`, `+mapType`, `+structType` markers) for the built-in types, and the code that merges
// them into the generated OpenAPI definitions as x-kubernetes-* extensions (run by scripts/gen-openapi.mjs).
//
// Table format: definition name → field → tag string; the field "." means the definition itself.
//   patch=merge | patch=retainKeys | patch=merge,retainKeys   → x-kubernetes-patch-strategy
//   key=<field>                                               → x-kubernetes-patch-merge-key
//   list=atomic|set|map  keys=<k1>,<k2>                       → x-kubernetes-list-type / -list-map-keys
//   map=atomic|granular                                       → x-kubernetes-map-type
//   preserve                                                  → x-kubernetes-preserve-unknown-fields: true
// A list without an entry is atomic for strategic merge patch (replaced as a whole).

export interface FieldTags {
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
  mapType?: 'atomic' | 'granular';
  preserveUnknownFields?: boolean;
}

/** Parse one tag string of the table (throws on anything it does not know, so typos fail the build). */
export function parseTags(tags: string): FieldTags {
  const out: FieldTags = {};
  for (const word of tags.trim().split(/\s+/)) {
    if (word === '') continue;
    if (word === 'preserve') {
      out.preserveUnknownFields = true;
      continue;
    }
    const eq = word.indexOf('=');
    const k = eq < 0 ? word : word.slice(0, eq);
    const v = eq < 0 ? '' : word.slice(eq + 1);
    switch (k) {
      case 'patch':
        if (!/^(merge|retainKeys|replace|merge,retainKeys)$/.test(v)) throw new Error(`bad patch strategy in "${tags}"`);
        out.patchStrategy = v;
        break;
      case 'key':
        if (v === '') throw new Error(`empty merge key in "${tags}"`);
        out.patchMergeKey = v;
        break;
      case 'list':
        if (v !== 'atomic' && v !== 'set' && v !== 'map') throw new Error(`bad list type in "${tags}"`);
        out.listType = v;
        break;
      case 'keys':
        out.listMapKeys = v.split(',').filter((x) => x !== '');
        if (out.listMapKeys.length === 0) throw new Error(`empty list map keys in "${tags}"`);
        break;
      case 'map':
        if (v !== 'atomic' && v !== 'granular') throw new Error(`bad map type in "${tags}"`);
        out.mapType = v;
        break;
      default:
        throw new Error(`unknown tag "${word}" in "${tags}"`);
    }
  }
  if (out.listType === 'map' && !out.listMapKeys) throw new Error(`list=map without keys in "${tags}"`);
  if (out.listMapKeys && out.listType !== 'map') throw new Error(`keys without list=map in "${tags}"`);
  if (out.patchMergeKey && !out.patchStrategy?.includes('merge')) throw new Error(`key without patch=merge in "${tags}"`);
  return out;
}

/** The x-kubernetes-* extension object for a tag string. */
export function extensionsOf(tags: FieldTags): Record<string, unknown> {
  const x: Record<string, unknown> = {};
  if (tags.patchStrategy) x['x-kubernetes-patch-strategy'] = tags.patchStrategy;
  if (tags.patchMergeKey) x['x-kubernetes-patch-merge-key'] = tags.patchMergeKey;
  if (tags.listType) x['x-kubernetes-list-type'] = tags.listType;
  if (tags.listMapKeys) x['x-kubernetes-list-map-keys'] = tags.listMapKeys;
  if (tags.mapType) x['x-kubernetes-map-type'] = tags.mapType;
  if (tags.preserveUnknownFields) x['x-kubernetes-preserve-unknown-fields'] = true;
  return x;
}

const core = 'io.k8s.api.core.v1.';
const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

// Shorthands for the common tag combinations.
const MERGE = (key: string): string => `patch=merge key=${key} list=map keys=${key}`;
const ATOMIC = 'list=atomic';
const SET = 'list=set';
const ATOMIC_STRUCT = { '.': 'map=atomic' };

export const structTags: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // ---- meta/v1 ----
  [`${meta}ObjectMeta`]: {
    ownerReferences: MERGE('uid'),
    finalizers: 'patch=merge list=set',
    managedFields: ATOMIC,
  },
};

/**
 * Fields that kubernetes-models (Kubernetes 1.33 schemas) has but Kubernetes 1.32 does not: dropped from the
 * generated definitions so that validation and `kubectl explain` match 1.32.
 */
export const fieldsAddedAfter132: Readonly<Record<string, readonly string[]>> = {
  [`${core}Lifecycle`]: ['stopSignal'],
  [`${core}ContainerStatus`]: ['stopSignal'],
  [`${core}PodStatus`]: ['observedGeneration'],
  [`${core}PodCondition`]: ['observedGeneration'],
  'io.k8s.api.discovery.v1.EndpointHints': ['forNodes'],
  'io.k8s.api.autoscaling.v2.HPAScalingRules': ['tolerance'],
  'io.k8s.api.storage.v1.CSIDriverSpec': ['nodeAllocatableUpdatePeriodSeconds'],
};

/** Definitions that only 1.33 has (dropped with the fields above). */
export const definitionsAddedAfter132: readonly string[] = ['io.k8s.api.discovery.v1.ForNode'];

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  required?: string[];
  [k: string]: unknown;
}

/**
 * Merge the table into generated definitions (mutates), after dropping post-1.32 fields. Returns problems: table
 * entries naming a definition or field the schemas do not have, or post-1.32 fields already gone.
 */
export function applyExtensions(defs: Record<string, JsonSchema>): string[] {
  const problems: string[] = [];
  for (const [name, fields] of Object.entries(fieldsAddedAfter132)) {
    const d = defs[name];
    for (const f of fields) {
      if (!d?.properties?.[f]) {
        problems.push(`${name}.${f}: post-1.32 field not in the schemas`);
        continue;
      }
      delete d.properties[f];
      if (d.required) d.required = d.required.filter((r) => r !== f);
    }
  }
  for (const name of definitionsAddedAfter132) {
    if (!defs[name]) problems.push(`${name}: post-1.32 definition not in the schemas`);
    delete defs[name];
  }
  for (const [name, fields] of Object.entries(structTags)) {
    const d = defs[name];
    if (!d) {
      problems.push(`${name}: no such definition`);
      continue;
    }
    for (const [field, tagText] of Object.entries(fields)) {
      let tags: FieldTags;
      try {
        tags = parseTags(tagText);
      } catch (err) {
        problems.push(`${name}.${field}: ${(err as Error).message}`);
        continue;
      }
      const target = field === '.' ? d : d.properties?.[field];
      if (!target) {
        problems.push(`${name}.${field}: no such field`);
        continue;
      }
      if (tags.listType && field !== '.' && target.type !== 'array') problems.push(`${name}.${field}: list tags on a non-list`);
      if (typeof target.$ref === 'string') {
        // extensions beside a bare $ref would be ignored by OpenAPI 3.0 tools: wrap it, as upstream does
        target.allOf = [{ $ref: target.$ref }];
        delete target.$ref;
      }
      Object.assign(target, extensionsOf(tags));
    }
  }
  return problems;
}
