// End-to-end: the seeds' walkthrough W5 (health, resources, config) as one session on real containers, with the
// real kubectl against `k8ts server` and its kubelet in a test host network namespace: liveness restarts into
// CrashLoopBackOff, readiness out of the endpoints, QoS classes and an OOMKill, ResourceQuota and LimitRange
// defaults, ConfigMap/Secret env and volumes (the secret on tmpfs), a sidecar reading what the main container writes
// to a shared emptyDir, a preStop hook that runs before SIGTERM, and `kubectl cp` both ways. Also imagePullSecrets
// against a local registry (Debian's docker-registry on 127.0.0.1) with basic auth.
// (W5's node failure needs more than one node: nodefailure.e2e covers it with simulated nodes.)

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { buildBusybox, pushImage, startRegistry, type LocalRegistry } from '../../src/images/build.js';
import { Server, docs, eventually, parseTable, withNamespace, type Kubectl } from './harness.js';
import { startNodeCluster, type NodeCluster } from './nodehost.js';

const NODE = 'k8ts-e2e-w5';
const BUSYBOX = 'k8ts.local/busybox:1.36';

let cluster: NodeCluster | undefined;
let srv: Server;
let registry: LocalRegistry | undefined;

before(async () => {
  // Images are imported ahead (the air-gapped path): no pulls from anywhere.
  cluster = await startNodeCluster({ name: 'w5', node: NODE });
  srv = cluster.srv;
});

after(async () => {
  try {
    await cluster?.stop();
  } finally {
    await registry?.stop();
  }
});

const podJson = async (k: Kubectl, name: string): Promise<any> => JSON.parse((await k.ok(['get', 'pod', name, '-o', 'json'])).stdout);
const running = (k: Kubectl, name: string) => eventually(async () => (await podJson(k, name)).status?.phase === 'Running', 60_000, `${name} Running${srv.logTail()}`);
const pod = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(labels ? { labels } : {}) }, spec: { terminationGracePeriodSeconds: 1, ...spec } });
const sleeper = (extra: Record<string, unknown> = {}) => ({ name: 'main', image: BUSYBOX, command: ['sleep', '3600'], ...extra });

