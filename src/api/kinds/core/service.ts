// core/v1 Service strategy (pkg/registry/core/service: strategy.go + the REST storage's clusterIP/nodePort
// bookkeeping that is not allocation): defaults, IP-family initialization for a single-stack IPv4 cluster,
// update patching of allocated values, validation, Table and field selectors. Allocating clusterIPs and
// nodePorts is the server's job, not this strategy's.

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isDNS1035Label } from '../../validation/names.js';
import { ageColumn, ageOf, col, formatLabels, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import {
  FIELD_IMMUTABLE,
  arr,
  deepEqual,
  duplicate,
  ensureObj,
  forbidden,
  inclusiveRange,
  invalid,
  isIPv6,
  isValidPortNum,
  label1123,
  notSupported,
  num,
  obj,
  objs,
  qualifiedName,
  required,
  str,
  stricterNameErrors,
  subdomain1123,
  validateCIDR,
  validateIP,
  validateLabels,
  validatePortNumOrName,
  type Obj,
} from './common.js';

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const DEFAULT_CLIENT_IP_TIMEOUT = 10800;
const MAX_CLIENT_IP_TIMEOUT = 86400;

const specOf = (o: KubeObject): Obj => ensureObj(o, 'spec');
const typeOf = (s: Obj): string => str(s.type);
const isHeadless = (s: Obj): boolean => arr(s.clusterIPs).length === 1 && arr(s.clusterIPs)[0] === 'None';
const externallyAccessible = (s: Obj): boolean =>
  typeOf(s) === 'LoadBalancer' || typeOf(s) === 'NodePort' || (typeOf(s) === 'ClusterIP' && arr(s.externalIPs).length > 0);
const needsClusterIP = (s: Obj): boolean => typeOf(s) !== 'ExternalName';
const needsNodePort = (s: Obj): boolean => typeOf(s) === 'NodePort' || typeOf(s) === 'LoadBalancer';
const needsHCNodePort = (s: Obj): boolean => typeOf(s) === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
const sameClusterIPs = (a: Obj, b: Obj): boolean => deepEqual(arr(a.clusterIPs), arr(b.clusterIPs));

/** SetDefaults_Service. */
export function defaultService(o: KubeObject): void {
  const s = specOf(o);
  if (!str(s.sessionAffinity)) s.sessionAffinity = 'None';
  if (s.sessionAffinity === 'None') delete s.sessionAffinityConfig;
  if (s.sessionAffinity === 'ClientIP') {
    const cfg = obj(s.sessionAffinityConfig);
    const cip = obj(cfg?.clientIP);
    if (!cip || cip.timeoutSeconds === undefined || cip.timeoutSeconds === null) s.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT } };
  }
  if (!str(s.type)) s.type = 'ClusterIP';
  for (const p of objs(s.ports)) {
    if (!str(p.protocol)) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(s) && !str(s.externalTrafficPolicy)) s.externalTrafficPolicy = 'Cluster';
  if ((s.internalTrafficPolicy === undefined || s.internalTrafficPolicy === null) && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(typeOf(s)))
    s.internalTrafficPolicy = 'Cluster';
  if (typeOf(s) === 'LoadBalancer') {
    if (s.allocateLoadBalancerNodePorts === undefined || s.allocateLoadBalancerNodePorts === null) s.allocateLoadBalancerNodePorts = true;
    for (const ing of objs(obj(obj(o.status)?.loadBalancer)?.ingress)) if (str(ing.ip) && (ing.ipMode === undefined || ing.ipMode === null)) ing.ipMode = 'VIP';
  }
}

/** normalizeClusterIPs: keep clusterIP and clusterIPs in sync for old and new clients. */
function normalizeClusterIPs(s: Obj, old?: Obj): void {
  if (!old) {
    if (str(s.clusterIP) && arr(s.clusterIPs).length === 0) s.clusterIPs = [s.clusterIP];
    return;
  }
  if (arr(old.clusterIPs).length > 0 && arr(s.clusterIPs).length === 0 && str(old.clusterIP) === str(s.clusterIP)) s.clusterIPs = old.clusterIPs;
  if (str(old.clusterIP) !== str(s.clusterIP)) {
    if (str(old.clusterIP) && !str(s.clusterIP)) {
      if (sameClusterIPs(old, s)) delete s.clusterIPs;
    } else if (sameClusterIPs(old, s)) s.clusterIPs = [s.clusterIP];
  }
}

