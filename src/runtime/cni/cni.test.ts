// Tests of the CNI runner (cni.ts): the conflist and result parsing as pure functions, then ADD/CHECK/DEL with the
// real Debian plugins for two pod namespaces under a test-host netns (nothing touches the root namespace).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../command.js';
import { pinNamespaces, releaseNamespaces } from '../netns.js';
import { busyboxPath, createTestHost, preflight, type TestHost } from '../testing.js';
import { bridgeConflist, Cni, CniError, loopbackConflist, podIps, type CniResult } from './cni.js';

describe('cni conflist and results', () => {
  it('bridge + host-local over the pod CIDR, then portmap', () => {
    const l = bridgeConflist({ podCidr: '10.1.2.0/24', ipamDataDir: '/d' });
    assert.equal(l.cniVersion, '1.0.0');
    assert.deepEqual(l.plugins.map((p) => p.type), ['bridge', 'portmap']);
    assert.equal(l.plugins[0]!.bridge, 'cni0');
    assert.deepEqual(l.plugins[0]!.ipam, { type: 'host-local', ranges: [[{ subnet: '10.1.2.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/d' });
    assert.deepEqual(l.plugins[1]!.capabilities, { portMappings: true });
  });

  it('pod IPs are the sandbox interface addresses, IPv4 first', () => {
    const r: CniResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/ns' }],
      ips: [
        { address: 'fd00::5/64', interface: 2 },
        { address: '10.1.2.5/24', gateway: '10.1.2.1', interface: 2 },
        { address: '10.1.2.1/24', interface: 0 },
      ],
    };
    assert.deepEqual(podIps(r), ['10.1.2.5', 'fd00::5']);
  });
});

describe('cni plugins in a test host', { timeout: 60_000 }, () => {
  let tmp = '';
  let host: TestHost | undefined;
  let cni: Cni;
  before(async () => {
    preflight();
    tmp = mkdtempSync(join(tmpdir(), 'k8ts-cni-'));
    host = await createTestHost('k8ts-cni');
    cni = new Cni({ hostNetns: host.path });
  });
  after(async () => {
    await host?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ADD gives each pod an address on the bridge; pods ping each other; CHECK passes; DEL removes it all', async () => {
    const list = bridgeConflist({ podCidr: '10.77.0.0/24', ipamDataDir: join(tmp, 'ipam'), ipMasq: false });
    const pods = ['a', 'b'].map((n) => ({ net: join(tmp, `net-${n}`), id: `pod-${n}` }));
    const results: CniResult[] = [];
    try {
      for (const p of pods) {
        await pinNamespaces({ net: p.net });
        await cni.add(loopbackConflist(), { containerId: p.id, netns: p.net, ifName: 'lo' });
        results.push(await cni.add(list, { containerId: p.id, netns: p.net, ifName: 'eth0', args: { K8S_POD_NAME: p.id } }));
      }
      const [ipA, ipB] = results.map((r) => podIps(r)[0]!);
      assert.match(ipA!, /^10\.77\.0\.\d+$/);
      assert.notEqual(ipA, ipB);
      // busybox's ping (busybox-static): iputils-ping is not installed here.
      const ping = await run(busyboxPath(), ['ping', '-c', '1', '-W', '2', ipB!], { netns: pods[0]!.net });
      assert.equal(ping.code, 0, `ping ${ipB} from pod a: ${ping.stdout}${ping.stderr}`);
      const bridge = await run('ip', ['-n', host!.name, '-o', 'addr', 'show', 'cni0']);
      assert.match(bridge.stdout, /10\.77\.0\.1\/24/, 'the gateway lives on cni0 inside the test host');
      const root = await run('ip', ['-o', 'link', 'show', 'cni0']);
      assert.notEqual(root.code, 0, 'no cni0 in the root namespace');
      await cni.check(list, { containerId: pods[0]!.id, netns: pods[0]!.net, ifName: 'eth0' }, results[0]!);
    } finally {
      for (const [i, p] of pods.entries()) {
        await cni.del(list, { containerId: p.id, netns: p.net, ifName: 'eth0' }, results[i]);
        await releaseNamespaces({ net: p.net });
      }
    }
    const veths = await run('ip', ['-n', host!.name, '-o', 'link', 'show', 'type', 'veth']);
    assert.equal(veths.stdout.trim(), '');
    // DEL of what is gone is fine (CNI spec).
    await cni.del(list, { containerId: 'pod-a', netns: pods[0]!.net, ifName: 'eth0' });
  });

  it('plugin errors surface as CniError with the plugin message', async () => {
    const bad = bridgeConflist({ podCidr: 'not-a-cidr', ipamDataDir: join(tmp, 'ipam2') });
    const net = join(tmp, 'net-bad');
    await pinNamespaces({ net });
    try {
      await assert.rejects(cni.add(bad, { containerId: 'bad', netns: net, ifName: 'eth0' }), (e: unknown) => e instanceof CniError && /bridge ADD/.test(e.message));
      const missing = new Cni({ hostNetns: host!.path, binDirs: [join(tmp, 'none')] });
      await assert.rejects(missing.add(loopbackConflist(), { containerId: 'x', netns: net, ifName: 'lo' }), /plugin loopback not found/);
    } finally {
      await releaseNamespaces({ net });
    }
  });
});
