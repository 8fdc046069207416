// Table tests for the desired-rules model and the pure parts of both renderers (incremental transitions).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { cidrContains, clusterEndpoints, desiredRules, externalEndpoints, firewallSources, normalizeCidrs, type ServicePortRule } from './model.js';
import * as nft from './nftables.js';
import * as ipt from './iptables.js';
import type { Fragment } from './backend.js';

const svc = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject =>
  ({ metadata: { name, namespace: 'ns' }, spec: { clusterIP: '10.43.0.5', clusterIPs: ['10.43.0.5'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec }, status }) as KubeObject;

const eps = (name: string, endpoints: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): KubeObject =>
  ({
    metadata: { name: `${name}-x`, namespace: 'ns', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints,
    ...extra,
  }) as KubeObject;

test('desiredRules: which services and endpoints become rules', () => {
  const cases: Array<{ name: string; services: KubeObject[]; slices: KubeObject[]; want: (r: ServicePortRule[]) => void }> = [
    {
      name: 'ready endpoints only, nil ready counts, sorted, local by nodeName',
      services: [svc('a', {})],
      slices: [
        eps('a', [
          { addresses: ['10.244.0.12'], conditions: { ready: true }, nodeName: 'other' },
          { addresses: ['10.244.0.11'], conditions: {}, nodeName: 'me' },
          { addresses: ['10.244.0.13'], conditions: { ready: false }, nodeName: 'me' },
        ]),
      ],
      want: (r) =>
        assert.deepEqual(r[0].endpoints, [
          { ip: '10.244.0.11', port: 8080, local: true },
          { ip: '10.244.0.12', port: 8080, local: false },
        ]),
    },
    { name: 'headless is skipped', services: [svc('a', { clusterIP: 'None', clusterIPs: ['None'] })], slices: [], want: (r) => assert.equal(r.length, 0) },
    { name: 'ExternalName is skipped', services: [svc('a', { type: 'ExternalName', clusterIP: undefined, clusterIPs: undefined })], slices: [], want: (r) => assert.equal(r.length, 0) },
    {
      name: 'IPv6 slices are ignored; slice ports match by name and protocol',
      services: [svc('a', { ports: [{ name: 'http', port: 80, protocol: 'UDP' }] })],
      slices: [eps('a', [{ addresses: ['10.244.0.11'] }]), eps('a', [{ addresses: ['fd00::1'] }], { addressType: 'IPv6' })],
      want: (r) => assert.deepEqual(r[0].endpoints, []),
    },
    {
      name: 'ClientIP affinity defaults to 10800 s; node port only for NodePort/LoadBalancer; LB VIP ingress is external',
      services: [
        svc('a', { sessionAffinity: 'ClientIP', type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30001 }] }, { loadBalancer: { ingress: [{ ip: '192.168.1.5', ipMode: 'VIP' }, { ip: '192.168.1.6', ipMode: 'Proxy' }] } }),
        svc('b', { ports: [{ name: 'http', port: 80, nodePort: 30002 }] }),
      ],
      slices: [],
      want: (r) => {
        assert.equal(r[0].affinitySeconds, 10800);
        assert.equal(r[0].nodePort, 30001);
        assert.deepEqual(r[0].externalIPs, ['192.168.1.5']);
        assert.equal(r[1].nodePort, undefined);
        assert.equal(r[1].affinitySeconds, undefined);
      },
    },
    {
      name: 'traffic policies Local pick local endpoints',
      services: [svc('a', { type: 'NodePort', externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30001 }] })],
      slices: [eps('a', [{ addresses: ['10.244.0.11'], nodeName: 'me' }, { addresses: ['10.244.0.12'], nodeName: 'other' }])],
      want: (r) => {
        assert.deepEqual(clusterEndpoints(r[0]).map((e) => e.ip), ['10.244.0.11']);
        assert.deepEqual(externalEndpoints(r[0]).map((e) => e.ip), ['10.244.0.11']);
        assert.equal(r[0].endpoints.length, 2);
      },
    },
    {
      name: 'two LoadBalancers on one node port number: the first in key order keeps the address',
      services: [
        svc('b', { type: 'LoadBalancer', clusterIP: '10.43.0.7', clusterIPs: ['10.43.0.7'] }, { loadBalancer: { ingress: [{ ip: '192.168.1.5' }] } }),
        svc('a', { type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '192.168.1.5' }] } }),
      ],
      slices: [],
      want: (r) => assert.deepEqual(r.map((x) => [x.name, x.externalIPs]), [['a', ['192.168.1.5']], ['b', []]]),
    },
  ];
  for (const c of cases) {
    try {
      c.want(desiredRules(c.services, c.slices, 'me'));
    } catch (e) {
      throw new Error(`${c.name}: ${(e as Error).message}`);
    }
  }
});