/** patchAllocatedValues: an update that omits allocated values keeps them. */
function patchAllocatedValues(s: Obj, old: Obj): void {
  if (needsClusterIP(old) && needsClusterIP(s)) {
    if (!str(s.clusterIP) && str(old.clusterIP)) s.clusterIP = old.clusterIP;
    if (arr(s.clusterIPs).length === 0 && arr(old.clusterIPs).length > 0) s.clusterIPs = old.clusterIPs;
  }
  if (needsNodePort(old) && needsNodePort(s)) {
    const used = (x: Obj): Set<number> => new Set(objs(x.ports).map((p) => num(p.nodePort) ?? 0).filter((n) => n !== 0));
    const oldUsed = used(old);
    const newUsed = used(s);
    const both = new Set([...oldUsed].filter((n) => newUsed.has(n)));
    const byName = new Map(objs(old.ports).map((p) => [str(p.name), num(p.nodePort) ?? 0] as const));
    for (const p of objs(s.ports))
      if (!p.nodePort) {
        const v = byName.get(str(p.name)) ?? 0;
        if (v && !both.has(v)) p.nodePort = v;
      }
  }
  if (needsHCNodePort(old) && needsHCNodePort(s) && !s.healthCheckNodePort && old.healthCheckNodePort) s.healthCheckNodePort = old.healthCheckNodePort;
}

/** dropTypeDependentFields: switching type drops what no longer applies, when the user did not change it. */
function dropTypeDependentFields(o: KubeObject, s: Obj, old: Obj): void {
  if (needsClusterIP(old) && !needsClusterIP(s)) {
    if (sameClusterIPs(old, s) && str(old.clusterIP) === str(s.clusterIP)) {
      delete s.clusterIP;
      delete s.clusterIPs;
    }
    if (deepEqual(old.ipFamilies, s.ipFamilies)) delete s.ipFamilies;
    if (deepEqual(old.ipFamilyPolicy, s.ipFamilyPolicy)) delete s.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(s)) {
    const np = (x: Obj): number[] => objs(x.ports).map((p) => num(p.nodePort) ?? 0);
    if (deepEqual(np(old), np(s))) for (const p of objs(s.ports)) delete p.nodePort;
  }
  if (needsHCNodePort(old) && !needsHCNodePort(s) && (num(old.healthCheckNodePort) ?? 0) === (num(s.healthCheckNodePort) ?? 0)) delete s.healthCheckNodePort;
  if (typeOf(old) === 'LoadBalancer' && typeOf(s) !== 'LoadBalancer') {
    if (s.allocateLoadBalancerNodePorts !== undefined && old.allocateLoadBalancerNodePorts !== undefined && s.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts)
      delete s.allocateLoadBalancerNodePorts;
    if (deepEqual(s.loadBalancerClass, old.loadBalancerClass)) delete s.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(s) && str(old.externalTrafficPolicy) === str(s.externalTrafficPolicy)) delete s.externalTrafficPolicy;
  if (typeOf(s) !== 'LoadBalancer') ensureObj(o, 'status').loadBalancer = {};
}

/**
 * initIPFamilyFields for a single-stack IPv4 cluster: SingleStack by default (RequireDualStack for selectorless
 * headless services), families inferred from clusterIPs, else the cluster's family. ExternalName has none.
 */
