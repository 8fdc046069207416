// The pod DNS rules (dns.ts) as tables: resolv.conf parsing, each dnsPolicy with and without dnsConfig over a host
// resolv.conf, the MissingClusterDNS fall-back, the nameserver and search-line limits, and hostname/subdomain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DNSConfig } from '../runtime/interface.js';
import { parseResolvConf, podDNSConfig, podHostnameAndDomain } from './dns.js';
import type { Pod } from './types.js';

const HOST: DNSConfig = { servers: ['192.0.2.53'], searches: ['corp.example'], options: ['edns0', 'timeout:2'] };

function pod(spec: Record<string, unknown>, name = 'p', ns = 'team'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, uid: 'u1' }, spec: { containers: [], ...spec } } as unknown as Pod;
}

test('parseResolvConf', () => {
  const cases: Array<[string, DNSConfig]> = [
    ['nameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch a.example. b.example\noptions ndots:2 edns0\n', { servers: ['1.1.1.1', '8.8.8.8'], searches: ['a.example', 'b.example'], options: ['ndots:2', 'edns0'] }],
    ['# comment\n; also\nsearch old\nsearch new .\noptions ndots:1\noptions ndots:3 rotate\nnameserver\n', { servers: [], searches: ['new'], options: ['ndots:3', 'rotate'] }],
    ['', { servers: [], searches: [], options: [] }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseResolvConf(text), want, text);
});

test('podDNSConfig by policy', () => {
  const cluster = { clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', host: HOST };
  const CF = { servers: ['10.43.0.10'], searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], options: ['ndots:5'] };
  const cases: Array<[string, Record<string, unknown>, DNSConfig]> = [
    ['ClusterFirst (default)', {}, CF],
    ['ClusterFirst + hostNetwork = Default', { hostNetwork: true, dnsPolicy: 'ClusterFirst' }, HOST],
    ['ClusterFirstWithHostNet', { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, CF],
    ['Default', { dnsPolicy: 'Default' }, HOST],
    ['None + dnsConfig', { dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['x.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }, { servers: ['1.2.3.4'], searches: ['x.example'], options: ['ndots:2', 'edns0'] }],
    ['None, nothing', { dnsPolicy: 'None' }, { servers: [], searches: [], options: [] }],
    [
      'ClusterFirst + dnsConfig: appended, duplicates dropped, options overridden by name',
      { dnsConfig: { nameservers: ['10.43.0.10', '1.2.3.4'], searches: ['svc.cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }] } },
      { servers: ['10.43.0.10', '1.2.3.4'], searches: [...CF.searches, 'extra.example'], options: ['ndots:1', 'single-request-reopen'] },
    ],
    ['Default + dnsConfig', { dnsPolicy: 'Default', dnsConfig: { options: [{ name: 'timeout', value: '5' }] } }, { ...HOST, options: ['edns0', 'timeout:5'] }],
  ];
  for (const [what, spec, want] of cases) {
    const r = podDNSConfig(pod(spec), cluster);
    assert.deepEqual(r.config, want, what);
    assert.deepEqual(r.events, [], what);
  }
});

test('podDNSConfig: no cluster DNS falls back to Default with MissingClusterDNS', () => {
  const r = podDNSConfig(pod({}), { clusterDNS: [], clusterDomain: 'cluster.local', host: HOST });
  assert.deepEqual(r.config, HOST);
  assert.deepEqual(r.events, [{ type: 'Warning', reason: 'MissingClusterDNS', message: 'pod: "p_team(u1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.' }]);
  assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'Default' }), { clusterDNS: [], clusterDomain: 'cluster.local', host: HOST }).events, []);
});

test('podDNSConfig: limits of 3 nameservers and the search line', () => {
  const r = podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'] } }), { clusterDNS: [], clusterDomain: 'cluster.local', host: HOST });
  assert.deepEqual(r.config.servers, ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
  assert.deepEqual(r.events, [{ type: 'Warning', reason: 'DNSConfigForming', message: 'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3' }]);
  const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
  const s = podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { searches: many } }), { clusterDNS: [], clusterDomain: 'cluster.local', host: HOST });
  assert.deepEqual(s.config.searches, many.slice(0, 32));
  assert.equal(s.events[0]?.reason, 'DNSConfigForming');
  assert.match(s.events[0]!.message, /^Search Line limits were exceeded, some search paths have been omitted, the applied search line is: d0\.example .* d31\.example$/);
  const long = Array.from({ length: 10 }, (_, i) => `${String(i).repeat(250)}.example`);
  const l = podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { searches: long } }), { clusterDNS: [], clusterDomain: 'cluster.local', host: HOST });
  assert.equal(l.config.searches.length, 7, 'at most 2048 characters');
});

test('podHostnameAndDomain', () => {
  const cases: Array<[Pod, string, { hostname: string; domain?: string }]> = [
    [pod({}, 'kubia'), 'cluster.local', { hostname: 'kubia' }],
    [pod({ hostname: 'web-0', subdomain: 'web' }, 'web-0', 'db'), 'cluster.local', { hostname: 'web-0', domain: 'web.db.svc.cluster.local' }],
    [pod({ subdomain: 'web' }, 'x'), 'cluster.local.', { hostname: 'x', domain: 'web.team.svc.cluster.local' }],
    [pod({}, `${'a'.repeat(62)}-b`), 'cluster.local', { hostname: 'a'.repeat(62) }],
  ];
  for (const [p, d, want] of cases) assert.deepEqual(podHostnameAndDomain(p, d), want, p.metadata.name);
});
