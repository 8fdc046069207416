// The proxy contract, run against both backends for real inside a test host: ClusterIP spreading, ClientIP
// affinity, endpoint removal, NodePort from another machine, LoadBalancer ingress IP, hairpin, SCTP (ClusterIP and
// NodePort, with real packets), loadBalancerSourceRanges (sources outside dropped at the load-balancer IP only),
// cleanup on stop.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { FakeClient } from '../client/fake.js';
import { ENDPOINTSLICES, SERVICES } from '../client/resources.js';
import { run } from '../runtime/command.js';
import { createProxyLab, type Pod, type ProxyLab } from './testing.js';
import { ServiceProxy, type ProxyMode } from './proxy.js';

function service(name: string, clusterIP: string, extra: Record<string, unknown> = {}, port: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, ...port }], ...extra },
  };
}

function slice(svc: string, pods: Pod[], node = 'node-a'): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: pods.map((p) => ({ addresses: [p.ip], conditions: { ready: true }, nodeName: node })),
  } as KubeObject;
}

async function many(lab: ProxyLab, ns: string, url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await lab.get(ns, url));
  return out;
}

async function ruleDump(lab: ProxyLab): Promise<string> {
  const nft = await run('nft', ['list', 'ruleset'], { netns: lab.host.path });
  const ipt = await run('iptables-save', [], { netns: lab.host.path });
  return `${nft.stdout}\n${ipt.stdout}`;
}

