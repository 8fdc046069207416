// End-to-end: `k8ts server` with its kubelet, pods as real runc containers in a test host network namespace,
// driven by the real kubectl. The node registers and turns Ready with a pod CIDR; W1's kubia pod runs with an IP
// from it; configMap/secret env and volumes, an emptyDir shared with an init container, restart policies with
// crash-loop back-off, upstream's waiting reasons for bad input (missing key, unpullable image), graceful deletion,
// and adoption of running containers after the server is killed and started again.

import assert from 'node:assert/strict';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, withNamespace, type Kubectl } from './harness.js';
import { startNodeCluster, type NodeCluster } from './nodehost.js';

const NODE = 'k8ts-e2e-node';
const BUSYBOX = 'k8ts.local/busybox:1.36';
const KUBIA = 'k8ts.local/kubia:1';

let cluster: NodeCluster | undefined;
let srv: Server;

before(async () => {
  // Images are imported ahead (the air-gapped path): no pulls from anywhere.
  cluster = await startNodeCluster({ name: 'node', node: NODE });
  srv = cluster.srv;
});

after(async () => {
  await cluster?.stop();
});

const phaseOf = async (k: Kubectl, name: string): Promise<string> => (await k.ok(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout;
const json = async (k: Kubectl, name: string): Promise<any> => JSON.parse((await k.ok(['get', 'pod', name, '-o', 'json'])).stdout);

test('the node registers, gets a pod CIDR and is Ready', async () => {
  const k = srv.client();
  const node = await eventually(async () => {
    const r = await k.run(['get', 'node', NODE, '-o', 'json']);
    if (r.code !== 0) return undefined;
    const n = JSON.parse(r.stdout);
    const ready = (n.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
    return ready?.status === 'True' && n.spec?.podCIDR ? n : undefined;
  }, 60_000, `node ${NODE} Ready with a pod CIDR${srv.logTail()}`);
  assert.match(node.spec.podCIDR, /^10\.42\.\d+\.0\/24$/);
  assert.equal(node.status.capacity.pods, '110');
  assert.match(node.status.capacity.memory, /^\d+Ki$/);
  assert.match(node.status.nodeInfo.containerRuntimeVersion, /^runc:\/\//);
  assert.deepEqual(node.status.addresses, [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE }]);
  const table = parseTable((await k.ok(['get', 'nodes'])).stdout);
  const row = table.rows.find((r) => r.NAME === NODE);
  assert.equal(row?.STATUS, 'Ready');
  assert.equal(row?.ROLES, 'control-plane');
  const lease = JSON.parse((await k.ok(['get', 'lease', '-n', 'kube-node-lease', NODE, '-o', 'json'])).stdout);
  assert.equal(lease.spec.holderIdentity, NODE);
});

test('W1: kubia runs with an IP from the node\'s pod CIDR; events tell the story', async () => {
  const k = await withNamespace(srv, 'e2e-kubelet');
  await k.ok(['run', 'kubia', `--image=${KUBIA}`, '--port=8080']);
  await eventually(async () => (await phaseOf(k, 'kubia')) === 'Running', 60_000, `kubia Running${srv.logTail()}`);
  const pod = await json(k, 'kubia');
  const node = JSON.parse((await k.ok(['get', 'node', NODE, '-o', 'json'])).stdout);
  const prefix = node.spec.podCIDR.split('.').slice(0, 3).join('.');
  assert.ok(pod.status.podIP.startsWith(`${prefix}.`), `pod IP ${pod.status.podIP} in ${node.spec.podCIDR}`);
  assert.equal(pod.status.hostIP, '127.0.0.1');
  assert.equal(pod.status.qosClass, 'BestEffort');
  const c = pod.status.containerStatuses[0];
  assert.equal(c.ready, true);
  assert.equal(c.restartCount, 0);
  assert.match(c.containerID, /^runc:\/\/[0-9a-f]+$/);
  const conds = Object.fromEntries(pod.status.conditions.map((x: any) => [x.type, x.status]));
  assert.deepEqual(conds, { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
  const wide = parseTable((await k.ok(['get', 'pods', '-o', 'wide'])).stdout).rows[0]!;
  assert.equal(wide.READY, '1/1');
  assert.equal(wide.IP, pod.status.podIP);
  assert.equal(wide.NODE, NODE);
  const reasons = await eventually(async () => {
    const ev = JSON.parse((await k.ok(['get', 'events', '-o', 'json'])).stdout).items as any[];
    const rs = ev.filter((e) => e.involvedObject.name === 'kubia').map((e) => e.reason);
    return ['Scheduled', 'Pulled', 'Created', 'Started'].every((r) => rs.includes(r)) ? rs : undefined;
  }, 15_000, 'kubelet events');
  assert.ok(reasons.includes('Started'));
  // Streaming through the API server to this node's kubelet: exec (exit codes too), logs, and the W1 curl.
  assert.equal((await k.ok(['exec', 'kubia', '--', 'hostname'])).stdout.trim(), 'kubia');
  const failed = await k.run(['exec', 'kubia', '--', 'sh', '-c', 'exit 7']);
  assert.equal(failed.code, 7);
  assert.equal((await k.ok(['exec', 'kubia', '--', 'wget', '-qO-', 'http://127.0.0.1:8080/'])).stdout, "You've hit kubia\n");
  const describe = (await k.ok(['describe', 'pod', 'kubia'])).stdout;
  assert.match(describe, /Started container kubia/);
  assert.match(describe, /Container image "k8ts\.local\/kubia:1" already present on machine/);
});

test('configMap and secret as env and volumes, an init container filling an emptyDir, restartPolicy Never', async () => {
  const k = await withNamespace(srv, 'e2e-kubelet');
  const ns = k.namespace!;
  await k.ok(['create', 'configmap', 'cfg', '--from-literal=mode=fast', '--from-literal=level=3']);
  await k.ok(['create', 'secret', 'generic', 'sec', '--from-literal=password=hunter2']);
  // The container's checks decide its exit code: the pod Succeeds only if every value arrived as expected.
  const check = [
    '[ "$MODE" = fast ]',
    '[ "$PW" = hunter2 ]',
    '[ "$POD_NAME" = checks ]',
    `[ "$POD_NS" = ${ns} ]`,
    '[ "$(cat /etc/cfg/mode)" = fast ]',
    '[ "$(cat /etc/cfg/level)" = 3 ]',
    '[ "$(cat /etc/sec/password)" = hunter2 ]',
    '[ "$(cat /work/from-init)" = hello ]',
    '[ "$(hostname)" = checks ]',
    'echo all-checks-passed',
  ].join(' && ');
  await k.ok(['create', '-f', '-'], {
    stdin: docs({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'checks' },
      spec: {
        restartPolicy: 'Never',
        volumes: [
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'sec', secret: { secretName: 'sec' } },
          { name: 'work', emptyDir: {} },
        ],
        initContainers: [{ name: 'init', image: BUSYBOX, command: ['sh', '-c', 'echo hello > /work/from-init'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
        containers: [
          {
            name: 'main',
            image: BUSYBOX,
            command: ['sh', '-c', check],
            env: [
              { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
              { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            ],
            volumeMounts: [
              { name: 'cfg', mountPath: '/etc/cfg' },
              { name: 'sec', mountPath: '/etc/sec' },
              { name: 'work', mountPath: '/work' },
            ],
          },
        ],
      },
    }),
  });
  const phase = await eventually(async () => {
    const p = await phaseOf(k, 'checks');
    return p === 'Succeeded' || p === 'Failed' ? p : undefined;
  }, 60_000, `checks finished${srv.logTail()}`);
  const pod = await json(k, 'checks');
  assert.equal(phase, 'Succeeded', JSON.stringify(pod.status.containerStatuses));
  assert.equal(pod.status.initContainerStatuses[0].state.terminated.reason, 'Completed');
  assert.equal((await k.ok(['logs', 'checks'])).stdout, 'all-checks-passed\n', 'kubectl logs of a finished container');
  assert.equal(pod.status.containerStatuses[0].state.terminated.exitCode, 0);
  assert.equal(pod.status.containerStatuses[0].state.terminated.reason, 'Completed');
  const row = parseTable((await k.ok(['get', 'pod', 'checks'])).stdout).rows[0]!;
  assert.equal(row.STATUS, 'Completed');
  assert.equal(row.READY, '0/1');
});

test('restartPolicy Always: a failing container is restarted, then backs off (CrashLoopBackOff)', async () => {
  const k = await withNamespace(srv, 'e2e-kubelet');
  await k.ok(['run', 'crasher', `--image=${BUSYBOX}`, '--', 'sh', '-c', 'exit 3']);
  const cs = await eventually(async () => {
    const c = (await json(k, 'crasher')).status?.containerStatuses?.[0];
    return c?.restartCount >= 1 && c.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
  }, 60_000, `CrashLoopBackOff${srv.logTail()}`);
  assert.equal(cs.lastState.terminated.exitCode, 3);
  assert.equal(cs.lastState.terminated.reason, 'Error');
  assert.match(cs.state.waiting.message, /^back-off \d+s restarting failed container=crasher pod=crasher_/);
  assert.equal(await phaseOf(k, 'crasher'), 'Running');
  const row = parseTable((await k.ok(['get', 'pod', 'crasher'])).stdout).rows[0]!;
  assert.equal(row.STATUS, 'CrashLoopBackOff');
  const describe = (await k.ok(['describe', 'pod', 'crasher'])).stdout;
  assert.match(describe, /Back-off restarting failed container crasher/);
});

test('bad input: a missing configMap key and an unpullable image show upstream\'s reasons; the node carries on', async () => {
  const k = await withNamespace(srv, 'e2e-kubelet');
  await k.ok(['create', 'configmap', 'some', '--from-literal=a=1']);
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'nokey' },
        spec: { containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'some', key: 'missing' } } }] }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'noimage' },
        // A registry on a closed loopback port: the pull fails at once, and nothing leaves the machine.
        spec: { containers: [{ name: 'main', image: '127.0.0.1:9/k8ts/nothing:1', imagePullPolicy: 'IfNotPresent' }] },
      },
    ),
  });
  const w = await eventually(async () => (await json(k, 'nokey')).status?.containerStatuses?.[0]?.state?.waiting, 60_000, 'nokey waiting');
  assert.equal(w.reason, 'CreateContainerConfigError');
  assert.equal(w.message, `couldn't find key missing in ConfigMap ${k.namespace}/some`);
  const img = await eventually(async () => {
    const s = (await json(k, 'noimage')).status?.containerStatuses?.[0]?.state?.waiting;
    return s && ['ErrImagePull', 'ImagePullBackOff'].includes(s.reason) ? s : undefined;
  }, 60_000, 'noimage ErrImagePull');
  assert.match(img.message, /127\.0\.0\.1:9\/k8ts\/nothing:1/);
  // Fixing the input lets the pod start: the kubelet retried all along.
  await k.ok(['patch', 'configmap', 'some', '--type=merge', '-p', '{"data":{"missing":"now-here"}}']);
  await eventually(async () => (await phaseOf(k, 'nokey')) === 'Running', 60_000, 'nokey Running after the key appears');
});

