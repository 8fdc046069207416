// Plugin tables: node and pod fixtures through one in-tree plugin at a time (PreFilter → Filter, or
// PreScore → Score → NormalizeScore), compared with the Status code/reasons or normalised scores upstream gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder } from '../../client/events.js';
import type { Container, Node, Pod, PodSpec } from '../../api/corev1/types.js';
import { CycleState, type Listers, type PluginFactory } from '../framework/interface.js';
import { PodInfo } from '../framework/nodeinfo.js';
import { Registry } from '../framework/registry.js';
import { Framework } from '../framework/runtime.js';
import { FakeClusterClient, makeNode, makePod, snapshotOf, type NodeOptions } from '../testing.js';
import { interPodAffinity } from './interpodaffinity/interpodaffinity.js';
import { balancedAllocation } from './noderesources/balancedallocation.js';
import { nodeResourcesFit } from './noderesources/fit.js';
import { nodeAffinity } from './nodeaffinity/nodeaffinity.js';
import { nodeName } from './nodename/nodename.js';
import { nodePorts } from './nodeports/nodeports.js';
import { nodeUnschedulable } from './nodeunschedulable/nodeunschedulable.js';
import { podTopologySpread } from './podtopologyspread/podtopologyspread.js';
import { taintToleration } from './tainttoleration/tainttoleration.js';

function frameworkOf(factory: PluginFactory, listers?: Listers): Framework {
  const c = new FakeClusterClient();
  return new Framework(new Registry([['P', factory]]), { schedulerName: 'default-scheduler', plugins: [{ name: 'P' }] }, { client: c, recorder: new EventRecorder(c, 'test'), listers });
}

/** Each node's result as "Code: reason, reason" ("Success" alone when it fits). */
function filter(factory: PluginFactory, pod: Pod, nodes: Node[], existing: Pod[] = []): string[] {
  const fw = frameworkOf(factory);
  const snap = snapshotOf(nodes, existing);
  const pi = new PodInfo(pod);
  const state = new CycleState();
  const pre = fw.runPreFilter(state, pi, snap);
  return snap.nodes.map((n) => {
    const s = pre.isSuccess() ? fw.runFilters(state, pi, n) : pre;
    return s.isSuccess() ? 'Success' : `${s.code}: ${s.message()}`;
  });
}

/** Normalised scores (before the profile weight) per node. */
function score(factory: PluginFactory, pod: Pod, nodes: Node[], existing: Pod[] = [], listers?: Listers): number[] {
  const fw = frameworkOf(factory, listers);
  const snap = snapshotOf(nodes, existing);
  return [...fw.runScore(new CycleState(), new PodInfo(pod), snap.nodes, snap)];
}

const n = (name: string, o: NodeOptions = {}): Node => makeNode(name, o);
const withSpec = (pod: Pod, spec: Partial<PodSpec>): Pod => ({ ...pod, spec: { ...pod.spec, ...spec } });
const ctr = (cpu: string, extra: Partial<Container> = {}): Container => ({ name: `c${cpu}`, resources: { requests: { cpu } }, ...extra });

interface FilterCase {
  name: string;
  pod: Pod;
  nodes: Node[];
  existing?: Pod[];
  want: string[];
}

function filterTable(factory: PluginFactory, cases: FilterCase[]): void {
  for (const c of cases) assert.deepEqual(filter(factory, c.pod, c.nodes, c.existing), c.want, c.name);
}

