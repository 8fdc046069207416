// HorizontalPodAutoscaler strategy, stored as autoscaling/v2 and also served as autoscaling/v1: defaults
// (autoscaling/v2 SetDefaults_HorizontalPodAutoscaler), validation (autoscaling/validation), /status and the
// `kubectl get hpa` columns (TARGETS as formatHPAMetrics prints them).

import { forbidden, invalid, notSupported, required, type FieldError } from '../../errors.js';
import { canonicalQuantity, signQuantity, tryParseQuantity } from '../../quantity.js';
import type { KubeObject } from '../../types.js';
import { isDNS1123Label, isQualifiedName } from '../../validation/names.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goValue } from '../meta/gofmt.js';
import { arr, ensureRecord, int, isRecord, isValidPathSegmentName, nonNegative, rec, str } from '../meta/validation.js';
import { DEFAULT_CPU_UTILIZATION, hpaV1ToV2, hpaV2ToV1, ROUND_TRIP_ANNOTATIONS } from './convert.js';

const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;

const defaultScaleUp = (): Record<string, unknown> => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
});
const defaultScaleDown = (): Record<string, unknown> => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

/** copyHPAScalingRules: the user's non-nil fields over the defaults. */
function scalingRules(from: unknown, defaults: Record<string, unknown>): Record<string, unknown> {
  if (!isRecord(from)) return defaults;
  const out = { ...defaults };
  for (const k of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) if (from[k] !== undefined && from[k] !== null) out[k] = from[k];
  return out;
}

export function defaultHPA(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  if (spec.minReplicas === undefined || spec.minReplicas === null) spec.minReplicas = 1;
  if (arr(spec.metrics).length === 0) spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  if (isRecord(spec.behavior)) {
    spec.behavior.scaleUp = scalingRules(spec.behavior.scaleUp, defaultScaleUp());
    spec.behavior.scaleDown = scalingRules(spec.behavior.scaleDown, defaultScaleDown());
  }
}

/** ValidateCrossVersionObjectReference. */
function validateRef(r: unknown, path: string): FieldError[] {
  const ref = rec(r);
  const errs: FieldError[] = [];
  for (const f of ['kind', 'name']) {
    const v = str(ref[f]);
    if (v.length === 0) errs.push(required(`${path}.${f}`, ''));
    else for (const m of isValidPathSegmentName(v)) errs.push(invalid(`${path}.${f}`, v, m));
  }
  return errs;
}

function validateMetricIdentifier(id: unknown, path: string): FieldError[] {
  const name = str(rec(id).name);
  if (name.length === 0) return [required(`${path}.name`, 'must specify a metric name')];
  return isValidPathSegmentName(name).map((m) => invalid(`${path}.name`, name, m));
}

const quantityShown = (v: unknown): unknown => {
  try {
    return goValue(canonicalQuantity(v as string | number));
  } catch {
    return v;
  }
};

function validateMetricTarget(t0: unknown, path: string): FieldError[] {
  const t = rec(t0);
  const errs: FieldError[] = [];
  const type = str(t.type);
  if (type.length === 0) errs.push(required(`${path}.type`, 'must specify a metric target type'));
  if (type !== 'Utilization' && type !== 'Value' && type !== 'AverageValue') errs.push(invalid(`${path}.type`, type, 'must be either Utilization, Value, or AverageValue'));
  for (const f of ['value', 'averageValue']) {
    if (t[f] === undefined || t[f] === null) continue;
    const q = tryParseQuantity(t[f]);
    if (!q || signQuantity(q) !== 1) errs.push(invalid(`${path}.${f}`, quantityShown(t[f]), 'must be positive'));
  }
  if (typeof t.averageUtilization === 'number' && t.averageUtilization < 1) errs.push(invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

/** corevalidation.ValidateContainerResourceName (qualified name; a standard container resource when unprefixed). */
function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !name.startsWith('hugepages-')) errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!name.includes('kubernetes.io/') && (name.startsWith('requests.') || name.split('/').length !== 2))
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  return errs;
}

function utilizationOrValue(t0: unknown, path: string): FieldError[] {
  const t = rec(t0);
  const hasU = t.averageUtilization !== undefined && t.averageUtilization !== null;
  const hasV = t.averageValue !== undefined && t.averageValue !== null;
  const errs: FieldError[] = [];
  if (!hasU && !hasV) errs.push(required(`${path}.averageUtilization`, 'must set either a target raw value or a target utilization'));
  if (hasU && hasV) errs.push(forbidden(`${path}.averageValue`, 'may not set both a target raw value and a target utilization'));
  return errs;
}

const SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SOURCE_FIELD: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource' };