test('graceful deletion stops the containers; a killed server adopts running containers on restart', async () => {
  const k = await withNamespace(srv, 'e2e-kubelet');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'keeper' }, spec: { containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'] }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'goner' }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'] }] } },
    ),
  });
  await eventually(async () => (await phaseOf(k, 'keeper')) === 'Running' && (await phaseOf(k, 'goner')) === 'Running', 60_000, 'both Running');
  const began = Date.now();
  await k.ok(['delete', 'pod', 'goner', '--wait=true', '--timeout=60s']);
  // sleep as PID 1 ignores SIGTERM: the grace period (2 s) runs out and SIGKILL ends it.
  assert.ok(Date.now() - began < 30_000, 'deleted within the grace period and clean-up');
  const before = (await json(k, 'keeper')).status.containerStatuses[0];
  await srv.restart('SIGKILL');
  await eventually(async () => {
    const n = JSON.parse((await srv.client().ok(['get', 'node', NODE, '-o', 'json'])).stdout);
    return n.status.conditions.find((c: any) => c.type === 'Ready')?.status === 'True';
  }, 60_000, 'node Ready again');
  // Give the restarted kubelet time to sync the pod, then check nothing was restarted or duplicated.
  await eventually(async () => (await json(k, 'keeper')).status.containerStatuses[0].ready === true, 30_000, 'keeper ready after restart');
  const afterRestart = (await json(k, 'keeper')).status.containerStatuses[0];
  assert.equal(afterRestart.containerID, before.containerID, 'the same container');
  assert.equal(afterRestart.restartCount, 0);
  assert.equal(afterRestart.state.running.startedAt, before.state.running.startedAt);
});