test('NodeResourcesFit filter', () => {
  const U = 'Unschedulable: ';
  filterTable(nodeResourcesFit, [
    { name: 'fits', pod: makePod('p', { cpu: '1', memory: '1Gi' }), nodes: [n('a', { cpu: '2' })], want: ['Success'] },
    { name: 'cpu', pod: makePod('p', { cpu: '3' }), nodes: [n('a', { cpu: '2' })], want: [`${U}Insufficient cpu`] },
    { name: 'cpu and memory', pod: makePod('p', { cpu: '3', memory: '9Gi' }), nodes: [n('a', { cpu: '2' })], want: [`${U}Insufficient cpu, Insufficient memory`] },
    { name: 'assigned pods count', pod: makePod('p', { cpu: '1' }), nodes: [n('a', { cpu: '2' })], existing: [makePod('x', { cpu: '1500m', nodeName: 'a' })], want: [`${U}Insufficient cpu`] },
    { name: 'too many pods', pod: makePod('p'), nodes: [n('a', { pods: 1 })], existing: [makePod('x', { nodeName: 'a' })], want: [`${U}Too many pods`] },
    { name: 'best effort on a full node', pod: makePod('p'), nodes: [n('a', { cpu: '1' })], existing: [makePod('x', { cpu: '1', nodeName: 'a' })], want: ['Success'] },
    {
      name: 'init container maximum',
      pod: withSpec(makePod('p', { cpu: '1' }), { initContainers: [ctr('3')] }),
      nodes: [n('a', { cpu: '2' }), n('b', { cpu: '3' })],
      want: [`${U}Insufficient cpu`, 'Success'],
    },
    {
      name: 'init containers do not add up',
      pod: withSpec(makePod('p', { cpu: '1' }), { initContainers: [ctr('1500m'), ctr('1800m')] }),
      nodes: [n('a', { cpu: '2' })],
      want: ['Success'],
    },
    {
      name: 'sidecars add to the containers',
      pod: withSpec(makePod('p', { cpu: '1500m' }), { initContainers: [ctr('1', { restartPolicy: 'Always' })] }),
      nodes: [n('a', { cpu: '2' }), n('b', { cpu: '3' })],
      want: [`${U}Insufficient cpu`, 'Success'],
    },
    {
      name: 'overhead counts',
      pod: withSpec(makePod('p', { cpu: '1800m' }), { overhead: { cpu: '250m' } }),
      nodes: [n('a', { cpu: '2' })],
      want: [`${U}Insufficient cpu`],
    },
    {
      name: 'extended resources and ephemeral storage',
      pod: withSpec(makePod('p'), { containers: [{ name: 'c', resources: { requests: { 'example.com/gpu': '1', 'ephemeral-storage': '200Gi' } } }] }),
      nodes: [n('a'), n('b', { extra: { 'example.com/gpu': '2', 'ephemeral-storage': '500Gi' } })],
      want: [`${U}Insufficient ephemeral-storage, Insufficient example.com/gpu`, 'Success'],
    },
  ]);
});

test('NodeResourcesFit LeastAllocated and BalancedAllocation scores', () => {
  const pod = makePod('p', { cpu: '1', memory: '2Gi' });
  const nodes = [n('a', { cpu: '4', memory: '8Gi' }), n('b', { cpu: '2', memory: '4Gi' })];
  assert.deepEqual(score(nodeResourcesFit, pod, nodes), [75, 50]);
  // Containers without requests count as 100m / 200Mi for LeastAllocated.
  assert.deepEqual(score(nodeResourcesFit, makePod('be'), [n('a', { cpu: '1', memory: '1000Mi' })]), [85]);
  // fractions cpu 1/4, memory 1/8: std 0.0625 → 93; equal fractions → 100.
  assert.deepEqual(score(balancedAllocation, makePod('p', { cpu: '1', memory: '1Gi' }), [n('a', { cpu: '4', memory: '8Gi' }), n('b', { cpu: '4', memory: '4Gi' })]), [93, 100]);
});

test('NodeName filter', () => {
  filterTable(nodeName, [
    { name: 'named node only', pod: makePod('p', { spec: { nodeName: 'b' } }), nodes: [n('a'), n('b')], want: ["UnschedulableAndUnresolvable: node(s) didn't match the requested node name", 'Success'] },
  ]);
});

test('NodeAffinity filter and score', () => {
  const X = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";
  const nodes = [n('a', { labels: { zone: 'z1', gen: '3' } }), n('b', { labels: { zone: 'z2', gen: '5' } }), n('c')];
  const required = (expr: object[], fields?: object[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: expr as never, ...(fields ? { matchFields: fields as never } : {}) }] } } } });
  filterTable(nodeAffinity, [
    { name: 'no constraints', pod: makePod('p'), nodes, want: ['Success', 'Success', 'Success'] },
    { name: 'nodeSelector', pod: makePod('p', { spec: { nodeSelector: { zone: 'z2' } } }), nodes, want: [X, 'Success', X] },
    { name: 'In', pod: makePod('p', { spec: required([{ key: 'zone', operator: 'In', values: ['z1', 'z9'] }]) }), nodes, want: ['Success', X, X] },
    { name: 'NotIn matches nodes without the label', pod: makePod('p', { spec: required([{ key: 'zone', operator: 'NotIn', values: ['z1'] }]) }), nodes, want: [X, 'Success', 'Success'] },
    { name: 'DoesNotExist', pod: makePod('p', { spec: required([{ key: 'zone', operator: 'DoesNotExist' }]) }), nodes, want: [X, X, 'Success'] },
    { name: 'Gt', pod: makePod('p', { spec: required([{ key: 'gen', operator: 'Gt', values: ['4'] }]) }), nodes, want: [X, 'Success', X] },
    { name: 'matchFields metadata.name', pod: makePod('p', { spec: required([], [{ key: 'metadata.name', operator: 'In', values: ['c'] }]) }), nodes, want: [X, X, 'Success'] },
    {
      name: 'selector and affinity both apply',
      pod: makePod('p', { spec: { nodeSelector: { zone: 'z1' }, ...required([{ key: 'gen', operator: 'Gt', values: ['4'] }]) } }),
      nodes,
      want: [X, X, X],
    },
  ]);
  const preferred = makePod('p', {
    spec: {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 5, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] } },
            { weight: 3, preference: { matchExpressions: [{ key: 'gen', operator: 'Exists' }] } },
          ],
        },
      },
    },
  });
  assert.deepEqual(score(nodeAffinity, preferred, nodes), [100, 37, 0]);
});

