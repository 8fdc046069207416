// core/v1 Endpoints strategy (pkg/registry/core/endpoint): port protocol default, address/port validation and
// the `kubectl get endpoints` Table ("10.0.0.1:80,10.0.0.2:80 + 2 more...").

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { inclusiveRange, invalid, isIPv6, isValidPortNum, label1123, notSupported, objs, qualifiedName, required, str, subdomain1123, validateIP } from './common.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateNonSpecialIP(ip: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (validateIP(path, ip).length) return [invalid(path, ip, 'must be a valid IP address')];
  if (ip === '0.0.0.0' || ip === '::') errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  if (/^127\./.test(ip) || ip === '::1') errs.push(invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (/^169\.254\./.test(ip) || /^fe[89ab]/i.test(ip)) errs.push(invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (/^224\.0\.0\./.test(ip) || /^ff02:/i.test(ip)) errs.push(invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

function validateAddress(a: Record<string, unknown>, path: string): FieldError[] {
  const errs = validateIP(`${path}.ip`, str(a.ip));
  if (str(a.hostname)) errs.push(...label1123(str(a.hostname), `${path}.hostname`));
  if (a.nodeName !== undefined && a.nodeName !== null) errs.push(...subdomain1123(str(a.nodeName), `${path}.nodeName`));
  errs.push(...validateNonSpecialIP(str(a.ip), `${path}.ip`));
  return errs;
}

function validateEndpoints(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  objs(o.subsets).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    const addrs = objs(ss.addresses);
    const notReady = objs(ss.notReadyAddresses);
    if (addrs.length === 0 && notReady.length === 0) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    addrs.forEach((a, j) => errs.push(...validateAddress(a, `${p}.addresses[${j}]`)));
    notReady.forEach((a, j) => errs.push(...validateAddress(a, `${p}.notReadyAddresses[${j}]`)));
    const ports = objs(ss.ports);
    ports.forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      if (ports.length > 1 && !str(port.name)) errs.push(required(`${pp}.name`));
      else if (str(port.name)) errs.push(...label1123(str(port.name), `${pp}.name`));
      if (!isValidPortNum(port.port)) errs.push(invalid(`${pp}.port`, port.port ?? 0, inclusiveRange(1, 65535)));
      if (!str(port.protocol)) errs.push(required(`${pp}.protocol`));
      else if (!PROTOCOLS.includes(str(port.protocol))) errs.push(notSupported(`${pp}.protocol`, port.protocol, PROTOCOLS));
      if (port.appProtocol !== undefined && port.appProtocol !== null) errs.push(...qualifiedName(str(port.appProtocol), `${pp}.appProtocol`));
    });
  });
  return errs;
}

/** formatEndpoints: up to 3 "ip:port" entries, then " + N more...". */
export function formatEndpoints(subsets: unknown): string {
  const ss = objs(subsets);
  if (ss.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const s of ss) {
    const addrs = objs(s.addresses);
    const ports = objs(s.ports);
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(a.ip));
      }
      continue;
    }
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        const ip = str(a.ip);
        list.push(`${isIPv6(ip) ? `[${ip}]` : ip}:${String(port.port)}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpoints: KindDef = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  defaults(o) {
    for (const ss of objs(o.subsets)) for (const p of objs(ss.ports)) if (!str(p.protocol)) p.protocol = 'TCP';
  },
  validate: validateEndpoints,
  table: {
    columns: [nameColumn(), col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), ageColumn()],
    cells: (o, now) => [o.metadata.name, formatEndpoints(o.subsets), ageOf(o, now)],
  },
};
