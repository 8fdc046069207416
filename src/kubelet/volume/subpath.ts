// volumeMount subPath and subPathExpr rules (pure): `$(VAR)` expansion as upstream's expansion package does it, the
// env a subPathExpr may use (literal values and downward fields), and the path checks before anything is created.

import type { Container, Pod } from '../types.js';
import { containerResourceValue, podFieldValue } from './downward.js';

/**
 * Upstream's expansion.Expand: `$(NAME)` is replaced by mapping(NAME), `$$` is a literal `$`, and any other `$`
 * (including an unclosed `$(`) stays as written.
 */
export function expand(input: string, mapping: (name: string) => string): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') out += '$';
    else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close >= 1) {
        out += mapping(rest.slice(1, close));
        advance = close + 1;
      } else out += '$(';
    } else out += `$${rest[0]}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/**
 * The container env a subPathExpr sees: literal values (themselves expanded against the vars before them, unknown
 * references kept as `$(X)`) and fieldRef/resourceFieldRef values. Env from ConfigMaps and Secrets is left out.
 */
export function subPathEnv(pod: Pod, container: Container, allocatable: Record<string, unknown> = {}): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of (container.env ?? []) as Array<Record<string, any>>) {
    const name = String(e.name ?? '');
    if (e.value !== undefined && e.value !== null) {
      env.set(name, expand(String(e.value), (k) => env.get(k) ?? `$(${k})`));
      continue;
    }
    const vf = e.valueFrom ?? {};
    try {
      if (vf.fieldRef) env.set(name, podFieldValue(pod, String(vf.fieldRef.fieldPath ?? ''), true));
      else if (vf.resourceFieldRef) {
        const cname = vf.resourceFieldRef.containerName ? String(vf.resourceFieldRef.containerName) : container.name;
        const c = ((pod.spec?.containers ?? []) as Container[]).find((x) => x.name === cname) ?? container;
        env.set(name, containerResourceValue(c, String(vf.resourceFieldRef.resource ?? ''), vf.resourceFieldRef.divisor, allocatable));
      } else if (!e.valueFrom) env.set(name, '');
    } catch {
      // An unusable reference leaves the variable undefined: a subPathExpr naming it reports it missing.
    }
  }
  return env;
}

/** ExpandContainerVolumeMounts: every referenced variable must be set and non-empty. */
export function expandSubPathExpr(expr: string, env: Map<string, string>): string {
  const missing = new Set<string>();
  const out = expand(expr, (k) => {
    const v = env.get(k);
    if (!v) missing.add(k);
    return v ?? '';
  });
  if (missing.size) throw new Error(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

/** The kubelet's checks on a (possibly expanded) subPath before it touches the disk; returns an error message. */
export function checkSubPath(subPath: string): string | undefined {
  if (subPath.startsWith('/')) return `error SubPath \`${subPath}\` must not be an absolute path`;
  if (subPath.split('/').includes('..')) return `unable to provision SubPath \`${subPath}\`: must not contain '..'`;
  return undefined;
}

/** `child` is `base` or lies below it (both already resolved, no trailing slash). */
export function within(base: string, child: string): boolean {
  return child === base || child.startsWith(base.endsWith('/') ? base : `${base}/`);
}
