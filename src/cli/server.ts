// `k8ts server`: start the API server over the chosen datastore, with the cluster PKI and admin kubeconfig, then
// (unless --disable-controllers) the controller manager as an in-process HTTPS client of that server.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { resolve, join } from 'node:path';
import { AllowAuthenticatedAuthorizer, TokenFileAuthenticator, UnionAuthenticator, X509Authenticator, type Authenticator } from '../apiserver/auth.js';
import { initFieldManager } from '../apiserver/fieldmanager.js';
import { adminKubeconfig, ensureClientCert, ensurePKI, type ClusterPKI } from '../apiserver/pki.js';
import { ApiServer } from '../apiserver/server.js';
import { openStore } from '../storage/index.js';
import type { SimulatedNodesOptions } from '../simnodes/simnodes.js';
import { FlagError, flagHelp, parseFlags } from './flags.js';
import { VERSION } from './main.js';

const FLAGS = {
  'data-dir': { type: 'string', default: '/var/lib/k8ts', help: 'directory for the datastore, PKI and kubeconfig' },
  datastore: { type: 'string', default: '', help: 'sqlite://PATH (default: <data-dir>/state.db) or etcd://host:port[,host:port…]' },
  'bind-address': { type: 'string', default: '127.0.0.1', help: 'address to serve HTTPS on' },
  port: { type: 'number', default: 6443, help: 'port to serve HTTPS on' },
  'advertise-address': { type: 'string', default: '', help: 'address written into the kubeconfig (default: bind address)' },
  'token-auth-file': { type: 'string', default: '', help: 'CSV file of bearer tokens: token,user,uid,"group1,group2"' },
  'service-cluster-ip-range': { type: 'string', default: '10.43.0.0/16', help: 'CIDR from which Service ClusterIPs are allocated' },
  'service-node-port-range': { type: 'string', default: '30000-32767', help: 'port range for NodePort Services' },
  'disable-controllers': { type: 'boolean', default: false, help: 'do not run the controller manager (namespace, garbage collector)' },
  'disable-scheduler': { type: 'boolean', default: false, help: 'do not run the scheduler (src/scheduler)' },
  'simulate-nodes': { type: 'number', default: 0, help: 'register N simulated nodes sim-node-0… that run bound pods without processes (src/simnodes)' },
  'simulate-node-cpu': { type: 'string', default: '8', help: 'cpu capacity of each simulated node' },
  'simulate-node-memory': { type: 'string', default: '32Gi', help: 'memory capacity of each simulated node' },
  'simulate-node-pods': { type: 'number', default: 110, help: 'pod capacity of each simulated node (at most 254: one /24 of pod addresses each)' },
} as const;

/**
 * Starts the controller manager against our own listener (loopback when bound to a wildcard address), as user
 * system:kube-controller-manager. Loaded and started after the ready line so start-up stays under a second.
 */
async function startControllers(dataDir: string, pki: ClusterPKI, bindAddress: string, port: number): Promise<{ stop(): Promise<void> }> {
  const { cert, key } = await ensureClientCert(dataDir, 'controller-manager', 'system:kube-controller-manager');
  const { managerFor } = await import('../controllers/manager.js');
  const addr = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  const { manager, close } = managerFor({ server: `https://${addr.includes(':') ? `[${addr}]` : addr}:${port}`, caCert: pki.caCert, clientCert: cert, clientKey: key });
  await manager.start();
  return {
    stop: async () => {
      await manager.stop();
      close();
    },
  };
}

/** Starts the scheduler against our own listener as user system:kube-scheduler, like the controller manager. */
async function startScheduler(dataDir: string, pki: ClusterPKI, bindAddress: string, port: number): Promise<{ stop(): Promise<void> }> {
  const { cert, key } = await ensureClientCert(dataDir, 'scheduler', 'system:kube-scheduler');
  const { schedulerFor } = await import('../scheduler/index.js');
  const addr = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  const log = (m: string) => console.error(`${new Date().toISOString()} scheduler: ${m}`);
  const { scheduler, close } = schedulerFor({ server: `https://${addr.includes(':') ? `[${addr}]` : addr}:${port}`, caCert: pki.caCert, clientCert: cert, clientKey: key }, { log });
  const done = scheduler.run().catch((e: unknown) => log(`stopped with an error: ${(e as Error).message}`));
  return {
    stop: async () => {
      await scheduler.stop();
      await done;
      close();
    },
  };
}

/**
 * Starts the simulated nodes against our own listener as user system:node:sim (group system:nodes). Returns at
 * once; nodes register in the background (thousands take a few seconds) and stop with the server.
 */
