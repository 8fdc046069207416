// Validation and defaulting primitives shared by the core/v1 kind strategies (upstream apimachinery
// util/validation + core validation helpers), with upstream's exact messages. Objects are untyped JSON here,
// so every reader is defensive: wrong shapes become field errors, never exceptions.

import { duplicate, forbidden, invalid, notSupported, required, type FieldError, type FieldErrorType } from '../../errors.js';
import { QuantityError, formatQuantity, parseQuantity, roundUp, type Quantity } from '../../quantity.js';
import { isObject } from '../../types.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateLabels } from '../../validation/names.js';

export type Obj = Record<string, unknown>;

export const FIELD_IMMUTABLE = 'field is immutable';
export const IS_NEGATIVE = 'must be greater than or equal to 0';
export const NOT_POSITIVE = 'must be greater than zero';
export const FILE_MODE = 'must be a number between 0 and 0777 (octal), both inclusive';

// ---- readers -----------------------------------------------------------------------------------------------

export const obj = (v: unknown): Obj | undefined => (isObject(v) ? v : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const objs = (v: unknown): Obj[] => arr(v).map((x) => (isObject(x) ? x : {}));
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const isSet = (v: unknown): boolean => v !== undefined && v !== null;
/** A string field counts as unset when absent, null or "" (Go zero value). */
export const unsetStr = (v: unknown): boolean => v === undefined || v === null || v === '';

/** Get or create a nested object field (defaulting helper). */
export function ensureObj(o: Obj, key: string): Obj {
  const v = o[key];
  if (isObject(v)) return v;
  const n: Obj = {};
  o[key] = n;
  return n;
}

/** Structural equality of JSON values (key order insensitive). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Go-semantic equality where absent, null, "", 0, false, [] and {} are all "zero" (apiequality.Semantic on optional fields). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  const zero = (v: unknown): boolean =>
    v === undefined || v === null || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.values(v).every(zero));
  if (zero(a) && zero(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => semanticEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

// ---- messages ------------------------------------------------------------------------------------------------

/** apimachinery RegexError: `msg (e.g. 'a',  or 'b', regex used for validation is 're')`. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

export const inclusiveRange = (lo: number, hi: number): string => `must be between ${lo} and ${hi}, inclusive`;

/** field.NotFound ("Not found: \"x\""). errors.ts has no helper for it yet; the type string is upstream's. */
export const notFoundErr = (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound' as unknown as FieldErrorType, field, value });

/** field.TooLong with upstream 1.32 wording. */
export const tooLongErr = (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `may not be more than ${max} bytes` });

// ---- string formats -------------------------------------------------------------------------------------------

export const label1123 = (v: string, path: string): FieldError[] => isDNS1123Label(v).map((m) => invalid(path, v, m));
export const subdomain1123 = (v: string, path: string): FieldError[] => isDNS1123Subdomain(v).map((m) => invalid(path, v, m));
export const label1035 = (v: string, path: string): FieldError[] => isDNS1035Label(v).map((m) => invalid(path, v, m));
export const qualifiedName = (v: string, path: string): FieldError[] => isQualifiedName(v).map((m) => invalid(path, v, m));
export const labelValue = (v: string, path: string): FieldError[] => isValidLabelValue(v).map((m) => invalid(path, v, m));

/**
 * Extra name checks for kinds whose names are stricter than the DNS subdomain the generic store already checks
 * (namespaces: DNS-1123 label; services: DNS-1035 label). Only reported when the subdomain check passed, so a
 * bad name is reported once.
 */
export function stricterNameErrors(meta: unknown, fn: (v: string) => string[]): FieldError[] {
  const m = obj(meta) ?? {};
  const errs: FieldError[] = [];
  const name = str(m.name);
  if (name && isDNS1123Subdomain(name).length === 0) for (const msg of fn(name)) errs.push(invalid('metadata.name', name, msg));
  const gen = str(m.generateName);
  if (!name && gen) {
    const prefix = gen.replace(/-+$/, '');
    if (prefix && isDNS1123Subdomain(prefix).length === 0) for (const msg of fn(prefix)) errs.push(invalid('metadata.generateName', gen, msg));
  }
  return errs;
}

const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
export function isConfigMapKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(v)) errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  errs.push(...chDirPrefix(v));
  return errs;
}

