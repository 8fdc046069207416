// End-to-end: kubectl logs / exec / cp against a real `k8ts server` and the kubelet's HTTPS server (src/kubelet/server)
// in front of the runc runtime, with a busybox container created directly through the runtime in a test host.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Server, run as runCommand, type Kubectl } from './harness.js';
import { ensureKubeletServingCert } from '../../src/apiserver/pki.js';
import { run } from '../../src/runtime/command.js';
import type { ContainerConfig, PodSandboxConfig } from '../../src/runtime/interface.js';
import { openRuncRuntime, type RuncRuntime } from '../../src/runtime/runc/runtime.js';
import { BUSYBOX_IMAGE, createTestHost, mountsUnder, preflight, TestImages, type TestHost } from '../../src/runtime/testing.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, type Pod } from '../../src/kubelet/types.js';
import { KubeletServer } from '../../src/kubelet/server/server.js';

const PREFIX = `k8ts-streaming-test-${process.pid}`;
const NODE = 'node1';
let srv: Server;
let k: Kubectl;
let tmp = '';
let host: TestHost;
let rt: RuncRuntime;
let kubelet: KubeletServer;
let pod: Pod;
let sandboxId = '';
let currentId = '';

before(async () => {
  preflight();
  tmp = mkdtempSync(join(tmpdir(), 'k8ts-streaming-'));
  host = await createTestHost();
  rt = (await openRuncRuntime({ root: join(tmp, 'runtime'), images: new TestImages(join(tmp, 'images')), podCidr: '10.91.0.0/24', hostNetns: host.path })).runtime;
  srv = await Server.start({ extraArgs: ['--disable-controllers', '--disable-scheduler'] });
  k = srv.client();

  const podManifest = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: NODE, containers: [{ name: 'c', image: BUSYBOX_IMAGE }] } };
  await k.ok(['create', '-f', '-'], { stdin: JSON.stringify(podManifest) });
  pod = JSON.parse((await k.ok(['get', 'pod', 'web', '-o', 'json'])).stdout) as Pod;
  const uid = pod.metadata.uid!;

  const labels = { [LABEL_POD_NAME]: 'web', [LABEL_POD_NAMESPACE]: 'default', [LABEL_POD_UID]: uid };
  const sb: PodSandboxConfig = {
    metadata: { name: 'web', uid, namespace: 'default', attempt: 0 },
    hostname: 'web',
    logDirectory: join(tmp, 'pods', `default_web_${uid}`),
    portMappings: [],
    labels,
    annotations: {},
    cgroupParent: `${PREFIX}/pod-web`,
    hostNetwork: false,
  };
  sandboxId = await rt.runPodSandbox(sb);
  const cc = (attempt: number, cmd: string[]): ContainerConfig => ({
    metadata: { name: 'c', attempt },
    image: BUSYBOX_IMAGE,
    command: cmd,
    args: [],
    envs: [],
    mounts: [],
    logPath: `c/${attempt}.log`,
    labels: { ...labels, [LABEL_CONTAINER_NAME]: 'c' },
    annotations: {},
    linux: { resources: {}, securityContext: {} },
  });
  const first = await rt.createContainer(sandboxId, cc(0, ['sh', '-c', 'echo first-run; exit 1']), sb);
  await rt.startContainer(first);
  await rt.waitContainer(first);
  currentId = await rt.createContainer(sandboxId, cc(1, ['sh', '-c', 'echo one; echo two >&2; sleep 0.5; echo three; exec sleep 3600']), sb);
  await rt.startContainer(currentId);
  const logPath = (await rt.containerStatus(currentId)).logPath;
  while (!readFileSync(logPath, 'utf8').includes(' three\n')) await new Promise((r) => setTimeout(r, 50));

  const pki = join(srv.dataDir, 'pki');
  const serving = await ensureKubeletServingCert(srv.dataDir, NODE, ['127.0.0.1']);
  kubelet = new KubeletServer({
    backend: { nodeName: NODE, runtime: rt, pods: () => [pod] },
    tls: { cert: serving.cert, key: serving.key, caCert: readFileSync(join(pki, 'ca.crt'), 'utf8') },
    bindAddress: '127.0.0.1',
    port: 0,
  });
  const port = await kubelet.start();

  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } };
  await k.ok(['create', '-f', '-'], { stdin: JSON.stringify(node) });
  const nodeStatus = { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE }], daemonEndpoints: { kubeletEndpoint: { Port: port } }, capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '2', memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }] } };
  await k.ok(['patch', 'node', NODE, '--subresource=status', '--type=merge', '-p', JSON.stringify(nodeStatus)]);
  const now = new Date().toISOString();
  const podStatus = {
    status: {
      phase: 'Running',
      hostIP: '127.0.0.1',
      startTime: now,
      containerStatuses: [
        { name: 'c', ready: true, restartCount: 1, image: BUSYBOX_IMAGE, imageID: '', containerID: `runc://${currentId}`, started: true, state: { running: { startedAt: now } }, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now, containerID: `runc://${first}` } } },
      ],
    },
  };
  await k.ok(['patch', 'pod', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify(podStatus)]);
});

