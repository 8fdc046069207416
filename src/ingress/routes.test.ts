// Ingress routing rules in tables: class ownership, Prefix/Exact path semantics (upstream's examples), host tiers,
// conflicts between Ingresses, TLS Secret choice by SNI, backend endpoints and the status address list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { buildRoutes, hostCovers, isOurs, normalizeHost, ourClasses, pathMatches, resolveBackend, route, statusIPs, tlsSecretFor, type PathType } from './routes.js';

const cls = (name: string, controller: string, isDefault?: string): KubeObject =>
  ({ metadata: { name, annotations: isDefault === undefined ? {} : { 'ingressclass.kubernetes.io/is-default-class': isDefault } }, spec: { controller } }) as KubeObject;

const ing = (name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z', annotations: Record<string, string> = {}, ns = 'default'): KubeObject =>
  ({ metadata: { name, namespace: ns, creationTimestamp: created, annotations }, spec }) as KubeObject;

const be = (service: string, port: number | string) => ({ service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } });
const rule = (host: string | undefined, paths: Array<[string, string, string]>) => ({
  ...(host === undefined ? {} : { host }),
  http: { paths: paths.map(([path, pathType, svc]) => ({ path, pathType, backend: be(svc, 80) })) },
});

test('ourClasses and isOurs: ingressClassName, the legacy annotation, and the default class for Ingresses naming none', () => {
  const cases: Array<[string, KubeObject[], KubeObject, boolean]> = [
    ['named, ours', [cls('k8ts', 'k8ts.io/ingress')], ing('a', { ingressClassName: 'k8ts' }), true],
    ['named, another controller', [cls('k8ts', 'k8ts.io/ingress'), cls('nginx', 'k8s.io/ingress-nginx')], ing('a', { ingressClassName: 'nginx' }), false],
    ['named, no such class', [], ing('a', { ingressClassName: 'k8ts' }), false],
    ['unnamed, ours is default', [cls('k8ts', 'k8ts.io/ingress', 'true')], ing('a', {}), true],
    ['unnamed, ours not default', [cls('k8ts', 'k8ts.io/ingress', 'false')], ing('a', {}), false],
    ['unnamed, another default', [cls('k8ts', 'k8ts.io/ingress'), cls('nginx', 'k8s.io/ingress-nginx', 'true')], ing('a', {}), false],
    ['legacy annotation, ours', [cls('k8ts', 'k8ts.io/ingress')], ing('a', {}, undefined, { 'kubernetes.io/ingress.class': 'k8ts' }), true],
    ['legacy annotation, another', [cls('k8ts', 'k8ts.io/ingress', 'true')], ing('a', {}, undefined, { 'kubernetes.io/ingress.class': 'nginx' }), false],
    ['a second class of ours', [cls('k8ts', 'k8ts.io/ingress'), cls('internal', 'k8ts.io/ingress')], ing('a', { ingressClassName: 'internal' }), true],
  ];
  for (const [name, classes, i, want] of cases) assert.equal(isOurs(i, ourClasses(classes)), want, name);
});

