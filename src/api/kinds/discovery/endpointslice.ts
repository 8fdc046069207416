// discovery.k8s.io/v1 EndpointSlice strategy: defaults (port name "" and protocol TCP), validation
// (ValidateEndpointSlice*: address types, addresses, ports, hints) and the `kubectl get endpointslices` columns.

import { duplicate, invalid, notSupported, required, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateLabels } from '../../validation/names.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { arr, immutable, isRecord, rec, str, tooMany } from '../meta/validation.js';
import { parseCIDR, parseIPSloppy } from '../networking/common.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_ENDPOINTS = 1000;
const MAX_HINTS = 8;

export function defaultEndpointSlice(obj: KubeObject): void {
  for (const p of arr(obj.ports)) {
    if (!isRecord(p)) continue;
    if (p.name === undefined || p.name === null) p.name = '';
    if (p.protocol === undefined || p.protocol === null) p.protocol = 'TCP';
  }
}

const inCIDR = (ip: string, cidr: string): boolean => {
  const a = parseCIDR(`${ip}/${parseIPSloppy(ip) === 4 ? 32 : 128}`);
  const n = parseCIDR(cidr);
  if (!a || !n || a.family !== n.family) return false;
  const shift = BigInt(n.bits - n.prefix);
  return a.network >> shift === n.network >> shift;
};

