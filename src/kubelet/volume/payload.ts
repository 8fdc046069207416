// What the API-data volumes (configMap, secret, downwardAPI, projected) put on disk, as upstream's MakePayload
// functions decide it (pure): relative path → bytes and mode, with upstream's errors for missing keys and bad paths.

import type { KubeObject } from '../../api/types.js';
import type { Container, Pod } from '../types.js';
import { containerResourceValue, podFieldValue } from './downward.js';

export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** Relative file path inside the volume → contents. */
export type Payload = Map<string, FileProjection>;

/** The API's default for defaultMode (0644). */
export const DEFAULT_MODE = 0o644;

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

const itemsOf = (v: unknown): KeyToPath[] => (Array.isArray(v) ? (v as KeyToPath[]) : []);
const modeOr = (m: unknown, d: number): number => (typeof m === 'number' ? m : d);

/**
 * ConfigMap (or Secret) data → payload. Without items every key becomes a file; with items only those keys, at
 * their paths and modes. A missing key fails unless the source is optional.
 */
function keyedPayload(entries: Map<string, Buffer>, items: unknown, defaultMode: number, optional: boolean, missing: (key: string) => string): Payload {
  const payload: Payload = new Map();
  const list = itemsOf(items);
  if (list.length === 0) {
    for (const [k, data] of entries) payload.set(k, { data, mode: defaultMode });
    return payload;
  }
  for (const it of list) {
    const data = entries.get(it.key);
    if (data === undefined) {
      if (optional) continue;
      throw new Error(missing(it.key));
    }
    payload.set(it.path, { data, mode: modeOr(it.mode, defaultMode) });
  }
  return payload;
}

/** A ConfigMap's data and binaryData; `cm` undefined stands for an absent optional ConfigMap (no files). */
export function configMapPayload(source: Record<string, any>, cm: KubeObject | undefined, defaultMode: number): Payload {
  const entries = new Map<string, Buffer>();
  for (const [k, v] of Object.entries((cm?.data ?? {}) as Record<string, string>)) entries.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries((cm?.binaryData ?? {}) as Record<string, string>)) entries.set(k, Buffer.from(v, 'base64'));
  return keyedPayload(entries, source.items, defaultMode, source.optional === true, (k) => `configmap references non-existent config key: ${k}`);
}

/** A Secret's data (base64 on the wire); `secret` undefined stands for an absent optional Secret. */
export function secretPayload(source: Record<string, any>, secret: KubeObject | undefined, defaultMode: number): Payload {
  const entries = new Map<string, Buffer>();
  for (const [k, v] of Object.entries((secret?.data ?? {}) as Record<string, string>)) entries.set(k, Buffer.from(v, 'base64'));
  return keyedPayload(entries, source.items, defaultMode, source.optional === true, (k) => `references non-existent secret key: ${k}`);
}

/** downwardAPI items → payload. `allocatable` is the node's, standing in for unset limits. */
export function downwardPayload(items: unknown, pod: Pod, defaultMode: number, allocatable: Record<string, unknown> = {}): Payload {
  const payload: Payload = new Map();
  const errs: string[] = [];
  for (const it of (Array.isArray(items) ? items : []) as Array<Record<string, any>>) {
    const mode = modeOr(it.mode, defaultMode);
    try {
      let value: string;
      if (it.fieldRef) value = podFieldValue(pod, String(it.fieldRef.fieldPath ?? ''));
      else if (it.resourceFieldRef) {
        const name = String(it.resourceFieldRef.containerName ?? '');
        const all = [...((pod.spec?.initContainers ?? []) as Container[]), ...((pod.spec?.containers ?? []) as Container[])];
        const c = all.find((x) => x.name === name);
        if (!c) throw new Error(`container ${name} not found`);
        value = containerResourceValue(c, String(it.resourceFieldRef.resource ?? ''), it.resourceFieldRef.divisor, allocatable);
      } else continue;
      payload.set(String(it.path), { data: Buffer.from(value, 'utf8'), mode });
    } catch (e) {
      errs.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (errs.length) throw new Error(aggregate(errs));
  return payload;
}

/** utilerrors.NewAggregate's message: one error as is, several as `[a, b]`. */
export function aggregate(msgs: string[]): string {
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

/**
 * The atomic writer's path rules: relative, non-empty, no `..` element, not starting with `..` (that prefix is
 * reserved for the writer's own `..data` and timestamped directories). Returns the cleaned path or throws.
 */
export function validatePayloadPath(p: string): string {
  if (p === '') throw new Error(`invalid path: must not be empty: ${p}`);
  if (p.startsWith('/')) throw new Error(`invalid path: must be relative path: ${p}`);
  const parts = p.split('/');
  if (parts.includes('..')) throw new Error(`invalid path: must not contain '..': ${p}`);
  if (p.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${p}`);
  const clean = parts.filter((s) => s !== '' && s !== '.').join('/');
  if (clean === '') throw new Error(`invalid path: must not be empty: ${p}`);
  return clean;
}

/** Validates and cleans every path of a payload (AtomicWriter validatePayload). */
export function cleanPayload(payload: Payload): Payload {
  const out: Payload = new Map();
  for (const [p, f] of payload) out.set(validatePayloadPath(p), f);
  return out;
}