test('pathMatches: upstream\'s table of Exact and Prefix examples', () => {
  const cases: Array<[PathType, string, string, boolean]> = [
    ['Prefix', '/', '/', true],
    ['Prefix', '/', '/anything/at/all', true],
    ['Exact', '/foo', '/foo', true],
    ['Exact', '/foo', '/bar', false],
    ['Exact', '/foo', '/foo/', false],
    ['Exact', '/foo/', '/foo', false],
    ['Prefix', '/foo', '/foo', true],
    ['Prefix', '/foo', '/foo/', true],
    ['Prefix', '/foo/', '/foo', true],
    ['Prefix', '/foo/', '/foo/', true],
    ['Prefix', '/aaa/bb', '/aaa/bbb', false],
    ['Prefix', '/aaa/bbb', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb/', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/ccc', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbbxyz', false],
    ['Prefix', '/foo/bar', '/foo/barbaz', false],
    ['Prefix', '/Foo', '/foo', false],
  ];
  for (const [type, rule, req, want] of cases) assert.equal(pathMatches(type, rule, req), want, `${type} ${rule} vs ${req}`);
});

test('route: longest path wins, Exact beats Prefix of equal length, ImplementationSpecific is Prefix, default backend last', () => {
  const table = buildRoutes([
    ing('paths', {
      defaultBackend: be('fallback', 80),
      rules: [
        rule(undefined, [
          ['/', 'Prefix', 'root'],
          ['/aaa', 'Prefix', 'aaa'],
          ['/aaa/bbb', 'Prefix', 'aaa-bbb'],
          ['/aaa/bbb', 'Exact', 'aaa-bbb-exact'],
          ['/impl', 'ImplementationSpecific', 'impl'],
        ]),
      ],
    }),
  ]);
  const cases: Array<[string, string | undefined]> = [
    ['/', 'root'],
    ['/x', 'root'],
    ['/aaa', 'aaa'],
    ['/aaa/ccc', 'aaa'],
    ['/aaa/bbb', 'aaa-bbb-exact'],
    ['/aaa/bbb/', 'aaa-bbb'],
    ['/aaa/bbb/ccc', 'aaa-bbb'],
    ['/aaa/bbbx', 'aaa'],
    ['/impl/sub', 'impl'],
    ['/implx', 'root'],
  ];
  for (const [path, want] of cases) assert.equal(route(table, 'any.host', path)?.backend?.service, want, path);
  const onlyDefault = buildRoutes([ing('d', { defaultBackend: be('fallback', 80), rules: [rule('a.example.com', [['/app', 'Prefix', 'app']])] })]);
  assert.equal(route(onlyDefault, 'a.example.com', '/other')?.backend?.service, 'fallback');
  assert.equal(route(onlyDefault, 'a.example.com', '/other')?.rule, undefined);
  assert.equal(route(buildRoutes([ing('n', { rules: [rule('a.example.com', [['/app', 'Prefix', 'app']])] })]), 'a.example.com', '/other'), undefined);
});

test('route: exact host, then a one-label wildcard, then host-less rules; Host compares without case or port', () => {
  const table = buildRoutes([
    ing('hosts', {
      rules: [
        rule('foo.bar.com', [['/', 'Prefix', 'exact']]),
        rule('*.bar.com', [['/', 'Prefix', 'wild'], ['/only-wild', 'Prefix', 'wild-path']]),
        rule(undefined, [['/', 'Prefix', 'any'], ['/api', 'Prefix', 'any-api']]),
      ],
    }),
  ]);
  const cases: Array<[string | undefined, string, string]> = [
    ['foo.bar.com', '/', 'exact'],
    ['FOO.Bar.com:8080', '/x', 'exact'],
    ['baz.bar.com', '/', 'wild'],
    ['baz.bar.com', '/only-wild/x', 'wild-path'],
    ['deep.baz.bar.com', '/', 'any'],
    ['bar.com', '/', 'any'],
    [undefined, '/api/v1', 'any-api'],
    ['127.0.0.1:80', '/', 'any'],
    // A more specific host tier wins even over a longer path in a less specific one.
    ['foo.bar.com', '/api', 'exact'],
  ];
  for (const [host, path, want] of cases) assert.equal(route(table, host, path)?.backend?.service, want, `${host} ${path}`);
  const tiers = buildRoutes([ing('t', { rules: [rule('foo.bar.com', [['/app', 'Exact', 'exact-app']]), rule(undefined, [['/', 'Prefix', 'any']])] })]);
  assert.equal(route(tiers, 'foo.bar.com', '/other')?.backend?.service, 'any', 'no path of the host matches: host-less rules still apply');
});

test('buildRoutes: Ingresses merge per host; the older one wins an equal host, path and type', () => {
  const older = ing('older', { rules: [rule('a.example.com', [['/x', 'Prefix', 'old-x']])] }, '2026-01-01T00:00:00Z');
  const newer = ing('newer', { defaultBackend: be('new-default', 80), rules: [rule('a.example.com', [['/x/', 'Prefix', 'new-x'], ['/y', 'Prefix', 'new-y']])] }, '2026-01-02T00:00:00Z');
  const olderDefault = ing('zz', { defaultBackend: be('old-default', 80) }, '2025-12-31T00:00:00Z');
  const table = buildRoutes([newer, older, olderDefault]);
  assert.deepEqual(route(table, 'a.example.com', '/x'), { backend: { namespace: 'default', service: 'old-x', port: { number: 80 } }, ingress: 'default/older', rule: { host: 'a.example.com', path: '/x', type: 'Prefix' } });
  assert.equal(route(table, 'a.example.com', '/y')?.ingress, 'default/newer');
  assert.equal(route(table, 'b.example.com', '/')?.backend?.service, 'old-default');
  // Backends live in their Ingress's namespace; a resource backend is no service.
  const other = buildRoutes([ing('r', { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { resource: { kind: 'Bucket', name: 'b' } } }] } }] }, undefined, {}, 'team')]);
  assert.deepEqual(route(other, 'x', '/'), { backend: undefined, ingress: 'team/r', rule: { host: '', path: '/', type: 'Prefix' } });
});

test('normalizeHost and hostCovers', () => {
  const hosts: Array<[string | undefined, string]> = [
    [undefined, ''],
    ['Example.COM', 'example.com'],
    ['example.com:443', 'example.com'],
    ['example.com.', 'example.com'],
    ['[::1]:80', '[::1]'],
    ['10.0.0.1:8080', '10.0.0.1'],
  ];
  for (const [h, want] of hosts) assert.equal(normalizeHost(h), want, String(h));
  const covers: Array<[string, string, boolean]> = [
    ['foo.com', 'foo.com', true],
    ['Foo.com', 'foo.com', true],
    ['*.foo.com', 'a.foo.com', true],
    ['*.foo.com', 'a.b.foo.com', false],
    ['*.foo.com', 'foo.com', false],
    ['foo.com', 'a.foo.com', false],
  ];
  for (const [p, n, want] of covers) assert.equal(hostCovers(p, n), want, `${p} ${n}`);
});