const rule = (over: Partial<ServicePortRule> = {}): ServicePortRule => ({
  key: 'ns/a:http/TCP',
  namespace: 'ns',
  name: 'a',
  portName: 'http',
  protocol: 'TCP',
  clusterIPs: ['10.43.0.5'],
  port: 80,
  externalIPs: [],
  externalLocal: false,
  internalLocal: false,
  endpoints: [
    { ip: '10.244.0.11', port: 8080, local: true },
    { ip: '10.244.0.12', port: 8080, local: false },
  ],
  ...over,
});

const frags = (render: (r: ServicePortRule) => Fragment, ...rules: ServicePortRule[]) => new Map(rules.map((r) => [r.key, render(r)]));

test('nftables: full and incremental transitions', () => {
  const a = rule();
  const b = rule({ key: 'ns/b:http/TCP', clusterIPs: ['10.43.0.6'] });
  const full = nft.transition(new Map(), frags(nft.renderFragment, a, b), ['192.168.77.2'], true);
  assert.match(full.script, /^add table ip k8ts-proxy\ndelete table ip k8ts-proxy\n/);
  assert.match(full.script, /add element ip k8ts-proxy service-ips \{ 10\.43\.0\.5 \. tcp \. 80 : goto svc-[A-Z2-7]{16} \}/);
  assert.match(full.script, /numgen random mod 2 vmap/);
  assert.equal(full.changed, 2);

  const prev = frags(nft.renderFragment, a, b);
  assert.deepEqual(nft.transition(prev, frags(nft.renderFragment, a, b), [], false), { script: '', changed: 0 });

  // One endpoint of a goes: only a's chains are touched, the gone endpoint's chain is flushed then deleted.
  const a1 = rule({ endpoints: [a.endpoints[0]] });
  const inc = nft.transition(prev, frags(nft.renderFragment, a1, b), [], false);
  assert.equal(inc.changed, 1);
  assert.doesNotMatch(inc.script, /add table|10\.43\.0\.6/);
  const gone = nft.endpointChain(a, a.endpoints[1]);
  const lines = inc.script.trim().split('\n');
  assert.ok(lines.indexOf(`flush chain ip k8ts-proxy ${gone}`) < lines.indexOf(`delete chain ip k8ts-proxy ${gone}`));
  assert.equal(lines.at(-1), `delete chain ip k8ts-proxy ${gone}`);

  // The last endpoint goes: the map element moves to the no-endpoint set (delete before add).
  const a0 = rule({ endpoints: [] });
  const none = nft.transition(frags(nft.renderFragment, a1), frags(nft.renderFragment, a0), [], false).script.split('\n');
  const del = none.findIndex((l) => l.startsWith('delete element ip k8ts-proxy service-ips { 10.43.0.5 . tcp . 80 }'));
  const add = none.findIndex((l) => l.startsWith('add element ip k8ts-proxy no-endpoint-services { 10.43.0.5 . tcp . 80 }'));
  assert.ok(del >= 0 && add > del);
});

