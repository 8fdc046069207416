// Tests for the struct-tag table: the tag mini-language, merging into definitions, and that every entry names a
// real list/map field of the generated schemas (so the table cannot silently rot).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyExtensions, extensionsOf, parseTags, structTags } from './extensions.js';
import { definitions, useDefinitions } from './registry.js';

describe('parseTags', () => {
  const ok: [string, Record<string, unknown>][] = [
    ['patch=merge key=name list=map keys=name', { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }],
    ['patch=merge,retainKeys key=name list=map keys=name', { 'x-kubernetes-patch-strategy': 'merge,retainKeys', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }],
    ['list=map keys=containerPort,protocol', { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'] }],
    ['patch=merge list=set', { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' }],
    ['list=atomic', { 'x-kubernetes-list-type': 'atomic' }],
    ['map=atomic', { 'x-kubernetes-map-type': 'atomic' }],
    ['patch=retainKeys', { 'x-kubernetes-patch-strategy': 'retainKeys' }],
    ['preserve', { 'x-kubernetes-preserve-unknown-fields': true }],
  ];
  for (const [tags, want] of ok) it(`parses "${tags}"`, () => assert.deepEqual(extensionsOf(parseTags(tags)), want));

  const bad = ['patch=sideways', 'list=bag', 'list=map', 'keys=a', 'key=name', 'map=maybe', 'frob=1', 'key='];
  for (const tags of bad) it(`rejects "${tags}"`, () => assert.throws(() => parseTags(tags)));
});

describe('applyExtensions', () => {
  it('sets extensions on properties, wraps bare $refs, and reports unknown names', () => {
    const defs: Record<string, { properties?: Record<string, Record<string, unknown>>; [k: string]: unknown }> = {
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
        type: 'object',
        properties: {
          ownerReferences: { type: 'array', items: { $ref: '#/components/schemas/x' } },
          finalizers: { type: 'array', items: { type: 'string' } },
          managedFields: { type: 'array', items: { type: 'object' } },
        },
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': { type: 'object', properties: {} },
    };
    const problems = applyExtensions(defs);
    const om = defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties;
    assert.equal(om?.ownerReferences['x-kubernetes-patch-merge-key'], 'uid');
    assert.equal(om?.finalizers['x-kubernetes-list-type'], 'set');
    assert.equal(defs['io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference']['x-kubernetes-map-type'], 'atomic');
    // everything else in the table is missing from this tiny fixture, and says so
    assert.ok(problems.some((p) => p.startsWith('io.k8s.api.core.v1.PodSpec: no such definition')));
    assert.ok(problems.some((p) => p.startsWith('io.k8s.api.core.v1.Lifecycle.stopSignal: post-1.32 field')));
  });

  it('wraps a bare $ref property in allOf before adding extensions', () => {
    const defs: Record<string, { properties?: Record<string, Record<string, unknown>> }> = {
      'io.k8s.api.apps.v1.DeploymentSpec': { properties: { strategy: { $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' } } },
    };
    applyExtensions(defs);
    assert.deepEqual(defs['io.k8s.api.apps.v1.DeploymentSpec'].properties?.strategy, {
      allOf: [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }],
      'x-kubernetes-patch-strategy': 'retainKeys',
    });
  });
});

describe('structTags against the generated definitions', () => {
  it('every entry is a list (list tags), a map or struct (map tags), and merge keys are fields of the items', () => {
    useDefinitions(undefined);
    const defs = definitions();
    const resolve = (s: Record<string, unknown>): Record<string, unknown> => {
      const ref = (s.$ref as string | undefined) ?? ((s.allOf as { $ref: string }[] | undefined)?.[0]?.$ref);
      return ref ? (defs[ref.replace('#/components/schemas/', '')] as Record<string, unknown>) : s;
    };
    let checked = 0;
    for (const [name, fields] of Object.entries(structTags)) {
      const def = defs[name];
      assert.ok(def, name);
      for (const [field, text] of Object.entries(fields)) {
        const tags = parseTags(text);
        const prop = field === '.' ? def : def.properties?.[field];
        assert.ok(prop, `${name}.${field}`);
        if (tags.listType) assert.equal(prop.type, 'array', `${name}.${field} is a list`);
        if (tags.patchMergeKey || tags.listMapKeys) {
          const item = resolve(prop.items as Record<string, unknown>);
          const props = item.properties as Record<string, unknown>;
          for (const k of [tags.patchMergeKey, ...(tags.listMapKeys ?? [])]) if (k) assert.ok(props[k], `${name}.${field}: item has ${k}`);
        }
        if (tags.mapType) {
          const target = resolve(prop as Record<string, unknown>);
          assert.ok(target.properties || target.additionalProperties, `${name}.${field} is a struct or map`);
        }
        checked++;
      }
    }
    assert.ok(checked > 150, `checked ${checked} entries`);
  });
});
