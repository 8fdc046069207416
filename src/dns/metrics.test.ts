// The CoreDNS metric set and its Prometheus text exposition: counters by label set, cumulative histogram buckets
// with _sum/_count, label escaping and sorting, families in name order, CoreDNS's labels for one query report.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, DnsMetrics, formatValue, Histogram, qTypeLabel, replyRcode, TIME_BUCKETS } from './metrics.js';

test('counter: one series per label set, labels sorted by name and escaped', () => {
  const c = new Counter('x_total', 'Help with \\ and\nnewline.', ['zone', 'a']);
  c.inc({ zone: '.', a: 'q"\\\n' });
  c.inc({ zone: '.', a: 'q"\\\n' }, 2);
  c.inc({ zone: 'b.', a: '' });
  assert.equal(c.get({ zone: '.', a: 'q"\\\n' }), 3);
  assert.equal(c.get({ zone: 'nope', a: '' }), 0);
  assert.equal(
    c.render(),
    ['# HELP x_total Help with \\\\ and\\nnewline.', '# TYPE x_total counter', 'x_total{a="",zone="b."} 1', 'x_total{a="q\\"\\\\\\n",zone="."} 3', ''].join('\n'),
  );
  assert.throws(() => c.inc({ zone: '.' }), /label a missing/);
  assert.throws(() => c.inc({ zone: '.', a: '', extra: '' }), /labels/);
  assert.equal(new Counter('empty_total', 'h', []).render(), '', 'a family without series writes nothing');
});

test('histogram: cumulative buckets, +Inf, _sum and _count', () => {
  const h = new Histogram('d_seconds', 'h', ['server'], [0.1, 1, 10]);
  for (const v of [0.05, 0.1, 0.5, 20]) h.observe({ server: 's' }, v);
  assert.equal(h.count({ server: 's' }), 4);
  assert.equal(
    h.render(),
    [
      '# HELP d_seconds h',
      '# TYPE d_seconds histogram',
      'd_seconds_bucket{server="s",le="0.1"} 2',
      'd_seconds_bucket{server="s",le="1"} 3',
      'd_seconds_bucket{server="s",le="10"} 3',
      'd_seconds_bucket{server="s",le="+Inf"} 4',
      'd_seconds_sum{server="s"} 20.65',
      'd_seconds_count{server="s"} 4',
      '',
    ].join('\n'),
  );
});

test('values and buckets are written as Go does; CoreDNS time buckets run 0.25 ms → 8.192 s', () => {
  assert.equal(formatValue(64000), '64000');
  assert.equal(formatValue(0.00025), '0.00025');
  assert.equal(formatValue(1e-7), '1e-07');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(TIME_BUCKETS.length, 16);
  assert.equal(TIME_BUCKETS[0], 0.00025);
  assert.equal(TIME_BUCKETS[15], 8.192);
});

test('query types: the monitored ones by name, the rest "other"; rcodes from the reply header', () => {
  assert.deepEqual(['A', 'AAAA', 'SRV', 'PTR', 'HTTPS', 'NAPTR', 'CAA', undefined].map(qTypeLabel), ['A', 'AAAA', 'SRV', 'PTR', 'HTTPS', 'other', 'other', 'other']);
  const header = (rcode: number) => Buffer.from([0, 1, 0x81, 0x80 | rcode, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([0, 2, 3, 5, 15].map((c) => replyRcode(header(c))), ['NOERROR', 'SERVFAIL', 'NXDOMAIN', 'REFUSED', '15']);
});

test('DnsMetrics: one report fills the CoreDNS families with their labels; families in name order', () => {
  const m = new DnsMetrics({ version: '0.1.0', revision: 'k8ts', goversion: 'node20' });
  m.query({ server: 'dns://10.42.0.1:53', proto: 'udp', ipv6: false, question: { name: 'kubia.default.svc.cluster.local', type: 'A', class: 'IN' }, dnssecOk: true, rcode: 'NOERROR', plugin: 'kubernetes', requestBytes: 50, responseBytes: 120, seconds: 0.0003 });
  m.query({ server: 'dns://10.42.0.1:53', proto: 'tcp', ipv6: true, question: { name: 'x.example', type: 'MX', class: 'IN' }, dnssecOk: false, rcode: 'REFUSED', plugin: '', requestBytes: 30, responseBytes: 30, seconds: 0.01 });
  m.upstream('10.0.0.2:53', 'NXDOMAIN', 0.002);
  m.upstream('10.0.0.3:53', undefined, 2);
  m.panic();
  const text = m.render();
  const lines = text.split('\n');
  const has = (l: string) => assert.ok(lines.includes(l), `missing ${l}\n${text}`);
  has('coredns_build_info{goversion="node20",revision="k8ts",version="0.1.0"} 1');
  has('coredns_panics_total 1');
  has('coredns_dns_requests_total{family="1",proto="udp",server="dns://10.42.0.1:53",type="A",view="",zone="."} 1');
  has('coredns_dns_requests_total{family="2",proto="tcp",server="dns://10.42.0.1:53",type="MX",view="",zone="."} 1');
  has('coredns_dns_do_requests_total{server="dns://10.42.0.1:53",view="",zone="."} 1');
  has('coredns_dns_responses_total{plugin="kubernetes",rcode="NOERROR",server="dns://10.42.0.1:53",view="",zone="."} 1');
  has('coredns_dns_responses_total{plugin="",rcode="REFUSED",server="dns://10.42.0.1:53",view="",zone="."} 1');
  has('coredns_dns_request_duration_seconds_bucket{server="dns://10.42.0.1:53",view="",zone=".",le="0.00025"} 0');
  has('coredns_dns_request_duration_seconds_bucket{server="dns://10.42.0.1:53",view="",zone=".",le="0.0005"} 1');
  has('coredns_dns_request_duration_seconds_count{server="dns://10.42.0.1:53",view="",zone="."} 2');
  has('coredns_dns_request_size_bytes_sum{proto="udp",server="dns://10.42.0.1:53",view="",zone="."} 50');
  has('coredns_dns_response_size_bytes_bucket{proto="udp",server="dns://10.42.0.1:53",view="",zone=".",le="200"} 1');
  has('coredns_forward_requests_total{to="10.0.0.2:53"} 1');
  has('coredns_forward_requests_total{to="10.0.0.3:53"} 1');
  has('coredns_forward_responses_total{rcode="NXDOMAIN",to="10.0.0.2:53"} 1');
  assert.ok(!text.includes('rcode="",to="10.0.0.3:53"'), 'an upstream that did not answer has no response');
  has('coredns_proxy_request_duration_seconds_count{proxy_name="forward",rcode="NXDOMAIN",to="10.0.0.2:53"} 1');
  const families = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
  assert.deepEqual(families, [...families].sort());
  assert.ok(families.includes('coredns_build_info') && lines.includes('# TYPE coredns_build_info gauge'));
  assert.ok(text.endsWith('\n'));
});
