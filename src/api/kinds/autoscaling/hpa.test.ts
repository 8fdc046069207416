// HorizontalPodAutoscaler: v2 defaults, v1 <-> v2 conversion (including annotation round trips), validation
// messages and the TARGETS cell.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../types.js';
import { messages, obj } from '../meta/testutil.js';
import { BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, hpaV1ToV2, hpaV2ToV1, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION } from './convert.js';
import { formatHPAMetrics, hpaKind } from './hpa.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const v2 = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => obj('autoscaling/v2', 'HorizontalPodAutoscaler', 'web', { spec: { scaleTargetRef: ref, maxReplicas: 5, ...spec }, ...(status ? { status } : {}) });
const v1 = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => obj('autoscaling/v1', 'HorizontalPodAutoscaler', 'web', { spec: { scaleTargetRef: ref, maxReplicas: 5, ...spec }, ...(status ? { status } : {}) });
const cpu = (pct: number): Record<string, unknown> => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } });

describe('HPA defaults (autoscaling/v2)', () => {
  test('minReplicas 1 and a cpu 80% metric when none is given', () => {
    const h = v2({});
    hpaKind.defaults!(h);
    assert.equal((h.spec as any).minReplicas, 1);
    assert.deepEqual((h.spec as any).metrics, [cpu(80)]);
    assert.equal((h.spec as any).behavior, undefined);
  });
  test('a partial behavior is completed with the default scaling rules', () => {
    const h = v2({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } });
    hpaKind.defaults!(h);
    assert.deepEqual((h.spec as any).behavior, {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], stabilizationWindowSeconds: 60 },
    });
  });
});

describe('autoscaling/v1 <-> v2 conversion', () => {
  test('targetCPUUtilizationPercentage becomes a Resource cpu Utilization metric and back', () => {
    const stored = hpaV1ToV2(v1({ minReplicas: 2, targetCPUUtilizationPercentage: 50 }, { currentReplicas: 3, desiredReplicas: 3, currentCPUUtilizationPercentage: 41 }));
    assert.equal(stored.apiVersion, 'autoscaling/v2');
    assert.deepEqual(stored.spec, { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 5, metrics: [cpu(50)] });
    assert.deepEqual(stored.status, { currentReplicas: 3, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 41 } } }] });
    const back = hpaV2ToV1(stored);
    assert.deepEqual(back.spec, { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 50 });
    assert.deepEqual(back.status, { currentReplicas: 3, desiredReplicas: 3, currentCPUUtilizationPercentage: 41 });
    // The raw cpu status travels in the current-metrics annotation (upstream keeps it for the raw value).
    assert.deepEqual(JSON.parse(back.metadata.annotations![METRIC_STATUSES_ANNOTATION]), [{ type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 41, currentAverageValue: '0' } }]);
  });
  test('a v1 object without a target gets the default 80% cpu metric', () => {
    assert.deepEqual((hpaV1ToV2(v1({})).spec as any).metrics, [cpu(80)]);
  });
  test('v2-only metrics, conditions and behavior survive a trip through v1', () => {
    const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };
    const pods = { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } };
    const external = { type: 'External', external: { metric: { name: 'queue', selector: { matchLabels: { q: 'jobs' } } }, target: { type: 'Value', value: '30' } } };
    const object = { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } };
    const behavior = { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Min', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] } };
    const conditions = [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'ReadyForNewScale', message: 'ok' }];
    const original = v2(
      { minReplicas: 1, metrics: [memory, cpu(70), pods, external, object], behavior },
      { currentReplicas: 2, desiredReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'memory', current: { averageValue: '50Mi' } } }], conditions },
    );
    const asV1 = hpaV2ToV1(original);
    assert.equal((asV1.spec as any).targetCPUUtilizationPercentage, 70);
    const ann = asV1.metadata.annotations!;
    assert.deepEqual(JSON.parse(ann[METRIC_SPECS_ANNOTATION]), [
      { type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } },
      { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10' } },
      { type: 'External', external: { metricName: 'queue', metricSelector: { matchLabels: { q: 'jobs' } }, targetValue: '30' } },
      { type: 'Object', object: { target: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' }, metricName: 'rps', targetValue: '2k' } },
    ]);
    assert.deepEqual(JSON.parse(ann[BEHAVIOR_ANNOTATION]), {
      ScaleUp: { StabilizationWindowSeconds: 0, SelectPolicy: 'Max', Policies: [{ Type: 'Pods', Value: 4, PeriodSeconds: 15 }] },
      ScaleDown: { StabilizationWindowSeconds: 300, SelectPolicy: 'Min', Policies: [{ Type: 'Percent', Value: 10, PeriodSeconds: 60 }] },
    });
    assert.deepEqual(JSON.parse(ann[CONDITIONS_ANNOTATION]), conditions);

    const again = hpaV1ToV2(asV1);
    assert.equal(again.metadata.annotations, undefined);
    // Upstream puts the v1 cpu target after the annotation's metrics.
    assert.deepEqual((again.spec as any).metrics, [memory, pods, external, object, cpu(70)]);
    assert.deepEqual((again.spec as any).behavior, behavior);
    assert.deepEqual((again.status as any).conditions, conditions);
    assert.deepEqual((again.status as any).currentMetrics, [{ type: 'Resource', resource: { name: 'memory', current: { averageValue: '50Mi' } } }]);
  });
  test('user annotations are kept both ways', () => {
    const o = v2({ metrics: [cpu(60)] });
    o.metadata.annotations = { owner: 'team-a' };
    const there = hpaV2ToV1(o);
    assert.deepEqual(there.metadata.annotations, { owner: 'team-a' });
    assert.deepEqual(hpaV1ToV2(there).metadata.annotations, { owner: 'team-a' });
  });
  test('prepareForCreate drops round-trip annotations a v2 client copied', () => {
    const o = v2({});
    o.metadata.annotations = { [METRIC_SPECS_ANNOTATION]: '[]', keep: 'x' };
    hpaKind.prepareForCreate!(o);
    assert.deepEqual(o.metadata.annotations, { keep: 'x' });
    assert.deepEqual(o.status, { desiredReplicas: 0 });
  });
});

