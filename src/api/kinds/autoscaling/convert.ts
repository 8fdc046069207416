// HorizontalPodAutoscaler conversion between autoscaling/v2 (stored) and autoscaling/v1, as upstream's
// pkg/apis/autoscaling/v1/conversion.go: v1 keeps one CPU utilization target; every other metric, the metric
// statuses, the conditions and the scaling behavior travel in annotations so v1 round trips lose nothing.

import type { KubeObject } from '../../types.js';
import { arr, clone, isRecord, rec } from '../meta/validation.js';

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
export const ROUND_TRIP_ANNOTATIONS = [METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

/** autoscaling.DefaultCPUUtilization. */
export const DEFAULT_CPU_UTILIZATION = 80;

type Obj = Record<string, unknown>;

/** Copy only the keys whose values are set (Go's omitempty for pointers). */
function compact(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

const ref = (r: unknown): Obj => {
  const x = rec(r);
  return compact({ kind: x.kind ?? '', name: x.name ?? '', apiVersion: x.apiVersion });
};

const cpuUtilizationMetric = (pct: number): Obj => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } });

// ---- MetricSpec / MetricStatus (v2 <-> v1 annotation format) ----

function metricSpecToV1(m: Obj): Obj {
  const out: Obj = { type: m.type };
  if (isRecord(m.object)) {
    const s = m.object;
    const t = rec(s.target);
    out.object = compact({ target: ref(s.describedObject), metricName: rec(s.metric).name ?? '', targetValue: t.value ?? '0', selector: rec(s.metric).selector, averageValue: t.averageValue });
  }
  if (isRecord(m.pods)) {
    const s = m.pods;
    out.pods = compact({ metricName: rec(s.metric).name ?? '', targetAverageValue: rec(s.target).averageValue ?? '0', selector: rec(s.metric).selector });
  }
  if (isRecord(m.resource)) {
    const s = m.resource;
    const t = rec(s.target);
    out.resource = compact({ name: s.name ?? '', targetAverageUtilization: t.averageUtilization, targetAverageValue: t.averageValue });
  }
  if (isRecord(m.containerResource)) {
    const s = m.containerResource;
    const t = rec(s.target);
    out.containerResource = compact({ name: s.name ?? '', targetAverageUtilization: t.averageUtilization, targetAverageValue: t.averageValue, container: s.container ?? '' });
  }
  if (isRecord(m.external)) {
    const s = m.external;
    const t = rec(s.target);
    out.external = compact({ metricName: rec(s.metric).name ?? '', metricSelector: rec(s.metric).selector, targetValue: t.value, targetAverageValue: t.averageValue });
  }
  return out;
}

function metricSpecFromV1(m: Obj): Obj {
  const out: Obj = { type: m.type };
  if (isRecord(m.object)) {
    const s = m.object;
    out.object = {
      describedObject: ref(s.target),
      target: compact({ type: s.averageValue === undefined || s.averageValue === null ? 'Value' : 'AverageValue', value: s.targetValue ?? '0', averageValue: s.averageValue }),
      metric: compact({ name: s.metricName ?? '', selector: s.selector }),
    };
  }
  if (isRecord(m.pods)) {
    const s = m.pods;
    out.pods = { metric: compact({ name: s.metricName ?? '', selector: s.selector }), target: { type: 'AverageValue', averageValue: s.targetAverageValue ?? '0' } };
  }
  if (isRecord(m.resource)) {
    const s = m.resource;
    const util = s.targetAverageUtilization;
    out.resource = { name: s.name ?? '', target: compact({ type: util === undefined || util === null ? 'AverageValue' : 'Utilization', averageValue: s.targetAverageValue, averageUtilization: util }) };
  }
  if (isRecord(m.containerResource)) {
    const s = m.containerResource;
    const util = s.targetAverageUtilization;
    out.containerResource = {
      name: s.name ?? '',
      target: compact({ type: util === undefined || util === null ? 'AverageValue' : 'Utilization', averageValue: s.targetAverageValue, averageUtilization: util }),
      container: s.container ?? '',
    };
  }
  if (isRecord(m.external)) {
    const s = m.external;
    out.external = {
      metric: compact({ name: s.metricName ?? '', selector: s.metricSelector }),
      target: compact({ type: s.targetValue === undefined || s.targetValue === null ? 'AverageValue' : 'Value', value: s.targetValue, averageValue: s.targetAverageValue }),
    };
  }
  return out;
}