after(async () => {
  try {
    await kubelet?.stop();
    await srv?.stop();
    if ((rt as RuncRuntime | undefined) !== undefined) {
      for (const s of await rt.listPodSandboxes()) await rt.removePodSandbox(s.id);
      await rt.close();
    }
  } finally {
    await (host as TestHost | undefined)?.destroy();
    const r = await run('find', ['/sys/fs/cgroup', '-maxdepth', '4', '-type', 'd', '-name', PREFIX]);
    for (const dir of r.stdout.split('\n').filter(Boolean)) await run('rmdir', [dir]);
    for (const m of mountsUnder(tmp).reverse()) await run('umount', ['-l', m]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
});

test('kubectl logs: all, --tail, --previous, --timestamps, unknown container', async () => {
  const all = await k.ok(['logs', 'web']);
  assert.deepEqual(all.stdout.split('\n').filter(Boolean).sort(), ['one', 'three', 'two']);
  const tail = await k.ok(['logs', 'web', '--tail=1']);
  assert.equal(tail.stdout, 'three\n');
  const prev = await k.ok(['logs', 'web', '--previous']);
  assert.equal(prev.stdout, 'first-run\n');
  const ts = await k.ok(['logs', 'web', '-c', 'c', '--timestamps', '--tail=1']);
  assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) three\n$/);
  const bad = await k.fail(['logs', 'web', '-c', 'nope']);
  assert.match(bad.stderr, /container nope is not valid for pod web/);
});

test('kubectl exec: output, exit code, stdin', async () => {
  const ok = await k.ok(['exec', 'web', '--', 'sh', '-c', 'echo hi; echo err >&2']);
  assert.equal(ok.stdout, 'hi\n');
  assert.equal(ok.stderr, 'err\n');
  const three = await k.run(['exec', 'web', '--', 'sh', '-c', 'exit 3']);
  assert.equal(three.code, 3, three.stderr);
  assert.match(three.stderr, /command terminated with exit code 3/);
  const cat = await k.ok(['exec', '-i', 'web', '--', 'cat'], { stdin: 'hello-stdin\n' });
  assert.equal(cat.stdout, 'hello-stdin\n');
});

test('kubectl exec -it through a pty: a terminal in the container, exit code', async () => {
  const { kubectlBin } = await import('./harness.js');
  const cmd = [kubectlBin, '--kubeconfig', srv.kubeconfig, 'exec', '-it', 'web', '--', 'sh', '-c', 'tty; exit 4'].map((a) => `'${a}'`).join(' ');
  const r = await runCommand('script', ['-q', '-e', '-c', cmd, '/dev/null'], { timeoutMs: 20_000 });
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
  assert.match(r.stdout, /command terminated with exit code 4/);
});

