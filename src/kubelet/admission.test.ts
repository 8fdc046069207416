// admitPod as a table: resources against allocatable beside admitted pods (sidecars and init maximum counted as
// upstream), the pod count, host port conflicts, nodeSelector/affinity, node name and NoExecute taints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admitPod, type Admission } from './admission.js';
import type { Node } from '../api/corev1/types.js';
import type { Pod } from './types.js';

const node = (o: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: unknown[] } = {}): Node =>
  ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', ...(o.labels ?? {}) } },
    spec: o.taints ? { taints: o.taints } : {},
    status: { allocatable: { cpu: o.cpu ?? '2', memory: o.memory ?? '1Gi', pods: o.pods ?? '110', 'ephemeral-storage': '10Gi' } },
  }) as Node;
const pod = (name: string, spec: Record<string, unknown> = {}, req?: Record<string, string>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x', ...(req ? { resources: { requests: req } } : {}) }], ...spec },
});
const port = (hostPort: number, extra: Record<string, unknown> = {}) => ({ containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort, ...extra }] }] });
const ok: Admission = { admit: true };

test('admitPod', () => {
  const cases: Array<{ name: string; pod: Pod; node?: Node; admitted?: Pod[]; want: Admission }> = [
    { name: 'fits', pod: pod('a', {}, { cpu: '1', memory: '512Mi' }), want: ok },
    { name: 'best effort always fits resources', pod: pod('a'), admitted: [pod('b', {}, { cpu: '2' })], want: ok },
    {
      name: 'cpu beyond allocatable',
      pod: pod('a', {}, { cpu: '3' }),
      want: { admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000" },
    },
    {
      name: 'cpu used by admitted pods',
      pod: pod('a', {}, { cpu: '1500m' }),
      admitted: [pod('b', {}, { cpu: '1' })],
      want: { admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000" },
    },
    {
      name: 'memory',
      pod: pod('a', {}, { memory: '2Gi' }),
      want: { admit: false, reason: 'OutOfmemory', message: "Node didn't have enough resource: memory, requested: 2147483648, used: 0, capacity: 1073741824" },
    },
    {
      name: 'sidecars add to the containers, init containers count by their maximum',
      pod: pod('a', { initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '1500m' } } }, { name: 's', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '600m' } } }] }, { cpu: '1500m' }),
      want: { admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 2100, used: 0, capacity: 2000" },
    },
    { name: 'pod count', pod: pod('a'), node: node({ pods: '1' }), admitted: [pod('b')], want: { admit: false, reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1" } },
    { name: 'free host port', pod: pod('a', port(8080)), admitted: [pod('b', port(8081))], want: ok },
    { name: 'host port taken', pod: pod('a', port(8080)), admitted: [pod('b', port(8080))], want: { admit: false, reason: 'NodePorts', message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports" } },
    { name: 'same port, other protocol', pod: pod('a', port(53, { protocol: 'UDP' })), admitted: [pod('b', port(53))], want: ok },
    { name: 'same port, distinct host IPs', pod: pod('a', port(80, { hostIP: '127.0.0.2' })), admitted: [pod('b', port(80, { hostIP: '127.0.0.3' }))], want: ok },
    { name: 'a specific IP against 0.0.0.0', pod: pod('a', port(80, { hostIP: '127.0.0.2' })), admitted: [pod('b', port(80))], want: { admit: false, reason: 'NodePorts', message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports" } },
    { name: 'nodeSelector matches', pod: pod('a', { nodeSelector: { disk: 'ssd' } }), node: node({ labels: { disk: 'ssd' } }), want: ok },
    { name: 'nodeSelector mismatch', pod: pod('a', { nodeSelector: { disk: 'ssd' } }), want: { admit: false, reason: 'NodeAffinity', message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" } },
    {
      name: 'required node affinity mismatch',
      pod: pod('a', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }] } } } }),
      node: node({ labels: { zone: 'a' } }),
      want: { admit: false, reason: 'NodeAffinity', message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" },
    },
    { name: 'resources come before affinity', pod: pod('a', { nodeSelector: { disk: 'ssd' } }, { cpu: '9' }), want: { admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 9000, used: 0, capacity: 2000" } },
    { name: 'NoSchedule taints are the scheduler\'s business', pod: pod('a'), node: node({ taints: [{ key: 'k', effect: 'NoSchedule' }] }), want: ok },
    { name: 'untolerated NoExecute taint', pod: pod('a'), node: node({ taints: [{ key: 'k', effect: 'NoExecute' }] }), want: { admit: false, reason: 'TaintToleration', message: 'Predicate TaintToleration failed: node(s) had untolerated taint' } },
    { name: 'tolerated NoExecute taint', pod: pod('a', { tolerations: [{ key: 'k', operator: 'Exists' }] }), node: node({ taints: [{ key: 'k', effect: 'NoExecute' }] }), want: ok },
  ];
  for (const c of cases) assert.deepEqual(admitPod(c.pod, c.node ?? node(), c.admitted ?? []), c.want, c.name);
});
