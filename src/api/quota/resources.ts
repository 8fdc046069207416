// ResourceList arithmetic for quota (upstream apiserver/pkg/quota/v1/resources.go): add, subtract, mask,
// compare and print lists of named quantities. Values are exact Quantities; the wire form is canonical strings.

import { addQuantity, compareQuantity, formatQuantity, signQuantity, subQuantity, tryParseQuantity, type Quantity } from '../quantity.js';

/** Named quantities ("requests.cpu" → 500m). Insertion order carries no meaning; printers sort names. */
export type ResourceList = Map<string, Quantity>;

const ZERO: Quantity = { mantissa: 0n, scale: 0, format: 'DecimalSI' };

/** Reads a wire resource list ({cpu: "1", memory: "1Gi"}); entries that are not quantities are skipped. */
export function parseResourceList(v: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const q = tryParseQuantity(raw);
    if (q) out.set(k, q);
  }
  return out;
}

/** The wire form: canonical quantity strings, names sorted. */
export function formatResourceList(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...list.keys()].sort()) out[k] = formatQuantity(list.get(k)!);
  return out;
}

/** a + b for every name in either (upstream quota.Add). */
export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, q] of b) {
    const cur = out.get(k);
    out.set(k, cur ? addQuantity(cur, q) : q);
  }
  return out;
}

/** a - b for the names in a, never below zero (upstream SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, q] of a) {
    const other = b.get(k);
    const d = other ? subQuantity(q, other) : q;
    out.set(k, signQuantity(d) < 0 ? { ...ZERO, format: q.format } : d);
  }
  for (const k of b.keys()) if (!out.has(k)) out.set(k, { ...ZERO });
  return out;
}

/** Only the named entries (upstream quota.Mask). */
export function maskList(list: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = new Map();
  for (const n of names) {
    const q = list.get(n);
    if (q) out.set(n, q);
  }
  return out;
}

/** Without zero entries (upstream RemoveZeros). */
export function removeZeros(list: ResourceList): ResourceList {
  return new Map([...list].filter(([, q]) => signQuantity(q) !== 0));
}

/** Names whose quantity is negative (upstream IsNegative). */
export function negativeNames(list: ResourceList): string[] {
  return [...list].filter(([, q]) => signQuantity(q) < 0).map(([k]) => k);
}

/** Same names with equal quantities (upstream quota.Equals). */
export function listsEqual(a: ResourceList, b: ResourceList): boolean {
  if (a.size !== b.size) return false;
  for (const [k, q] of a) {
    const o = b.get(k);
    if (!o || compareQuantity(q, o) !== 0) return false;
  }
  return true;
}

/** Names in `a` that `limits` caps below a's value (upstream LessThanOrEqual's exceeded list). */
export function exceeding(a: ResourceList, limits: ResourceList): string[] {
  const out: string[] = [];
  for (const [k, q] of a) {
    const lim = limits.get(k);
    if (lim && compareQuantity(q, lim) > 0) out.push(k);
  }
  return out;
}

/** "name=value,name=value", names sorted (upstream prettyPrint in quota errors). */
export function prettyPrint(list: ResourceList): string {
  return [...list.keys()]
    .sort()
    .map((k) => `${k}=${formatQuantity(list.get(k)!)}`)
    .join(',');
}

export function zeroQuantity(): Quantity {
  return { ...ZERO };
}
