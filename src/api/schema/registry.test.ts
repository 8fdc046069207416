// Tests for the schema registry: $ref resolution (allOf wrappers, shared children, cycles), the GVK index, and the
// generated built-in definitions (dist/openapi/definitions.json from `npm run build`).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { definitions, definitionSchema, kindDefinitionName, kindSchema, refTarget, useDefinitions } from './registry.js';
import type { Definitions } from './registry.js';

const R = (n: string) => ({ $ref: `#/components/schemas/${n}` });

const fixture: Definitions = {
  'test.v1.Widget': {
    type: 'object',
    description: 'A widget.',
    properties: {
      spec: { description: 'The spec.', allOf: [R('test.v1.WidgetSpec')] },
      status: R('test.v1.WidgetStatus'),
    },
    'x-kubernetes-group-version-kind': [{ group: 'test.io', version: 'v1', kind: 'Widget' }],
  },
  'test.v1.WidgetSpec': {
    type: 'object',
    description: 'WidgetSpec is the spec.',
    properties: {
      parts: { type: 'array', items: R('test.v1.Part'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
  'test.v1.WidgetStatus': { type: 'object', properties: { ready: { type: 'boolean' } } },
  // A recursive type, like JSONSchemaProps.
  'test.v1.Part': {
    type: 'object',
    properties: {
      name: { type: 'string' },
      children: { type: 'array', items: R('test.v1.Part') },
      parent: { description: 'The parent part.', allOf: [R('test.v1.Part')] },
    },
  },
};

describe('schema registry (fixture definitions)', () => {
  after(() => useDefinitions(undefined));

  it('resolves a kind by GVK with $refs replaced by nodes', () => {
    useDefinitions(fixture);
    const w = kindSchema('test.io', 'v1', 'Widget');
    assert.ok(w);
    assert.equal(w['x-k8ts-ref'], 'test.v1.Widget');
    assert.equal(kindDefinitionName('test.io', 'v1', 'Widget'), 'test.v1.Widget');
    assert.equal(kindSchema('test.io', 'v2', 'Widget'), undefined);
    // status is a bare $ref: the definition's node itself
    assert.equal(w.properties?.status, definitionSchema('test.v1.WidgetStatus'));
    // spec has its own description: a wrapper node sharing the definition's properties
    const spec = w.properties?.spec;
    assert.ok(spec);
    assert.equal(spec.description, 'The spec.');
    assert.equal(spec['x-k8ts-ref'], 'test.v1.WidgetSpec');
    assert.equal(spec.type, 'object');
    assert.equal(spec.properties, definitionSchema('test.v1.WidgetSpec')?.properties);
    assert.equal(definitionSchema('test.v1.WidgetSpec')?.description, 'WidgetSpec is the spec.');
    const parts = spec.properties?.parts;
    assert.equal(parts?.['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(parts?.items?.['x-k8ts-ref'], 'test.v1.Part');
    assert.deepEqual(spec.properties?.labels?.additionalProperties, { type: 'string' });
  });

  it('allows cycles (recursive types) and caches nodes', () => {
    useDefinitions(fixture);
    const part = definitionSchema('test.v1.Part');
    assert.ok(part);
    assert.equal(part.properties?.children?.items, part);
    const parent = part.properties?.parent;
    assert.equal(parent?.description, 'The parent part.');
    assert.equal(parent?.properties, part.properties);
    assert.equal(definitionSchema('test.v1.Part'), part);
  });

  it('refTarget reads $ref and single-element allOf', () => {
    assert.equal(refTarget(R('a.B')), 'a.B');
    assert.equal(refTarget({ allOf: [R('a.C')], description: 'x' }), 'a.C');
    assert.equal(refTarget({ allOf: [R('a.C'), R('a.D')] }), undefined);
    assert.equal(refTarget({ $ref: '#/definitions/a.B' }), undefined);
    assert.equal(refTarget({ type: 'string' }), undefined);
  });
});

describe('schema registry (built-in definitions)', () => {
  after(() => useDefinitions(undefined));

  it('loads the generated definitions with upstream names and GVKs', () => {
    useDefinitions(undefined);
    const defs = definitions();
    for (const name of [
      'io.k8s.api.apps.v1.Deployment',
      'io.k8s.api.core.v1.PodSpec',
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
      'io.k8s.apimachinery.pkg.api.resource.Quantity',
      'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
      'io.k8s.api.autoscaling.v1.Scale',
    ]) {
      assert.ok(defs[name], name);
    }
    assert.deepEqual(defs['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    assert.equal(kindDefinitionName('', 'v1', 'Pod'), 'io.k8s.api.core.v1.Pod');
    assert.equal(kindDefinitionName('autoscaling', 'v1', 'HorizontalPodAutoscaler'), 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler');
    assert.equal(kindDefinitionName('', 'v1', 'PodList'), 'io.k8s.api.core.v1.PodList');
  });

  it('carries types, formats and required as upstream', () => {
    const spec = definitionSchema('io.k8s.api.apps.v1.DeploymentSpec');
    assert.ok(spec);
    assert.deepEqual(spec.required, ['selector', 'template']);
    assert.equal(spec.properties?.replicas?.type, 'integer');
    assert.equal(spec.properties?.replicas?.format, 'int32');
    const psc = definitionSchema('io.k8s.api.core.v1.PodSecurityContext');
    assert.equal(psc?.properties?.runAsUser?.format, 'int64');
    assert.deepEqual(psc?.properties?.supplementalGroups?.items, { type: 'integer', format: 'int64' });
    assert.equal(definitionSchema('io.k8s.api.core.v1.Secret')?.properties?.data?.additionalProperties && (definitionSchema('io.k8s.api.core.v1.Secret')?.properties?.data?.additionalProperties as { format?: string }).format, 'byte');
    assert.equal(definitionSchema('io.k8s.apimachinery.pkg.apis.meta.v1.Time')?.format, 'date-time');
    const ios = definitionSchema('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.equal(ios?.['x-kubernetes-int-or-string'], true);
    assert.equal(ios?.format, 'int-or-string');
    const strat = definitionSchema('io.k8s.api.apps.v1.DeploymentStrategy');
    assert.deepEqual(strat?.properties?.type?.enum, ['Recreate', 'RollingUpdate']);
    // apiVersion/kind of kinds are documented but not required
    const dep = kindSchema('apps', 'v1', 'Deployment');
    assert.match(dep?.properties?.apiVersion?.description ?? '', /^APIVersion defines the versioned schema/);
    assert.equal(dep?.required, undefined);
    // descriptions are unescaped (kubernetes-models writes \\* for *)
    const rule = definitionSchema('io.k8s.api.admissionregistration.v1.RuleWithOperations');
    assert.match(rule?.properties?.resources?.description ?? '', /'\*\/scale' means all scale subresources/);
  });

  it('merges the struct-tag extensions (patch strategy on properties that refer to definitions too)', () => {
    const pod = kindSchema('', 'v1', 'Pod');
    const podSpec = pod?.properties?.spec;
    assert.equal(podSpec?.['x-k8ts-ref'], 'io.k8s.api.core.v1.PodSpec');
    const c = podSpec?.properties?.containers;
    assert.equal(c?.['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(c?.['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(c?.['x-kubernetes-list-type'], 'map');
    assert.deepEqual(c?.['x-kubernetes-list-map-keys'], ['name']);
    assert.deepEqual(c?.items?.properties?.ports?.['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.equal(podSpec?.properties?.volumes?.['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    assert.equal(podSpec?.properties?.tolerations?.['x-kubernetes-list-type'], 'atomic');
    assert.equal(podSpec?.properties?.tolerations?.['x-kubernetes-patch-strategy'], undefined);
    const dep = kindSchema('apps', 'v1', 'Deployment');
    const strategy = dep?.properties?.spec?.properties?.strategy;
    assert.equal(strategy?.['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.equal(strategy?.['x-k8ts-ref'], 'io.k8s.api.apps.v1.DeploymentStrategy');
    assert.ok(strategy?.properties?.rollingUpdate);
    const meta = dep?.properties?.metadata;
    assert.equal(meta?.properties?.ownerReferences?.['x-kubernetes-patch-merge-key'], 'uid');
    assert.equal(meta?.properties?.finalizers?.['x-kubernetes-list-type'], 'set');
    assert.equal(dep?.properties?.spec?.properties?.selector?.['x-kubernetes-map-type'], 'atomic');
  });

  it('drops fields that only Kubernetes 1.33 has', () => {
    assert.equal(definitionSchema('io.k8s.api.core.v1.Lifecycle')?.properties?.stopSignal, undefined);
    assert.ok(definitionSchema('io.k8s.api.core.v1.Lifecycle')?.properties?.preStop);
    assert.equal(definitionSchema('io.k8s.api.core.v1.PodStatus')?.properties?.observedGeneration, undefined);
    assert.equal(definitions()['io.k8s.api.discovery.v1.ForNode'], undefined);
  });
});