/** ValidateNonSpecialIP. */
export function validateNonSpecialIP(ip: string, path: string): FieldError[] {
  if (!parseIPSloppy(ip)) return [invalid(path, ip, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  if (inCIDR(ip, '0.0.0.0/32') || inCIDR(ip, '::/128')) errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  if (inCIDR(ip, '127.0.0.0/8') || inCIDR(ip, '::1/128')) errs.push(invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (inCIDR(ip, '169.254.0.0/16') || inCIDR(ip, 'fe80::/10')) errs.push(invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (inCIDR(ip, '224.0.0.0/24') || inCIDR(ip, 'ff02::/16')) errs.push(invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** validation.IsFullyQualifiedDomainName. */
function fqdnErrors(path: string, name0: string): FieldError[] {
  if (name0.length === 0) return [required(path, '')];
  const name = name0.endsWith('.') ? name0.slice(0, -1) : name0;
  const sub = isDNS1123Subdomain(name);
  if (sub.length) return [invalid(path, name, sub.join(','))];
  const labels = name.split('.');
  if (labels.length < 2) return [invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const l of labels) {
    const e = isDNS1123Label(l);
    if (e.length) return [invalid(path, l, e.join(','))];
  }
  return [];
}

export function validateEndpointSlice(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const addressType = str(obj.addressType);
  if (addressType === '') errs.push(required('addressType', ''));
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(notSupported('addressType', addressType, ADDRESS_TYPES));
  const endpoints = arr(obj.endpoints);
  if (endpoints.length > MAX_ENDPOINTS) errs.push(tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  else
    endpoints.forEach((e0, i) => {
      const e = rec(e0);
      const p = `endpoints[${i}]`;
      const addresses = arr(e.addresses);
      if (addresses.length === 0) errs.push(required(`${p}.addresses`, 'must contain at least 1 address'));
      else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(`${p}.addresses`, addresses.length, MAX_ADDRESSES));
      addresses.forEach((a0, j) => {
        const a = str(a0);
        const ap = `${p}.addresses[${j}]`;
        if (addressType === 'IPv4') {
          if (parseIPSloppy(a) !== 4) errs.push(invalid(ap, a, 'must be a valid IPv4 address'));
          else errs.push(...validateNonSpecialIP(a, ap));
        } else if (addressType === 'IPv6') {
          if (parseIPSloppy(a) !== 6) errs.push(invalid(ap, a, 'must be a valid IPv6 address'));
          else errs.push(...validateNonSpecialIP(a, ap));
        } else if (addressType === 'FQDN') errs.push(...fqdnErrors(ap, a));
      });
      if (typeof e.nodeName === 'string') for (const m of isDNS1123Subdomain(e.nodeName)) errs.push(invalid(`${p}.nodeName`, e.nodeName, m));
      const topo = rec(e.deprecatedTopology);
      if (Object.keys(topo).length > MAX_TOPOLOGY_LABELS) errs.push(tooMany(`${p}.deprecatedTopology`, Object.keys(topo).length, MAX_TOPOLOGY_LABELS));
      errs.push(...validateLabels(e.deprecatedTopology, `${p}.deprecatedTopology`));
      if (typeof e.hostname === 'string') for (const m of isDNS1123Label(e.hostname)) errs.push(invalid(`${p}.hostname`, e.hostname, m));
      if (isRecord(e.hints)) {
        const zones = arr(e.hints.forZones);
        if (zones.length > MAX_HINTS) errs.push(tooMany(`${p}.hints.forZones`, zones.length, MAX_HINTS));
        else {
          const seen = new Set<string>();
          zones.forEach((z0, k) => {
            const zp = `${p}.hints.forZones[${k}].name`;
            const z = str(rec(z0).name);
            if (seen.has(z)) errs.push(duplicate(zp, z));
            else seen.add(z);
            for (const m of isValidLabelValue(z)) errs.push(invalid(zp, z, m));
          });
        }
      }
    });
  const ports = arr(obj.ports);
  if (ports.length > MAX_PORTS) errs.push(tooMany('ports', ports.length, MAX_PORTS));
  else {
    const names = new Set<string>();
    ports.forEach((p0, i) => {
      const port = rec(p0);
      const p = `ports[${i}]`;
      const name = str(port.name);
      if (name.length > 0) for (const m of isDNS1123Label(name)) errs.push(invalid(`${p}.name`, name, m));
      if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
      else names.add(name);
      if (port.protocol === undefined || port.protocol === null) errs.push(required(`${p}.protocol`, ''));
      else if (!PROTOCOLS.includes(str(port.protocol))) errs.push(notSupported(`${p}.protocol`, str(port.protocol), PROTOCOLS));
      if (typeof port.appProtocol === 'string') for (const m of isQualifiedName(port.appProtocol)) errs.push(invalid(`${p}.appProtocol`, port.appProtocol, m));
    });
  }
  return errs;
}

/** listWithMoreString: at most three entries, "<unset>" for none. */
function listWithMore(list: string[], count: number): string {
  const max = 3;
  if (count > max) return `${list.slice(0, max).join(',')} + ${count - max} more...`;
  return list.length ? list.join(',') : '<unset>';
}

export function formatDiscoveryPorts(ports: unknown): string {
  const list = arr(ports).map((p0) => {
    const p = rec(p0);
    if (typeof p.port === 'number') return String(p.port);
    if (typeof p.name === 'string') return p.name;
    return '*';
  });
  return listWithMore(list, list.length);
}

export function formatDiscoveryEndpoints(endpoints: unknown): string {
  const list = arr(endpoints).flatMap((e) => arr(rec(e).addresses).map(str));
  return listWithMore(list, list.length);
}

export const endpointSliceKind: KindDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  // Anything but metadata changing is a new generation (upstream compares the whole object minus metadata).
  generationFields: ['addressType', 'endpoints', 'ports'],
  defaults: defaultEndpointSlice,
  validate: validateEndpointSlice,
  validateUpdate: (obj, old) => immutable(obj.addressType, old.addressType, 'addressType'),
  table: {
    columns: [
      nameColumn(),
      col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type.'),
      col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.'),
      col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
      ageColumn(),
    ],
    cells: (obj, now) => [obj.metadata.name ?? '', str(obj.addressType), formatDiscoveryPorts(obj.ports), formatDiscoveryEndpoints(obj.endpoints), ageOf(obj, now)],
  },
};