test('W5: health, resources and config in one namespace', async () => {
  const k = await withNamespace(srv, 'e2e-w5');
  const ns = k.namespace!;
  // Namespace policy first: defaults for containers that say nothing, and a quota.
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults' }, spec: { limits: [{ type: 'Container', default: { memory: '128Mi' }, defaultRequest: { memory: '64Mi' } }] } },
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota' }, spec: { hard: { pods: '9', 'limits.memory': '2Gi' } } },
    ),
  });
  await k.ok(['create', 'configmap', 'app-config', '--from-literal=greeting=hello', '--from-literal=mode=fast']);
  await k.ok(['create', 'secret', 'generic', 'app-secret', '--from-literal=password=s3cret']);
  // On SIGTERM the reader lingers a little, so its tail prints the writer's last lines before the container goes.
  const sidecarLog = "trap 'sleep 2; exit 0' TERM; touch /data/log; tail -f /data/log & while true; do sleep 0.2; done";
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      // Healthy for 2 s, then its liveness probe fails: restarted, and again, then backed off.
      pod('liveness', { containers: [sleeper({ command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600'], livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 } })] }),
      pod('ready', { containers: [sleeper()] }, { app: 'web' }),
      pod('unready', { containers: [sleeper({ readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1 } })] }, { app: 'web' }),
      pod('guaranteed', { containers: [sleeper({ resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } } })] }),
      pod('hog', { restartPolicy: 'Never', containers: [{ name: 'main', image: BUSYBOX, command: ['tail', '/dev/zero'], resources: { limits: { memory: '16Mi' } } }] }),
      pod('configured', {
        volumes: [{ name: 'cfg', configMap: { name: 'app-config' } }, { name: 'sec', secret: { secretName: 'app-secret' } }],
        containers: [
          sleeper({
            env: [
              { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'greeting' } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } },
            ],
            envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'app-config' } }],
            volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'sec', mountPath: '/etc/secret', readOnly: true }],
          }),
        ],
      }),
      // The main container writes; a sidecar reads it from the shared emptyDir and outlives it at termination, so it
      // sees the preStop hook's line before the one the SIGTERM trap writes.
      pod('shared', {
        terminationGracePeriodSeconds: 10,
        volumes: [{ name: 'data', emptyDir: {} }],
        initContainers: [{ name: 'reader', image: BUSYBOX, restartPolicy: 'Always', command: ['sh', '-c', sidecarLog], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        containers: [
          {
            name: 'writer',
            image: BUSYBOX,
            command: ['sh', '-c', "trap 'echo sigterm >> /data/log; exit 0' TERM; i=0; while true; do i=$((i+1)); echo line-$i >> /data/log; sleep 0.5; done"],
            lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /data/log'] } } },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
      }),
    ),
  });
  await k.ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']); // selects app=web

  // Liveness: RESTARTS goes up, then CrashLoopBackOff, with upstream's events.
  const looping = await eventually(async () => {
    const c = (await podJson(k, 'liveness')).status?.containerStatuses?.[0];
    return c?.restartCount >= 1 && c.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
  }, 40_000, `liveness CrashLoopBackOff${srv.logTail()}`);
  assert.equal(looping.lastState.terminated.exitCode, 137);
  const row = parseTable((await k.ok(['get', 'pods'])).stdout).rows.find((r) => r.NAME === 'liveness')!;
  assert.equal(row.STATUS, 'CrashLoopBackOff');
  assert.match(row.RESTARTS, /^[1-9]/);
  const events = JSON.parse((await k.ok(['get', 'events', '-o', 'json'])).stdout).items as any[];
  const about = (name: string, reason: string) => events.filter((e) => e.involvedObject.name === name && e.reason === reason).map((e) => e.message as string);
  assert.ok(about('liveness', 'Unhealthy').some((m) => m.startsWith('Liveness probe failed:')));
  assert.ok(about('liveness', 'Killing').some((m) => m === 'Container main failed liveness probe, will be restarted'));

  // Readiness: the unready pod stays 0/1 and out of the service's ready addresses.
  const ep = await eventually(async () => {
    const e = JSON.parse((await k.ok(['get', 'endpoints', 'web', '-o', 'json'])).stdout);
    const s = e.subsets?.[0];
    return s?.addresses?.length === 1 && s?.notReadyAddresses?.length === 1 ? s : undefined;
  }, 30_000, `web endpoints${srv.logTail()}`);
  assert.equal(ep.addresses[0].targetRef.name, 'ready');
  assert.equal(ep.notReadyAddresses[0].targetRef.name, 'unready');
  const unready = parseTable((await k.ok(['get', 'pods', 'unready'])).stdout).rows[0]!;
  assert.deepEqual([unready.READY, unready.STATUS], ['0/1', 'Running']);

  // QoS: Guaranteed as asked, Burstable from the LimitRange defaults; memory over the limit is OOMKilled.
  assert.match((await k.ok(['describe', 'pod', 'guaranteed'])).stdout, /QoS Class:\s+Guaranteed/);
  const defaulted = await podJson(k, 'ready');
  assert.deepEqual(defaulted.spec.containers[0].resources, { limits: { memory: '128Mi' }, requests: { memory: '64Mi' } });
  assert.equal(defaulted.status.qosClass, 'Burstable');
  assert.match(defaulted.metadata.annotations['kubernetes.io/limit-ranger'], /LimitRanger plugin set: memory request for container main; memory limit for container main/);
  const hog = await eventually(async () => (await podJson(k, 'hog')).status?.containerStatuses?.[0]?.state?.terminated, 30_000, 'hog terminated');
  assert.deepEqual([hog.reason, hog.exitCode], ['OOMKilled', 137]);

  // Quota: usage counted (the OOMKilled pod is terminal and no longer counts), and a pod past the limits.memory
  // left is refused at admission.
  const used = await eventually(async () => {
    const q = JSON.parse((await k.ok(['get', 'resourcequota', 'quota', '-o', 'json'])).stdout);
    return q.status?.used?.pods === '6' ? q.status.used : undefined;
  }, 20_000, 'quota usage');
  assert.ok(used['limits.memory']);
  const refused = await k.run(['create', '-f', '-'], { stdin: docs(pod('big', { containers: [sleeper({ resources: { limits: { memory: '3Gi' } } })] })) });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /exceeded quota: quota, requested: limits\.memory=3Gi/);

  // Config: env from keys and envFrom, files from both volumes, the secret on tmpfs.
  const env = (await k.ok(['exec', 'configured', '--', 'env'])).stdout;
  for (const line of ['GREETING=hello', 'PASSWORD=s3cret', 'CFG_greeting=hello', 'CFG_mode=fast']) assert.ok(env.split('\n').includes(line), line);
  assert.equal((await k.ok(['exec', 'configured', '--', 'cat', '/etc/app/mode'])).stdout, 'fast');
  assert.equal((await k.ok(['exec', 'configured', '--', 'cat', '/etc/secret/password'])).stdout, 's3cret');
  assert.match((await k.ok(['exec', 'configured', '--', 'mount'])).stdout, /^tmpfs on \/etc\/secret type tmpfs \(ro,/m);

  // kubectl cp both ways (exec + tar).
  const local = join(srv.tmpDir, 'w5-upload.txt');
  writeFileSync(local, 'uploaded by kubectl cp\n');
  await k.ok(['cp', local, `${ns}/configured:/tmp/upload.txt`]);
  assert.equal((await k.ok(['exec', 'configured', '--', 'cat', '/tmp/upload.txt'])).stdout, 'uploaded by kubectl cp\n');
  await k.ok(['exec', 'configured', '--', 'sh', '-c', 'mkdir -p /tmp/out && echo from-the-pod > /tmp/out/file']);
  const back = join(srv.tmpDir, 'w5-download');
  await k.ok(['cp', `${ns}/configured:/tmp/out`, back]);
  assert.equal(readFileSync(join(back, 'file'), 'utf8'), 'from-the-pod\n');

  // The sidecar reads what the writer writes; at deletion the writer's preStop runs before its SIGTERM.
  await eventually(async () => /line-2\n/.test((await k.ok(['logs', 'shared', '-c', 'reader'])).stdout), 20_000, 'the sidecar reads the shared file');
  const follow = k.spawn(['logs', '-f', 'shared', '-c', 'reader'], { timeoutMs: 30_000 });
  try {
    await follow.waitFor(/line-\d+\n/);
    await k.ok(['delete', 'pod', 'shared', '--wait=false']);
    await follow.waitFor(/sigterm\n/, 20_000);
    const tail = follow.stdout.slice(follow.stdout.lastIndexOf('prestop'));
    assert.match(tail, /^prestop\n(line-\d+\n)*sigterm\n/, 'preStop first, then SIGTERM');
  } finally {
    await follow.stop();
  }
});

