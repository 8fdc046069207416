// End-to-end: `k8ts agent` as a process of its own beside `k8ts server --disable-agent` (as `k3s agent`). The agent
// has its own data dir (images, containers, volumes) and only the server's PKI in common; it registers its Node,
// runs a pod that kubectl logs and execs into, and, killed with SIGKILL and started again, adopts the running
// container instead of making a new one. Its pods and their network live in a test host namespace (network rule).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { loadTestImages } from '../../src/images/build.js';
import { LocalImageService } from '../../src/images/service.js';
import { createTestHost, mountsUnder, preflight, removeNodeLeftovers, type TestHost } from '../../src/runtime/testing.js';
import { Server, eventually, repoRoot, type Kubectl } from './harness.js';

const NODE = 'k8ts-e2e-agentp';
const BUSYBOX = 'k8ts.local/busybox:1.36';

let srv: Server | undefined;
let k: Kubectl;
let host: TestHost | undefined;
let agentDir = '';
let agent: ChildProcess | undefined;
let agentLog = '';

function startAgent(): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'k8ts.js'),
      'agent',
      '--server-data-dir', srv!.dataDir,
      '--data-dir', agentDir,
      '--node-name', NODE,
      '--node-ip', '127.0.0.1',
      '--node-netns', host!.path,
      '--kubelet-port', '0',
      '--dns-upstream', 'none',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (d: Buffer) => (agentLog = (agentLog + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

const tail = () => `\n--- agent log ---\n${agentLog.split('\n').slice(-30).join('\n')}`;

async function stopAgent(signal: NodeJS.Signals): Promise<void> {
  const a = agent;
  agent = undefined;
  if (!a || a.exitCode !== null) return;
  const exited = new Promise((r) => a.once('exit', r));
  a.kill(signal);
  await exited;
}

before(async () => {
  preflight();
  host = await createTestHost('k8ts-agentp');
  agentDir = join(mkdtempSync(join(tmpdir(), 'k8ts-e2e-agentp-')), 'node');
  await loadTestImages(await LocalImageService.open(join(agentDir, 'images')));
  srv = await Server.start({ agent: false });
  k = srv.client();
  agent = startAgent();
});

after(async () => {
  try {
    if (srv && agent) await k.run(['delete', 'pods', '--all', '--all-namespaces', '--wait=true', '--timeout=60s']);
  } finally {
    await stopAgent('SIGTERM');
    await srv?.stop();
    if (agentDir) {
      removeNodeLeftovers(agentDir);
      if (mountsUnder(agentDir).length === 0) rmSync(join(agentDir, '..'), { recursive: true, force: true });
    }
    await host?.destroy();
  }
});

test('the agent registers its Node, which becomes Ready with a pod CIDR', async () => {
  await eventually(async () => {
    const r = await k.run(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.spec.podCIDR}']);
    return /^True 10\.42\.\d+\.0\/24$/.test(r.stdout.trim()) ? true : undefined;
  }, 60_000, `node ${NODE} Ready${srv!.logTail()}${tail()}`);
  const info = (await k.ok(['get', 'node', NODE, '-o', 'jsonpath={.status.nodeInfo.kubeletVersion}'])).stdout;
  assert.match(info, /^v1\.32\.\d+-k8ts/);
});

test('a pod runs on it: kubectl logs and exec reach the container through the agent', async () => {
  await k.ok(['run', 'busy', `--image=${BUSYBOX}`, '--restart=Never', '--', 'sh', '-c', 'echo hello from the agent; sleep 3600']);
  await k.ok(['wait', '--for=condition=Ready', 'pod/busy', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal((await k.ok(['get', 'pod', 'busy', '-o', 'jsonpath={.spec.nodeName}'])).stdout, NODE);
  await eventually(async () => ((await k.run(['logs', 'busy'])).stdout.includes('hello from the agent') ? true : undefined), 20_000, `logs of busy${tail()}`);
  assert.equal((await k.ok(['exec', 'busy', '--', 'hostname'])).stdout.trim(), 'busy');
  const ip = (await k.ok(['get', 'pod', 'busy', '-o', 'jsonpath={.status.podIP}'])).stdout;
  assert.match(ip, /^10\.42\.\d+\.\d+$/);
});

test('killed with SIGKILL and started again, the agent adopts the running container', async () => {
  const before = (await k.ok(['get', 'pod', 'busy', '-o', 'jsonpath={.status.containerStatuses[0].containerID}'])).stdout;
  assert.match(before, /^runc:\/\/\w+/);
  await stopAgent('SIGKILL');
  // The container outlives its agent (conmon holds it).
  assert.equal((await k.ok(['get', 'pod', 'busy', '-o', 'jsonpath={.status.phase}'])).stdout, 'Running');
  agent = startAgent();
  // Once the new agent has synced the pod, exec works again and the container is the same one.
  await eventually(async () => ((await k.run(['exec', 'busy', '--', 'true'])).code === 0 ? true : undefined), 60_000, `exec after restart${tail()}`);
  const st = JSON.parse((await k.ok(['get', 'pod', 'busy', '-o', 'jsonpath={.status.containerStatuses[0]}'])).stdout) as { containerID: string; restartCount: number; state: Record<string, unknown> };
  assert.equal(st.containerID, before);
  assert.equal(st.restartCount, 0);
  assert.ok(st.state.running, JSON.stringify(st));
});

test('bad flags are refused with a clear message and exit code 2', async () => {
  const r = await new Promise<{ code: number | null; err: string }>((res) => {
    const c = spawn(process.execPath, [join(repoRoot, 'bin', 'k8ts.js'), 'agent', '--server-data-dir', join(agentDir, 'nowhere')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => res({ code, err }));
  });
  assert.equal(r.code, 2);
  assert.match(r.err, /holds no cluster PKI/);
});
