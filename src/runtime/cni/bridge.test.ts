// Tests of the pod bridge made ahead of the first pod (bridge.ts), in a test host: the bridge and its gateway address
// exist before any CNI ADD (a socket binds there), a second call changes nothing, and the real bridge plugin then
// adopts it: the first pod gets its address on it and reaches the gateway.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../command.js';
import { bindUdp, closeUdp } from '../netns-listen.js';
import { pinNamespaces, releaseNamespaces } from '../netns.js';
import { busyboxPath, createTestHost, preflight, type TestHost } from '../testing.js';
import { ensureBridge, podCidrGatewayPrefix } from './bridge.js';
import { bridgeConflist, Cni, podIps, type CniResult } from './cni.js';

describe('pod CIDR gateway', () => {
  it('is the first address, with the CIDR prefix; none for tiny, IPv6 or malformed CIDRs', () => {
    assert.deepEqual(podCidrGatewayPrefix('10.42.3.0/24'), { gateway: '10.42.3.1', prefix: 24 });
    assert.deepEqual(podCidrGatewayPrefix('10.42.3.7/16'), { gateway: '10.42.0.1', prefix: 16 });
    for (const bad of ['10.0.0.0/31', 'fd00::/64', '10.0.0.300/24', 'x']) assert.equal(podCidrGatewayPrefix(bad), undefined, bad);
  });
});

describe('ensureBridge in a test host', { timeout: 60_000 }, () => {
  let tmp = '';
  let host: TestHost | undefined;
  before(async () => {
    preflight();
    tmp = mkdtempSync(join(tmpdir(), 'k8ts-bridge-'));
    host = await createTestHost('k8ts-br');
  });
  after(async () => {
    await host?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('makes cni0 with the gateway before any pod; idempotent; the bridge plugin adopts it for the first pod', async () => {
    const cidr = '10.78.0.0/24';
    const addrs = async () => (await run('ip', ['-n', host!.name, '-o', '-4', 'addr', 'show', 'dev', 'cni0'])).stdout;
    assert.notEqual((await run('ip', ['-n', host!.name, 'link', 'show', 'cni0'])).code, 0, 'no bridge yet');
    assert.equal(await ensureBridge({ bridge: 'cni0', podCidr: cidr, netns: host!.path }), '10.78.0.1');
    assert.match(await addrs(), /inet 10\.78\.0\.1\/24 /);
    // What the bridge was made for: a node service binds on the gateway with no pod around.
    const sock = await bindUdp(host!.path, '10.78.0.1', 0);
    await closeUdp(sock);
    await ensureBridge({ bridge: 'cni0', podCidr: cidr, netns: host!.path });
    assert.equal((await addrs()).trim().split('\n').length, 1, 'one address after a second call');
    assert.equal((await run('ip', ['-n', host!.name, 'link', 'show', 'cni0'])).code, 0);
    assert.notEqual((await run('ip', ['-o', 'link', 'show', 'cni0'])).code, 0, 'no cni0 in the root namespace');

    const cni = new Cni({ hostNetns: host!.path });
    const list = bridgeConflist({ podCidr: cidr, ipamDataDir: join(tmp, 'ipam'), ipMasq: false });
    const net = join(tmp, 'net-a');
    await pinNamespaces({ net });
    let result: CniResult | undefined;
    try {
      result = await cni.add(list, { containerId: 'pod-a', netns: net, ifName: 'eth0', args: { K8S_POD_NAME: 'a' } });
      assert.equal(podIps(result)[0], '10.78.0.2');
      const ping = await run(busyboxPath(), ['ping', '-c', '1', '-W', '2', '10.78.0.1'], { netns: net });
      assert.equal(ping.code, 0, `ping the gateway from the pod: ${ping.stdout}${ping.stderr}`);
    } finally {
      await cni.del(list, { containerId: 'pod-a', netns: net, ifName: 'eth0' }, result);
      await releaseNamespaces({ net });
    }
  });
});