function validateSource(kind: string, s0: unknown, path: string): FieldError[] {
  const s = rec(s0);
  const errs: FieldError[] = [];
  const target = rec(s.target);
  const set = (f: string): boolean => target[f] !== undefined && target[f] !== null;
  switch (kind) {
    case 'object':
      errs.push(...validateRef(s.describedObject, `${path}.describedObject`), ...validateMetricIdentifier(s.metric, `${path}.metric`), ...validateMetricTarget(s.target, `${path}.target`));
      if (!set('value') && !set('averageValue')) errs.push(required(`${path}.target.averageValue`, 'must set either a target value or averageValue'));
      break;
    case 'pods':
      errs.push(...validateMetricIdentifier(s.metric, `${path}.metric`), ...validateMetricTarget(s.target, `${path}.target`));
      if (!set('averageValue')) errs.push(required(`${path}.target.averageValue`, 'must specify a positive target averageValue'));
      break;
    case 'resource': {
      const name = str(s.name);
      if (name.length === 0) errs.push(required(`${path}.name`, 'must specify a resource name'));
      else errs.push(...validateContainerResourceName(name, `${path}.name`));
      errs.push(...validateMetricTarget(s.target, `${path}.target`), ...utilizationOrValue(s.target, `${path}.target`));
      break;
    }
    case 'containerResource': {
      const name = str(s.name);
      if (name.length === 0) errs.push(required(`${path}.name`, 'must specify a resource name'));
      else errs.push(...validateContainerResourceName(name, `${path}.name`));
      const container = str(s.container);
      if (container.length === 0) errs.push(required(`${path}.container`, 'must specify a container'));
      else for (const m of isDNS1123Label(container)) errs.push(invalid(`${path}.container`, container, m));
      errs.push(...validateMetricTarget(s.target, `${path}.target`), ...utilizationOrValue(s.target, `${path}.target`));
      break;
    }
    case 'external':
      errs.push(...validateMetricIdentifier(s.metric, `${path}.metric`), ...validateMetricTarget(s.target, `${path}.target`));
      if (!set('value') && !set('averageValue')) errs.push(required(`${path}.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
      if (set('value') && set('averageValue')) errs.push(forbidden(`${path}.target.value`, 'may not set both a target value for metric and a per-pod target'));
      break;
  }
  return errs;
}

/** validateMetricSpec. */
function validateMetricSpec(m0: unknown, path: string): FieldError[] {
  const m = rec(m0);
  const errs: FieldError[] = [];
  const type = str(m.type);
  if (type.length === 0) errs.push(required(`${path}.type`, 'must specify a metric source type'));
  if (!SOURCE_TYPES.includes(type)) errs.push(notSupported(`${path}.type`, type, SOURCE_TYPES));
  const present = ['object', 'pods', 'resource', 'external', 'containerResource'].filter((f) => m[f] !== undefined && m[f] !== null);
  if (present.length > 0) errs.push(...validateSource(present[0], m[present[0]], `${path}.${present[0]}`));
  const expected = SOURCE_FIELD[type];
  // (upstream also repeats the NotSupported for an unknown type here; its aggregate message drops the repeat)
  if (expected && (m[expected] === undefined || m[expected] === null)) errs.push(required(`${path}.${expected}`, 'must populate information for the given metric source'));
  if (present.length !== 1) for (const f of present) if (f !== expected) errs.push(forbidden(`${path}.${f}`, 'must populate the given metric source only'));
  return errs;
}

function validateScalingRules(r0: unknown, path: string): FieldError[] {
  if (!isRecord(r0)) return [];
  const r = r0;
  const errs: FieldError[] = [];
  const sw = r.stabilizationWindowSeconds;
  if (typeof sw === 'number' && sw < 0) errs.push(invalid(`${path}.stabilizationWindowSeconds`, sw, 'must be greater than or equal to zero'));
  if (typeof sw === 'number' && sw > MAX_STABILIZATION_WINDOW_SECONDS)
    errs.push(invalid(`${path}.stabilizationWindowSeconds`, sw, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  if (r.selectPolicy !== undefined && r.selectPolicy !== null && !['Disabled', 'Max', 'Min'].includes(str(r.selectPolicy)))
    errs.push(notSupported(`${path}.selectPolicy`, str(r.selectPolicy), ['Disabled', 'Max', 'Min']));
  const policies = arr(r.policies);
  if (policies.length === 0) errs.push(required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p0, i) => {
    const p = rec(p0);
    const pp = `${path}.policies[${i}]`;
    if (p.type !== 'Pods' && p.type !== 'Percent') errs.push(notSupported(`${pp}.type`, str(p.type), ['Percent', 'Pods']));
    if (int(p.value) <= 0) errs.push(invalid(`${pp}.value`, int(p.value), 'must be greater than zero'));
    if (int(p.periodSeconds) <= 0) errs.push(invalid(`${pp}.periodSeconds`, int(p.periodSeconds), 'must be greater than zero'));
    if (int(p.periodSeconds) > MAX_PERIOD_SECONDS) errs.push(invalid(`${pp}.periodSeconds`, int(p.periodSeconds), `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

/** ValidateHorizontalPodAutoscalerSpec (minReplicas lower bound 1: HPAScaleToZero is off). */
export function validateHPASpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  const min = spec.minReplicas;
  const max = int(spec.maxReplicas);
  if (typeof min === 'number' && min < 1) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (typeof min === 'number' && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  const refErrs = validateRef(spec.scaleTargetRef, 'spec.scaleTargetRef');
  if (refErrs.length) return [...errs, ...refErrs];
  const metricErrs: FieldError[] = [];
  const metrics = arr(spec.metrics);
  metrics.forEach((m, i) => metricErrs.push(...validateMetricSpec(m, `spec.metrics[${i}]`)));
  if (typeof min === 'number' && min === 0 && !metrics.some((m) => ['Object', 'External'].includes(str(rec(m).type))))
    metricErrs.push(forbidden('spec.metrics', 'must specify at least one Object or External metric to support scaling to zero replicas'));
  if (metricErrs.length) return [...errs, ...metricErrs];
  if (isRecord(spec.behavior)) errs.push(...validateScalingRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'), ...validateScalingRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  return errs;
}

/** Upstream strategies drop the v1 round-trip annotations from what they store. */
function dropRoundTripAnnotations(obj: KubeObject): void {
  const a = obj.metadata.annotations;
  if (!a) return;
  for (const k of ROUND_TRIP_ANNOTATIONS) delete a[k];
}

const quantity = (v: unknown): string => {
  if (v === undefined || v === null) return '<unknown>';
  try {
    return canonicalQuantity(v as string | number);
  } catch {
    return String(v);
  }
};

/** formatHPAMetrics: `cpu: 12%/80%, memory: <unknown>/100Mi + 1 more...`. */
export function formatHPAMetrics(specs0: unknown, statuses0: unknown): string {
  const specs = arr(specs0).map(rec);
  const statuses = arr(statuses0).map(rec);
  if (specs.length === 0) return '<none>';
  const list: string[] = [];
  specs.forEach((spec, i) => {
    const st = statuses[i];
    const cur = (f: string): Record<string, unknown> | undefined => (st && isRecord(st[f]) ? rec(rec(st[f]).current) : undefined);
    switch (spec.type) {
      case 'External':
      case 'Object': {
        const f = spec.type === 'External' ? 'external' : 'object';
        const t = rec(rec(spec[f]).target);
        const c = cur(f);
        if (t.averageValue !== undefined && t.averageValue !== null) {
          const current = c && c.averageValue !== undefined && c.averageValue !== null ? quantity(c.averageValue) : '<unknown>';
          list.push(`${current}/${quantity(t.averageValue)} (avg)`);
        } else list.push(`${c ? quantity(c.value ?? '0') : '<unknown>'}/${quantity(t.value ?? '0')}`);
        break;
      }
      case 'Pods': {
        const c = cur('pods');
        list.push(`${c ? quantity(c.averageValue ?? '0') : '<unknown>'}/${quantity(rec(rec(spec.pods).target).averageValue ?? '0')}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const f = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const src = rec(spec[f]);
        const t = rec(src.target);
        const c = cur(f);
        const name = str(src.name);
        if (t.averageValue !== undefined && t.averageValue !== null) {
          list.push(`${name}: ${c ? quantity(c.averageValue) : '<unknown>'}/${quantity(t.averageValue)}`);
        } else {
          const current = c && typeof c.averageUtilization === 'number' ? `${c.averageUtilization}%` : '<unknown>';
          const target = typeof t.averageUtilization === 'number' ? `${t.averageUtilization}%` : '<auto>';
          list.push(`${name}: ${current}/${target}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export const hpaKind: KindDef = {
  group: 'autoscaling',
  version: 'v2',
  otherVersions: [{ version: 'v1', toStored: hpaV1ToV2, fromStored: hpaV2ToV1 }],
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  status: true,
  defaults: defaultHPA,
  prepareForCreate(obj) {
    obj.status = { desiredReplicas: 0 };
    dropRoundTripAnnotations(obj);
  },
  prepareForUpdate(obj) {
    dropRoundTripAnnotations(obj);
  },
  validate: validateHPASpec,
  validateStatusUpdate(obj) {
    const status = rec(obj.status);
    return [...nonNegative(status.currentReplicas, 'status.currentReplicas'), ...nonNegative(status.desiredReplicas, 'status.desiredReplicas')];
  },
  table: {
    columns: [
      nameColumn(),
      col('Reference', 'string', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
      col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).'),
      col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.'),
      col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
      col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
      ageColumn(),
    ],
    cells(obj, now) {
      const spec = rec(obj.spec);
      const status = rec(obj.status);
      const ref = rec(spec.scaleTargetRef);
      const minPods = typeof spec.minReplicas === 'number' ? String(spec.minReplicas) : '<unset>';
      return [obj.metadata.name ?? '', `${str(ref.kind)}/${str(ref.name)}`, formatHPAMetrics(spec.metrics, status.currentMetrics), minPods, int(spec.maxReplicas), int(status.currentReplicas), ageOf(obj, now)];
    },
  },
};
