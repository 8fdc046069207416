// events.k8s.io/v1 Event: a view of the core/v1 events (shared storage, converted both ways as upstream's
// pkg/apis/events/v1 conversion), its strict validation (core/validation ValidateEventCreate/Update for
// events.k8s.io), field selectors, and the Event table (printEvent) the core Event kind can share.

import { invalid, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isDNS1123Subdomain, isQualifiedName } from '../../validation/names.js';
import { age, col } from '../table.js';
import type { KindDef, TableDef } from '../types.js';
import { goOpaque } from '../meta/gofmt.js';
import { clone, deepEqual, int, isRecord, rec, str } from '../meta/validation.js';

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

const isSet = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** A core/v1 Event (what is stored) from an events.k8s.io/v1 Event. */
export function eventsV1ToCore(ev: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: clone(ev.metadata) };
  out.involvedObject = clone(rec(ev.regarding));
  if (isSet(ev.reason)) out.reason = ev.reason;
  if (isSet(ev.note)) out.message = ev.note;
  out.source = clone(rec(ev.deprecatedSource));
  out.firstTimestamp = ev.deprecatedFirstTimestamp ?? null;
  out.lastTimestamp = ev.deprecatedLastTimestamp ?? null;
  if (typeof ev.deprecatedCount === 'number' && ev.deprecatedCount !== 0) out.count = ev.deprecatedCount;
  if (isSet(ev.type)) out.type = ev.type;
  out.eventTime = ev.eventTime ?? null;
  if (isRecord(ev.series)) out.series = clone(ev.series);
  if (isSet(ev.action)) out.action = ev.action;
  if (isRecord(ev.related)) out.related = clone(ev.related);
  out.reportingComponent = str(ev.reportingController);
  out.reportingInstance = str(ev.reportingInstance);
  return out;
}

/** An events.k8s.io/v1 Event from a stored core/v1 Event. */
export function coreToEventsV1(ev: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: clone(ev.metadata) };
  out.eventTime = ev.eventTime ?? null;
  if (isRecord(ev.series)) out.series = clone(ev.series);
  if (isSet(ev.reportingComponent)) out.reportingController = ev.reportingComponent;
  if (isSet(ev.reportingInstance)) out.reportingInstance = ev.reportingInstance;
  if (isSet(ev.action)) out.action = ev.action;
  if (isSet(ev.reason)) out.reason = ev.reason;
  out.regarding = clone(rec(ev.involvedObject));
  if (isRecord(ev.related)) out.related = clone(ev.related);
  if (isSet(ev.message)) out.note = ev.message;
  if (isSet(ev.type)) out.type = ev.type;
  out.deprecatedSource = clone(rec(ev.source));
  out.deprecatedFirstTimestamp = ev.firstTimestamp ?? null;
  out.deprecatedLastTimestamp = ev.lastTimestamp ?? null;
  if (typeof ev.count === 'number' && ev.count !== 0) out.deprecatedCount = ev.count;
  return out;
}

/** Either shape in, core shape out (stores and callers may hand either). */
const asCore = (ev: KubeObject): KubeObject => (ev.apiVersion === 'v1' || 'involvedObject' in ev ? ev : eventsV1ToCore(ev));

