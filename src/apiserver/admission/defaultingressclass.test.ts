// DefaultIngressClass rules: which class is the default, and when an Ingress gets it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { defaultIngressClass } from './defaultingressclass.js';

const cls = (name: string, created: string, isDefault?: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, creationTimestamp: created, ...(isDefault !== undefined ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': isDefault } } : {}) },
});

test('defaultIngressClass: annotated "true" only; the newest of several; ties by name', () => {
  const cases: [KubeObject[], string | undefined][] = [
    [[], undefined],
    [[cls('a', '2026-01-01T00:00:00Z')], undefined],
    [[cls('a', '2026-01-01T00:00:00Z', 'false'), cls('b', '2026-01-02T00:00:00Z', 'TRUE')], undefined],
    [[cls('a', '2026-01-01T00:00:00Z', 'true')], 'a'],
    [[cls('old', '2026-01-01T00:00:00Z', 'true'), cls('new', '2026-02-01T00:00:00Z', 'true'), cls('newest-not-default', '2026-03-01T00:00:00Z')], 'new'],
    [[cls('z', '2026-01-01T00:00:00Z', 'true'), cls('m', '2026-01-01T00:00:00Z', 'true')], 'm'],
  ];
  for (const [classes, want] of cases) assert.equal(defaultIngressClass(classes)?.metadata.name, want, JSON.stringify(classes.map((c) => c.metadata)));
});