function initIPFamilies(s: Obj, old?: Obj): void {
  if (typeOf(s) === 'ExternalName') return;
  if (old && s.ipFamilyPolicy === 'SingleStack') {
    if (sameClusterIPs(old, s) && arr(s.clusterIPs).length > 1) s.clusterIPs = arr(s.clusterIPs).slice(0, 1);
    if (deepEqual(old.ipFamilies, s.ipFamilies) && arr(s.ipFamilies).length > 1) s.ipFamilies = arr(s.ipFamilies).slice(0, 1);
  }
  const headlessNoSelector = isHeadless(s) && Object.keys(obj(s.selector) ?? {}).length === 0;
  if (s.ipFamilyPolicy === undefined || s.ipFamilyPolicy === null) s.ipFamilyPolicy = headlessNoSelector && arr(s.ipFamilies).length === 0 ? 'RequireDualStack' : 'SingleStack';
  if (arr(s.ipFamilies).length === 0) {
    const ips = arr(s.clusterIPs).map(str).filter((ip) => ip && ip !== 'None');
    s.ipFamilies = ips.length > 0 ? ips.map((ip) => (isIPv6(ip) ? 'IPv6' : 'IPv4')) : ['IPv4'];
  }
}

function validateServicePort(p: Obj, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(p.name);
  if (requireName && !name) errs.push(required(`${path}.name`));
  else if (name) {
    errs.push(...label1123(name, `${path}.name`));
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name));
    else names.add(name);
  }
  if (!isValidPortNum(p.port)) errs.push(invalid(`${path}.port`, p.port ?? 0, inclusiveRange(1, 65535)));
  if (!str(p.protocol)) errs.push(required(`${path}.protocol`));
  else if (!PROTOCOLS.includes(str(p.protocol))) errs.push(notSupported(`${path}.protocol`, p.protocol, PROTOCOLS));
  errs.push(...validatePortNumOrName(p.targetPort, `${path}.targetPort`));
  if (p.appProtocol !== undefined && p.appProtocol !== null) errs.push(...qualifiedName(str(p.appProtocol), `${path}.appProtocol`));
  return errs;
}