test('probes: a failing liveness probe restarts the container; readiness decides Ready', async () => {
  const k = await withNamespace(srv, 'e2e-kubelet');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'liveness' },
        spec: {
          containers: [
            {
              name: 'main',
              image: BUSYBOX,
              // Healthy for 3 s, then the probe's file goes away.
              command: ['sh', '-c', 'touch /tmp/ok; sleep 3; rm /tmp/ok; sleep 3600'],
              livenessProbe: { exec: { command: ['cat', '/tmp/ok'] }, periodSeconds: 1, failureThreshold: 2 },
            },
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'ready' },
        spec: { containers: [{ name: 'kubia', image: KUBIA, readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 } }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'unready' },
        spec: { containers: [{ name: 'kubia', image: KUBIA, readinessProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1 } }] },
      },
    ),
  });
  const restarted = await eventually(async () => {
    const c = (await json(k, 'liveness')).status?.containerStatuses?.[0];
    return c?.restartCount >= 1 ? c : undefined;
  }, 60_000, `liveness restart${srv.logTail()}`);
  assert.equal(restarted.lastState.terminated.exitCode, 137, 'killed after the probe failed');
  const ev = JSON.parse((await k.ok(['get', 'events', '-o', 'json'])).stdout).items as any[];
  const mine = ev.filter((e) => e.involvedObject.name === 'liveness');
  assert.ok(mine.some((e) => e.reason === 'Unhealthy' && /^Liveness probe failed/.test(e.message)), JSON.stringify(mine.map((e) => [e.reason, e.message])));
  assert.ok(mine.some((e) => e.reason === 'Killing' && /failed liveness probe, will be restarted/.test(e.message)));

  await eventually(async () => (await json(k, 'ready')).status?.containerStatuses?.[0]?.ready === true, 60_000, 'ready pod Ready');
  const ready = parseTable((await k.ok(['get', 'pod', 'ready'])).stdout).rows[0]!;
  assert.equal(ready.READY, '1/1');
  await eventually(async () => (await phaseOf(k, 'unready')) === 'Running', 60_000, 'unready pod Running');
  await new Promise((r) => setTimeout(r, 3000));
  const unready = await json(k, 'unready');
  const cond = unready.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'ContainersNotReady');
  assert.equal(unready.status.containerStatuses[0].ready, false);
});