test('kubectl attach streams the main process output', async () => {
  const bg = k.spawn(['attach', 'web']);
  try {
    // attach only sees output written after it connected, so the line is written again until it is seen
    let seen = false;
    for (let i = 0; i < 20 && !seen; i++) {
      await k.ok(['exec', 'web', '--', 'sh', '-c', `echo attached-${i} > /proc/1/fd/1`]);
      seen = await bg.waitFor(/attached-\d+\n/, 500).then(() => true, () => false);
    }
    assert.ok(seen, 'attach saw the output written after it connected');
  } finally {
    await bg.stop();
  }
});

test('kubectl cp: to and from the container', async () => {
  const local = join(tmp, 'upload.txt');
  writeFileSync(local, 'payload 42\n');
  await k.ok(['cp', local, 'web:/tmp/upload.txt']);
  const seen = await k.ok(['exec', 'web', '--', 'cat', '/tmp/upload.txt']);
  assert.equal(seen.stdout, 'payload 42\n');
  const back = join(tmp, 'download.txt');
  await k.ok(['cp', 'web:/tmp/upload.txt', back]);
  assert.equal(readFileSync(back, 'utf8'), 'payload 42\n');
});

test('kubectl port-forward to a busybox httpd in the pod', async () => {
  await k.ok(['exec', 'web', '--', 'sh', '-c', 'mkdir -p /tmp/www && echo served-by-web > /tmp/www/index.html && httpd -p 8080 -h /tmp/www']);
  const bg = k.spawn(['port-forward', 'pod/web', ':8080']);
  try {
    const out = await bg.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
    const localPort = Number(/127\.0\.0\.1:(\d+) -> 8080/.exec(out)![1]);
    for (let i = 0; i < 2; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port: localPort, path: '/index.html' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      assert.equal(body, 'served-by-web\n');
    }
  } finally {
    await bg.stop();
  }
});

test('kubectl top pod / top node from metrics.k8s.io, fed by the kubelet summary', async () => {
  const disc = await k.ok(['api-versions']);
  assert.match(disc.stdout, /^metrics\.k8s\.io\/v1beta1$/m);
  const pods = await k.ok(['top', 'pod']);
  const rows = pods.stdout.trim().split('\n');
  assert.match(rows[0]!, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
  assert.match(rows[1]!, /^web\s+\d+m\s+\d+Mi\s*$/);
  const containers = await k.ok(['top', 'pod', 'web', '--containers']);
  assert.match(containers.stdout, /^web\s+c\s+\d+m\s+\d+Mi\s*$/m);
  const nodes = await k.ok(['top', 'node']);
  assert.match(nodes.stdout, /^node1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$/m);
  const raw = JSON.parse((await k.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web'])).stdout) as { kind: string; containers: Array<{ name: string; usage: { memory: string } }> };
  assert.equal(raw.kind, 'PodMetrics');
  assert.equal(raw.containers[0]!.name, 'c');
  assert.match(raw.containers[0]!.usage.memory, /^[1-9]\d*Ki$/, 'a running container has a non-zero working set');
  const summary = JSON.parse((await k.ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`])).stdout) as { node: { nodeName: string }; pods: Array<{ podRef: { name: string } }> };
  assert.equal(summary.node.nodeName, NODE);
  assert.deepEqual(summary.pods.map((p) => p.podRef.name), ['web']);
  assert.equal((await k.ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`])).stdout, 'ok');
  const resource = await k.ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics/resource`]);
  assert.match(resource.stdout, /^container_memory_working_set_bytes\{container="c",namespace="default",pod="web"\} [1-9]\d* \d+$/m);
  const missing = await k.fail(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope']);
  assert.match(missing.stderr, /NotFound|not found/);
});

test('kubectl logs -f follows new output and ends when the container exits', async () => {
  const bg = k.spawn(['logs', '-f', 'web', '--tail=1']);
  await bg.waitFor(/\n/); // the last line so far (--tail=1)
  await k.ok(['exec', 'web', '--', 'sh', '-c', 'echo followed-line > /proc/1/fd/1']);
  await bg.waitFor(/followed-line\n/);
  await rt.stopContainer(currentId, 0);
  const r = await bg.stop();
  assert.match(r.stdout, /^[^\n]+\nfollowed-line\n$/);
});
