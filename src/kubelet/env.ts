// A container's environment as upstream's kubelet builds it (makeEnvironmentVariables): service links first, then
// envFrom, then env with valueFrom (configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef) and $(VAR)
// expansion; plus the command/args rules over the image's entrypoint/cmd. Lookups are passed in; no I/O here.

import type { KubeObject } from '../api/types.js';
import { milli, units } from './qos.js';
import { ContainerConfigError, type Container, type Pod } from './types.js';

export interface EnvLookups {
  configMap(namespace: string, name: string): Promise<KubeObject | undefined>;
  secret(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Services visible to the pod for service links: its namespace's plus `default/kubernetes`. */
  services(namespace: string): KubeObject[];
  /** Node allocatable (defaults of resourceFieldRef limits). */
  nodeAllocatable: Record<string, string>;
}

/** Expands `$(VAR)` from `vars`; `$$` escapes; unknown references stay as written (upstream's expansion). */
export function expand(input: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      out += vars.has(name) ? vars.get(name) : `$(${name})`;
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Docker-link style variables of one service (`KUBIA_SERVICE_HOST`, `KUBIA_PORT_80_TCP_ADDR` …). */
export function serviceEnv(svc: KubeObject): Array<[string, string]> {
  const spec = (svc as any).spec ?? {};
  const ip = spec.clusterIP as string | undefined;
  if (!ip || ip === 'None' || spec.type === 'ExternalName') return [];
  const name = (svc.metadata.name ?? '').toUpperCase().replace(/-/g, '_');
  const ports = (spec.ports ?? []) as Array<{ name?: string; port: number; protocol?: string }>;
  if (ports.length === 0) return [];
  const out: Array<[string, string]> = [[`${name}_SERVICE_HOST`, ip], [`${name}_SERVICE_PORT`, String(ports[0]!.port)]];
  for (const p of ports) if (p.name) out.push([`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port)]);
  const first = ports[0]!;
  const proto0 = (first.protocol ?? 'TCP').toLowerCase();
  out.push([`${name}_PORT`, `${proto0}://${ip}:${first.port}`]);
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP').toUpperCase();
    const pre = `${name}_PORT_${p.port}_${proto}`;
    out.push([pre, `${proto.toLowerCase()}://${ip}:${p.port}`], [`${pre}_PROTO`, proto.toLowerCase()], [`${pre}_PORT`, String(p.port)], [`${pre}_ADDR`, ip]);
  }
  return out;
}

/** The value a downward-API fieldRef selects (env and downwardAPI volumes share the paths). */
export function fieldRefValue(pod: Pod, fieldPath: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return ((pod.metadata as any)[m[1]!] ?? {})[m[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    case 'status.hostIPs':
      return ((pod.status?.hostIPs ?? []) as Array<{ ip: string }>).map((x) => x.ip).join(',');
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.podIPs':
      return ((pod.status?.podIPs ?? []) as Array<{ ip: string }>).map((x) => x.ip).join(',');
    default:
      throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** resourceFieldRef as upstream: the container's limit (node allocatable when unset) or request, over the divisor, rounded up. */
export function resourceFieldValue(container: Container, ref: { resource: string; divisor?: string | number }, allocatable: Record<string, string>): string {
  const [kind, res] = ref.resource.split('.') as [string, string];
  const src = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  let v = src?.[res];
  if (v === undefined && kind === 'limits') v = allocatable[res];
  if (v === undefined) v = '0';
  if (res === 'cpu') {
    const divisor = milli(ref.divisor ?? '1') || 1000;
    return String(Math.ceil((milli(v) ?? 0) / divisor));
  }
  const divisor = units(ref.divisor ?? '1') || 1;
  return String(Math.ceil((units(v) ?? 0) / divisor));
}

const dataOf = (obj: KubeObject, secret: boolean, key: string): string | undefined => {
  const o = obj as any;
  if (secret) {
    const b = o.data?.[key];
    if (b !== undefined) return Buffer.from(String(b), 'base64').toString('utf8');
    return o.stringData?.[key];
  }
  return o.data?.[key] ?? (o.binaryData?.[key] !== undefined ? Buffer.from(String(o.binaryData[key]), 'base64').toString('utf8') : undefined);
};

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The container's environment, in order, with upstream's CreateContainerConfigError messages for missing sources. */
export async function containerEnv(pod: Pod, container: Container, lookups: EnvLookups): Promise<Array<{ key: string; value: string }>> {
  const ns = pod.metadata.namespace ?? 'default';
  const vars = new Map<string, string>();
  // Service links: the pod's namespace's services and the master service, when enableServiceLinks (default true).
  if (pod.spec?.enableServiceLinks !== false) {
    for (const svc of lookups.services(ns)) for (const [k, v] of serviceEnv(svc)) vars.set(k, v);
  }
  const defaultSvc = lookups.services('default').find((s) => s.metadata.name === 'kubernetes');
  if (defaultSvc) for (const [k, v] of serviceEnv(defaultSvc)) vars.set(k, v);

  for (const from of (container.envFrom ?? []) as Array<Record<string, any>>) {
    const prefix: string = from.prefix ?? '';
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const secret = !!from.secretRef;
    const obj = secret ? await lookups.secret(ns, ref.name) : await lookups.configMap(ns, ref.name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${secret ? 'secret' : 'configmap'} "${ref.name}" not found`);
    }
    const keys = Object.keys({ ...((obj as any).data ?? {}), ...((obj as any).binaryData ?? {}) });
    for (const k of keys) {
      const name = prefix + k;
      // Upstream skips (with an event) keys that are not valid variable names.
      if (!ENV_NAME.test(name)) continue;
      vars.set(name, dataOf(obj, secret, k) ?? '');
    }
  }

  for (const e of (container.env ?? []) as Array<Record<string, any>>) {
    const name: string = e.name;
    if (e.valueFrom === undefined) {
      vars.set(name, expand(String(e.value ?? ''), vars));
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef) {
      vars.set(name, fieldRefValue(pod, vf.fieldRef.fieldPath));
    } else if (vf.resourceFieldRef) {
      const target = vf.resourceFieldRef.containerName ? ((pod.spec?.containers ?? []) as Container[]).find((c) => c.name === vf.resourceFieldRef.containerName) ?? container : container;
      vars.set(name, resourceFieldValue(target, vf.resourceFieldRef, lookups.nodeAllocatable));
    } else if (vf.configMapKeyRef || vf.secretKeyRef) {
      const secret = !!vf.secretKeyRef;
      const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
      const obj = secret ? await lookups.secret(ns, ref.name) : await lookups.configMap(ns, ref.name);
      if (!obj) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`${secret ? 'secret' : 'configmap'} "${ref.name}" not found`);
      }
      const v = dataOf(obj, secret, ref.key);
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ${secret ? 'Secret' : 'ConfigMap'} ${ns}/${ref.name}`);
      }
      vars.set(name, v);
    }
  }
  return [...vars].map(([key, value]) => ({ key, value }));
}

/**
 * Command and args as the runtime runs them (upstream's rules over the image config): `command` replaces the
 * entrypoint and drops the image's cmd; `args` replaces cmd; both expand $(VAR) from the container's environment.
 */
export function commandLine(container: Container, image: { entrypoint?: string[]; cmd?: string[] }, env: Array<{ key: string; value: string }>): { command: string[]; args: string[] } {
  const vars = new Map(env.map((e) => [e.key, e.value]));
  const cmd = container.command as string[] | undefined;
  const args = container.args as string[] | undefined;
  let command: string[];
  let rest: string[];
  if (cmd && cmd.length > 0) {
    command = cmd.map((s) => expand(s, vars));
    rest = (args ?? []).map((s) => expand(s, vars));
  } else {
    command = image.entrypoint ?? [];
    rest = args && args.length > 0 ? args.map((s) => expand(s, vars)) : (image.cmd ?? []);
  }
  if (command.length === 0 && rest.length === 0) throw new ContainerConfigError('no command specified');
  return { command, args: rest };
}