function chDirPrefix(v: string): string[] {
  if (v === '.') return ["must not be '.'"];
  if (v === '..') return ["must not be '..'"];
  if (v.startsWith('..')) return ["must not start with '..'"];
  return [];
}

/** Relaxed env var names (RelaxedEnvironmentVariableValidation is on by default in 1.32). */
export function isRelaxedEnvVarName(v: string): string[] {
  const errs: string[] = [];
  if (v.length === 0) errs.push('environment variable name must be non-empty');
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if (c > 0x7e || c < 0x20 || ch === '=') {
      errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

export function isValidPortNum(p: unknown): boolean {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** IntOrString port: a number must be a valid port number, a string a valid port name. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port) ? [] : [invalid(path, port, inclusiveRange(1, 65535))];
  // A string (even all digits) is an IntOrString name and is validated as a port name, as upstream.
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(path, port, m));
  return [invalid(path, port ?? null, inclusiveRange(1, 65535))];
}

export function validateNonnegative(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(path, v, 'must be an integer')];
  return v < 0 ? [invalid(path, v, IS_NEGATIVE)] : [];
}

// ---- IPs ------------------------------------------------------------------------------------------------------

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  // ParseIPSloppy tolerates leading zeros.
  return parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  if (!s.includes(':') || s.includes('%')) return false;
  let head = s;
  let v4Tail = false;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(s.slice(lastColon + 1))) return false;
    head = s.slice(0, lastColon + 1) + '0:0';
    v4Tail = true;
  }
  const dbl = head.split('::');
  if (dbl.length > 2) return false;
  const groups = (p: string): string[] | undefined => (p === '' ? [] : p.split(':'));
  const left = groups(dbl[0]);
  const right = dbl.length === 2 ? groups(dbl[1]) : [];
  if (!left || !right) return false;
  const all = [...left, ...right];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  void v4Tail;
  return dbl.length === 2 ? all.length < 8 : all.length === 8;
}

export const isIP = (s: string): boolean => isIPv4(s) || isIPv6(s);