function validateNonSpecialIP(ip: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ip === '0.0.0.0' || ip === '::') errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  if (/^127\./.test(ip) || ip === '::1') errs.push(invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (/^169\.254\./.test(ip) || /^fe[89ab]/i.test(ip)) errs.push(invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (/^224\.0\.0\./.test(ip) || /^ff02:/i.test(ip)) errs.push(invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

function validateClusterIPsRelated(s: Obj): FieldError[] {
  if (typeOf(s) === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = arr(s.clusterIPs).map(str);
  if (str(s.clusterIP)) {
    if (ips.length === 0) errs.push(required('spec.clusterIPs'));
    else if (ips[0] !== s.clusterIP) errs.push(invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) errs.push(invalid('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  const seen = new Set<string>();
  arr(s.ipFamilies).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    if (seen.has(str(f))) errs.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(str(f));
  });
  if (s.ipFamilyPolicy !== undefined && s.ipFamilyPolicy !== null && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(str(s.ipFamilyPolicy)))
    errs.push(notSupported('spec.ipFamilyPolicy', s.ipFamilyPolicy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  let bad = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        bad = true;
        errs.push(invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
      }
      return;
    }
    const e = validateIP(`spec.clusterIPs[${i}]`, ip);
    if (e.length) bad = true;
    errs.push(...e);
  });
  if (ips.length > 2) errs.push(invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (bad) return errs;
  if (ips.length > 1 && isIPv6(ips[0]) === isIPv6(ips[1])) errs.push(invalid('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  const fams = arr(s.ipFamilies).map(str);
  if (!isHeadless(s))
    ips.forEach((ip, i) => {
      if (i >= fams.length) return;
      if (fams[i] === 'IPv4' && isIPv6(ip)) errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fams[i] === 'IPv6' && !isIPv6(ip)) errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  return errs;
}

/** ValidateService (create and update). */
function validateService(o: KubeObject): FieldError[] {
  const s = obj(o.spec) ?? {};
  const errs = stricterNameErrors(o.metadata, isDNS1035Label);
  const ann = o.metadata.annotations ?? {};
  const hints = ann['service.kubernetes.io/topology-aware-hints'];
  const mode = ann['service.kubernetes.io/topology-mode'];
  if (hints !== undefined && mode !== undefined && hints !== mode)
    errs.push(invalid('metadata.annotations[service.kubernetes.io/topology-mode]', mode, 'must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified'));
  const ports = objs(s.ports);
  const type = typeOf(s);
  if (ports.length === 0 && !isHeadless(s) && type !== 'ExternalName') errs.push(required('spec.ports'));
  if (type === 'LoadBalancer' && isHeadless(s)) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
  if (type === 'NodePort' && isHeadless(s)) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
  if (type === 'ExternalName') {
    if (arr(s.clusterIPs).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (arr(s.ipFamilies).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (s.ipFamilyPolicy !== undefined && s.ipFamilyPolicy !== null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const cname = str(s.externalName).replace(/\.$/, '');
    if (cname) errs.push(...subdomain1123(cname, 'spec.externalName'));
    else errs.push(required('spec.externalName'));
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`)));
  if (s.selector !== undefined && s.selector !== null) errs.push(...validateLabels(s.selector, 'spec.selector'));
  const sa = str(s.sessionAffinity);
  if (!sa) errs.push(required('spec.sessionAffinity'));
  else if (sa !== 'ClientIP' && sa !== 'None') errs.push(notSupported('spec.sessionAffinity', sa, ['ClientIP', 'None']));
  if (sa === 'ClientIP') {
    const cfg = obj(s.sessionAffinityConfig);
    const cip = obj(cfg?.clientIP);
    if (!cfg) errs.push(required('spec.sessionAffinityConfig', 'when session affinity type is ClientIP'));
    else if (!cip) errs.push(required('spec.sessionAffinityConfig.clientIP', 'when session affinity type is ClientIP'));
    else if (cip.timeoutSeconds === undefined || cip.timeoutSeconds === null)
      errs.push(required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', 'when session affinity type is ClientIP'));
    else {
      const t = num(cip.timeoutSeconds) ?? 0;
      if (t <= 0 || t > MAX_CLIENT_IP_TIMEOUT)
        errs.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', cip.timeoutSeconds, `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT}`));
    }
  } else if (sa === 'None' && s.sessionAffinityConfig !== undefined && s.sessionAffinityConfig !== null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPsRelated(s));
  arr(s.externalIPs).forEach((ip, i) => {
    const p = `spec.externalIPs[${i}]`;
    const e = validateIP(p, str(ip));
    errs.push(...(e.length ? e : validateNonSpecialIP(str(ip), p)));
  });
  if (!type) errs.push(required('spec.type'));
  else if (!TYPES.includes(type)) errs.push(notSupported('spec.type', type, TYPES));
  if (type === 'ClusterIP')
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${str(p.protocol)}/${String(p.nodePort)}`;
    if (nodePorts.has(key)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${str(p.protocol)}/${String(p.port)}`;
    if (portKeys.has(key)) errs.push(duplicate(`spec.ports[${i}]`, { port: p.port, protocol: p.protocol, targetPort: 0 }));
    portKeys.add(key);
  });
  const ranges = arr(s.loadBalancerSourceRanges);
  if (ranges.length > 0) {
    if (type !== 'LoadBalancer') errs.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...validateCIDR(`spec.LoadBalancerSourceRanges[${i}]`, str(r).trim())));
  } else if (ann['service.beta.kubernetes.io/load-balancer-source-ranges'] !== undefined) {
    const p = 'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]';
    if (type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const val = ann['service.beta.kubernetes.io/load-balancer-source-ranges'].trim();
    if (val) for (const c of val.split(',')) errs.push(...validateCIDR(p, c.trim()));
  }
  if (s.allocateLoadBalancerNodePorts !== undefined && s.allocateLoadBalancerNodePorts !== null && type !== 'LoadBalancer')
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  if (type === 'LoadBalancer' && (s.allocateLoadBalancerNodePorts === undefined || s.allocateLoadBalancerNodePorts === null)) errs.push(required('allocateLoadBalancerNodePorts'));
  if (type === 'LoadBalancer') {
    if (s.loadBalancerClass !== undefined && s.loadBalancerClass !== null) errs.push(...qualifiedName(str(s.loadBalancerClass), 'spec.loadBalancerClass'));
  } else if (s.loadBalancerClass !== undefined && s.loadBalancerClass !== null) {
    errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  const etp = str(s.externalTrafficPolicy);
  if (!externallyAccessible(s)) {
    if (etp) errs.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
  } else if (!etp) errs.push(required('spec.externalTrafficPolicy'));
  else if (etp !== 'Cluster' && etp !== 'Local') errs.push(notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  const hc = num(s.healthCheckNodePort) ?? 0;
  if (!needsHCNodePort(s)) {
    if (hc !== 0) errs.push(invalid('spec.healthCheckNodePort', hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (hc === 0) errs.push(required('spec.healthCheckNodePort'));
  else if (!isValidPortNum(hc)) errs.push(invalid('spec.healthCheckNodePort', hc, inclusiveRange(1, 65535)));
  if (s.internalTrafficPolicy === undefined || s.internalTrafficPolicy === null) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(type)) errs.push(required('spec.internalTrafficPolicy'));
  } else if (!['Cluster', 'Local'].includes(str(s.internalTrafficPolicy))) errs.push(notSupported('spec.internalTrafficPolicy', s.internalTrafficPolicy, ['Cluster', 'Local']));
  if (s.trafficDistribution !== undefined && s.trafficDistribution !== null && s.trafficDistribution !== 'PreferClose')
    errs.push(notSupported('spec.trafficDistribution', s.trafficDistribution, ['PreferClose']));
  return errs;
}

/** ValidateServiceUpdate extras: clusterIPs / ipFamilies upgrade-downgrade rules, loadBalancerClass, healthCheckNodePort. */
function validateServiceUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const s = obj(o.spec) ?? {};
  const b = obj(old.spec) ?? {};
  const errs: FieldError[] = [];
  if (typeOf(s) !== 'ExternalName' && typeOf(b) !== 'ExternalName' && !(isHeadless(s) && isHeadless(b))) {
    const a = arr(s.clusterIPs);
    const p = arr(b.clusterIPs);
    if (a.length === p.length) {
      p.forEach((ip, i) => {
        if (ip !== a[i]) errs.push(invalid(`spec.clusterIPs[${i}]`, a, 'may not change once set'));
      });
    } else if (p.length > a.length) {
      if (a.length === 0) errs.push(invalid('spec.clusterIPs[0]', a, 'primary clusterIP can not be unset'));
      if (p.length > 0 && a.length > 0 && a[0] !== p[0]) errs.push(invalid('spec.clusterIPs[0]', a, 'may not change once set'));
      if (a.length === 1 && s.ipFamilyPolicy !== 'SingleStack')
        errs.push(invalid('spec.ipFamilyPolicy', s.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    } else if (p.length > 0 && a[0] !== p[0]) errs.push(invalid('spec.clusterIPs[0]', a, 'may not change once set'));
  }
  if (typeOf(s) !== 'ExternalName' && typeOf(b) !== 'ExternalName' && isHeadless(s) === isHeadless(b) && !isHeadless(s)) {
    const a = arr(s.ipFamilies);
    const p = arr(b.ipFamilies);
    if (a.length === p.length) {
      p.forEach((f, i) => {
        if (f !== a[i]) errs.push(invalid('spec.ipFamilies[0]', a, 'may not change once set'));
      });
    } else if (p.length > a.length) {
      if (arr(s.clusterIPs).length === 0) errs.push(invalid('spec.ipFamilies[0]', a, 'primary ipFamily can not be unset'));
      if (a.length > 0 && a[0] !== p[0]) errs.push(invalid('spec.ipFamilies[0]', arr(s.clusterIPs), 'may not change once set'));
      if (a.length === 1 && s.ipFamilyPolicy !== 'SingleStack')
        errs.push(invalid('spec.ipFamilyPolicy', s.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    } else if (p.length > 0 && a.length > 0 && a[0] !== p[0]) errs.push(invalid('spec.ipFamilies[0]', arr(s.clusterIPs), 'may not change once set'));
  }
  if (typeOf(s) === 'LoadBalancer' && typeOf(b) === 'LoadBalancer' && !deepEqual(s.loadBalancerClass ?? null, b.loadBalancerClass ?? null))
    errs.push(invalid('spec.loadBalancerClass', s.loadBalancerClass ?? null, 'may not change once set'));
  if (needsHCNodePort(b) && needsHCNodePort(s) && (num(s.healthCheckNodePort) ?? 0) !== (num(b.healthCheckNodePort) ?? 0))
    errs.push(forbidden('spec.healthCheckNodePort', FIELD_IMMUTABLE));
  return errs;
}

function validateServiceStatus(o: KubeObject): FieldError[] {
  const s = obj(o.spec) ?? {};
  const errs: FieldError[] = [];
  const ing = objs(obj(obj(o.status)?.loadBalancer)?.ingress);
  if (typeOf(s) !== 'LoadBalancer' && ing.length > 0) return [forbidden('status.loadBalancer.ingress', "may only be used when `spec.type` is 'LoadBalancer'")];
  ing.forEach((g, i) => {
    const p = `status.loadBalancer.ingress[${i}]`;
    if (str(g.ip)) errs.push(...validateIP(`${p}.ip`, str(g.ip)));
    if ((g.ipMode === undefined || g.ipMode === null) && str(g.ip)) errs.push(required(`${p}.ipMode`, 'must be specified when `ip` is set'));
    else if (g.ipMode !== undefined && g.ipMode !== null && !str(g.ip)) errs.push(forbidden(`${p}.ipMode`, 'may not be specified when `ip` is not set'));
    else if (g.ipMode !== undefined && g.ipMode !== null && !['Proxy', 'VIP'].includes(str(g.ipMode))) errs.push(notSupported(`${p}.ipMode`, g.ipMode, ['Proxy', 'VIP']));
    const hn = str(g.hostname);
    if (hn) {
      errs.push(...subdomain1123(hn, `${p}.hostname`));
      if (validateIP('', hn).length === 0) errs.push(invalid(`${p}.hostname`, hn, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

// ---- Table ------------------------------------------------------------------------------------------------------

function externalIPCell(o: KubeObject): string {
  const s = obj(o.spec) ?? {};
  const ext = arr(s.externalIPs).map(str);
  switch (typeOf(s)) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length > 0 ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      // Server-side printing is always "wide", so no 16-character clipping.
      const lb = [...new Set(objs(obj(obj(o.status)?.loadBalancer)?.ingress).map((g) => str(g.ip) || str(g.hostname)).filter((x) => x))].sort();
      if (ext.length > 0) return [...lb, ...ext].join(',');
      return lb.length > 0 ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(s.externalName);
  }
  return '<unknown>';
}

export function servicePorts(ports: unknown): string {
  return objs(ports)
    .map((p) => (num(p.nodePort) ? `${String(p.port)}:${String(p.nodePort)}/${str(p.protocol)}` : `${String(p.port)}/${str(p.protocol)}`))
    .join(',');
}

export const services: KindDef = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  status: true,
  extraSubresources: [{ name: 'proxy', group: '', version: 'v1', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
  defaults: defaultService,
  prepareForCreate(o) {
    o.status = { loadBalancer: {} };
    const s = specOf(o);
    normalizeClusterIPs(s);
    initIPFamilies(s);
  },
  prepareForUpdate(o, old) {
    const s = specOf(o);
    const b = obj(old.spec) ?? {};
    patchAllocatedValues(s, b);
    normalizeClusterIPs(s, b);
    dropTypeDependentFields(o, s, b);
    initIPFamilies(s, b);
  },
  validate: validateService,
  validateUpdate: validateServiceUpdate,
  validateStatusUpdate: validateServiceStatus,
  table: {
    columns: [
      nameColumn(),
      col('Type', 'string', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
      ageColumn(),
      col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    cells(o, now) {
      const s = obj(o.spec) ?? {};
      const ips = arr(s.clusterIPs).map(str);
      return [
        o.metadata.name,
        typeOf(s),
        ips.length > 0 ? ips[0] : '<none>',
        externalIPCell(o),
        servicePorts(s.ports) || '<none>',
        ageOf(o, now),
        formatLabels(obj(s.selector) as Record<string, string> | undefined),
      ];
    },
  },
  fieldLabels(o) {
    const s = obj(o.spec) ?? {};
    return { 'spec.clusterIP': str(s.clusterIP), 'spec.type': typeOf(s) };
  },
};
