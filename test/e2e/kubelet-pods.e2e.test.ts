// End-to-end, more of the kubelet: `k8ts server` with its kubelet in a test host network namespace, driven by the
// real kubectl. kube-api-access (a pod's projected token authenticates as its service account; CA and namespace
// beside it; automount off), sidecar containers, the kubelet's own admission, attach -i and exec -it resizes,
// seccompProfile RuntimeDefault.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Server, describeResult, docs, eventually, kubectlBin, run, withNamespace, type Kubectl } from './harness.js';
import { startNodeCluster, type NodeCluster } from './nodehost.js';

const NODE = 'k8ts-e2e-pods';
const BUSYBOX = 'k8ts.local/busybox:1.36';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

let cluster: NodeCluster | undefined;
let srv: Server;

before(async () => {
  // Images are imported ahead (the air-gapped path): no pulls from anywhere.
  cluster = await startNodeCluster({ name: 'pods', node: NODE });
  srv = cluster.srv;
});

after(async () => {
  await cluster?.stop();
});

const phaseOf = async (k: Kubectl, name: string): Promise<string> => (await k.ok(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout;
const running = (k: Kubectl, name: string) => eventually(async () => (await phaseOf(k, name)) === 'Running', 60_000, `${name} Running${srv.logTail()}`);
const sleeper = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'] }], ...extra },
});

/** A kubeconfig that authenticates with `token` only (no client certificate). */
function tokenKubeconfig(token: string): string {
  const admin = readFileSync(srv.kubeconfig, 'utf8');
  const ca = /certificate-authority-data: (\S+)/.exec(admin)![1];
  const path = join(srv.tmpDir, `token-${Date.now()}.yaml`);
  writeFileSync(
    path,
    ['apiVersion: v1', 'kind: Config', 'clusters:', '- cluster:', `    certificate-authority-data: ${ca}`, `    server: ${srv.url}`, '  name: c', 'contexts:', '- context:', '    cluster: c', '    user: sa', '  name: c', 'current-context: c', 'users:', '- name: sa', '  user:', `    token: ${token}`, ''].join('\n'),
    { mode: 0o600 },
  );
  return path;
}

test('kube-api-access: the projected token authenticates as the pod\'s service account while the pod lives', async () => {
  const k = await withNamespace(srv, 'e2e-w5-sa');
  const ns = k.namespace!;
  await k.ok(['create', '-f', '-'], { stdin: docs(sleeper('reader'), sleeper('quiet', { automountServiceAccountToken: false })) });
  await running(k, 'reader');
  const pod = JSON.parse((await k.ok(['get', 'pod', 'reader', '-o', 'json'])).stdout);
  const vol = pod.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
  assert.match(vol?.name ?? '', /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: vol.name, readOnly: true, mountPath: SA_DIR }]);
  const cm = JSON.parse((await k.ok(['get', 'configmap', 'kube-root-ca.crt', '-o', 'json'])).stdout);
  assert.equal((await k.ok(['exec', 'reader', '--', 'cat', `${SA_DIR}/ca.crt`])).stdout, cm.data['ca.crt']);
  assert.match(cm.data['ca.crt'], /^-----BEGIN CERTIFICATE-----/);
  assert.equal((await k.ok(['exec', 'reader', '--', 'cat', `${SA_DIR}/namespace`])).stdout, ns);
  const token = (await k.ok(['exec', 'reader', '--', 'cat', `${SA_DIR}/token`])).stdout;
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  assert.equal(claims['kubernetes.io'].pod.name, 'reader');
  assert.equal(claims['kubernetes.io'].node.name, NODE);

  const asSA = srv.client({ kubeconfig: tokenKubeconfig(token) });
  const who = JSON.parse((await asSA.ok(['auth', 'whoami', '-o', 'json'])).stdout);
  assert.equal(who.status.userInfo.username, `system:serviceaccount:${ns}:default`);
  assert.deepEqual(who.status.userInfo.groups, ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated']);
  assert.deepEqual(who.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['reader']);
  assert.match((await asSA.ok(['get', 'pods', '-n', ns])).stdout, /reader/);

  await running(k, 'quiet');
  const quiet = JSON.parse((await k.ok(['get', 'pod', 'quiet', '-o', 'json'])).stdout);
  assert.equal((quiet.spec.volumes ?? []).length, 0, 'automountServiceAccountToken: false');
  assert.notEqual((await k.run(['exec', 'quiet', '--', 'ls', SA_DIR])).code, 0);

  await k.ok(['delete', 'pod', 'reader', '--wait=true']);
  const denied = await asSA.run(['get', 'pods', '-n', ns]);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /Unauthorized/, 'the token died with its pod');
});