test('TaintToleration filter and PreferNoSchedule score', () => {
  const nodes = [n('a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }), n('b', { taints: [{ key: 'flaky', effect: 'NoExecute' }] }), n('c', { taints: [{ key: 'soft', value: 'x', effect: 'PreferNoSchedule' }] })];
  filterTable(taintToleration, [
    { name: 'untolerated', pod: makePod('p'), nodes, want: ['UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}', 'UnschedulableAndUnresolvable: node(s) had untolerated taint {flaky: }', 'Success'] },
    { name: 'Equal toleration', pod: makePod('p', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } }), nodes, want: ['Success', 'UnschedulableAndUnresolvable: node(s) had untolerated taint {flaky: }', 'Success'] },
    { name: 'wrong value', pod: makePod('p', { spec: { tolerations: [{ key: 'dedicated', value: 'cpu' }] } }), nodes: [nodes[0]], want: ['UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}'] },
    { name: 'Exists without key tolerates everything', pod: makePod('p', { spec: { tolerations: [{ operator: 'Exists' }] } }), nodes, want: ['Success', 'Success', 'Success'] },
  ]);
  assert.deepEqual(score(taintToleration, makePod('p'), [n('clean'), nodes[2]]), [100, 0]);
  assert.deepEqual(score(taintToleration, makePod('p', { spec: { tolerations: [{ key: 'soft', operator: 'Exists', effect: 'PreferNoSchedule' }] } }), [n('clean'), nodes[2]]), [100, 100]);
});

test('NodeUnschedulable filter', () => {
  const nodes = [n('cordoned', { unschedulable: true }), n('open')];
  filterTable(nodeUnschedulable, [
    { name: 'cordoned', pod: makePod('p'), nodes, want: ['UnschedulableAndUnresolvable: node(s) were unschedulable', 'Success'] },
    { name: 'tolerates the unschedulable taint', pod: makePod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } }), nodes, want: ['Success', 'Success'] },
  ]);
});

test('NodePorts filter', () => {
  const X = "Unschedulable: node(s) didn't have free ports for the requested pod ports";
  const portPod = (name: string, hostPort: number, hostIP?: string, nodeName?: string): Pod =>
    makePod(name, { nodeName, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort, ...(hostIP ? { hostIP } : {}) }] }] } });
  const nodes = [n('a'), n('b'), n('c')];
  const existing = [portPod('x', 8080, undefined, 'a'), portPod('y', 8080, '10.0.0.1', 'b')];
  filterTable(nodePorts, [
    { name: 'same port taken on any address', pod: portPod('p', 8080), nodes, existing, want: [X, X, 'Success'] },
    { name: 'another address is free', pod: portPod('p', 8080, '10.0.0.2'), nodes, existing, want: [X, 'Success', 'Success'] },
    { name: 'other port', pod: portPod('p', 9090), nodes, existing, want: ['Success', 'Success', 'Success'] },
  ]);
});

