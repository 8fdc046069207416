// Test and bench helpers for the proxy: a test host with a bridge, pod network namespaces running busybox httpd,
// and an "outside" namespace standing for another machine on the node's network. Everything lives in namespaces
// created here and is torn down by destroy(). SCTP is probed with raw sockets (Debian's python3): the kernel here has
// SCTP conntrack and NAT but no SCTP socket protocol (CONFIG_IP_SCTP unset), so an INIT is written by hand.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, run } from '../runtime/command.js';
import { busyboxPath, createTestHost, type TestHost } from '../runtime/testing.js';

export interface Pod {
  name: string;
  ns: string;
  ip: string;
}

export interface SctpSeen {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** Prints "ready", then the addresses and ports of the first SCTP packet this namespace receives (a raw socket). */
const SCTP_LISTEN = `
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)
print("ready", flush=True)
pkt = s.recv(65535)
ihl = (pkt[0] & 15) * 4
sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
print(socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20]), sport, dport, flush=True)
`;

/** Sends one SCTP INIT (CRC32c-checksummed, as conntrack verifies it) to argv[1]:argv[2] from port 40000. */
const SCTP_SEND = `
import socket, struct, sys
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
init = struct.pack("!BBHIIHHI", 1, 0, 20, 0x1234ABCD, 65536, 1, 1, 1)
head = struct.pack("!HHII", 40000, int(sys.argv[2]), 0, 0)
pkt = head + init
pkt = pkt[:8] + struct.pack("<I", crc32c(pkt)) + pkt[12:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, 132).sendto(pkt, (sys.argv[1], 0))
`;

export interface ProxyLab {
  host: TestHost;
  /** The node's address on its "LAN" (the test host side of the veth to `outside`). */
  nodeIP: string;
  outside: string;
  pods: Pod[];
  /** One HTTP GET from inside network namespace `ns`: the body, or an error string. */
  get(ns: string, url: string): Promise<string>;
  /**
   * An SCTP INIT from `fromNs` to dst:port (sent a few times) and the first SCTP packet namespace `toNs` receives
   * (addresses and ports as it arrived there), or an error string when none came within 3 s.
   */
  sctp(fromNs: string, dst: string, port: number, toNs: string): Promise<SctpSeen | string>;
  destroy(): Promise<void>;
}

/** Builds the lab with `count` pods (10.244.0.11…), each answering GET / with its own name on port 8080. */
export async function createProxyLab(count: number): Promise<ProxyLab> {
  const host = await createTestHost('k8ts-px');
  const tag = host.name.slice(-6);
  const made: string[] = [];
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-proxy-'));
  const bb = busyboxPath();
  const ipn = (...a: string[]) => check('ip', a);
  const outside = `k8ts-pxo-${tag}`;
  const destroy = async (): Promise<void> => {
    for (const p of procs) p.kill('SIGKILL');
    for (const n of made) await run('ip', ['netns', 'del', n]);
    await host.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await check('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'], { netns: host.path });
    await ipn('-n', host.name, 'link', 'add', 'br0', 'type', 'bridge');
    await ipn('-n', host.name, 'addr', 'add', '10.244.0.1/24', 'dev', 'br0');
    await ipn('-n', host.name, 'link', 'set', 'br0', 'up');
    await ipn('netns', 'add', outside);
    made.push(outside);
    await ipn('-n', host.name, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside);
    await ipn('-n', host.name, 'addr', 'add', '192.168.77.2/24', 'dev', 'eth1');
    await ipn('-n', host.name, 'link', 'set', 'eth1', 'up');
    await ipn('-n', outside, 'addr', 'add', '192.168.77.1/24', 'dev', 'eth0');
    await ipn('-n', outside, 'link', 'set', 'eth0', 'up');
    await ipn('-n', outside, 'link', 'set', 'lo', 'up');
    const pods: Pod[] = [];
    for (let i = 0; i < count; i++) {
      const name = `pod${i + 1}`;
      const ns = `k8ts-pxp${i + 1}-${tag}`;
      const ip = `10.244.0.${11 + i}`;
      await ipn('netns', 'add', ns);
      made.push(ns);
      await ipn('-n', host.name, 'link', 'add', `veth${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ipn('-n', host.name, 'link', 'set', `veth${i}`, 'master', 'br0', 'up');
      // As the runtime's CNI bridge config (hairpinMode): with br_netfilter, a pod's DNAT back to itself is bridged
      // out of the port it came in on.
      await ipn('-n', host.name, 'link', 'set', `veth${i}`, 'type', 'bridge_slave', 'hairpin', 'on');
      await ipn('-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      await ipn('-n', ns, 'link', 'set', 'eth0', 'up');
      await ipn('-n', ns, 'link', 'set', 'lo', 'up');
      await ipn('-n', ns, 'route', 'add', 'default', 'via', '10.244.0.1');
      const www = join(dir, name);
      await check('mkdir', ['-p', www]);
      writeFileSync(join(www, 'index.html'), `${name}\n`);
      const p = spawn('ip', ['netns', 'exec', ns, bb, 'httpd', '-f', '-p', '8080', '-h', www], { stdio: 'ignore' });
      procs.push(p);
      pods.push({ name, ns, ip });
    }
    const get = async (ns: string, url: string): Promise<string> => {
      const r = await run('ip', ['netns', 'exec', ns, bb, 'wget', '-q', '-O', '-', url], { timeoutMs: 3000 });
      return r.code === 0 ? r.stdout.trim() : `error: ${r.stderr.trim() || r.code}`;
    };
    const sctp = async (fromNs: string, dst: string, port: number, toNs: string): Promise<SctpSeen | string> => {
      const listener = spawn('ip', ['netns', 'exec', toNs, '/usr/bin/python3', '-c', SCTP_LISTEN], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      listener.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<void>((r) => listener.on('close', () => r()));
      try {
        const ready = new Promise<boolean>((r) => {
          listener.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.startsWith('ready\n')) r(true);
          });
          void exited.then(() => r(false));
        });
        if (!(await ready)) return `error: sctp listener: ${err.trim()}`;
        const until = Date.now() + 3000;
        while (Date.now() < until && out.split('\n').length < 3) {
          const sent = await run('ip', ['netns', 'exec', fromNs, '/usr/bin/python3', '-c', SCTP_SEND, dst, String(port)], { timeoutMs: 3000 });
          if (sent.code !== 0) return `error: sctp send: ${sent.stderr.trim()}`;
          for (let i = 0; i < 10 && out.split('\n').length < 3; i++) await new Promise((r) => setTimeout(r, 30));
        }
        const line = out.split('\n')[1];
        if (!line) return 'error: no SCTP packet arrived';
        const [src, dstSeen, sport, dport] = line.trim().split(' ');
        return { src: src!, dst: dstSeen!, sport: Number(sport), dport: Number(dport) };
      } finally {
        listener.kill('SIGKILL');
        await exited;
      }
    };
    // httpd is up once every pod answers on its own address.
    for (const p of pods) {
      for (let i = 0; i < 50 && (await get(p.ns, `http://${p.ip}:8080/`)) !== p.name; i++) await new Promise((r) => setTimeout(r, 50));
    }
    return { host, nodeIP: '192.168.77.2', outside, pods, get, sctp, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}