test('sidecars: started in order before the next init, restarted on exit, stopped after the main container', async () => {
  const k = await withNamespace(srv, 'e2e-w5-side');
  const work = [{ name: 'work', mountPath: '/work' }];
  const sidecarScript = "trap 'echo stopping; exit 0' TERM; echo started > /work/log; while true; do sleep 0.2; done";
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'job' },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 10,
          volumes: [{ name: 'work', emptyDir: {} }],
          initContainers: [
            { name: 'logger', image: BUSYBOX, restartPolicy: 'Always', command: ['sh', '-c', sidecarScript], volumeMounts: work },
            // A regular init container after the sidecar: it only succeeds if the sidecar already runs.
            { name: 'setup', image: BUSYBOX, command: ['sh', '-c', 'for i in $(seq 50); do test -f /work/log && exit 0; sleep 0.1; done; exit 1'], volumeMounts: work },
          ],
          containers: [{ name: 'main', image: BUSYBOX, command: ['sh', '-c', 'cat /work/log; while [ ! -f /work/go ]; do sleep 0.2; done; echo main-done'], volumeMounts: work }],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'flaky' },
        spec: {
          terminationGracePeriodSeconds: 1,
          initContainers: [{ name: 'side', image: BUSYBOX, restartPolicy: 'Always', command: ['sh', '-c', 'sleep 1; exit 3'] }],
          containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'] }],
        },
      },
    ),
  });
  const running = await eventually(async () => {
    const p = JSON.parse((await k.ok(['get', 'pod', 'job', '-o', 'json'])).stdout);
    return p.status.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running ? p : undefined;
  }, 60_000, `job Running${srv.logTail()}`);
  const [logger, setup] = running.status.initContainerStatuses;
  assert.ok(logger.state.running, 'the sidecar runs beside the main container');
  assert.equal(logger.started, true);
  assert.equal(logger.ready, true);
  assert.equal(setup.state.terminated.reason, 'Completed');
  assert.equal(setup.ready, true);
  const conds = Object.fromEntries(running.status.conditions.map((c: any) => [c.type, c.status]));
  assert.equal(conds.Initialized, 'True');
  await k.ok(['exec', 'job', '-c', 'main', '--', 'touch', '/work/go']); // the main container may finish now

  const done = await eventually(async () => {
    const p = JSON.parse((await k.ok(['get', 'pod', 'job', '-o', 'json'])).stdout);
    return p.status.phase === 'Succeeded' ? p : undefined;
  }, 30_000, `job Succeeded${srv.logTail()}`);
  const side = done.status.initContainerStatuses[0].state.terminated;
  const main = done.status.containerStatuses[0].state.terminated;
  assert.equal(main.exitCode, 0);
  assert.equal(side.exitCode, 0, 'the sidecar got SIGTERM (its trap ran), not SIGKILL');
  assert.ok(Date.parse(side.finishedAt) >= Date.parse(main.finishedAt), 'the sidecar stopped after the main container');
  assert.equal((await k.ok(['logs', 'job', '-c', 'main'])).stdout, 'started\nmain-done\n');
  assert.equal((await k.ok(['logs', 'job', '-c', 'logger'])).stdout, 'stopping\n');

  const flaky = await eventually(async () => {
    const p = JSON.parse((await k.ok(['get', 'pod', 'flaky', '-o', 'json'])).stdout);
    return (p.status.initContainerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
  }, 30_000, `flaky's sidecar restarted${srv.logTail()}`);
  assert.equal(flaky.status.phase, 'Running', 'a restarting sidecar does not stop the pod');
  assert.ok(flaky.status.containerStatuses[0].state.running);
  assert.equal(flaky.status.containerStatuses[0].restartCount, 0);
});

