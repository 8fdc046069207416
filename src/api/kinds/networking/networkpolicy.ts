// networking.k8s.io/v1 NetworkPolicy strategy: defaults (policyTypes, port protocol), validation
// (ValidateNetworkPolicy*: selectors, ports, peers, ipBlocks) and the `kubectl get netpol` columns.

import { forbidden, invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goValue } from '../meta/gofmt.js';
import { formatLabelSelector, validateLabelSelector } from '../meta/labelselector.js';
import { arr, ensureRecord, isRecord, rec, str } from '../meta/validation.js';
import { isValidCIDR, isValidPortName, isValidPortNum, parseCIDR } from './common.js';

export function defaultNetworkPolicy(obj: KubeObject): void {
  const spec = ensureRecord(obj, 'spec');
  if (arr(spec.policyTypes).length === 0) {
    spec.policyTypes = ['Ingress'];
    if (arr(spec.egress).length !== 0) (spec.policyTypes as string[]).push('Egress');
  }
  for (const dir of ['ingress', 'egress'])
    for (const rule of arr(spec[dir]))
      for (const port of arr(rec(rule).ports)) if (isRecord(port) && (port.protocol === undefined || port.protocol === null)) port.protocol = 'TCP';
}

function validatePort(p0: unknown, path: string): FieldError[] {
  const p = rec(p0);
  const errs: FieldError[] = [];
  if (p.protocol !== undefined && p.protocol !== null && !['TCP', 'UDP', 'SCTP'].includes(str(p.protocol)))
    errs.push(notSupported(`${path}.protocol`, str(p.protocol), ['TCP', 'UDP', 'SCTP']));
  const hasEnd = p.endPort !== undefined && p.endPort !== null;
  if (typeof p.port === 'number') {
    for (const m of isValidPortNum(p.port)) errs.push(invalid(`${path}.port`, p.port, m));
    if (hasEnd) {
      const end = p.endPort as number;
      if (end < p.port) errs.push(invalid(`${path}.endPort`, p.port, 'must be greater than or equal to `port`'));
      for (const m of isValidPortNum(end)) errs.push(invalid(`${path}.endPort`, end, m));
    }
  } else if (typeof p.port === 'string') {
    if (hasEnd) errs.push(invalid(`${path}.endPort`, p.endPort, 'may not be specified when `port` is non-numeric'));
    for (const m of isValidPortName(p.port)) errs.push(invalid(`${path}.port`, p.port, m));
  } else if (hasEnd) errs.push(invalid(`${path}.endPort`, p.endPort, 'may not be specified when `port` is not specified'));
  return errs;
}

function validateIPBlock(b0: unknown, path: string): FieldError[] {
  const b = rec(b0);
  const cidr = str(b.cidr);
  if (cidr === '') return [required(`${path}.cidr`, '')];
  const errs = isValidCIDR(`${path}.cidr`, cidr);
  const net = parseCIDR(cidr);
  if (!net) return errs;
  arr(b.except).forEach((e0, i) => {
    const e = str(e0);
    const p = `${path}.except[${i}]`;
    errs.push(...isValidCIDR(p, e));
    const ex = parseCIDR(e);
    if (!ex) return;
    const shift = BigInt(net.bits - net.prefix);
    const contained = ex.family === net.family && ex.network >> shift === net.network >> shift;
    if (!contained || net.prefix >= ex.prefix) errs.push(invalid(p, e, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

function validatePeer(p0: unknown, path: string): FieldError[] {
  const p = rec(p0);
  const errs: FieldError[] = [];
  let n = 0;
  if (isRecord(p.podSelector)) {
    n++;
    errs.push(...validateLabelSelector(p.podSelector, `${path}.podSelector`));
  }
  if (isRecord(p.namespaceSelector)) {
    n++;
    errs.push(...validateLabelSelector(p.namespaceSelector, `${path}.namespaceSelector`));
  }
  if (isRecord(p.ipBlock)) {
    n++;
    errs.push(...validateIPBlock(p.ipBlock, `${path}.ipBlock`));
  }
  if (n === 0) errs.push(required(path, 'must specify a peer'));
  else if (n > 1 && isRecord(p.ipBlock)) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

export function validateNetworkPolicySpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs = validateLabelSelector(spec.podSelector ?? {}, 'spec.podSelector');
  arr(spec.ingress).forEach((r, i) => {
    arr(rec(r).ports).forEach((p, j) => errs.push(...validatePort(p, `spec.ingress[${i}].ports[${j}]`)));
    arr(rec(r).from).forEach((p, j) => errs.push(...validatePeer(p, `spec.ingress[${i}].from[${j}]`)));
  });
  arr(spec.egress).forEach((r, i) => {
    arr(rec(r).ports).forEach((p, j) => errs.push(...validatePort(p, `spec.egress[${i}].ports[${j}]`)));
    arr(rec(r).to).forEach((p, j) => errs.push(...validatePeer(p, `spec.egress[${i}].to[${j}]`)));
  });
  const types = arr(spec.policyTypes).map(str);
  if (types.length > 2) {
    errs.push(invalid('spec.policyTypes', goValue(`[]networking.PolicyType{${types.map((t) => JSON.stringify(t)).join(', ')}}`), 'may not specify more than two policyTypes'));
    return errs;
  }
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(`spec.policyTypes[${i}]`, t, ['Ingress', 'Egress']));
  });
  return errs;
}

export const networkPolicyKind: KindDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  namespaced: true,
  shortNames: ['netpol'],
  generationFields: ['spec'],
  defaults: defaultNetworkPolicy,
  validate: validateNetworkPolicySpec,
  table: {
    columns: [
      nameColumn(),
      col(
        'Pod-Selector',
        'string',
        'Selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.',
      ),
      ageColumn(),
    ],
    cells: (obj, now) => [obj.metadata.name ?? '', formatLabelSelector(rec(obj.spec).podSelector ?? {}), ageOf(obj, now)],
  },
};
