// The prober and hook runner against real containers: busybox httpd in a runc pod inside a test host, probed with
// httpGet, tcpSocket and exec through the netns dialer, with failing probes and hooks too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../runtime/command.js';
import { openNetnsDialer, type NetnsDialer } from '../../runtime/dialer.js';
import type { ContainerConfig, PodSandboxConfig } from '../../runtime/interface.js';
import { openRuncRuntime, type RuncRuntime } from '../../runtime/runc/runtime.js';
import { BUSYBOX_IMAGE, createTestHost, mountsUnder, preflight, TestImages, type TestHost } from '../../runtime/testing.js';
import type { Container, Pod, ProbeResult } from '../types.js';
import { LifecycleHookRunner } from './hooks.js';
import { Prober } from './prober.js';

const PREFIX = `k8ts-prober-test-${process.pid}`;

describe('prober with runc', { timeout: 60_000 }, () => {
  let tmp = '';
  let host: TestHost | undefined;
  let rt: RuncRuntime | undefined;
  let dialer: NetnsDialer | undefined;
  let sandboxId = '';
  let containerId = '';
  let podIP = '';
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'uid-web' } };

  before(async () => {
    preflight();
    tmp = mkdtempSync(join(tmpdir(), 'k8ts-prober-'));
    host = await createTestHost();
    const images = new TestImages(join(tmp, 'images'));
    rt = (await openRuncRuntime({ root: join(tmp, 'runtime'), images, podCidr: '10.90.0.0/24', hostNetns: host.path })).runtime;
    dialer = await openNetnsDialer(host.path);
    const sb: PodSandboxConfig = {
      metadata: { name: 'web', uid: 'uid-web', namespace: 'default', attempt: 0 },
      hostname: 'web',
      logDirectory: join(tmp, 'pods', 'web'),
      portMappings: [],
      labels: {},
      annotations: {},
      cgroupParent: `${PREFIX}/pod-web`,
      hostNetwork: false,
    };
    sandboxId = await rt.runPodSandbox(sb);
    podIP = (await rt.podSandboxStatus(sandboxId)).network.ip;
    const cfg: ContainerConfig = {
      metadata: { name: 'httpd', attempt: 0 },
      image: BUSYBOX_IMAGE,
      command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
      args: [],
      envs: [],
      mounts: [],
      logPath: 'httpd/0.log',
      labels: {},
      annotations: {},
      linux: { resources: {}, securityContext: {} },
    };
    containerId = await rt.createContainer(sandboxId, cfg, sb);
    await rt.startContainer(containerId);
  });

  after(async () => {
    try {
      await dialer?.close();
      if (rt) {
        for (const s of await rt.listPodSandboxes()) await rt.removePodSandbox(s.id);
        await rt.close();
      }
    } finally {
      await host?.destroy();
      const r = await run('find', ['/sys/fs/cgroup', '-maxdepth', '4', '-type', 'd', '-name', PREFIX]);
      for (const dir of r.stdout.split('\n').filter(Boolean)) await run('rmdir', [dir]);
      for (const m of mountsUnder(tmp).reverse()) await run('umount', ['-l', m]);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('httpGet, tcpSocket and exec probes pass against busybox httpd; failing ones report upstream messages', async () => {
    const events: string[] = [];
    const results: ProbeResult[] = [];
    const tcpRefused = `Readiness probe failed: dial tcp ${podIP}:8081: connect: connection refused`;
    let check = (): void => {};
    const done = new Promise<void>((resolve) => {
      check = () => {
        const has = (name: string, kind: string, success: boolean): boolean => results.some((r) => r.containerName === name && r.kind === kind && r.success === success);
        // bad-tcp's readiness stays false (its initial state), so it shows only as events, never as a result.
        if (has('good', 'startup', true) && has('good', 'readiness', true) && has('bad-http', 'liveness', false) && has('bad-exec', 'startup', false) && events.includes(`Warning Unhealthy ${tcpRefused}`)) resolve();
      };
    });
    const prober = new Prober({ runtime: rt!, dial: dialer!.dial, event: (_p, type, reason, m) => (events.push(`${type} ${reason} ${m}`), check()) });
    prober.onResult((r) => (results.push(r), check()));
    const fast = { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 };
    const good: Container = {
      name: 'good',
      ports: [{ name: 'http', containerPort: 8080 }],
      startupProbe: { exec: { command: ['cat', '/var/www/index.html'] }, ...fast },
      readinessProbe: { httpGet: { path: '/index.html', port: 'http', scheme: 'HTTP' }, ...fast },
      livenessProbe: { tcpSocket: { port: 8080 }, ...fast },
    };
    // The same container instance probed under other names, with probes that fail.
    const badHttp: Container = { name: 'bad-http', livenessProbe: { httpGet: { path: '/missing', port: 8080 }, ...fast } };
    const badTcp: Container = { name: 'bad-tcp', readinessProbe: { tcpSocket: { port: 8081 }, ...fast, successThreshold: 1 } };
    const badExec: Container = { name: 'bad-exec', startupProbe: { exec: { command: ['cat', '/nope'] }, ...fast } };
    for (const c of [good, badHttp, badTcp, badExec]) prober.addContainer(pod, c, containerId, podIP);
    await done;
    assert.equal(prober.isStarted('uid-web', 'good'), true);
    assert.equal(prober.isReady('uid-web', 'good'), true);
    assert.equal(prober.isReady('uid-web', 'bad-tcp'), false);
    assert.equal(prober.isStarted('uid-web', 'bad-exec'), false);
    const msg = (name: string): string | undefined => results.find((r) => r.containerName === name && !r.success)?.message;
    assert.equal(msg('bad-http'), 'Liveness probe failed: HTTP probe failed with statuscode: 404');
    assert.equal(msg('bad-tcp'), undefined);
    assert.equal(msg('bad-exec'), "Startup probe failed: cat: can't open '/nope': No such file or directory\n");
    assert.ok(!results.some((r) => r.containerName === 'good' && !r.success), JSON.stringify(results));
    assert.ok(events.includes('Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 404'), events.join('\n'));
    await prober.stop();
  });

  it('hooks: exec writes into the container, httpGet reaches httpd, a failing exec hook rejects', async () => {
    const hooks = new LifecycleHookRunner({ runtime: rt!, dial: dialer!.dial });
    const c: Container = { name: 'httpd' };
    await hooks.run(pod, c, containerId, { exec: { command: ['sh', '-c', 'echo hooked > /var/www/hook.txt'] } }, podIP, 5000);
    const prober = new Prober({ runtime: rt!, dial: dialer!.dial });
    const ready = new Promise<ProbeResult>((r) => prober.onResult(r));
    prober.addContainer(pod, { name: 'hooked', readinessProbe: { httpGet: { path: '/hook.txt', port: 8080 }, periodSeconds: 1 } }, containerId, podIP);
    assert.equal((await ready).success, true);
    await prober.stop();
    await hooks.run(pod, c, containerId, { httpGet: { path: '/hook.txt', port: 8080 } }, podIP, 2000);
    await assert.rejects(hooks.run(pod, c, containerId, { exec: { command: ['sh', '-c', 'echo no >&2; exit 2'] } }, podIP, 5000), {
      message: `Exec lifecycle hook ([sh -c echo no >&2; exit 2]) for Container "httpd" in Pod "web_default(uid-web)" failed - error: command 'sh -c echo no >&2; exit 2' exited with 2: no\n, message: "no\\n"`,
    });
  });
});