test('node admission: pods bound straight to the node are rejected as upstream when they cannot run there', async () => {
  const k = await withNamespace(srv, 'e2e-w5-admit');
  const bound = (name: string, extra: Record<string, unknown>, container: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'], ...container }], ...extra },
  });
  const node = JSON.parse((await k.ok(['get', 'node', NODE, '-o', 'json'])).stdout);
  const cores = Number(node.status.allocatable.cpu);
  await k.ok(['create', '-f', '-'], { stdin: docs(bound('porter', {}, { ports: [{ containerPort: 8080, hostPort: 18080 }] })) });
  await running(k, 'porter');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      bound('greedy', {}, { resources: { requests: { cpu: String(cores + 1) } } }),
      bound('picky', { nodeSelector: { 'disktype': 'ssd' } }),
      bound('clash', {}, { ports: [{ containerPort: 9090, hostPort: 18080 }] }),
    ),
  });
  const failed = async (name: string) =>
    eventually(async () => {
      const p = JSON.parse((await k.ok(['get', 'pod', name, '-o', 'json'])).stdout);
      return p.status.phase === 'Failed' ? p.status : undefined;
    }, 30_000, `${name} rejected${srv.logTail()}`);
  const greedy = await failed('greedy');
  assert.equal(greedy.reason, 'OutOfcpu');
  assert.match(greedy.message, new RegExp(`^Pod was rejected: Node didn't have enough resource: cpu, requested: ${(cores + 1) * 1000}, used: \\d+, capacity: ${cores * 1000}$`));
  const picky = await failed('picky');
  assert.deepEqual([picky.reason, picky.message], ['NodeAffinity', "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"]);
  const clash = await failed('clash');
  assert.deepEqual([clash.reason, clash.message], ['NodePorts', "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"]);
  assert.equal(clash.containerStatuses, undefined, 'nothing of a rejected pod ever ran');
  const table = (await k.ok(['get', 'pods'])).stdout;
  assert.match(table, /greedy\s+0\/1\s+OutOfcpu/);
  const events = JSON.parse((await k.ok(['get', 'events', '-o', 'json'])).stdout).items as any[];
  assert.ok(events.some((e) => e.involvedObject.name === 'picky' && e.reason === 'NodeAffinity' && e.type === 'Warning'));
  // Once the port's holder is gone, the same pod spec is admitted.
  await k.ok(['delete', 'pod', 'porter', '--wait=true']);
  await k.ok(['create', '-f', '-'], { stdin: docs(bound('clash2', {}, { ports: [{ containerPort: 9090, hostPort: 18080 }] })) });
  await running(k, 'clash2');
});

test('kubectl attach -i feeds the container\'s stdin; exec -it gives the terminal kubectl\'s size', async () => {
  const k = await withNamespace(srv, 'e2e-w5-attach');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'reader' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: BUSYBOX, stdin: true, stdinOnce: true, command: ['sh', '-c', 'echo ready; read a; read b; echo "got $a and $b"'] }] } },
      sleeper('shell'),
    ),
  });
  await running(k, 'reader');
  await eventually(async () => (await k.ok(['logs', 'reader'])).stdout === 'ready\n', 15_000, 'reader ready');
  const r = await k.ok(['attach', '-i', 'reader', '-c', 'main'], { stdin: 'one\ntwo\n' });
  assert.match(r.stdout, /got one and two\n/);
  const done = await eventually(async () => {
    const p = JSON.parse((await k.ok(['get', 'pod', 'reader', '-o', 'json'])).stdout);
    return p.status.phase === 'Succeeded' ? p : undefined;
  }, 15_000, 'reader Succeeded');
  assert.equal(done.status.containerStatuses[0].state.terminated.exitCode, 0);
  await running(k, 'shell');
  // kubectl sends its terminal's size on the resize channel as the session starts: `script` gives it a terminal.
  // The size reaches the container's terminal just after its process starts (runc sizes it after exec), so the
  // command looks a moment later.
  const cmd = `stty rows 33 cols 111; ${[kubectlBin, '--kubeconfig', srv.kubeconfig, '-n', k.namespace!, 'exec', '-it', 'shell', '--', 'sh', '-c', "'sleep 1; stty size'"].join(' ')}`;
  const t = await run('script', ['-q', '-e', '-c', cmd, '/dev/null'], { timeoutMs: 30_000 });
  assert.equal(t.code, 0, describeResult(t));
  assert.match(t.stdout, /33 111/);
});

test('seccompProfile RuntimeDefault puts a filter on the container (the container\'s setting over the pod\'s)', async () => {
  const k = await withNamespace(srv, 'e2e-pods-seccomp');
  await k.ok(['create', '-f', '-'], {
    stdin: docs(
      sleeper('confined', { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }),
      sleeper('mixed', {
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'], securityContext: { seccompProfile: { type: 'Unconfined' } } }],
      }),
      sleeper('plain'),
    ),
  });
  const mode = async (name: string) => {
    await running(k, name);
    return /^Seccomp:\s+(\d)$/m.exec((await k.ok(['exec', name, '--', 'cat', '/proc/self/status'])).stdout)?.[1];
  };
  assert.equal(await mode('confined'), '2', 'filter mode');
  assert.equal(await mode('mixed'), '0', 'the container says Unconfined');
  assert.equal(await mode('plain'), '0', 'unset is Unconfined');
});