function metricStatusToV1(m: Obj): Obj {
  const out: Obj = { type: m.type };
  if (isRecord(m.object)) {
    const s = m.object;
    const c = rec(s.current);
    out.object = compact({ target: ref(s.describedObject), metricName: rec(s.metric).name ?? '', currentValue: c.value ?? '0', selector: rec(s.metric).selector, averageValue: c.averageValue });
  }
  if (isRecord(m.pods)) {
    const s = m.pods;
    out.pods = compact({ metricName: rec(s.metric).name ?? '', currentAverageValue: rec(s.current).averageValue ?? '0', selector: rec(s.metric).selector });
  }
  if (isRecord(m.resource)) {
    const s = m.resource;
    const c = rec(s.current);
    out.resource = compact({ name: s.name ?? '', currentAverageUtilization: c.averageUtilization, currentAverageValue: c.averageValue ?? '0' });
  }
  if (isRecord(m.containerResource)) {
    const s = m.containerResource;
    const c = rec(s.current);
    out.containerResource = compact({ name: s.name ?? '', currentAverageUtilization: c.averageUtilization, currentAverageValue: c.averageValue ?? '0', container: s.container ?? '' });
  }
  if (isRecord(m.external)) {
    const s = m.external;
    const c = rec(s.current);
    out.external = compact({ metricName: rec(s.metric).name ?? '', metricSelector: rec(s.metric).selector, currentValue: c.value ?? '0', currentAverageValue: c.averageValue });
  }
  return out;
}

function metricStatusFromV1(m: Obj): Obj {
  const out: Obj = { type: m.type };
  if (isRecord(m.object)) {
    const s = m.object;
    out.object = { metric: compact({ name: s.metricName ?? '', selector: s.selector }), current: compact({ value: s.currentValue ?? '0', averageValue: s.averageValue }), describedObject: ref(s.target) };
  }
  if (isRecord(m.pods)) {
    const s = m.pods;
    out.pods = { metric: compact({ name: s.metricName ?? '', selector: s.selector }), current: { averageValue: s.currentAverageValue ?? '0' } };
  }
  if (isRecord(m.resource)) {
    const s = m.resource;
    out.resource = { name: s.name ?? '', current: compact({ averageValue: s.currentAverageValue ?? '0', averageUtilization: s.currentAverageUtilization }) };
  }
  if (isRecord(m.containerResource)) {
    const s = m.containerResource;
    out.containerResource = { name: s.name ?? '', current: compact({ averageValue: s.currentAverageValue ?? '0', averageUtilization: s.currentAverageUtilization }), container: s.container ?? '' };
  }
  if (isRecord(m.external)) {
    const s = m.external;
    out.external = { metric: compact({ name: s.metricName ?? '', selector: s.metricSelector }), current: compact({ value: s.currentValue ?? '0', averageValue: s.currentAverageValue }) };
  }
  return out;
}

// ---- behavior: upstream marshals the internal Go struct (no json tags), so the annotation uses Go field names ----

function rulesToGo(r: unknown): unknown {
  if (!isRecord(r)) return null;
  return {
    StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
    SelectPolicy: r.selectPolicy ?? null,
    Policies: Array.isArray(r.policies) ? r.policies.map((p) => ({ Type: rec(p).type ?? '', Value: rec(p).value ?? 0, PeriodSeconds: rec(p).periodSeconds ?? 0 })) : null,
  };
}

function rulesFromGo(r: unknown): Obj | undefined {
  if (!isRecord(r)) return undefined;
  return compact({
    stabilizationWindowSeconds: r.StabilizationWindowSeconds,
    selectPolicy: r.SelectPolicy,
    policies: Array.isArray(r.Policies) ? r.Policies.map((p) => ({ type: rec(p).Type, value: rec(p).Value, periodSeconds: rec(p).PeriodSeconds })) : undefined,
  });
}