test('nftables: affinity sets, node ports, externalTrafficPolicy Local', () => {
  const r = rule({ affinitySeconds: 60, nodePort: 30080, externalIPs: ['192.168.77.2'], externalLocal: true });
  const f = nft.renderFragment(r);
  assert.deepEqual([...f.sets.values()], Array(2).fill('{ type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }'));
  const ext = f.chains.get(nft.externalChain(r))!;
  assert.ok(ext.some((l) => l === 'numgen random mod 1 vmap { 0 : goto ' + nft.endpointChain(r, r.endpoints[0]) + ' }'), ext.join('\n'));
  assert.ok(!ext.includes('jump mark-for-masquerade'), 'Local keeps the client source');
  assert.ok(f.entries.includes(`service-nodeports|tcp . 30080|goto ${nft.externalChain(r)}`));
  const cluster = nft.renderFragment(rule({ nodePort: 30080 })).chains.get(nft.externalChain(r))!;
  assert.equal(cluster[0], 'jump mark-for-masquerade');
});

test('iptables: statistic probabilities, affinity, incremental chain deletes', () => {
  const r = rule({ endpoints: [0, 1, 2].map((i) => ({ ip: `10.244.0.${11 + i}`, port: 8080, local: false })), affinitySeconds: 30 });
  const f = ipt.renderFragment(r);
  const svc = f.chains.get(ipt.serviceChain(r))!;
  assert.match(svc[0], /-m recent --name KUBE-SEP-\S+ --mask 255\.255\.255\.255 --rsource --rcheck --seconds 30 --reap -j KUBE-SEP-/);
  assert.match(svc[3], /--probability 0\.3333333333 -j/);
  assert.match(svc[4], /--probability 0\.5000000000 -j/);
  assert.doesNotMatch(svc[5], /statistic/);
  const prev = frags(ipt.renderFragment, r);
  const next = frags(ipt.renderFragment, { ...r, endpoints: r.endpoints.slice(0, 2) });
  const s = ipt.transition(prev, next, ['192.168.77.2'], false).script;
  const gone = ipt.endpointChain(r, r.endpoints[2]);
  assert.match(s, new RegExp(`^:${gone} - \\[0:0\\]$`, 'm'));
  assert.match(s, new RegExp(`^-X ${gone}$`, 'm'));
  assert.match(s, /^-A KUBE-SERVICES -m comment --comment "k8ts service nodeports" -d 192\.168\.77\.2\/32 -j KUBE-NODEPORTS$/m);
  const unchanged = ipt.transition(next, next, [], false);
  assert.equal(unchanged.changed, 0);
  assert.doesNotMatch(unchanged.script, /KUBE-SEP/);
  const empty = ipt.renderFragment(rule({ endpoints: [] }));
  assert.deepEqual(empty.entries, ['filter|KUBE-SERVICES|-m comment --comment "ns/a:http/TCP has no endpoints" -d 10.43.0.5/32 -p tcp -m tcp --dport 80 -j REJECT']);
});

