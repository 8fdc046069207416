// networking.k8s.io/v1 Ingress strategy: validation (networking/validation ValidateIngress*: rules, paths and
// pathType, backends, TLS), /status and the `kubectl get ingress` columns (Class, Hosts, Address, Ports).

import { invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../../validation/names.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { goValue } from '../meta/gofmt.js';
import { arr, isRecord, isValidPathSegmentName, rec, str } from '../meta/validation.js';
import { hostErrors, isValidIP, isValidPortName, isValidPortNum, isWildcardDNS1123Subdomain, parseIPSloppy } from './common.js';

export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

/** validateIngressTypedLocalObjectReference (resource backends, IngressClass parameters). */
export function validateTypedLocalObjectReference(r: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof r.apiGroup === 'string') for (const m of isDNS1123Subdomain(r.apiGroup)) errs.push(invalid(`${path}.apiGroup`, r.apiGroup, m));
  for (const f of ['kind', 'name']) {
    const v = str(r[f]);
    if (v === '') errs.push(required(`${path}.${f}`, `${f} is required`));
    else for (const m of isValidPathSegmentName(v)) errs.push(invalid(`${path}.${f}`, v, m));
  }
  return errs;
}

function validateBackend(b0: unknown, path: string): FieldError[] {
  const b = rec(b0);
  const hasResource = isRecord(b.resource);
  const hasService = isRecord(b.service);
  if (hasResource && hasService) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (hasResource) return validateTypedLocalObjectReference(rec(b.resource), `${path}.resource`);
  if (!hasService) return [invalid(path, '', 'resource or service backend is required')];
  const svc = rec(b.service);
  const errs: FieldError[] = [];
  const name = str(svc.name);
  if (name === '') errs.push(required(`${path}.service.name`, ''));
  else for (const m of isDNS1035Label(name)) errs.push(invalid(`${path}.service.name`, name, m));
  const port = rec(svc.port);
  const portName = str(port.name);
  const portNumber = typeof port.number === 'number' ? port.number : 0;
  if (portName && portNumber) errs.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (portName) for (const m of isValidPortName(portName)) errs.push(invalid(`${path}.service.port.name`, portName, m));
  else if (portNumber) for (const m of isValidPortNum(portNumber)) errs.push(invalid(`${path}.service.port.number`, portNumber, m));
  else errs.push(required(path, 'port name or number is required'));
  return errs;
}

function validatePath(p0: unknown, path: string): FieldError[] {
  const p = rec(p0);
  if (p.pathType === undefined || p.pathType === null) return [required(`${path}.pathType`, 'pathType must be specified')];
  const errs: FieldError[] = [];
  const pathType = str(p.pathType);
  const value = str(p.path);
  switch (pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalid(`${path}.path`, value, 'must be an absolute path'));
      if (value.length > 0) {
        for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(invalid(`${path}.path`, value, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(invalid(`${path}.path`, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) errs.push(invalid(`${path}.path`, value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(`${path}.pathType`, pathType, PATH_TYPES));
  }
  errs.push(...validateBackend(p.backend, `${path}.backend`));
  return errs;
}

/** ValidateIngressSpec (create rules: no invalid secret names or wildcard-host rules). */
export function validateIngressSpec(obj: KubeObject): FieldError[] {
  const spec = rec(obj.spec);
  const errs: FieldError[] = [];
  const rules = arr(spec.rules);
  const hasDefault = isRecord(spec.defaultBackend);
  if (rules.length === 0 && !hasDefault)
    errs.push(invalid('spec', goValue(Array.isArray(spec.rules) ? '[]networking.IngressRule{}' : '[]networking.IngressRule(nil)'), 'either `defaultBackend` or `rules` must be specified'));
  if (hasDefault) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((r0, i) => {
    const r = rec(r0);
    const rp = `spec.rules[${i}]`;
    const host = str(r.host);
    if (host.length > 0) errs.push(...hostErrors(`${rp}.host`, host));
    if (isRecord(r.http)) {
      const paths = arr(r.http.paths);
      if (paths.length === 0) errs.push(required(`${rp}.http.paths`, ''));
      paths.forEach((p, j) => errs.push(...validatePath(p, `${rp}.http.paths[${j}]`)));
    }
  });
  arr(spec.tls).forEach((t0, i) => {
    const t = rec(t0);
    arr(t.hosts).forEach((h0, j) => {
      const h = str(h0);
      const msgs = h.includes('*') ? isWildcardDNS1123Subdomain(h) : isDNS1123Subdomain(h);
      for (const m of msgs) errs.push(invalid(`spec.tls[${i}].hosts[${j}]`, h, m));
    });
    const secret = str(t.secretName);
    if (secret) for (const m of isDNS1123Subdomain(secret)) errs.push(invalid(`spec.tls[${i}].secretName`, secret, m));
  });
  if (typeof spec.ingressClassName === 'string')
    for (const m of isDNS1123Subdomain(spec.ingressClassName)) errs.push(invalid('spec.ingressClassName', spec.ingressClassName, m));
  const annotation = obj.metadata.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (annotation !== undefined && typeof spec.ingressClassName === 'string' && annotation !== spec.ingressClassName)
    errs.push(invalid(`annotations.${INGRESS_CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified'));
  return errs;
}

/** ValidateIngressLoadBalancerStatus. */
function validateIngressStatus(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  arr(rec(rec(obj.status).loadBalancer).ingress).forEach((i0, i) => {
    const ing = rec(i0);
    const p = `status.loadBalancer.ingress[${i}]`;
    if (typeof ing.ip === 'string' && ing.ip !== '') errs.push(...isValidIP(`${p}.ip`, ing.ip));
    if (typeof ing.hostname === 'string' && ing.hostname !== '') {
      for (const m of isDNS1123Subdomain(ing.hostname)) errs.push(invalid(`${p}.hostname`, ing.hostname, m));
      if (parseIPSloppy(ing.hostname)) errs.push(invalid(`${p}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/** formatHosts: up to three hosts, "*" when none. */
export function formatHosts(rules0: unknown): string {
  const rules = arr(rules0).map(rec);
  const list: string[] = [];
  let more = false;
  for (const r of rules) {
    if (list.length === 3) more = true;
    if (!more && str(r.host).length !== 0) list.push(str(r.host));
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rules.length - 3} more...` : list.join(',');
}

/** ingressLoadBalancerStatusStringer (wide: the server always renders the full list). */
export function ingressAddress(status: unknown): string {
  const set = new Set<string>();
  for (const i0 of arr(rec(rec(status).loadBalancer).ingress)) {
    const i = rec(i0);
    if (str(i.ip)) set.add(str(i.ip));
    else if (str(i.hostname)) set.add(str(i.hostname));
  }
  return [...set].sort().join(',');
}

export const ingressKind: KindDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  status: true,
  generationFields: ['spec'],
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
    obj.metadata.generation = 1;
  },
  validate: validateIngressSpec,
  validateStatusUpdate: validateIngressStatus,
  table: {
    columns: [
      nameColumn(),
      col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
      col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'string', 'Ports of TLS configurations that open'),
      ageColumn(),
    ],
    cells(obj, now) {
      const spec = rec(obj.spec);
      const className = typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>';
      const ports = arr(spec.tls).length !== 0 ? '80, 443' : '80';
      return [obj.metadata.name ?? '', className, formatHosts(spec.rules), ingressAddress(obj.status), ports, ageOf(obj, now)];
    },
  },
};