test('imagePullSecrets: a private image on a registry with basic auth pulls only with the pod\'s secret', async () => {
  registry = await startRegistry({ auth: 'htpasswd' });
  const image = `${registry.host}/private/busybox:1.36`;
  await pushImage(image, await buildBusybox(image), registry.auth);
  const k = await withNamespace(srv, 'e2e-w5-pull');
  const pod = (name: string, secrets?: string[]) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, ...(secrets ? { imagePullSecrets: secrets.map((s) => ({ name: s })) } : {}), containers: [{ name: 'main', image, command: ['sleep', '3600'] }] },
  });
  await k.ok(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${registry.host}`, `--docker-username=${registry.auth!.username}`, `--docker-password=${registry.auth!.password}`]);
  await k.ok(['create', '-f', '-'], { stdin: docs(pod('anonymous'), pod('authorized', ['regcred'])) });
  await running(k, 'authorized');
  const waiting = await eventually(async () => {
    const c = JSON.parse((await k.ok(['get', 'pod', 'anonymous', '-o', 'json'])).stdout).status.containerStatuses?.[0];
    return ['ErrImagePull', 'ImagePullBackOff'].includes(c?.state?.waiting?.reason) ? c.state.waiting : undefined;
  }, 30_000, `anonymous pull refused${srv.logTail()}`);
  assert.match(waiting.message, waiting.reason === 'ImagePullBackOff' ? /^Back-off pulling image "/ : /401 Unauthorized/);
  const events = JSON.parse((await k.ok(['get', 'events', '-o', 'json'])).stdout).items as any[];
  assert.ok(events.some((e) => e.involvedObject.name === 'anonymous' && e.reason === 'Failed' && /401 Unauthorized/.test(e.message)), 'the pull failure names the refusal');
  assert.ok(events.some((e) => e.involvedObject.name === 'authorized' && e.reason === 'Pulled' && e.message.startsWith(`Successfully pulled image "${image}"`)), 'pulled with the secret');
});