test('InterPodAffinity filter and score', () => {
  const zones = [n('a1', { labels: { zone: 'a' } }), n('a2', { labels: { zone: 'a' } }), n('b1', { labels: { zone: 'b' } })];
  const term = (app: string, key = 'zone') => ({ labelSelector: { matchLabels: { app } }, topologyKey: key });
  const db = makePod('db', { labels: { app: 'db' }, nodeName: 'a1' });
  const affinity = makePod('p', { labels: { app: 'web' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db')] } } } });
  const AFF = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
  filterTable(interPodAffinity, [
    { name: 'affinity to the db zone', pod: affinity, nodes: zones, existing: [db], want: ['Success', 'Success', AFF] },
    { name: 'no db anywhere and not matching itself', pod: affinity, nodes: zones, want: [AFF, AFF, AFF] },
    {
      name: 'first of a self-affine group',
      pod: makePod('p', { labels: { app: 'db' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db')] } } } }),
      nodes: zones,
      want: ['Success', 'Success', 'Success'],
    },
    {
      name: 'other namespaces do not count',
      pod: affinity,
      nodes: zones,
      existing: [makePod('db', { namespace: 'elsewhere', labels: { app: 'db' }, nodeName: 'a1' })],
      want: [AFF, AFF, AFF],
    },
    {
      name: 'anti-affinity by hostname',
      pod: makePod('p', { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', 'kubernetes.io/hostname')] } } } }),
      nodes: zones,
      existing: [makePod('w', { labels: { app: 'web' }, nodeName: 'a2' })],
      want: ['Success', "Unschedulable: node(s) didn't match pod anti-affinity rules", 'Success'],
    },
    {
      name: "existing pods' anti-affinity",
      pod: makePod('p', { labels: { app: 'web' } }),
      nodes: zones,
      existing: [makePod('loner', { nodeName: 'a1', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web')] } } } })],
      want: ["Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules", "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules", 'Success'],
    },
  ]);
  const pref = makePod('p', { spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('db') }] } } } });
  assert.deepEqual(score(interPodAffinity, pref, zones, [db]), [100, 100, 0]);
  const avoid = makePod('p', { spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('db') }] } } } });
  assert.deepEqual(score(interPodAffinity, avoid, zones, [db]), [0, 0, 100]);
});

test('PodTopologySpread filter (DoNotSchedule) and score (ScheduleAnyway)', () => {
  const zones = [n('a1', { labels: { zone: 'a' } }), n('a2', { labels: { zone: 'a' } }), n('b1', { labels: { zone: 'b' } }), n('nolabel')];
  const spread = (when: 'DoNotSchedule' | 'ScheduleAnyway', maxSkew = 1) =>
    makePod('p', { labels: { app: 'web' }, spec: { topologySpreadConstraints: [{ maxSkew, topologyKey: 'zone', whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'web' } } }] } });
  const web = (name: string, node: string) => makePod(name, { labels: { app: 'web' }, nodeName: node });
  const X = "Unschedulable: node(s) didn't match pod topology spread constraints";
  const L = "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)";
  filterTable(podTopologySpread, [
    { name: 'skew would exceed 1 in zone a', pod: spread('DoNotSchedule'), nodes: zones, existing: [web('w1', 'a1')], want: [X, X, 'Success', L] },
    { name: 'balanced: anywhere', pod: spread('DoNotSchedule'), nodes: zones, existing: [web('w1', 'a1'), web('w2', 'b1')], want: ['Success', 'Success', 'Success', L] },
    { name: 'maxSkew 2 allows it', pod: spread('DoNotSchedule', 2), nodes: zones, existing: [web('w1', 'a1')], want: ['Success', 'Success', 'Success', L] },
    { name: 'ScheduleAnyway does not filter', pod: spread('ScheduleAnyway'), nodes: zones, existing: [web('w1', 'a1')], want: ['Success', 'Success', 'Success', 'Success'] },
  ]);
  const s = score(podTopologySpread, spread('ScheduleAnyway'), zones, [web('w1', 'a1'), web('w2', 'a2')]);
  assert.ok(s[2] > s[0] && s[0] === s[1], `emptier zone scores higher: ${s}`);
  assert.equal(s[2], 100);
  assert.equal(s[3], 0, 'nodes without the key score 0');
});

test('PodTopologySpread system defaults: pods of the same ReplicaSet spread by hostname and zone', () => {
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } } } };
  const listers: Listers = {
    list: () => [],
    get: (r, ns, name) => (r === 'replicasets' && ns === 'default' && name === 'web-1' ? rs : undefined),
  };
  const owned = (name: string, node?: string): Pod => {
    const p = makePod(name, { labels: { app: 'web' }, nodeName: node });
    p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }];
    return p;
  };
  const nodes = [n('a1', { labels: { 'topology.kubernetes.io/zone': 'a' } }), n('a2', { labels: { 'topology.kubernetes.io/zone': 'a' } }), n('b1', { labels: { 'topology.kubernetes.io/zone': 'b' } })];
  const existing = [owned('w1', 'a1'), owned('w2', 'a1'), owned('w3', 'a2')];
  const s = score(podTopologySpread, owned('new'), nodes, existing, listers);
  assert.ok(s[2] > s[1] && s[1] > s[0], `empty zone best, then the emptier node: ${s}`);
  assert.deepEqual(score(podTopologySpread, owned('new'), nodes, existing), [0, 0, 0], 'no listers: no defaults');
  assert.deepEqual(score(podTopologySpread, makePod('loner'), nodes, existing, listers), [0, 0, 0], 'no owner or service: no defaults');
});