describe('HPA validation messages', () => {
  const cases: { name: string; spec: Record<string, unknown>; want: string[] }[] = [
    { name: 'valid', spec: { minReplicas: 1, metrics: [cpu(80)] }, want: [] },
    {
      name: 'replica bounds',
      spec: { minReplicas: 0, maxReplicas: 0, metrics: [cpu(80)] },
      want: [
        'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
        'spec.maxReplicas: Invalid value: 0: must be greater than 0',
        'spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas',
      ],
    },
    {
      name: 'maxReplicas below minReplicas',
      spec: { minReplicas: 4, maxReplicas: 2, metrics: [cpu(80)] },
      want: ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`'],
    },
    { name: 'scale target', spec: { minReplicas: 1, scaleTargetRef: { kind: '', name: 'a/b' }, metrics: [cpu(80)] }, want: ['spec.scaleTargetRef.kind: Required value', "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"] },
    {
      name: 'resource metric with both targets',
      spec: { minReplicas: 1, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0, averageValue: '100m' } } }] },
      want: ['spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0', 'spec.metrics[0].resource.target.averageValue: Forbidden: may not set both a target raw value and a target utilization'],
    },
    {
      name: 'unknown metric type',
      spec: { minReplicas: 1, metrics: [{ type: 'Magic' }] },
      want: ['spec.metrics[0].type: Unsupported value: "Magic": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"'],
    },
    {
      name: 'metric source that does not match the type',
      spec: { minReplicas: 1, metrics: [{ type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      want: ['spec.metrics[0].pods: Required value: must populate information for the given metric source'],
    },
    {
      name: 'two metric sources in one metric',
      spec: { minReplicas: 1, metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1' } }, resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      want: ['spec.metrics[0].resource: Forbidden: must populate the given metric source only'],
    },
    {
      name: 'behavior policies',
      spec: { minReplicas: 1, metrics: [cpu(80)], behavior: { scaleUp: { selectPolicy: 'Sometimes', policies: [{ type: 'Pods', value: 0, periodSeconds: 3600 }] }, scaleDown: { policies: [] } } },
      want: [
        'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Sometimes": supported values: "Disabled", "Max", "Min"',
        'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
        'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 3600: must be less than or equal to 1800',
        'spec.behavior.scaleDown.policies: Required value: must specify at least one Policy',
      ],
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      assert.deepEqual(messages(hpaKind.validate!(v2(c.spec))), c.want);
    });
});

describe('HPA table', () => {
  test('kubectl autoscale output before metrics arrive', () => {
    const h = hpaV1ToV2(v1({ minReplicas: 1 }));
    hpaKind.defaults!(h);
    hpaKind.prepareForCreate!(h);
    assert.deepEqual(hpaKind.table!.cells(h, NOW), ['web', 'Deployment/web', 'cpu: <unknown>/80%', '1', 5, 0, '5m']);
  });
  test('formatHPAMetrics cases', () => {
    assert.equal(formatHPAMetrics([], []), '<none>');
    assert.equal(formatHPAMetrics([cpu(80)], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12 } } }]), 'cpu: 12%/80%');
    assert.equal(
      formatHPAMetrics(
        [
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
          { type: 'External', external: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '30' } } },
        ],
        [{ type: 'Resource', resource: { name: 'memory', current: { averageValue: '50Mi' } } }],
      ),
      'memory: 50Mi/100Mi, <unknown>/10 + 1 more...',
    );
    assert.equal(formatHPAMetrics([{ type: 'Object', object: { describedObject: {}, metric: { name: 'x' }, target: { type: 'Value', value: '2' } } }], []), '<unknown>/2');
    assert.equal(formatHPAMetrics([{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '30' } } }], []), '<unknown>/30 (avg)');
  });
});
