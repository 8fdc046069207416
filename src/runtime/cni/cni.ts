// Pod networking through the standard CNI plugins (containernetworking-plugins: bridge, host-local, loopback,
// portmap), invoked per the CNI 1.0 spec: CNI_* environment, network config on stdin, result JSON on stdout.
// When the node has its own network namespace (a test host), every plugin runs inside it via nsenter, so the bridge,
// the host ends of the veths and the portmap rules live there and never in the root namespace.
import { access } from 'node:fs/promises';
import { run } from '../command.js';

export const CNI_VERSION = '1.0.0';

/** One plugin's config inside a conflist (plugin-specific keys allowed). */
export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface NetConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  routes?: Array<{ dst: string; gw?: string }>;
  dns?: Record<string, unknown>;
}

export interface BridgeNetworkOptions {
  /** The node's pod CIDR (host-local IPAM range). */
  podCidr: string;
  /** host-local's lease directory. */
  ipamDataDir: string;
  name?: string;
  bridge?: string;
  mtu?: number;
  /** Masquerade pod traffic leaving the pod CIDR (as kubenet). */
  ipMasq?: boolean;
  /** Chain portmap after the bridge (hostPorts); default true. */
  portMap?: boolean;
}

/** The node's pod network: a `cni0` bridge with host-local IPAM over the pod CIDR, then portmap for hostPorts. */
export function bridgeConflist(o: BridgeNetworkOptions): NetConfList {
  const bridge: PluginConf = {
    type: 'bridge',
    bridge: o.bridge ?? 'cni0',
    isGateway: true,
    ipMasq: o.ipMasq ?? true,
    hairpinMode: true,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: o.podCidr }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: o.ipamDataDir,
    },
  };
  if (o.mtu) bridge.mtu = o.mtu;
  return {
    cniVersion: CNI_VERSION,
    name: o.name ?? 'k8ts',
    plugins: o.portMap === false ? [bridge] : [bridge, { type: 'portmap', capabilities: { portMappings: true }, snat: true }],
  };
}

/** The pod's loopback interface (a network of its own, as containerd runs it). */
export function loopbackConflist(): NetConfList {
  return { cniVersion: CNI_VERSION, name: 'cni-loopback', plugins: [{ type: 'loopback' }] };
}

export class CniError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'CniError';
  }
}

export interface Attachment {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, …). */
  args?: Record<string, string>;
  /** Runtime config for the plugins that declare the capability (e.g. portMappings). */
  capabilityArgs?: Record<string, unknown>;
}

export interface HostPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

export interface CniOptions {
  binDirs?: string[];
  /** The node's network namespace; plugins run there (nsenter) instead of in the caller's. */
  hostNetns?: string;
}

const DEFAULT_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

/** A CNI plugin chain runner (libcni's AddNetworkList/DelNetworkList/CheckNetworkList). */
export class Cni {
  readonly binDirs: string[];
  readonly hostNetns: string | undefined;

  constructor(opts: CniOptions = {}) {
    this.binDirs = opts.binDirs ?? DEFAULT_BIN_DIRS;
    this.hostNetns = opts.hostNetns;
  }

  /** ADD through every plugin in order, each getting the previous result; resolves with the final result. */
  async add(list: NetConfList, att: Attachment): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const plugin of list.plugins) {
      prev = (await this.invoke('ADD', list, plugin, att, prev)) as CniResult;
    }
    return prev ?? { cniVersion: list.cniVersion };
  }

  /** CHECK through every plugin in order with the cached ADD result; throws if one reports a problem. */
  async check(list: NetConfList, att: Attachment, prevResult: CniResult): Promise<void> {
    for (const plugin of list.plugins) await this.invoke('CHECK', list, plugin, att, prevResult);
  }

  /** DEL in reverse order with the cached ADD result (if any); plugins tolerate what is already gone. */
  async del(list: NetConfList, att: Attachment, prevResult?: CniResult): Promise<void> {
    let firstErr: unknown;
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.invoke('DEL', list, plugin, att, prevResult);
      } catch (err) {
        firstErr ??= err;
      }
    }
    if (firstErr) throw firstErr;
  }

  private async invoke(
    command: 'ADD' | 'DEL' | 'CHECK',
    list: NetConfList,
    plugin: PluginConf,
    att: Attachment,
    prevResult: CniResult | undefined,
  ): Promise<unknown> {
    const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
    delete conf.capabilities;
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
      if (on && att.capabilityArgs?.[cap] !== undefined) runtimeConfig[cap] = att.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
    if (prevResult) conf.prevResult = prevResult;

    const path = await this.findPlugin(plugin.type);
    const cniArgs = Object.entries({ IgnoreUnknown: '1', ...(att.args ?? {}) })
      .map(([k, v]) => `${k}=${v}`)
      .join(';');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: att.containerId,
      CNI_NETNS: att.netns,
      CNI_IFNAME: att.ifName,
      CNI_PATH: this.binDirs.join(':'),
      CNI_ARGS: cniArgs,
    };
    const r = await run(path, [], { input: JSON.stringify(conf), env, netns: this.hostNetns, timeoutMs: 60_000 });
    if (r.code !== 0) {
      let msg = r.stderr.trim() || `exit ${r.code}`;
      let code: number | undefined;
      let details: string | undefined;
      try {
        const e = JSON.parse(r.stdout) as { code?: number; msg?: string; details?: string };
        if (e.msg) msg = e.msg;
        code = e.code;
        details = e.details;
      } catch {
        // not JSON: keep stderr
      }
      throw new CniError(`CNI ${plugin.type} ${command} for ${att.containerId}: ${msg}${details ? ` (${details})` : ''}`, code, details);
    }
    if (command !== 'ADD') return undefined;
    try {
      return JSON.parse(r.stdout) as unknown;
    } catch {
      throw new CniError(`CNI ${plugin.type} ADD: unparsable result: ${r.stdout.slice(0, 200)}`);
    }
  }

  private pluginPaths = new Map<string, string>();

  private async findPlugin(type: string): Promise<string> {
    const known = this.pluginPaths.get(type);
    if (known) return known;
    for (const dir of this.binDirs) {
      const p = `${dir}/${type}`;
      try {
        await access(p);
        this.pluginPaths.set(type, p);
        return p;
      } catch {
        // next dir
      }
    }
    throw new CniError(`CNI plugin ${type} not found in ${this.binDirs.join(':')} (Debian package containernetworking-plugins)`);
  }
}

/** The pod's first IPv4 address (without prefix) on the interface inside the sandbox, and the others. */
export function podIps(result: CniResult): string[] {
  const ifaces = result.interfaces ?? [];
  const out: string[] = [];
  for (const ip of result.ips ?? []) {
    const iface = ip.interface !== undefined ? ifaces[ip.interface] : undefined;
    if (iface && !iface.sandbox) continue;
    out.push(ip.address.split('/')[0]!);
  }
  return out.sort((a, b) => Number(b.includes('.')) - Number(a.includes('.')));
}