async function startSimulatedNodes(dataDir: string, pki: ClusterPKI, bindAddress: string, port: number, opts: SimulatedNodesOptions): Promise<{ stop(): Promise<void> }> {
  const { cert, key } = await ensureClientCert(dataDir, 'simulated-nodes', 'system:node:sim', ['system:nodes']);
  const { simulatedNodesFor } = await import('../simnodes/simnodes.js');
  const addr = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  const { sim, close } = await simulatedNodesFor({ server: `https://${addr.includes(':') ? `[${addr}]` : addr}:${port}`, caCert: pki.caCert, clientCert: cert, clientKey: key }, opts);
  const began = Date.now();
  void sim.start().then(
    () => console.log(`k8ts: ${opts.count} simulated nodes registered in ${Date.now() - began} ms`),
    (e: unknown) => console.error(`k8ts: simulated nodes failed: ${(e as Error).message}`),
  );
  return {
    stop: async () => {
      await sim.stop();
      close();
    },
  };
}

function checkSimulateFlags(nodes: number, pods: number): void {
  if (!Number.isInteger(nodes) || nodes < 0) throw new FlagError(`invalid --simulate-nodes ${nodes} (want a count ≥ 0)`);
  if (!Number.isInteger(pods) || pods < 1 || pods > 254) throw new FlagError(`invalid --simulate-node-pods ${pods} (want 1–254)`);
}

function parsePortRange(s: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(s);
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535) throw new FlagError(`invalid --service-node-port-range "${s}" (want e.g. 30000-32767)`);
  return [Number(m[1]), Number(m[2])];
}

export async function runServer(argv: string[]): Promise<void> {
  let f;
  let nodePortRange: [number, number];
  try {
    f = parseFlags(FLAGS, argv);
    nodePortRange = parsePortRange(f['service-node-port-range']);
    checkSimulateFlags(f['simulate-nodes'], f['simulate-node-pods']);
  } catch (e) {
    if (e instanceof FlagError && e.message === 'help') {
      console.log(`Usage: k8ts server [flags]\n\nFlags:\n${flagHelp(FLAGS)}`);
      return;
    }
    console.error(`k8ts server: ${(e as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const dataDir = resolve(f['data-dir']);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const host = f['advertise-address'] || (f['bind-address'] === '0.0.0.0' || f['bind-address'] === '::' ? '127.0.0.1' : f['bind-address']);
  const datastore = f.datastore || `sqlite://${join(dataDir, 'state.db')}`;

  const [pki, store] = await Promise.all([ensurePKI(dataDir, [host, f['bind-address']]), openStore(datastore), initFieldManager()]);

  const authenticators: Authenticator[] = [new X509Authenticator()];
  if (f['token-auth-file']) authenticators.push(new TokenFileAuthenticator(f['token-auth-file']));
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${f.port}`;
  const api = new ApiServer({
    store,
    authenticator: new UnionAuthenticator(authenticators),
    authorizer: new AllowAuthenticatedAuthorizer(),
    serverAddress: `${host}:${f.port}`,
    gitVersion: VERSION,
    serviceCIDR: f['service-cluster-ip-range'],
    nodePortRange,
  });
  await api.bootstrap();

  const server = createServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: false }, api.handle);
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.requestTimeout = 0;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(f.port, f['bind-address'], () => res());
  });
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, adminKubeconfig(pki, url), { mode: 0o600 });
  console.log(`k8ts: API server ready at ${url}; kubeconfig: ${kubeconfig}`);

  const controllers = f['disable-controllers']
    ? undefined
    : startControllers(dataDir, pki, f['bind-address'], f.port).catch((e: unknown) => {
        console.error(`k8ts: controller manager failed to start: ${(e as Error).message}`);
        return undefined;
      });

  const scheduler = f['disable-scheduler']
    ? undefined
    : startScheduler(dataDir, pki, f['bind-address'], f.port).catch((e: unknown) => {
        console.error(`k8ts: scheduler failed to start: ${(e as Error).message}`);
        return undefined;
      });

  const simNodes =
    f['simulate-nodes'] > 0
      ? startSimulatedNodes(dataDir, pki, f['bind-address'], f.port, {
          count: f['simulate-nodes'],
          cpu: f['simulate-node-cpu'],
          memory: f['simulate-node-memory'],
          pods: f['simulate-node-pods'],
          kubeletVersion: VERSION,
        }).catch((e: unknown) => {
          console.error(`k8ts: simulated nodes failed to start: ${(e as Error).message}`);
          return undefined;
        })
      : undefined;

  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`k8ts: ${sig} received, shutting down`);
    setTimeout(() => process.exit(1), 5000).unref();
    // Controllers first (they end their watches and finish in-flight syncs), bounded so shutdown stays quick.
    const stopControllers = Promise.all([controllers, scheduler, simNodes].map((p) => (p ?? Promise.resolve(undefined)).then((c) => c?.stop())));
    const bounded = Promise.race([stopControllers, new Promise((r) => setTimeout(r, 2000).unref())]).catch(() => undefined);
    void bounded.then(() => {
      server.close();
      server.closeAllConnections();
      store.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
