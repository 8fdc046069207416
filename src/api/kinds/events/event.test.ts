// events.k8s.io/v1 Event: conversion to and from the stored core/v1 event, strict validation, field selectors
// and the Event table.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../types.js';
import { messages } from '../meta/testutil.js';
import { coreToEventsV1, eventsV1Kind, eventsV1ToCore, eventTable } from './event.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');
const regarding = { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'p1', apiVersion: 'v1', resourceVersion: '12', fieldPath: 'spec.containers{web}' };

const newEvent = (extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name: 'web-1.17a', namespace: 'default' },
  eventTime: '2024-01-01T00:04:00.000000Z',
  reportingController: 'k8ts.io/kubelet',
  reportingInstance: 'node-1',
  action: 'Pulling',
  reason: 'Pulling',
  regarding,
  note: 'Pulling image "nginx"',
  type: 'Normal',
  ...extra,
});

describe('conversion', () => {
  test('events.k8s.io -> core maps regarding, note, reportingController and the deprecated fields', () => {
    const core = eventsV1ToCore(newEvent({ series: { count: 3, lastObservedTime: '2024-01-01T00:04:30.000000Z' }, related: { kind: 'Node', name: 'node-1' } }));
    assert.deepEqual(core, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web-1.17a', namespace: 'default' },
      involvedObject: regarding,
      reason: 'Pulling',
      message: 'Pulling image "nginx"',
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      type: 'Normal',
      eventTime: '2024-01-01T00:04:00.000000Z',
      series: { count: 3, lastObservedTime: '2024-01-01T00:04:30.000000Z' },
      action: 'Pulling',
      related: { kind: 'Node', name: 'node-1' },
      reportingComponent: 'k8ts.io/kubelet',
      reportingInstance: 'node-1',
    });
  });
  test('a legacy core event reads as events.k8s.io with deprecated fields', () => {
    const legacy: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web.1', namespace: 'default' },
      involvedObject: regarding,
      reason: 'Started',
      message: 'Started container web',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: '2024-01-01T00:01:00Z',
      lastTimestamp: '2024-01-01T00:03:00Z',
      count: 4,
      type: 'Normal',
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    };
    const ev = coreToEventsV1(legacy);
    assert.deepEqual(ev, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web.1', namespace: 'default' },
      eventTime: null,
      reason: 'Started',
      regarding,
      note: 'Started container web',
      type: 'Normal',
      deprecatedSource: { component: 'kubelet', host: 'node-1' },
      deprecatedFirstTimestamp: '2024-01-01T00:01:00Z',
      deprecatedLastTimestamp: '2024-01-01T00:03:00Z',
      deprecatedCount: 4,
    });
    // ...and round trips back to what was stored.
    assert.deepEqual(eventsV1ToCore(ev), legacy);
  });
  test('new events round trip unchanged', () => {
    const ev = newEvent();
    const back = coreToEventsV1(eventsV1ToCore(ev));
    assert.deepEqual(back, { ...ev, deprecatedSource: {}, deprecatedFirstTimestamp: null, deprecatedLastTimestamp: null });
  });
  test('the KindDef stores through the core events resource', () => {
    assert.deepEqual({ group: eventsV1Kind.storedAs!.group, plural: eventsV1Kind.storedAs!.plural }, { group: '', plural: 'events' });
  });
});

describe('strict validation for events.k8s.io/v1', () => {
  const cases: { name: string; ev: KubeObject; want: string[] }[] = [
    { name: 'valid', ev: newEvent(), want: [] },
    {
      name: 'missing reporting fields and a bad type',
      ev: newEvent({ reportingController: undefined, reportingInstance: undefined, action: undefined, type: 'Info' }),
      want: [
        'reportingController: Required value',
        'reportingController: Invalid value: "": name part must be non-empty',
        "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        'reportingInstance: Required value',
        'action: Required value',
        'type: Invalid value: "": has invalid value: Info',
      ],
    },
    {
      name: 'deprecated fields must stay unset; a series needs a count of 2',
      ev: newEvent({ deprecatedCount: 2, deprecatedSource: { component: 'x' }, series: { count: 1 } }),
      want: ['series.count: Invalid value: "": should be at least 2', 'series.lastObservedTime: Required value', 'count: Invalid value: "": needs to be unset', 'source: Invalid value: "": needs to be unset'],
    },
    {
      name: 'eventTime is required',
      ev: newEvent({ eventTime: null }),
      want: ['eventTime: Required value'],
    },
    {
      name: 'cluster-scoped objects report in default or kube-system',
      ev: { ...newEvent({ regarding: { kind: 'Node', name: 'node-1' } }), metadata: { name: 'n.1', namespace: 'team-a' } },
      want: ['involvedObject.namespace: Invalid value: "": does not match event.namespace'],
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      assert.deepEqual(messages(eventsV1Kind.validate!(c.ev)), c.want);
    });
  test('what happened and who reported it are immutable', () => {
    const old = newEvent();
    const next = newEvent({ reason: 'Pulled', series: { count: 2, lastObservedTime: '2024-01-01T00:04:40.000000Z' } });
    assert.deepEqual(messages(eventsV1Kind.validateUpdate!(next, old)), ['reason: Invalid value: "Pulled": field is immutable']);
  });
});

describe('field selectors and table', () => {
  test('regarding.* and reportingController selectors', () => {
    assert.deepEqual(eventsV1Kind.fieldLabels!(newEvent()), {
      'regarding.kind': 'Pod',
      'regarding.namespace': 'default',
      'regarding.name': 'web-1',
      'regarding.uid': 'p1',
      'regarding.apiVersion': 'v1',
      'regarding.resourceVersion': '12',
      'regarding.fieldPath': 'spec.containers{web}',
      reason: 'Pulling',
      reportingController: 'k8ts.io/kubelet',
      type: 'Normal',
    });
  });
  test('columns and cells of a new-style event (eventTime, no count)', () => {
    assert.deepEqual(eventTable.columns.map((c) => [c.name, c.priority]), [
      ['Last Seen', 0],
      ['Type', 0],
      ['Reason', 0],
      ['Object', 0],
      ['Subobject', 1],
      ['Source', 1],
      ['Message', 0],
      ['First Seen', 1],
      ['Count', 1],
      ['Name', 1],
    ]);
    assert.deepEqual(eventTable.cells(newEvent(), NOW), ['60s', 'Normal', 'Pulling', 'pod/web-1', 'spec.containers{web}', 'k8ts.io/kubelet, node-1', 'Pulling image "nginx"', '60s', 1, 'web-1.17a']);
  });
  test('a series shows its last observation and count; legacy events use source and timestamps', () => {
    const series = newEvent({ series: { count: 5, lastObservedTime: '2024-01-01T00:04:50.000000Z' } });
    assert.deepEqual(eventTable.cells(series, NOW).slice(0, 1), ['10s']);
    assert.equal(eventTable.cells(series, NOW)[8], 5);
    const legacy: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'n.1', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'node-1' }, reason: 'Starting', message: ' Starting kubelet. ', source: { component: 'kubelet' }, firstTimestamp: '2024-01-01T00:00:00Z', lastTimestamp: '2024-01-01T00:02:00Z', count: 2, type: 'Normal' };
    assert.deepEqual(eventTable.cells(legacy, NOW), ['3m', 'Normal', 'Starting', 'node/node-1', '', 'kubelet', 'Starting kubelet.', '5m', 2, 'n.1']);
  });
});
