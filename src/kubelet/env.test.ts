// Container environment as upstream builds it: valueFrom sources with their CreateContainerConfigError wording,
// envFrom with prefixes, $(VAR) expansion and escaping, service link variables, and the command/args rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { commandLine, containerEnv, expand, serviceEnv, type EnvLookups } from './env.js';
import { ContainerConfigError, type Pod } from './types.js';

const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'ns' }, data: { mode: 'fast', 'bad key': 'x', level: '3' } } as KubeObject;
const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: 'ns' }, data: { pw: Buffer.from('hunter2').toString('base64') } } as KubeObject;
const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia-web', namespace: 'ns' }, spec: { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } } as KubeObject;
const lookups: EnvLookups = {
  configMap: async (ns, name) => (ns === 'ns' && name === 'cfg' ? cm : undefined),
  secret: async (ns, name) => (ns === 'ns' && name === 'sec' ? secret : undefined),
  services: (ns) => (ns === 'ns' ? [svc] : []),
  nodeAllocatable: { cpu: '2', memory: '4Gi' },
};
const pod = (container: Record<string, unknown>, spec: Record<string, unknown> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { app: 'x' } },
  spec: { containers: [{ name: 'c', image: 'i', ...container }], nodeName: 'n1', ...spec },
  status: { podIP: '10.42.0.9' },
});

test('expand: references, escapes and unknown names', () => {
  const vars = new Map([['A', '1'], ['B', 'two']]);
  assert.equal(expand('$(A)-$(B)', vars), '1-two');
  assert.equal(expand('$$(A)', vars), '$(A)');
  assert.equal(expand('$(NOPE) $(A', vars), '$(NOPE) $(A');
});

test('env: valueFrom sources, envFrom with prefix, expansion, service links', async () => {
  const p = pod({
    envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
    env: [
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'pw' } } },
      { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'GREETING', value: '$(POD) in $(MODE) mode, $$(POD)' },
      { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k', optional: true } } },
    ],
  });
  const env = Object.fromEntries((await containerEnv(p, p.spec!.containers[0], lookups)).map((e) => [e.key, e.value]));
  assert.equal(env.POD, 'p');
  assert.equal(env.APP, 'x');
  assert.equal(env.IP, '10.42.0.9');
  assert.equal(env.MODE, 'fast');
  assert.equal(env.PW, 'hunter2');
  assert.equal(env.MEM, '4096', 'no limit: node allocatable');
  assert.equal(env.GREETING, 'p in fast mode, $(POD)');
  assert.equal(env.CFG_mode, 'fast');
  assert.equal(env.CFG_level, '3');
  assert.equal(env['CFG_bad key'], undefined, 'invalid names are skipped');
  assert.equal('OPT' in env, false);
  assert.equal(env.KUBIA_WEB_SERVICE_HOST, '10.43.0.20');
  assert.equal(env.KUBIA_WEB_SERVICE_PORT, '80');
  assert.equal(env.KUBIA_WEB_SERVICE_PORT_HTTP, '80');
  assert.equal(env.KUBIA_WEB_PORT, 'tcp://10.43.0.20:80');
  assert.equal(env.KUBIA_WEB_PORT_80_TCP_ADDR, '10.43.0.20');
  const noLinks = pod({}, { enableServiceLinks: false });
  assert.equal((await containerEnv(noLinks, noLinks.spec!.containers[0], lookups)).some((e) => e.key.startsWith('KUBIA_WEB')), false);
});

test('env: missing sources fail with upstream wording', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ configMapKeyRef: { name: 'nope', key: 'k' } }, 'configmap "nope" not found'],
    [{ configMapKeyRef: { name: 'cfg', key: 'nokey' } }, "couldn't find key nokey in ConfigMap ns/cfg"],
    [{ secretKeyRef: { name: 'nope', key: 'k' } }, 'secret "nope" not found'],
    [{ secretKeyRef: { name: 'sec', key: 'nokey' } }, "couldn't find key nokey in Secret ns/sec"],
  ];
  for (const [valueFrom, message] of cases) {
    const p = pod({ env: [{ name: 'X', valueFrom }] });
    await assert.rejects(containerEnv(p, p.spec!.containers[0], lookups), (e: unknown) => e instanceof ContainerConfigError && e.message === message);
  }
  assert.equal(serviceEnv({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'h' }, spec: { clusterIP: 'None', ports: [{ port: 1 }] } } as KubeObject).length, 0, 'headless services give no variables');
});

test('command/args over the image entrypoint and cmd', () => {
  const image = { entrypoint: ['/entry'], cmd: ['--default'] };
  const env = [{ key: 'N', value: '3' }];
  assert.deepEqual(commandLine({ name: 'c' }, image, env), { command: ['/entry'], args: ['--default'] });
  assert.deepEqual(commandLine({ name: 'c', args: ['-n', '$(N)'] }, image, env), { command: ['/entry'], args: ['-n', '3'] });
  assert.deepEqual(commandLine({ name: 'c', command: ['sh'] }, image, env), { command: ['sh'], args: [] }, 'command drops the image cmd');
  assert.deepEqual(commandLine({ name: 'c', command: ['sh', '-c'], args: ['echo $(N)'] }, image, env), { command: ['sh', '-c'], args: ['echo 3'] });
  assert.throws(() => commandLine({ name: 'c' }, {}, env), ContainerConfigError);
});