for (const mode of ['nftables', 'iptables'] as ProxyMode[]) {
  describe(`service proxy contract: ${mode}`, () => {
    let lab: ProxyLab;
    let client: FakeClient;
    let proxy: ServiceProxy;
    let syncs = 0;
    const errors: string[] = [];
    const synced = async (since: number): Promise<void> => {
      for (let i = 0; i < 200 && syncs <= since; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(syncs > since, 'the proxy synced after the change');
    };

    before(async () => {
      lab = await createProxyLab(3);
      const [p1, p2] = lab.pods;
      client = new FakeClient();
      client.seed('services', service('web', '10.43.0.100'));
      client.seed('endpointslices', slice('web', [p1, p2]));
      client.seed('services', service('sticky', '10.43.0.101', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }));
      client.seed('endpointslices', slice('sticky', [p1, p2]));
      client.seed('services', service('self', '10.43.0.102'));
      client.seed('endpointslices', slice('self', [p1]));
      client.seed('services', {
        ...service('np', '10.43.0.103', { type: 'LoadBalancer' }, { nodePort: 30080 }),
        status: { loadBalancer: { ingress: [{ ip: lab.nodeIP, ipMode: 'VIP' }] } },
      });
      client.seed('endpointslices', slice('np', [p2]));
      client.seed('services', service('empty', '10.43.0.104'));
      // externalTrafficPolicy Local with its only endpoint on another node: external traffic has nowhere to go.
      client.seed('services', service('local', '10.43.0.105', { type: 'NodePort', externalTrafficPolicy: 'Local' }, { nodePort: 30081 }));
      client.seed('endpointslices', slice('local', [lab.pods[2]], 'node-b'));
      // Two LoadBalancers on the node address with source ranges: the "outside" LAN only, and pod1 only.
      const lb = { status: { loadBalancer: { ingress: [{ ip: lab.nodeIP, ipMode: 'VIP' }] } } };
      client.seed('services', { ...service('fw-lan', '10.43.0.107', { type: 'LoadBalancer', loadBalancerSourceRanges: ['192.168.77.0/24'] }, { port: 81, nodePort: 30091 }), ...lb });
      client.seed('endpointslices', slice('fw-lan', [p2]));
      client.seed('services', { ...service('fw-pod', '10.43.0.108', { type: 'LoadBalancer', loadBalancerSourceRanges: [' 10.244.0.11/32'] }, { port: 82, nodePort: 30092 }), ...lb });
      client.seed('endpointslices', slice('fw-pod', [p2]));
      // SCTP on 9999 → pod3:7777, as ClusterIP and NodePort.
      client.seed('services', service('sctp', '10.43.0.106', { type: 'NodePort' }, { name: 'sig', port: 9999, protocol: 'SCTP', targetPort: 7777, nodePort: 30099 }));
      client.seed('endpointslices', { ...slice('sctp', [lab.pods[2]]), ports: [{ name: 'sig', port: 7777, protocol: 'SCTP' }] } as KubeObject);
      proxy = new ServiceProxy({
        client,
        nodeName: 'node-a',
        nodeIPs: [lab.nodeIP],
        netns: lab.host.path,
        mode,
        log: (m) => errors.push(m),
        onSync: () => syncs++,
      });
      await proxy.start();
    });

    after(async () => {
      await proxy?.stop();
      await lab?.destroy();
    });

    test('ClusterIP traffic reaches every ready endpoint', async () => {
      const seen = new Set(await many(lab, lab.pods[2].ns, 'http://10.43.0.100/', 24));
      assert.deepEqual([...seen].sort(), ['pod1', 'pod2']);
      assert.deepEqual(errors, []);
    });

    test('ClientIP affinity pins a client to one endpoint', async () => {
      const seen = new Set(await many(lab, lab.pods[2].ns, 'http://10.43.0.101/', 12));
      assert.equal(seen.size, 1);
      assert.match([...seen][0], /^pod[12]$/);
    });

    test('hairpin: a pod reaches itself through its service', async () => {
      assert.equal(await lab.get(lab.pods[0].ns, 'http://10.43.0.102/'), 'pod1');
    });

    test('NodePort and the LoadBalancer ingress IP answer from outside the node', async () => {
      assert.equal(await lab.get(lab.outside, `http://${lab.nodeIP}:30080/`), 'pod2');
      assert.equal(await lab.get(lab.outside, `http://${lab.nodeIP}:80/`), 'pod2');
      assert.equal(await lab.get(lab.pods[0].ns, 'http://10.43.0.103/'), 'pod2');
    });

    test('externalTrafficPolicy Local: no local endpoint refuses the node port, cluster traffic still flows', async () => {
      assert.match(await lab.get(lab.outside, `http://${lab.nodeIP}:30081/`), /^error/);
      assert.equal(await lab.get(lab.pods[0].ns, 'http://10.43.0.105/'), 'pod3');
    });

    test('loadBalancerSourceRanges: other sources are dropped at the load-balancer IP; NodePort and ClusterIP stay open', async () => {
      const [p1, , p3] = lab.pods;
      assert.equal(await lab.get(lab.outside, `http://${lab.nodeIP}:81/`), 'pod2', 'the LAN is in range');
      assert.match(await lab.get(p1.ns, `http://${lab.nodeIP}:81/`), /^error/, 'a pod is not');
      assert.equal(await lab.get(p1.ns, `http://${lab.nodeIP}:82/`), 'pod2', 'pod1 is in range');
      assert.match(await lab.get(lab.outside, `http://${lab.nodeIP}:82/`), /^error/, 'the LAN is not');
      assert.equal(await lab.get(lab.outside, `http://${lab.nodeIP}:30092/`), 'pod2', 'node ports are not filtered');
      assert.equal(await lab.get(p3.ns, 'http://10.43.0.108:82/'), 'pod2', 'cluster IPs are not filtered');
      assert.match(await ruleDump(lab), mode === 'nftables' ? /ip saddr != 10\.244\.0\.11 drop|ip saddr != \{ 10\.244\.0\.11 \} drop/ : /-A KUBE-PROXY-FIREWALL .*-d 192\.168\.77\.2\/32 -p tcp .*--dport 82 -j DROP/);
      assert.deepEqual(errors, []);
    });

    test('SCTP: ClusterIP and NodePort traffic is DNATed to the endpoint (the rules are SCTP rules)', async () => {
      const dump = await ruleDump(lab);
      assert.match(dump, mode === 'nftables' ? /10\.43\.0\.106 \. sctp \. 9999/ : /-d 10\.43\.0\.106\/32 -p sctp .*-m sctp --dport 9999 /);
      assert.match(dump, mode === 'nftables' ? /meta l4proto sctp dnat to 10\.244\.0\.13:7777/ : /-p sctp .*-m sctp -j DNAT --to-destination 10\.244\.0\.13:7777/);
      const [p1, , p3] = lab.pods;
      assert.deepEqual(await lab.sctp(p1.ns, '10.43.0.106', 9999, p3.ns), { src: p1.ip, dst: p3.ip, sport: 40000, dport: 7777 });
      // From another machine through the node port: masqueraded (fully random: a new source port) to the bridge address.
      const viaNodePort = await lab.sctp(lab.outside, lab.nodeIP, 30099, p3.ns);
      assert.ok(typeof viaNodePort !== 'string', viaNodePort as string);
      assert.deepEqual({ ...viaNodePort, sport: 0 }, { src: '10.244.0.1', dst: p3.ip, sport: 0, dport: 7777 });
    });

    test('a service without endpoints is rejected, not left hanging', async () => {
      assert.match(await lab.get(lab.pods[2].ns, 'http://10.43.0.104/'), /^error/);
    });

    test('a removed endpoint stops receiving traffic; an added one starts', async () => {
      const before = syncs;
      const s = client.peek('endpointslices', 'default', 'web-abcde')!;
      await client.update(ENDPOINTSLICES, 'default', { ...s, endpoints: (s as unknown as { endpoints: unknown[] }).endpoints.slice(0, 1) } as KubeObject);
      await synced(before);
      assert.deepEqual([...new Set(await many(lab, lab.pods[2].ns, 'http://10.43.0.100/', 10))], ['pod1']);
      const again = syncs;
      await client.update(ENDPOINTSLICES, 'default', slice('web', [lab.pods[1]]));
      await synced(again);
      assert.deepEqual([...new Set(await many(lab, lab.pods[2].ns, 'http://10.43.0.100/', 10))], ['pod2']);
    });

    test('a deleted service stops answering', async () => {
      const before = syncs;
      await client.delete(SERVICES, 'default', 'self');
      await synced(before);
      assert.match(await lab.get(lab.pods[0].ns, 'http://10.43.0.102/'), /^error/);
    });

    test('rules are gone after stop', async () => {
      assert.match(await ruleDump(lab), mode === 'nftables' ? /k8ts-proxy/ : /KUBE-SERVICES/);
      await proxy.stop();
      const dump = await ruleDump(lab);
      assert.doesNotMatch(dump, /k8ts-proxy|KUBE-/);
      assert.match(await lab.get(lab.pods[2].ns, 'http://10.43.0.100/'), /^error/);
      assert.deepEqual(errors, []);
    });
  });
}