test('loadBalancerSourceRanges: normalized IPv4 ranges guarding only the load-balancer ingress IPs of a LoadBalancer', () => {
  assert.deepEqual(normalizeCidrs([' 10.1.2.3/8', '10.0.0.0/8', '10.9.0.0/16', '192.168.1.0/24', 'fd00::/8', 'nonsense', '1.2.3.4', '0.0.0.0/0']), ['0.0.0.0/0']);
  assert.deepEqual(normalizeCidrs(['192.168.1.0/24', '10.9.0.0/16', '10.9.1.0/24', '10.1.2.3/32']), ['10.1.2.3/32', '10.9.0.0/16', '192.168.1.0/24']);
  assert.ok(cidrContains('192.168.77.0/24', '192.168.77.2'));
  assert.ok(!cidrContains('192.168.77.0/30', '192.168.77.4'));

  const ingress = { loadBalancer: { ingress: [{ ip: '192.168.1.5' }] } };
  const [lb, np, noRanges] = desiredRules(
    [
      svc('a', { type: 'LoadBalancer', externalIPs: ['192.0.2.9'], loadBalancerSourceRanges: ['10.0.0.0/8', '10.1.0.0/16'] }, ingress),
      svc('b', { type: 'NodePort', clusterIP: '10.43.0.6', clusterIPs: ['10.43.0.6'], externalIPs: ['192.0.2.8'], loadBalancerSourceRanges: ['10.0.0.0/8'] }, ingress),
      svc('c', { type: 'LoadBalancer', clusterIP: '10.43.0.7', clusterIPs: ['10.43.0.7'], ports: [{ name: 'http', port: 81 }], loadBalancerSourceRanges: [] }, ingress),
    ],
    [],
    'me',
  );
  assert.deepEqual([lb!.externalIPs, lb!.loadBalancerIPs, lb!.sourceRanges], [['192.0.2.9', '192.168.1.5'], ['192.168.1.5'], ['10.0.0.0/8']]);
  assert.deepEqual([np!.loadBalancerIPs, np!.sourceRanges], [undefined, undefined], 'not a LoadBalancer: no firewall');
  assert.deepEqual([noRanges!.loadBalancerIPs, noRanges!.sourceRanges], [undefined, undefined], 'an empty list allows all');
  // The load-balancer IP lost to another service on the same port takes its firewall with it.
  const [, second] = desiredRules(
    [svc('a', { type: 'LoadBalancer' }, ingress), svc('b', { type: 'LoadBalancer', clusterIP: '10.43.0.6', clusterIPs: ['10.43.0.6'], loadBalancerSourceRanges: ['10.0.0.0/8'] }, ingress)],
    [],
    'me',
  );
  assert.deepEqual([second!.externalIPs, second!.loadBalancerIPs, second!.sourceRanges], [[], undefined, undefined]);
  // The node passes its own firewall (source: the load-balancer IP) when a range holds one of its addresses.
  assert.deepEqual(firewallSources(lb!, ['192.168.1.5']), ['10.0.0.0/8']);
  assert.deepEqual(firewallSources(lb!, ['10.0.0.7']), ['10.0.0.0/8', '192.168.1.5/32']);
});

test('load-balancer firewall rendering: nft verdict map to a drop chain; iptables KUBE-FW- then KUBE-PROXY-FIREWALL DROP', () => {
  const r = rule({ externalIPs: ['192.0.2.9', '192.168.1.5'], loadBalancerIPs: ['192.168.1.5'], sourceRanges: ['10.0.0.0/8', '172.16.0.0/12'] });
  const f = nft.renderFragment(r);
  assert.deepEqual(f.chains.get(nft.firewallChain(r)), ['ip saddr != { 10.0.0.0/8, 172.16.0.0/12 } drop']);
  assert.deepEqual(f.entries.filter((e) => e.startsWith('firewall-ips')), [`firewall-ips|192.168.1.5 . tcp . 80|goto ${nft.firewallChain(r)}`]);
  assert.equal(nft.renderFragment(rule({ externalIPs: ['192.168.1.5'] })).chains.has(nft.firewallChain(r)), false);
  assert.match(nft.transition(new Map(), frags(nft.renderFragment, r), [], true).script, /add rule ip k8ts-proxy filter-prerouting ct state new jump firewall-check/);

  const i = ipt.renderFragment(r, ['10.3.3.3']);
  const fw = ipt.firewallChain(r);
  assert.deepEqual(i.chains.get(fw), [
    `-A ${fw} -m comment --comment "ns/a:http/TCP" -s 10.0.0.0/8 -j ${ipt.externalChain(r)}`,
    `-A ${fw} -m comment --comment "ns/a:http/TCP" -s 172.16.0.0/12 -j ${ipt.externalChain(r)}`,
    `-A ${fw} -m comment --comment "ns/a:http/TCP" -s 192.168.1.5/32 -j ${ipt.externalChain(r)}`,
  ]);
  assert.ok(i.entries.includes(`nat|KUBE-SERVICES|-m comment --comment "ns/a:http/TCP" -d 192.168.1.5/32 -p tcp -m tcp --dport 80 -j ${fw}`));
  assert.ok(i.entries.includes(`nat|KUBE-SERVICES|-m comment --comment "ns/a:http/TCP" -d 192.0.2.9/32 -p tcp -m tcp --dport 80 -j ${ipt.externalChain(r)}`), 'externalIPs are not filtered');
  assert.ok(i.entries.includes(`filter|KUBE-PROXY-FIREWALL|-m comment --comment "ns/a:http/TCP traffic not accepted by ${fw}" -d 192.168.1.5/32 -p tcp -m tcp --dport 80 -j DROP`));
});
