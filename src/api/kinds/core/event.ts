// core/v1 Event strategy (pkg/registry/core/event + validation/events.go legacy rules for v1 requests), the
// `kubectl get events` Table (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE | wide …) and its field selectors.

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { age, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { invalid, num, obj, qualifiedName, required, str, subdomain1123, type Obj } from './common.js';

function defaults(o: KubeObject): void {
  // Non-pointer fields of v1.Event, always serialized upstream.
  if (!obj(o.involvedObject)) o.involvedObject = {};
  if (!obj(o.source)) o.source = {};
  for (const f of ['firstTimestamp', 'lastTimestamp', 'eventTime']) if (o[f] === undefined || o[f] === '') o[f] = null;
  for (const f of ['reportingComponent', 'reportingInstance']) if (o[f] === undefined || o[f] === null) o[f] = '';
}

/** legacyValidateEvent as applied to core/v1 requests. */
function validateEvent(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const inv = obj(o.involvedObject) ?? {};
  const ns = o.metadata.namespace ?? '';
  const invNs = str(inv.namespace);
  if (!o.eventTime) {
    if (!invNs) {
      if (ns !== '' && ns !== 'default') errs.push(invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
    } else if (ns !== invNs) errs.push(invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
  } else {
    if (!invNs && ns !== 'default' && ns !== 'kube-system') errs.push(invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
    const rc = str(o.reportingComponent);
    if (!rc) errs.push(required('reportingComponent'));
    errs.push(...qualifiedName(rc, 'reportingComponent'));
    const ri = str(o.reportingInstance);
    if (!ri) errs.push(required('reportingInstance'));
    if (ri.length > 128) errs.push(invalid('reportingInstance', '', 'can have at most 128 characters'));
    const action = str(o.action);
    if (!action) errs.push(required('action'));
    if (action.length > 128) errs.push(invalid('action', '', 'can have at most 128 characters'));
    const reason = str(o.reason);
    if (!reason) errs.push(required('reason'));
    if (reason.length > 128) errs.push(invalid('reason', '', 'can have at most 128 characters'));
    if (str(o.message).length > 1024) errs.push(invalid('message', '', 'can have at most 1024 characters'));
  }
  errs.push(...subdomain1123(ns, 'namespace'));
  return errs;
}

const since = (v: unknown, now: number): string | undefined => (typeof v === 'string' && v ? age(v, now) : undefined);

export function eventCells(o: KubeObject, now: number): unknown[] {
  const inv = obj(o.involvedObject) ?? {};
  const source = obj(o.source) ?? {};
  const series = obj(o.series);
  const first = since(o.firstTimestamp, now) ?? age(str(o.eventTime) || undefined, now);
  let last = since(o.lastTimestamp, now) ?? first;
  let count = num(o.count) ?? 0;
  if (series) {
    last = age(str(series.lastObservedTime) || undefined, now);
    count = num(series.count) ?? 0;
  } else if (count === 0) count = 1;
  const kind = str(inv.kind).toLowerCase();
  const target = str(inv.name) ? `${kind}/${str(inv.name)}` : kind;
  const component = str(source.component) || str(o.reportingComponent);
  const instance = str(source.host) || str(o.reportingInstance);
  return [last, str(o.type), str(o.reason), target, str(inv.fieldPath), instance ? `${component}, ${instance}` : component, str(o.message).trim(), first, count, o.metadata.name];
}

export const events: KindDef = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  defaults,
  validate: validateEvent,
  table: {
    columns: [
      col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
      col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
      col('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
      col('Object', 'string', 'The object that this event is about.'),
      col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', 1),
      col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
      col('Message', 'string', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
      col('Count', 'string', 'The number of times this event has occurred.', 1),
      { ...nameColumn(), priority: 1 },
    ],
    cells: eventCells,
  },
  fieldLabels(o) {
    const inv: Obj = obj(o.involvedObject) ?? {};
    const source = str(obj(o.source)?.component) || str(o.reportingComponent);
    return {
      'involvedObject.kind': str(inv.kind),
      'involvedObject.namespace': str(inv.namespace),
      'involvedObject.name': str(inv.name),
      'involvedObject.uid': str(inv.uid),
      'involvedObject.apiVersion': str(inv.apiVersion),
      'involvedObject.resourceVersion': str(inv.resourceVersion),
      'involvedObject.fieldPath': str(inv.fieldPath),
      reason: str(o.reason),
      reportingComponent: str(o.reportingComponent),
      source,
      type: str(o.type),
    };
  },
};
