// Downward API values as upstream's fieldpath and resource helpers compute them (pure): pod fields for volumes and
// env, the `k="v"` line format of labels/annotations, and container resources divided by a divisor.

import { parseQuantity, quantityMilliValueBig, quantityValueBig, type Quantity } from '../../api/quantity.js';
import type { Container, Pod } from '../types.js';

/** Go's strconv.Quote (what `%q` prints): printable runes kept, `"` and `\` escaped, the rest as \n, \xHH, \uHHHH. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp === 0x20 || !/[\p{C}\p{Z}]/u.test(ch)) out += ch;
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** fieldpath.FormatMap: one `key="value"` line per entry, keys sorted, no trailing newline. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m![k]!)}`)
    .join('\n');
}

/** `metadata.labels['key']` → ['labels', 'key']. */
function subscript(path: string): [string, string] | undefined {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  return m ? [m[1]!, m[2]!] : undefined;
}

/**
 * A pod field as a downwardAPI volume file or env var holds it. Volumes accept only metadata fields; env (`forEnv`)
 * also the spec and status ones. Throws `unsupported fieldPath: …` otherwise, as upstream.
 */
export function podFieldValue(pod: Pod, fieldPath: string, forEnv = false): string {
  const md = pod.metadata;
  const sub = subscript(fieldPath);
  if (sub) return (sub[0] === 'labels' ? md.labels : md.annotations)?.[sub[1]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return md.name ?? '';
    case 'metadata.namespace':
      return md.namespace ?? '';
    case 'metadata.uid':
      return md.uid ?? '';
    case 'metadata.labels':
      return formatMap(md.labels);
    case 'metadata.annotations':
      return formatMap(md.annotations);
  }
  if (forEnv) {
    const spec = pod.spec ?? {};
    const status = pod.status ?? {};
    switch (fieldPath) {
      case 'spec.nodeName':
        return String(spec.nodeName ?? '');
      case 'spec.serviceAccountName':
        return String(spec.serviceAccountName ?? '');
      case 'status.hostIP':
        return String(status.hostIP ?? '');
      case 'status.hostIPs':
        return ((status.hostIPs ?? []) as Array<{ ip: string }>).map((i) => i.ip).join(',');
      case 'status.podIP':
        return String(status.podIP ?? '');
      case 'status.podIPs':
        return ((status.podIPs ?? []) as Array<{ ip: string }>).map((i) => i.ip).join(',');
    }
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

const ceilDiv = (a: bigint, b: bigint): bigint => (b === 0n ? 0n : a >= 0n ? (a + b - 1n) / b : a / b);

const quantity = (v: unknown): Quantity | undefined => (v === undefined || v === null || v === '' ? undefined : parseQuantity(v as string | number));

/**
 * A container resource as a resourceFieldRef reads it: `limits.cpu` etc. divided by `divisor` and rounded up
 * (cpu in millicores, the rest in units). An unset limit is the node's allocatable (upstream merges them in); an
 * unset request is 0.
 */
export function containerResourceValue(container: Container, resource: string, divisor: unknown, allocatable: Record<string, unknown> = {}): string {
  const m = /^(limits|requests)\.(cpu|memory|ephemeral-storage|hugepages-.+)$/.exec(resource);
  if (!m) throw new Error(`unsupported container resource : ${resource}`);
  const [, kind, name] = m as unknown as [string, 'limits' | 'requests', string];
  const res = (container.resources ?? {}) as { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
  let q = quantity(res[kind]?.[name]);
  if (!q && kind === 'limits') q = quantity(allocatable[name]);
  const d = quantity(divisor) ?? parseQuantity(1);
  if (!q) return '0';
  if (name === 'cpu') return ceilDiv(quantityMilliValueBig(q), quantityMilliValueBig(d)).toString();
  return ceilDiv(quantityValueBig(q), quantityValueBig(d)).toString();
}
