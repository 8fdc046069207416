// Shared Table-cell helpers with upstream's formatting (ages like "5m", "<none>", "<unknown>").

import type { ColumnDefinition } from './types.js';
import type { KubeObject } from '../types.js';

export const col = (name: string, type: ColumnDefinition['type'], description = '', priority = 0, format = ''): ColumnDefinition => ({
  name,
  type,
  format,
  description,
  priority,
});
/** The Name column every kind starts with. */
export const nameColumn = (): ColumnDefinition =>
  col('Name', 'string', "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names", 0, 'name');
export const ageColumn = (): ColumnDefinition =>
  col('Age', 'string', "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata");

/** Upstream's duration.HumanDuration (apimachinery/pkg/util/duration). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age cell: "<unknown>" when there is no timestamp, as upstream's translateTimestampSince. */
export function age(ts: string | null | undefined, now: number): string {
  if (!ts) return '<unknown>';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}

export function ageOf(obj: KubeObject, now: number): string {
  return age(obj.metadata.creationTimestamp, now);
}

/** Safe nested read: get(obj, 'spec', 'replicas'). */
export function get(obj: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** "k=v,k2=v2" sorted by key, as labels.FormatLabels / SelectorFromSet().String(); "<none>" when empty. */
export function formatLabels(m: Record<string, string> | undefined, none = '<none>'): string {
  if (!m) return none;
  const keys = Object.keys(m).sort();
  if (keys.length === 0) return none;
  return keys.map((k) => `${k}=${m[k]}`).join(',');
}