export function validateIP(path: string, v: string): FieldError[] {
  return isIP(v) ? [] : [invalid(path, v, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

export function validateCIDR(path: string, v: string): FieldError[] {
  const [ip, bits, extra] = v.split('/');
  const ok = extra === undefined && bits !== undefined && /^[0-9]+$/.test(bits) && ((isIPv4(ip) && Number(bits) <= 32) || (isIPv6(ip) && Number(bits) <= 128));
  return ok ? [] : [invalid(path, v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

// ---- labels and selectors ---------------------------------------------------------------------------------------

export { validateLabels };

/** metav1 LabelSelector validation (unversioned ValidateLabelSelector) with upstream messages and paths. */
export function validateLabelSelector(sel: unknown, path: string): FieldError[] {
  if (sel === undefined || sel === null) return [];
  const s = obj(sel);
  if (!s) return [invalid(path, sel, 'must be a label selector object')];
  const errs = validateLabels(s.matchLabels, `${path}.matchLabels`);
  objs(s.matchExpressions).forEach((r, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = arr(r.values);
    switch (r.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, r.operator ?? '', 'not a valid selector operator'));
    }
    errs.push(...qualifiedName(str(r.key), `${p}.key`));
    values.forEach((v, j) => errs.push(...labelValue(str(v), `${p}.values[${j}]`)));
  });
  return errs;
}

/** Does a LabelSelector (matchLabels/matchExpressions) match these labels? Empty selector matches everything. */
export function selectorMatches(sel: unknown, labels: Record<string, string> | undefined): boolean {
  const s = obj(sel);
  if (!s) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(obj(s.matchLabels) ?? {})) if (l[k] !== v) return false;
  for (const r of objs(s.matchExpressions)) {
    const k = str(r.key);
    const vals = arr(r.values).map(str);
    const has = Object.prototype.hasOwnProperty.call(l, k);
    switch (r.operator) {
      case 'In':
        if (!has || !vals.includes(l[k])) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(l[k])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

// ---- quantities and resource lists ------------------------------------------------------------------------------

/** Parse a quantity field; returns the error for a malformed one. */
export function quantityAt(v: unknown, path: string): { q?: Quantity; err?: FieldError } {
  if (typeof v !== 'string' && typeof v !== 'number') return { err: invalid(path, v ?? null, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'") };
  try {
    return { q: parseQuantity(v) };
  } catch (e) {
    return { err: invalid(path, v, e instanceof QuantityError ? e.message : String(e)) };
  }
}

/** Canonicalize every quantity of a ResourceList in place, rounding up to milli (SetDefaults_ResourceList). */
export function defaultResourceList(list: unknown, roundMilli = true): void {
  const l = obj(list);
  if (!l) return;
  for (const [k, v] of Object.entries(l)) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    try {
      const q = parseQuantity(v);
      l[k] = formatQuantity(roundMilli ? roundUp(q, -3) : q);
    } catch {
      // left for validation to report
    }
  }
}

/** Canonicalize a single optional quantity field in place (no rounding). */
export function defaultQuantityField(o: Obj, key: string): void {
  const v = o[key];
  if (typeof v !== 'string' && typeof v !== 'number') return;
  try {
    o[key] = formatQuantity(parseQuantity(v));
  } catch {
    // left for validation
  }
}

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const STANDARD_RESOURCES = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);
const INTEGER_RESOURCES = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

export const isHugePages = (n: string): boolean => n.startsWith('hugepages-');
const isPrefixedHugePages = (n: string): boolean => n.startsWith('requests.hugepages-') || n.startsWith('limits.hugepages-');
/** Native = no domain prefix, or a kubernetes.io domain. */
export const isNativeResource = (n: string): boolean => !n.includes('/') || n.includes('kubernetes.io/');
export const isExtendedResourceName = (n: string): boolean =>
  !isNativeResource(n) && !n.startsWith('requests.') && isQualifiedName('requests.' + n).length === 0;
/** Hugepages and extended resources may not be overcommitted (requests must equal limits). */
export const isOvercommitAllowed = (n: string): boolean => isNativeResource(n) && !isHugePages(n);
export const isStandardResourceName = (n: string): boolean => STANDARD_RESOURCES.has(n) || isHugePages(n) || isPrefixedHugePages(n);
export const isIntegerResourceName = (n: string): boolean => INTEGER_RESOURCES.has(n) || n.startsWith('count/') || isExtendedResourceName(n);

export function validateResourceName(n: string, path: string): FieldError[] {
  const errs = qualifiedName(n, path);
  if (errs.length) return errs;
  if (!n.includes('/') && !isStandardResourceName(n)) return [invalid(path, n, 'must be a standard resource type or fully qualified')];
  return [];
}

export function validateContainerResourceName(n: string, path: string): FieldError[] {
  const errs = validateResourceName(n, path);
  if (!n.includes('/')) {
    if (!(STANDARD_CONTAINER_RESOURCES.has(n) || isHugePages(n))) return [...errs, invalid(path, n, 'must be a standard resource for containers')];
  } else if (!isNativeResource(n) && !isExtendedResourceName(n)) {
    return [...errs, invalid(path, n, "doesn't follow extended resource name standard")];
  }
  return errs;
}

/** ValidateResourceQuantityValue: non-negative, integer for integer resources. */
export function validateResourceQuantity(name: string, q: Quantity, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (q.mantissa < 0n) errs.push(invalid(path, formatQuantity(q), IS_NEGATIVE));
  if (isIntegerResourceName(name) && q.scale < 0) errs.push(invalid(path, formatQuantity(q), 'must be an integer'));
  return errs;
}

/** Container (or overhead) ResourceRequirements: names, quantities, requests ≤ limits. */
export function validateResourceRequirements(res: unknown, path: string, nameFn = validateContainerResourceName): FieldError[] {
  const r = obj(res);
  if (!r) return [];
  const errs: FieldError[] = [];
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  const limits = new Map<string, Quantity>();
  let limCPUMem = false;
  let reqCPUMem = false;
  let hugePages = false;
  for (const [name, v] of Object.entries(obj(r.limits) ?? {})) {
    const p = `${limPath}[${name}]`;
    errs.push(...nameFn(name, p));
    const { q, err } = quantityAt(v, p);
    if (err) errs.push(err);
    if (q) {
      limits.set(name, q);
      errs.push(...validateResourceQuantity(name, q, p));
    }
    if (isHugePages(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') limCPUMem = true;
  }
  for (const [name, v] of Object.entries(obj(r.requests) ?? {})) {
    const p = `${reqPath}[${name}]`;
    errs.push(...nameFn(name, p));
    const { q, err } = quantityAt(v, p);
    if (err) errs.push(err);
    if (q) {
      errs.push(...validateResourceQuantity(name, q, p));
      const lim = limits.get(name);
      if (lim) {
        const c = compareQ(q, lim);
        if (c !== 0 && !isOvercommitAllowed(name))
          errs.push(invalid(reqPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(lim)}`));
        else if (c > 0) errs.push(invalid(reqPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`));
      } else if (!isOvercommitAllowed(name) && !(obj(r.limits) ?? {})[name]) {
        errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
      }
    }
    if (isHugePages(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') reqCPUMem = true;
  }
  if (!limCPUMem && !reqCPUMem && hugePages) errs.push(forbidden(path, 'HugePages require cpu or memory'));
  const seen = new Set<string>();
  objs(r.claims).forEach((c, i) => {
    const name = str(c.name);
    if (!name) errs.push(required(`${path}.claims[${i}]`));
    else if (seen.has(name)) errs.push(duplicate(`${path}.claims[${i}]`, name));
    seen.add(name);
  });
  return errs;
}

function compareQ(a: Quantity, b: Quantity): number {
  const s = Math.min(a.scale, b.scale);
  const x = a.mantissa * 10n ** BigInt(a.scale - s);
  const y = b.mantissa * 10n ** BigInt(b.scale - s);
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---- binary data ------------------------------------------------------------------------------------------------

/** ConfigMap/Secret total data limit (core.MaxSecretSize). */
export const MAX_DATA_SIZE = 1024 * 1024;

/**
 * Go's StdEncoding decode of a JSON []byte: padded standard alphabet, CR/LF ignored. Returns the bytes, or the
 * error text ("illegal base64 data at input byte N").
 */
export function decodeBase64Strict(v: unknown): Buffer | string {
  if (typeof v !== 'string') return 'illegal base64 data at input byte 0';
  const s = v.replace(/[\r\n]/g, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '=') {
      const quantum = i - (i % 4);
      const pad = s.slice(i);
      const okPad = (i % 4 === 2 && pad === '==') || (i % 4 === 3 && pad === '=');
      if (!okPad) return `illegal base64 data at input byte ${i % 4 < 2 ? quantum : i}`;
      break;
    }
    if (!/[A-Za-z0-9+/]/.test(c)) return `illegal base64 data at input byte ${i}`;
  }
  if (s.length % 4 !== 0) return `illegal base64 data at input byte ${s.length - (s.length % 4)}`;
  return Buffer.from(s, 'base64');
}

export { notSupported, invalid, required, forbidden, duplicate };
