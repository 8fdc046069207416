// The node's pod bridge made ahead of the first pod: the CNI bridge plugin creates `cni0` with the pod CIDR's gateway
// address only at the first ADD, so services the node offers pods on that address (cluster DNS on <gateway>:53)
// could not bind before a pod existed. ensureBridge makes the same bridge and address up front, in the form the
// bridge plugin accepts as its own later (an existing bridge holding exactly the gateway address is left as is).
import { run } from '../command.js';

/** The gateway the bridge takes in a pod CIDR (host-local's default: the first address) with its prefix; IPv4 only. */
export function podCidrGatewayPrefix(cidr: string): { gateway: string; prefix: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const octets = [m[1], m[2], m[3], m[4]].map(Number);
  const bits = Number(m[5]);
  if (bits > 30 || octets.some((o) => o > 255)) return undefined;
  const n = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const gw = ((n & mask) >>> 0) + 1;
  return { gateway: [gw >>> 24, (gw >>> 16) & 255, (gw >>> 8) & 255, gw & 255].join('.'), prefix: bits };
}

export interface EnsureBridgeOptions {
  /** The bridge's name (the CNI config's `bridge`, default cni0). */
  bridge: string;
  podCidr: string;
  /** The node's network namespace (a path for nsenter); undefined: this process's own. */
  netns?: string;
}

/**
 * Creates the bridge if missing, gives it the gateway address if it lacks it, and sets it up. Returns the gateway
 * (undefined for a CIDR the bridge plugin would not give a gateway here, e.g. IPv6: nothing is done then).
 */
export async function ensureBridge(o: EnsureBridgeOptions): Promise<string | undefined> {
  const gw = podCidrGatewayPrefix(o.podCidr);
  if (!gw) return undefined;
  const ip = async (...args: string[]) => {
    const r = await run('ip', args, { netns: o.netns });
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const shown = await run('ip', ['-j', '-4', 'addr', 'show', 'dev', o.bridge], { netns: o.netns });
  if (shown.code !== 0) {
    // Missing (or raced by a CNI ADD making it just now: then the add fails with "exists", which is fine).
    const made = await run('ip', ['link', 'add', o.bridge, 'type', 'bridge'], { netns: o.netns });
    if (made.code !== 0 && !/exists/i.test(made.stderr)) throw new Error(`ip link add ${o.bridge}: ${made.stderr.trim()}`);
  }
  const links = shown.code === 0 ? (JSON.parse(shown.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string; prefixlen?: number }> }>) : [];
  const has = links.some((l) => (l.addr_info ?? []).some((a) => a.local === gw.gateway && a.prefixlen === gw.prefix));
  if (!has) {
    const added = await run('ip', ['addr', 'add', `${gw.gateway}/${gw.prefix}`, 'dev', o.bridge], { netns: o.netns });
    if (added.code !== 0 && !/exists/i.test(added.stderr)) throw new Error(`ip addr add ${gw.gateway}/${gw.prefix} dev ${o.bridge}: ${added.stderr.trim()}`);
  }
  await ip('link', 'set', o.bridge, 'up');
  return gw.gateway;
}