test('W3 on real containers: a ClusterIP Service spreads requests over the pods behind it', async () => {
  const k = await withNamespace(srv, 'e2e-kubelet');
  await k.ok(['create', 'deployment', 'kubia', `--image=${KUBIA}`, '--replicas=3', '--port=8080']);
  await k.ok(['expose', 'deployment', 'kubia', '--port=80', '--target-port=8080']);
  await k.ok(['run', 'client', `--image=${BUSYBOX}`, '--', 'sleep', '3600']);
  await eventually(async () => {
    const pods = JSON.parse((await k.ok(['get', 'pods', '-l', 'app=kubia', '-o', 'json'])).stdout).items as any[];
    return pods.length === 3 && pods.every((p) => p.status?.containerStatuses?.[0]?.ready) ? pods : undefined;
  }, 90_000, `3 kubia pods ready${srv.logTail()}`);
  await eventually(async () => (await phaseOf(k, 'client')) === 'Running', 60_000, 'client Running');
  const ip = (await k.ok(['get', 'svc', 'kubia', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  assert.match(ip, /^10\.43\./);
  const names = JSON.parse((await k.ok(['get', 'pods', '-l', 'app=kubia', '-o', 'json'])).stdout).items.map((p: any) => p.metadata.name);
  const seen = new Set<string>();
  await eventually(async () => {
    const r = await k.run(['exec', 'client', '--', 'wget', '-qO-', `http://${ip}/`]);
    const m = /^You've hit (\S+)$/m.exec(r.stdout);
    if (m) {
      assert.ok(names.includes(m[1]), `answer from ${m[1]}, one of ${names.join(', ')}`);
      seen.add(m[1]!);
    }
    return seen.size >= 2;
  }, 60_000, `answers from several pods (seen: ${[...seen].join(', ')})`);
});

test('W5 pieces on real containers: OOMKilled, Guaranteed QoS limits in the cgroup, postStart, top, port-forward', async () => {
  const k = await withNamespace(srv, 'e2e-kubelet');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'hog' },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: BUSYBOX, command: ['tail', '/dev/zero'], resources: { limits: { memory: '16Mi' } } }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web' },
        spec: {
          containers: [
            {
              name: 'kubia',
              image: KUBIA,
              resources: { limits: { cpu: '200m', memory: '64Mi' } },
              lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo started > /tmp/poststart'] } } },
            },
          ],
        },
      },
    ),
  });
  const hog = await eventually(async () => {
    const t = (await json(k, 'hog')).status?.containerStatuses?.[0]?.state?.terminated;
    return t ? t : undefined;
  }, 60_000, 'hog terminated');
  assert.equal(hog.reason, 'OOMKilled');
  assert.equal(hog.exitCode, 137);
  assert.equal(await phaseOf(k, 'hog'), 'Failed');

  await eventually(async () => (await json(k, 'web')).status?.containerStatuses?.[0]?.ready === true, 60_000, 'web ready');
  const web = await json(k, 'web');
  assert.equal(web.status.qosClass, 'Guaranteed');
  assert.equal((await k.ok(['exec', 'web', '--', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).stdout.trim(), String(64 * 1024 * 1024));
  assert.equal((await k.ok(['exec', 'web', '--', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).stdout.trim(), '20000');
  assert.equal((await k.ok(['exec', 'web', '--', 'cat', '/tmp/poststart'])).stdout, 'started\n');

  const top = await eventually(async () => {
    const r = await k.run(['top', 'pod', 'web', '--no-headers']);
    return r.code === 0 && /^web\s+\d+m\s+\d+Mi/.test(r.stdout) ? r.stdout : undefined;
  }, 30_000, 'kubectl top pod web');
  assert.match(top, /^web\s/);

  const bg = k.spawn(['port-forward', 'pod/web', ':8080']);
  try {
    const out = await bg.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
    const localPort = Number(/127\.0\.0\.1:(\d+) -> 8080/.exec(out)![1]);
    const body = await new Promise<string>((resolve, reject) => {
      get({ host: '127.0.0.1', port: localPort, path: '/' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, "You've hit web\n");
  } finally {
    await bg.stop();
  }
});