function parseJSON(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** autoscaling/v2 (stored) → autoscaling/v1. */
export function hpaV2ToV1(obj: KubeObject): KubeObject {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const metrics = arr(spec.metrics).map(rec);
  const out: KubeObject = { ...clone(obj), apiVersion: 'autoscaling/v1', metadata: clone(obj.metadata) };
  const v1spec: Obj = { scaleTargetRef: ref(spec.scaleTargetRef) };
  if (spec.minReplicas !== undefined && spec.minReplicas !== null) v1spec.minReplicas = spec.minReplicas;
  v1spec.maxReplicas = spec.maxReplicas ?? 0;
  for (const m of metrics) {
    const r = rec(m.resource);
    if (m.type === 'Resource' && isRecord(m.resource) && r.name === 'cpu') {
      const u = rec(r.target).averageUtilization;
      if (typeof u === 'number') v1spec.targetCPUUtilizationPercentage = u;
      break;
    }
  }
  out.spec = v1spec;

  const v1status: Obj = {};
  if (status.observedGeneration !== undefined && status.observedGeneration !== null) v1status.observedGeneration = status.observedGeneration;
  if (status.lastScaleTime !== undefined && status.lastScaleTime !== null) v1status.lastScaleTime = status.lastScaleTime;
  v1status.currentReplicas = status.currentReplicas ?? 0;
  v1status.desiredReplicas = status.desiredReplicas ?? 0;
  for (const m of arr(status.currentMetrics).map(rec)) {
    const r = rec(m.resource);
    if (m.type === 'Resource' && isRecord(m.resource) && r.name === 'cpu') {
      const u = rec(r.current).averageUtilization;
      if (typeof u === 'number') v1status.currentCPUUtilizationPercentage = u;
    }
  }
  if (obj.status !== undefined) out.status = v1status;

  const annotations: Record<string, string> = { ...(obj.metadata.annotations ?? {}) };
  const other = metrics.filter((m) => !(m.type === 'Resource' && isRecord(m.resource) && m.resource.name === 'cpu' && typeof rec(m.resource.target).averageUtilization === 'number'));
  if (other.length) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(other.map(metricSpecToV1));
  const current = arr(status.currentMetrics).map(rec);
  if (current.length) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(current.map(metricStatusToV1));
  const conditions = arr(status.conditions);
  if (conditions.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conditions);
  if (isRecord(spec.behavior)) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify({ ScaleUp: rulesToGo(spec.behavior.scaleUp), ScaleDown: rulesToGo(spec.behavior.scaleDown) });
  if (Object.keys(annotations).length) out.metadata.annotations = annotations;
  return out;
}

/** autoscaling/v1 → autoscaling/v2 (stored); annotations written by hpaV2ToV1 are lifted back out. */
export function hpaV1ToV2(obj: KubeObject): KubeObject {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const out: KubeObject = { ...clone(obj), apiVersion: 'autoscaling/v2', metadata: clone(obj.metadata) };
  const annotations: Record<string, string> = { ...(obj.metadata.annotations ?? {}) };

  const v2spec: Obj = { scaleTargetRef: ref(spec.scaleTargetRef) };
  if (spec.minReplicas !== undefined && spec.minReplicas !== null) v2spec.minReplicas = spec.minReplicas;
  v2spec.maxReplicas = spec.maxReplicas ?? 0;
  let metrics: Obj[] = typeof spec.targetCPUUtilizationPercentage === 'number' ? [cpuUtilizationMetric(spec.targetCPUUtilizationPercentage)] : [];
  const otherEnc = annotations[METRIC_SPECS_ANNOTATION];
  if (otherEnc !== undefined) {
    const other = arr(parseJSON(otherEnc)).map(rec).map(metricSpecFromV1);
    metrics = [...other, ...metrics.slice(0, 1)];
    delete annotations[METRIC_SPECS_ANNOTATION];
  }
  // autoscaling/v1 formerly had an implicit default applied in the controller; v2 makes it explicit.
  if (metrics.length === 0) metrics = [cpuUtilizationMetric(DEFAULT_CPU_UTILIZATION)];
  v2spec.metrics = metrics;
  const behaviorEnc = annotations[BEHAVIOR_ANNOTATION];
  if (behaviorEnc !== undefined) {
    const b = rec(parseJSON(behaviorEnc));
    v2spec.behavior = compact({ scaleUp: rulesFromGo(b.ScaleUp), scaleDown: rulesFromGo(b.ScaleDown) });
    delete annotations[BEHAVIOR_ANNOTATION];
  }
  out.spec = v2spec;

  const v2status: Obj = {};
  if (status.observedGeneration !== undefined && status.observedGeneration !== null) v2status.observedGeneration = status.observedGeneration;
  if (status.lastScaleTime !== undefined && status.lastScaleTime !== null) v2status.lastScaleTime = status.lastScaleTime;
  if (typeof status.currentReplicas === 'number' && status.currentReplicas !== 0) v2status.currentReplicas = status.currentReplicas;
  v2status.desiredReplicas = status.desiredReplicas ?? 0;
  if (typeof status.currentCPUUtilizationPercentage === 'number')
    v2status.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
  const currentEnc = annotations[METRIC_STATUSES_ANNOTATION];
  if (currentEnc !== undefined) {
    v2status.currentMetrics = arr(parseJSON(currentEnc)).map(rec).map(metricStatusFromV1);
    delete annotations[METRIC_STATUSES_ANNOTATION];
  }
  const condEnc = annotations[CONDITIONS_ANNOTATION];
  if (condEnc !== undefined) {
    v2status.conditions = arr(parseJSON(condEnc));
    delete annotations[CONDITIONS_ANNOTATION];
  }
  if (obj.status !== undefined || v2status.currentMetrics !== undefined || v2status.conditions !== undefined) out.status = v2status;

  if (Object.keys(annotations).length) out.metadata.annotations = annotations;
  else delete out.metadata.annotations;
  return out;
}
