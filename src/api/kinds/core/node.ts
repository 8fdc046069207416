// core/v1 Node strategy (pkg/registry/core/node): status may be set on create (the kubelet registers with it),
// allocatable defaults to capacity, taint/podCIDR/providerID rules, the `kubectl get nodes` Table (STATUS with
// SchedulingDisabled, ROLES from node-role labels) and the spec.unschedulable field selector.

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import {
  arr,
  clone,
  defaultResourceList,
  duplicate,
  ensureObj,
  forbidden,
  invalid,
  isIPv6,
  labelValue,
  notSupported,
  obj,
  objs,
  qualifiedName,
  quantityAt,
  required,
  str,
  validateCIDR,
  validateResourceQuantity,
  deepEqual,
  type Obj,
} from './common.js';

const NODE_INFO_FIELDS = ['machineID', 'systemUUID', 'bootID', 'kernelVersion', 'osImage', 'containerRuntimeVersion', 'kubeletVersion', 'kubeProxyVersion', 'operatingSystem', 'architecture'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function defaults(o: KubeObject): void {
  ensureObj(o, 'spec');
  const status = ensureObj(o, 'status');
  defaultResourceList(status.capacity, false);
  defaultResourceList(status.allocatable, false);
  if ((status.allocatable === undefined || status.allocatable === null) && obj(status.capacity)) status.allocatable = clone(status.capacity);
  // Non-pointer structs upstream: always serialized.
  const de = ensureObj(status, 'daemonEndpoints');
  const ke = ensureObj(de, 'kubeletEndpoint');
  if (ke.Port === undefined || ke.Port === null) ke.Port = 0;
  const info = ensureObj(status, 'nodeInfo');
  for (const f of NODE_INFO_FIELDS) if (info[f] === undefined || info[f] === null) info[f] = '';
}

export function validateTaints(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Map<string, Set<string>>();
  objs(taints).forEach((t, i) => {
    const p = `${path}[${i}]`;
    errs.push(...qualifiedName(str(t.key), `${p}.key`));
    const ve = labelValue(str(t.value), `${p}.value`);
    if (ve.length) errs.push(invalid(`${p}.value`, str(t.value), ve.map((e) => e.detail).join(';')));
    const effect = str(t.effect);
    if (!effect) errs.push(required(`${p}.effect`));
    else if (!TAINT_EFFECTS.includes(effect)) errs.push(notSupported(`${p}.effect`, effect, TAINT_EFFECTS));
    const keys = unique.get(effect) ?? new Set<string>();
    if (keys.has(str(t.key))) {
      errs.push({ ...duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
      return;
    }
    keys.add(str(t.key));
    unique.set(effect, keys);
  });
  return errs;
}

function validateNodeResources(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const status = obj(o.status) ?? {};
  for (const key of ['capacity', 'allocatable'] as const)
    for (const [k, v] of Object.entries(obj(status[key]) ?? {})) {
      const p = `status.${key}.${k}`;
      const { q, err } = quantityAt(v, p);
      if (err) errs.push(err);
      if (q) errs.push(...validateResourceQuantity(k, q, p));
    }
  return errs;
}

function validateNode(o: KubeObject): FieldError[] {
  const spec = obj(o.spec) ?? {};
  const errs: FieldError[] = [];
  if (arr(spec.taints).length > 0) errs.push(...validateTaints(spec.taints, 'metadata.taints'));
  errs.push(...validateNodeResources(o));
  const cidrs = arr(spec.podCIDRs).map(str);
  cidrs.forEach((c, i) => errs.push(...validateCIDR(`spec.podCIDRs[${i}]`, c)));
  if (cidrs.length > 1) {
    if (cidrs.length > 2 || isIPv6(cidrs[0].split('/')[0]) === isIPv6(cidrs[1].split('/')[0]))
      errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(duplicate(`spec.podCIDRs[${i}]`, c));
      seen.add(c);
    });
  }
  return errs;
}

function validateNodeUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const spec = obj(o.spec) ?? {};
  const oldSpec = obj(old.spec) ?? {};
  const errs: FieldError[] = [];
  const seen: Obj[] = [];
  objs(obj(o.status)?.addresses).forEach((a, i) => {
    if (seen.some((s) => deepEqual(s, a))) errs.push(duplicate(`status.addresses[${i}]`, a));
    seen.push(a);
  });
  const oldCIDRs = arr(oldSpec.podCIDRs);
  if (oldCIDRs.length > 0 && !deepEqual(oldCIDRs, arr(spec.podCIDRs)))
    errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  if (str(oldSpec.providerID) && str(oldSpec.providerID) !== str(spec.providerID))
    errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  if (str(spec.externalID) !== str(oldSpec.externalID)) errs.push(forbidden('spec.externalID', 'may not be updated'));
  return errs;
}

/** findNodeRoles: node-role.kubernetes.io/<role> labels and the kubernetes.io/role label, sorted. */
export function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const r = k.slice('node-role.kubernetes.io/'.length);
      if (r) roles.add(r);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort().join(',') || '<none>';
}

export function nodeStatusCell(o: KubeObject): string {
  const ready = objs(obj(o.status)?.conditions).find((c) => c.type === 'Ready');
  const status: string[] = [];
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (obj(o.spec)?.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

function address(o: KubeObject, type: string): string {
  return str(objs(obj(o.status)?.addresses).find((a) => a.type === type)?.address) || '<none>';
}

export const nodes: KindDef = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  status: true,
  extraSubresources: [{ name: 'proxy', group: '', version: 'v1', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
  defaults,
  // Nodes may set status on create (kubelet registration), so no prepareForCreate reset.
  validate: validateNode,
  validateUpdate: validateNodeUpdate,
  validateStatusUpdate(o, old) {
    return [...validateNodeResources(o), ...validateNodeUpdate(o, old)];
  },
  table: {
    columns: [
      nameColumn(),
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      ageColumn(),
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    cells(o, now) {
      const info = obj(obj(o.status)?.nodeInfo) ?? {};
      return [
        o.metadata.name,
        nodeStatusCell(o),
        nodeRoles(o.metadata.labels),
        ageOf(o, now),
        str(info.kubeletVersion),
        address(o, 'InternalIP'),
        address(o, 'ExternalIP'),
        str(info.osImage) || '<unknown>',
        str(info.kernelVersion) || '<unknown>',
        str(info.containerRuntimeVersion) || '<unknown>',
      ];
    },
  },
  fieldLabels: (o) => ({ 'spec.unschedulable': String(obj(o.spec)?.unschedulable === true) }),
};
