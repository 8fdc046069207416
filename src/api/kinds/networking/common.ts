// Network-flavoured validators used by the networking.k8s.io and discovery.k8s.io kinds: ports, port names,
// IPs and CIDRs, wildcard hosts, with apimachinery's wording.

import { isIP } from 'node:net';
import { invalid, type FieldError } from '../../errors.js';
import { isDNS1123Subdomain } from '../../validation/names.js';
import { regexError } from '../meta/validation.js';

/** validation.IsValidPortNum. */
export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** validation.IsValidPortName (IANA_SVC_NAME). */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

const DNS1123_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';

/** validation.IsWildcardDNS1123Subdomain. */
export function isWildcardDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!new RegExp(`^\\*\\.${DNS1123_SUBDOMAIN}$`).test(v))
    errs.push(
      regexError(
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
        `\\*\\.${DNS1123_SUBDOMAIN}`,
        '*.example.com',
      ),
    );
  return errs;
}

/** netutils.ParseIPSloppy != nil (leading zeros in IPv4 octets are accepted). */
export function parseIPSloppy(s: string): 4 | 6 | 0 {
  if (isIP(s) === 6) return 6;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((o) => parseInt(o, 10) <= 255)) return 4;
  return 0;
}

/** netutils.ParseCIDRSloppy: address family, prefix length and network bits (as a bigint), or undefined. */
export function parseCIDR(s: string): { family: 4 | 6; bits: number; prefix: number; network: bigint } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  if (!/^\d+$/.test(lenText)) return undefined;
  const family = parseIPSloppy(ip);
  if (family === 0) return undefined;
  const bits = family === 4 ? 32 : 128;
  const prefix = parseInt(lenText, 10);
  if (prefix > bits) return undefined;
  const value = ipToBigInt(ip, family);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { family, bits, prefix, network: value & mask };
}

function ipToBigInt(ip: string, family: 4 | 6): bigint {
  if (family === 4) return ip.split('.').reduce((acc, o) => (acc << 8n) + BigInt(parseInt(o, 10)), 0n);
  // Expand "::" and embedded IPv4.
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipToBigInt(v4[1], 4);
    s = s.slice(0, -v4[1].length) + `${((n >> 16n) & 0xffffn).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

/** validation.IsValidCIDR. */
export function isValidCIDR(path: string, v: string): FieldError[] {
  return parseCIDR(v) ? [] : [invalid(path, v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/** validation.IsValidIP. */
export function isValidIP(path: string, v: string): FieldError[] {
  return parseIPSloppy(v) ? [] : [invalid(path, v, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

/** A DNS host name that is not an IP (ingress hosts, load-balancer hostnames). */
export function hostErrors(path: string, host: string): FieldError[] {
  const errs: FieldError[] = [];
  if (parseIPSloppy(host)) errs.push(invalid(path, host, 'must be a DNS name, not an IP address'));
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  for (const m of msgs) errs.push(invalid(path, host, m));
  return errs;
}