test('tlsSecretFor: exact host, then wildcard, then an entry without hosts; older Ingress first; no SNI → default', () => {
  const a = ing('a', { tls: [{ hosts: ['*.example.com'], secretName: 'wild' }, { hosts: ['www.example.com'], secretName: 'www' }] }, '2026-01-01T00:00:00Z');
  const b = ing('b', { tls: [{ hosts: ['www.example.com'], secretName: 'www-newer' }, { secretName: 'catch-all' }, { hosts: ['nosecret.example.org'] }] }, '2026-01-02T00:00:00Z', {}, 'other');
  const cases: Array<[string | undefined, string | undefined]> = [
    ['www.example.com', 'default/www'],
    ['WWW.example.com', 'default/www'],
    ['api.example.com', 'default/wild'],
    ['a.b.example.com', 'other/catch-all'],
    ['nosecret.example.org', 'other/catch-all'],
    [undefined, undefined],
  ];
  for (const [sni, want] of cases) {
    const r = tlsSecretFor([b, a], sni);
    assert.equal(r && `${r.namespace}/${r.name}`, want, String(sni));
  }
  assert.equal(tlsSecretFor([a], 'other.org'), undefined);
});

test('resolveBackend: service port by number or name, the slices of that port, ready endpoints only', () => {
  const svc = { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 9000 }, { name: 'dns', port: 53, protocol: 'UDP' }] } } as KubeObject;
  const slice = (name: string, ports: Array<{ name: string; port: number }>, eps: Array<[string, boolean | undefined]>, svcName = 'web'): KubeObject =>
    ({
      metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svcName } },
      addressType: 'IPv4',
      ports,
      endpoints: eps.map(([ip, ready]) => ({ addresses: [ip], conditions: ready === undefined ? {} : { ready } })),
    }) as unknown as KubeObject;
  const slices = [
    slice('web-a', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }], [['10.42.0.9', true], ['10.42.0.10', false], ['10.42.0.11', undefined]]),
    slice('web-b', [{ name: 'http', port: 8080 }], [['10.42.0.2', true], ['10.42.0.9', true]]),
    slice('other', [{ name: 'http', port: 1 }], [['10.42.0.99', true]], 'other'),
  ];
  const ref = (port: { number?: number; name?: string }) => ({ namespace: 'default', service: 'web', port });
  assert.deepEqual(resolveBackend(ref({ number: 80 }), svc, slices), { ok: true, endpoints: [{ ip: '10.42.0.2', port: 8080 }, { ip: '10.42.0.9', port: 8080 }, { ip: '10.42.0.11', port: 8080 }] });
  assert.deepEqual(resolveBackend(ref({ name: 'admin' }), svc, slices), { ok: true, endpoints: [{ ip: '10.42.0.9', port: 9090 }, { ip: '10.42.0.11', port: 9090 }] });
  const failures: Array<[Parameters<typeof resolveBackend>, string]> = [
    [[undefined, svc, slices], 'NoBackend'],
    [[ref({ number: 80 }), undefined, slices], 'ServiceNotFound'],
    [[ref({ number: 8080 }), svc, slices], 'PortNotFound'],
    [[ref({ number: 53 }), svc, slices], 'PortNotFound'],
    [[ref({ name: 'admin' }), svc, [slices[1]!]], 'NoEndpoints'],
    [[ref({ number: 80 }), svc, [slice('web-c', [{ name: 'http', port: 8080 }], [['10.42.0.3', false]])]], 'NoEndpoints'],
  ];
  for (const [args, reason] of failures) assert.deepEqual(resolveBackend(...args), { ok: false, reason }, reason);
});

test('statusIPs: our address joins other nodes\' addresses, stale ones leave, not ours only removes ours', () => {
  const nodes = new Set(['10.0.0.1', '10.0.0.2', '10.0.0.10']);
  const cases: Array<[string[], boolean, string[] | undefined]> = [
    [[], true, ['10.0.0.1']],
    [['10.0.0.1'], true, undefined],
    [['10.0.0.10', '10.0.0.2'], true, ['10.0.0.1', '10.0.0.2', '10.0.0.10']],
    [['10.0.0.1', '192.0.2.7'], true, ['10.0.0.1']],
    [['10.0.0.1', '10.0.0.2'], false, ['10.0.0.2']],
    [['192.0.2.7'], false, undefined],
    [[], false, undefined],
  ];
  for (const [current, ours, want] of cases) assert.deepEqual(statusIPs(current, ours, '10.0.0.1', nodes), want, `${current} ${ours}`);
});
