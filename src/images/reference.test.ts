// Reference normalisation as distribution/reference does it (Docker Hub names, registries with ports, digests).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceError, isLoopbackRegistry, parseReference, referenceString } from './reference.js';

const D = 'sha256:' + 'a'.repeat(64);

test('references normalise like the kubelet and containerd see them', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['luksa/kubia', 'docker.io/luksa/kubia:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['localhost/foo', 'localhost/foo:latest'],
    ['localhost:5000/foo/bar:v1', 'localhost:5000/foo/bar:v1'],
    ['127.0.0.1:5000/busybox', '127.0.0.1:5000/busybox:latest'],
    ['k8ts.local/busybox:1.36', 'k8ts.local/busybox:1.36'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`127.0.0.1:5000/x:1@${D}`, `127.0.0.1:5000/x@${D}`],
    ['[::1]:5000/x:y', '[::1]:5000/x:y'],
    ['a__b/c.d-e:T_1.x', 'docker.io/a__b/c.d-e:T_1.x'],
    // an upper-case first component can only be a registry host, as in distribution/reference
    ['Registry/x', 'Registry/x:latest'],
  ];
  for (const [input, want] of cases) assert.equal(referenceString(parseReference(input)), want, input);
  assert.deepEqual(parseReference(`127.0.0.1:5000/x:1@${D}`), { domain: '127.0.0.1:5000', path: 'x', tag: '1', digest: D });
});

test('invalid references are refused with upstream wording', () => {
  for (const bad of ['', 'Busybox', 'library/Busybox', 'busybox:', 'busybox@sha256:abc', 'a//b', '-a', 'busybox:-x', 'a'.repeat(64), 'x:' + 't'.repeat(129)]) {
    assert.throws(() => parseReference(bad), ReferenceError, bad);
  }
  assert.throws(() => parseReference('Busybox'), /invalid reference format: repository name must be lowercase/);
  assert.throws(() => parseReference('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
});

test('loopback registries (and only they) are plain HTTP', () => {
  for (const h of ['127.0.0.1:5000', '127.1.2.3', 'localhost:5000', 'localhost', '[::1]:5000']) assert.ok(isLoopbackRegistry(h), h);
  for (const h of ['docker.io', 'registry.k8s.io', '10.0.0.1:5000', '127.0.0.1.nip.io', 'localhost.example.com']) assert.ok(!isLoopbackRegistry(h), h);
});