/** legacyValidateEvent for a given API (field names differ only for reportingController). */
export function legacyValidateEvent(ev0: KubeObject, api: 'v1' | 'events.k8s.io/v1'): FieldError[] {
  const ev = asCore(ev0);
  const errs: FieldError[] = [];
  const ns = ev.metadata.namespace ?? '';
  const involvedNs = str(rec(ev.involvedObject).namespace);
  const reportingField = api === 'v1' ? 'reportingComponent' : 'reportingController';
  if (!isSet(ev.eventTime)) {
    if (involvedNs.length === 0) {
      if (ns !== '' && ns !== 'default') errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  } else {
    if (involvedNs.length === 0 && ns !== 'default' && ns !== 'kube-system') errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    const rc = str(ev.reportingComponent);
    if (rc.length === 0) errs.push(required(reportingField, ''));
    for (const m of qualifiedNameErrors(rc)) errs.push(invalid(reportingField, rc, m));
    const ri = str(ev.reportingInstance);
    if (ri.length === 0) errs.push(required('reportingInstance', ''));
    if (ri.length > REPORTING_INSTANCE_LIMIT) errs.push(invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
    const action = str(ev.action);
    if (action.length === 0) errs.push(required('action', ''));
    if (action.length > ACTION_LIMIT) errs.push(invalid('action', '', `can have at most ${ACTION_LIMIT} characters`));
    const reason = str(ev.reason);
    if (reason.length === 0) errs.push(required('reason', ''));
    if (reason.length > REASON_LIMIT) errs.push(invalid('reason', '', `can have at most ${REASON_LIMIT} characters`));
    if (str(ev.message).length > NOTE_LIMIT) errs.push(invalid('message', '', `can have at most ${NOTE_LIMIT} characters`));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalid('namespace', ns, m));
  return errs;
}

/** IsQualifiedName, including the regex complaint upstream adds for an empty name. */
function qualifiedNameErrors(v: string): string[] {
  const errs = isQualifiedName(v);
  if (v === '' && !errs.some((e) => e.includes('regex used for validation')))
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  return errs;
}

function validateSeries(ev: KubeObject): FieldError[] {
  if (!isRecord(ev.series)) return [];
  const errs: FieldError[] = [];
  if (int(ev.series.count) < 2) errs.push(invalid('series.count', '', 'should be at least 2'));
  if (!isSet(ev.series.lastObservedTime)) errs.push(required('series.lastObservedTime', ''));
  return errs;
}

/** ValidateEventCreate for events.k8s.io/v1 (strict). */
export function validateEventsV1Create(ev0: KubeObject): FieldError[] {
  const ev = asCore(ev0);
  const errs = legacyValidateEvent(ev, 'events.k8s.io/v1');
  errs.push(...validateSeries(ev));
  if (!isSet(ev.eventTime)) errs.push(required('eventTime', ''));
  if (ev.type !== 'Normal' && ev.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${str(ev.type)}`));
  if (isSet(ev.firstTimestamp)) errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (isSet(ev.lastTimestamp)) errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if (int(ev.count) !== 0) errs.push(invalid('count', '', 'needs to be unset'));
  const src = rec(ev.source);
  if (isSet(src.component) || isSet(src.host)) errs.push(invalid('source', '', 'needs to be unset'));
  return errs;
}

/** ValidateEventUpdate for events.k8s.io/v1: what happened and who reported it are immutable. */
export function validateEventsV1Update(ev0: KubeObject, old0: KubeObject): FieldError[] {
  const ev = asCore(ev0);
  const old = asCore(old0);
  const errs: FieldError[] = [];
  if (!deepEqual(ev.series, old.series)) errs.push(...validateSeries(ev));
  const imm = (f: string, shown: unknown = ev[f] ?? ''): void => {
    if (!deepEqual(ev[f] ?? '', old[f] ?? '')) errs.push(invalid(f, shown, 'field is immutable'));
  };
  imm('involvedObject', goOpaque('core.ObjectReference'));
  imm('reason');
  imm('type');
  imm('action');
  imm('related', isRecord(ev.related) ? goOpaque('&core.ObjectReference') : null);
  if (!deepEqual(ev.reportingComponent ?? '', old.reportingComponent ?? '')) errs.push(invalid('reportingController', str(ev.reportingComponent), 'field is immutable'));
  imm('reportingInstance');
  return errs;
}

/** formatEventSource: component (or reporting controller), then ", host" (or reporting instance). */
function eventSource(ev: KubeObject): string {
  const src = rec(ev.source);
  const component = str(src.component) || str(ev.reportingComponent);
  const host = str(src.host) || str(ev.reportingInstance);
  return host ? `${component}, ${host}` : component;
}

/** printEvent's cells, wide form (the server always sends every column). */
export function eventCells(ev0: KubeObject, now: number): unknown[] {
  const ev = asCore(ev0);
  const first = isSet(ev.firstTimestamp) ? age(str(ev.firstTimestamp), now) : age(str(ev.eventTime) || undefined, now);
  let last = isSet(ev.lastTimestamp) ? age(str(ev.lastTimestamp), now) : first;
  let count = int(ev.count);
  if (isRecord(ev.series)) {
    last = age(str(ev.series.lastObservedTime) || undefined, now);
    count = int(ev.series.count);
  } else if (count === 0) count = 1; // singleton events carry no count in the new API
  const inv = rec(ev.involvedObject);
  const kind = str(inv.kind).toLowerCase();
  const target = str(inv.name) ? `${kind}/${str(inv.name)}` : kind;
  return [last, str(ev.type), str(ev.reason), target, str(inv.fieldPath), eventSource(ev), str(ev.message).trim(), first, count, ev.metadata.name ?? ''];
}

/** The Event table (core/v1 and events.k8s.io/v1 share it upstream). */
export const eventTable: TableDef = {
  columns: [
    col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col('Object', 'string', 'The object that this event is about.'),
    col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.', 1),
    col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
    col('Count', 'string', 'The number of times this event has occurred.', 1),
    col('Name', 'string', "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names", 1, 'name'),
  ],
  cells: eventCells,
};

/** Field selectors of events.k8s.io/v1 (mapped onto the core event's fields, as upstream). */
export function eventsV1FieldLabels(ev0: KubeObject): Record<string, string> {
  const ev = asCore(ev0);
  const inv = rec(ev.involvedObject);
  return {
    'regarding.kind': str(inv.kind),
    'regarding.namespace': str(inv.namespace),
    'regarding.name': str(inv.name),
    'regarding.uid': str(inv.uid),
    'regarding.apiVersion': str(inv.apiVersion),
    'regarding.resourceVersion': str(inv.resourceVersion),
    'regarding.fieldPath': str(inv.fieldPath),
    reason: str(ev.reason),
    reportingController: str(ev.reportingComponent),
    type: str(ev.type),
  };
}

export const eventsV1Kind: KindDef = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  storedAs: { group: '', plural: 'events', toStored: eventsV1ToCore, fromStored: coreToEventsV1 },
  validate: validateEventsV1Create,
  validateUpdate: validateEventsV1Update,
  fieldLabels: eventsV1FieldLabels,
  table: eventTable,
};
