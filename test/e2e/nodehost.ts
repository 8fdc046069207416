// The set-up every e2e file with real containers shares: a test host network namespace, a data dir with the test
// images imported ahead (the air-gapped path: no pulls), and `k8ts server` with its kubelet putting pods in that
// namespace; stop() deletes what the test left (pods first, so the kubelet removes their containers), stops the
// server and removes containers, mounts, the data dir and the namespace.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { loadTestImages } from '../../src/images/build.js';
import { LocalImageService } from '../../src/images/service.js';
import { createTestHost, mountsUnder, preflight, removeNodeLeftovers, type TestHost } from '../../src/runtime/testing.js';
import { Server } from './harness.js';

export interface NodeCluster {
  srv: Server;
  host: TestHost;
  dataDir: string;
  node: string;
  /** Idempotent; safe after a failed start. */
  stop(): Promise<void>;
}

export interface NodeClusterOptions {
  /** Names the test host namespace and the data dir (keep it short: it prefixes interface names). */
  name: string;
  /** The Node's name (default `k8ts-e2e-<name>`). */
  node?: string;
  /** The Node's InternalIP inside the test host (default 127.0.0.1). */
  nodeIP?: string;
  /** More `k8ts server` flags (e.g. `--ingress-http-port 0`). */
  extraArgs?: string[];
  /** Kinds deleted (all namespaces) before the pods at stop, e.g. ['deployments'] so nothing recreates pods. */
  deleteFirst?: string[];
}

export async function startNodeCluster(o: NodeClusterOptions): Promise<NodeCluster> {
  preflight();
  const node = o.node ?? `k8ts-e2e-${o.name}`;
  const c: NodeCluster = {
    srv: undefined as unknown as Server,
    host: undefined as unknown as TestHost,
    dataDir: '',
    node,
    stop: async () => undefined,
  };
  let stopped = false;
  c.stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      if (c.srv) {
        const admin = c.srv.client();
        for (const kind of o.deleteFirst ?? []) await admin.run(['delete', kind, '--all', '--all-namespaces', '--wait=true', '--timeout=30s']);
        await admin.run(['delete', 'pods', '--all', '--all-namespaces', '--wait=true', '--timeout=60s']);
        await c.srv.stop();
      }
    } finally {
      // Whatever is left (a failed test) goes here: containers, mounts, then the files and the namespace.
      if (c.dataDir) {
        removeNodeLeftovers(c.dataDir);
        // Only a directory with nothing mounted inside is removed (a stuck mount keeps its files).
        if (mountsUnder(c.dataDir).length === 0) rmSync(dirname(c.dataDir), { recursive: true, force: true });
      }
      await c.host?.destroy();
    }
  };
  try {
    c.host = await createTestHost(`k8ts-${o.name}`);
    c.dataDir = join(mkdtempSync(join(tmpdir(), `k8ts-e2e-${o.name}-`)), 'data');
    mkdirSync(c.dataDir, { recursive: true });
    await loadTestImages(await LocalImageService.open(join(c.dataDir, 'images')));
    c.srv = await Server.start({
      dataDir: c.dataDir,
      agent: true,
      extraArgs: ['--node-netns', c.host.path, '--node-name', node, '--node-ip', o.nodeIP ?? '127.0.0.1', '--kubelet-port', '0', ...(o.extraArgs ?? [])],
    });
  } catch (e) {
    await c.stop();
    throw e;
  }
  return c;
}
