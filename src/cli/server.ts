// `k8ts server`: start the API server over the chosen datastore, with the cluster PKI and admin kubeconfig, then
// the in-process components (components.ts): controller manager and scheduler (leader-elected over etcd), simulated nodes, cluster DNS.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve, join } from 'node:path';
import { AllowAuthenticatedAuthorizer, TokenFileAuthenticator, UnionAuthenticator, X509Authenticator, type Authenticator } from '../apiserver/auth.js';
import { initFieldManager } from '../apiserver/fieldmanager.js';
import { adminKubeconfig, ensureKubeletClientCert, ensurePKI, ensureServiceAccountKey } from '../apiserver/pki.js';
import { TokenSigner } from '../apiserver/satoken.js';
import { ApiServer } from '../apiserver/server.js';
import { openStore } from '../storage/index.js';
import type { ManagerOptions } from '../controllers/manager.js';
import type { SimulatedNodesOptions } from '../simnodes/simnodes.js';
import type { ClusterDnsOptions } from '../dns/dns.js';
import type { ProxyMode } from '../proxy/proxy.js';
import { startComponent, type ComponentSpec, type LeaderElectionConfig, type Started } from './components.js';
import { FlagError, flagHelp, parseDuration, parseFlags } from './flags.js';
import { agent, agentOptions, clusterDns, dnsOptions } from './node-components.js';
import { VERSION } from './main.js';
import { holdYoungGeneration, type YoungGenerationHold } from './younggen.js';

const FLAGS = {
  'data-dir': { type: 'string', default: '/var/lib/k8ts', help: 'directory for the datastore, PKI and kubeconfig' },
  datastore: { type: 'string', default: '', help: 'sqlite://PATH (default: <data-dir>/state.db) or etcd://host:port[,host:port…]' },
  'bind-address': { type: 'string', default: '127.0.0.1', help: 'address to serve HTTPS on' },
  port: { type: 'number', default: 6443, help: 'port to serve HTTPS on' },
  'advertise-address': { type: 'string', default: '', help: 'address written into the kubeconfig (default: bind address)' },
  'token-auth-file': { type: 'string', default: '', help: 'CSV file of bearer tokens: token,user,uid,"group1,group2"' },
  'service-account-signing-key-file': { type: 'string', default: '', help: 'PEM private key (EC P-256) signing service account tokens; servers of one cluster share it (default: <data-dir>/pki/sa.key, made on first start)' },
  'service-account-issuer': { type: 'string', default: 'https://kubernetes.default.svc.cluster.local', help: 'the iss claim of service account tokens, also their default audience' },
  'service-cluster-ip-range': { type: 'string', default: '10.43.0.0/16', help: 'CIDR from which Service ClusterIPs are allocated' },
  'service-node-port-range': { type: 'string', default: '30000-32767', help: 'port range for NodePort Services' },
  'disable-controllers': { type: 'boolean', default: false, help: 'do not run the controller manager (src/controllers)' },
  'disable-scheduler': { type: 'boolean', default: false, help: 'do not run the scheduler (src/scheduler)' },
  'simulate-nodes': { type: 'number', default: 0, help: 'register N simulated nodes sim-node-0… that run bound pods without processes (src/simnodes)' },
  'simulate-node-cpu': { type: 'string', default: '8', help: 'cpu capacity of each simulated node' },
  'simulate-node-memory': { type: 'string', default: '32Gi', help: 'memory capacity of each simulated node' },
  'simulate-node-pods': { type: 'number', default: 110, help: 'pod capacity of each simulated node (at most 254: one /24 of pod addresses each)' },
  'cluster-domain': { type: 'string', default: 'cluster.local', help: 'the cluster DNS zone (src/dns)' },
  'cluster-dns': { type: 'string', default: '10.43.0.10', help: 'ClusterIP of the kube-dns Service, created in kube-system when DNS runs' },
  'disable-dns': { type: 'boolean', default: false, help: 'do not run the cluster DNS (src/dns); it runs by default with the agent (pods reach it on the node), and whenever --dns-port is set' },
  'dns-bind-address': { type: 'string', default: '127.0.0.1', help: 'address of the cluster DNS server\'s own listener (UDP and TCP)' },
  'dns-port': { type: 'number', default: 0, help: 'port of that listener (0: a free one, and no DNS at all without the agent)' },
  'dns-upstream': { type: 'string', default: '', help: 'resolvers for names outside the cluster: host[:port],… or "none" (default: the nameservers of /etc/resolv.conf)' },
  'ingress-http-port': { type: 'number', default: 80, help: 'port of the built-in Ingress controller\'s HTTP listener on each node (src/ingress); 0 disables it' },
  'ingress-https-port': { type: 'number', default: 443, help: 'port of the built-in Ingress controller\'s HTTPS listener on each node; 0 disables it' },
  'proxy-mode': { type: 'string', default: 'nftables', help: 'service proxy backend on each node: nftables, iptables or none (src/proxy)' },
  'leader-elect': { type: 'string', default: 'auto', help: 'run the controller manager and scheduler only while holding their kube-system Leases: true, false, or auto (over etcd only)' },
  'leader-elect-lease-duration': { type: 'string', default: '15s', help: 'how long a stand-by waits after the last renewal before taking over' },
  'leader-elect-renew-deadline': { type: 'string', default: '10s', help: 'how long the leader keeps trying to renew before it stops leading' },
  'leader-elect-retry-period': { type: 'string', default: '2s', help: 'time between acquire/renew attempts' },
  'node-monitor-grace-period': { type: 'string', default: '40s', help: 'how long a node may go without a heartbeat (Lease or status) before it is marked Unknown and tainted unreachable' },
  'default-not-ready-toleration-seconds': { type: 'number', default: 300, help: 'tolerationSeconds of the not-ready:NoExecute toleration added to pods without one' },
  'default-unreachable-toleration-seconds': { type: 'number', default: 300, help: 'tolerationSeconds of the unreachable:NoExecute toleration added to pods without one' },
  'terminated-pod-gc-threshold': { type: 'number', default: 12500, help: 'terminated pods kept before the pod garbage collector deletes the oldest (≤ 0: never)' },
  'disable-agent': { type: 'boolean', default: false, help: 'do not run the kubelet for this machine (src/kubelet): a control-plane-only server' },
  'node-name': { type: 'string', default: '', help: 'name of this machine\'s Node (default: the hostname, lower-cased)' },
  'node-ip': { type: 'string', default: '', help: 'the Node\'s InternalIP (default: the first non-loopback IPv4 address)' },
  'node-netns': { type: 'string', default: '', help: 'run pods and their networking in this network namespace (e.g. /run/netns/X) instead of the machine\'s own' },
  'cluster-cidr': { type: 'string', default: '10.42.0.0/16', help: 'the range node pod CIDRs (one /24 each) are allocated from' },
  'pod-cidr': { type: 'string', default: '', help: 'use this pod CIDR for the node instead of one from --cluster-cidr' },
  'kubelet-port': { type: 'number', default: 10250, help: 'port of the kubelet\'s HTTPS server (logs, exec, port-forward, stats); 0 picks a free one' },
  'pod-gc-quarantine': { type: 'string', default: '40s', help: 'how long a pod\'s node must be missing before the pod garbage collector deletes the pod' },
} as const;

/** The controller manager as user system:kube-controller-manager (src/controllers), leader-elected when asked. */
function controllerManager(leaderElection: LeaderElectionConfig | undefined, managerOpts: ManagerOptions): ComponentSpec {
  return {
    name: 'kube-controller-manager',
    certFile: 'controller-manager',
    user: 'system:kube-controller-manager',
    userAgent: 'k8ts-controller-manager',
    leaderElection,
    make: async (client) => {
      const { ControllerManager } = await import('../controllers/manager.js');
      const manager = new ControllerManager(client, managerOpts);
      return { start: () => manager.start(), stop: () => manager.stop() };
    },
  };
}

/** The scheduler as user system:kube-scheduler (src/scheduler), leader-elected when asked. */
function scheduler(leaderElection: LeaderElectionConfig | undefined): ComponentSpec {
  return {
    name: 'kube-scheduler',
    certFile: 'scheduler',
    user: 'system:kube-scheduler',
    userAgent: 'k8ts-scheduler',
    leaderElection,
    make: async (client, log) => {
      const { Scheduler } = await import('../scheduler/index.js');
      const s = new Scheduler(client, { log });
      let done: Promise<void> = Promise.resolve();
      return {
        start: async () => {
          done = s.run().catch((e: unknown) => log(`stopped with an error: ${(e as Error).message}`));
        },
        stop: async () => {
          await s.stop();
          await done;
        },
      };
    },
  };
}

/**
 * The simulated nodes as user system:node:sim (group system:nodes). start() returns at once; nodes register in
 * the background (thousands take a few seconds). Every server runs its own: they are kubelets, not leaders.
 */
function simulatedNodes(opts: SimulatedNodesOptions): ComponentSpec {
  return {
    name: 'simulated-nodes',
    certFile: 'simulated-nodes',
    user: 'system:node:sim',
    groups: ['system:nodes'],
    userAgent: 'k8ts-simulated-nodes',
    make: async (client) => {
      const { SimulatedNodes } = await import('../simnodes/simnodes.js');
      const sim = new SimulatedNodes(client, opts);
      return {
        start: async () => {
          const began = Date.now();
          void sim.start().then(
            () => console.log(`k8ts: ${opts.count} simulated nodes registered in ${Date.now() - began} ms`),
            (e: unknown) => console.error(`k8ts: simulated nodes failed: ${(e as Error).message}`),
          );
        },
        stop: () => sim.stop(),
      };
    },
  };
}

/**
 * Cluster DNS as its own client (src/dns): every server runs one, answering from its informers on
 * --dns-bind-address:--dns-port, and makes sure the kube-dns Service exists (as k3s applies its CoreDNS manifest).
 */
/** ServiceLB (src/proxy/servicelb.ts): LoadBalancer ingress = the Ready nodes' InternalIPs; one writer per cluster. */
function serviceLB(leaderElection: LeaderElectionConfig | undefined): ComponentSpec {
  return {
    name: 'k8ts-servicelb',
    certFile: 'servicelb',
    user: 'system:k8ts:servicelb',
    userAgent: 'k8ts-servicelb',
    leaderElection,
    make: async (client, log) => {
      const { ServiceLB } = await import('../proxy/servicelb.js');
      return new ServiceLB(client, log);
    },
  };
}

/** The `default/kubernetes` Endpoints and EndpointSlice → this server's advertise address (src/proxy/apiendpoints.ts). */
function apiEndpoints(ip: string, port: number): ComponentSpec {
  return {
    name: 'kubernetes-endpoints',
    certFile: 'apiserver-endpoints',
    user: 'system:k8ts:apiserver-endpoints',
    userAgent: 'k8ts-apiserver-endpoints',
    make: async (client, log) => {
      const { ApiEndpointsReconciler } = await import('../proxy/apiendpoints.js');
      return new ApiEndpointsReconciler(client, { ip, port, log });
    },
  };
}

/**
 * --leader-elect: "true" always elects, "false" never, "auto" (default) elects over etcd only — a SQLite file
 * admits one server, so there is nobody to stand by for (and a restart need not wait out the old lease).
 */
function leaderElectionConfig(f: { 'leader-elect': string; 'leader-elect-lease-duration': string; 'leader-elect-renew-deadline': string; 'leader-elect-retry-period': string }, datastore: string): LeaderElectionConfig | undefined {
  const mode = f['leader-elect'];
  if (mode !== 'true' && mode !== 'false' && mode !== 'auto') throw new FlagError(`invalid --leader-elect "${mode}" (want true, false or auto)`);
  const cfg = {
    leaseDurationMs: parseDuration(f['leader-elect-lease-duration']),
    renewDeadlineMs: parseDuration(f['leader-elect-renew-deadline']),
    retryPeriodMs: parseDuration(f['leader-elect-retry-period']),
  };
  if (cfg.leaseDurationMs < 1000) throw new FlagError('--leader-elect-lease-duration must be at least 1s');
  if (!(cfg.renewDeadlineMs < cfg.leaseDurationMs)) throw new FlagError('--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration');
  if (!(cfg.retryPeriodMs > 0 && cfg.retryPeriodMs < cfg.renewDeadlineMs)) throw new FlagError('--leader-elect-retry-period must be positive and shorter than --leader-elect-renew-deadline');
  const on = mode === 'true' || (mode === 'auto' && datastore.startsWith('etcd://'));
  return on ? cfg : undefined;
}

function checkSimulateFlags(nodes: number, pods: number): void {
  if (!Number.isInteger(nodes) || nodes < 0) throw new FlagError(`invalid --simulate-nodes ${nodes} (want a count ≥ 0)`);
  if (!Number.isInteger(pods) || pods < 1 || pods > 254) throw new FlagError(`invalid --simulate-node-pods ${pods} (want 1–254)`);
}

/**
 * --proxy-mode, checked here rather than by src/proxy/proxy.ts's parseProxyMode (same rule), which would load the
 * nftables and iptables data planes into a server that runs no node agent.
 */
function proxyModeFlag(s: string): ProxyMode | 'none' {
  if (s === 'nftables' || s === 'iptables' || s === 'none') return s;
  throw new FlagError(`invalid --proxy-mode "${s}" (want nftables, iptables or none)`);
}

function parsePortRange(s: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(s);
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535) throw new FlagError(`invalid --service-node-port-range "${s}" (want e.g. 30000-32767)`);
  return [Number(m[1]), Number(m[2])];
}

export async function runServer(argv: string[], youngGen: YoungGenerationHold = holdYoungGeneration()): Promise<void> {
  let f;
  let nodePortRange: [number, number];
  let leaderElection: LeaderElectionConfig | undefined;
  let datastore: string;
  let nodeGraceMs: number;
  let podGCQuarantineMs: number;
  let dns: ClusterDnsOptions | undefined;
  // The per-node ServiceProxy mode; the kubelet wiring starts one proxy per node with it.
  let proxyMode: ProxyMode | 'none';
  try {
    f = parseFlags(FLAGS, argv);
    nodePortRange = parsePortRange(f['service-node-port-range']);
    checkSimulateFlags(f['simulate-nodes'], f['simulate-node-pods']);
    datastore = f.datastore || `sqlite://${join(resolve(f['data-dir']), 'state.db')}`;
    leaderElection = leaderElectionConfig(f, datastore);
    nodeGraceMs = parseDuration(f['node-monitor-grace-period']);
    podGCQuarantineMs = parseDuration(f['pod-gc-quarantine']);
    if (nodeGraceMs < 1000) throw new FlagError('--node-monitor-grace-period must be at least 1s');
    dns = await dnsOptions(f);
    proxyMode = proxyModeFlag(f['proxy-mode']);
    for (const flag of ['ingress-http-port', 'ingress-https-port'] as const) {
      const v = f[flag];
      if (!Number.isInteger(v) || v < 0 || v > 65535) throw new FlagError(`invalid --${flag} ${v} (want 0–65535; 0 disables it)`);
    }
  } catch (e) {
    if (e instanceof FlagError && e.message === 'help') {
      console.log(`Usage: k8ts server [flags]\n\nFlags:\n${flagHelp(FLAGS)}`);
      youngGen.end();
      return;
    }
    console.error(`k8ts server: ${(e as Error).message}`);
    process.exitCode = 2;
    youngGen.end();
    return;
  }
  const dataDir = resolve(f['data-dir']);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const host = f['advertise-address'] || (f['bind-address'] === '0.0.0.0' || f['bind-address'] === '::' ? '127.0.0.1' : f['bind-address']);

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
    defaultNotReadyTolerationSeconds: f['default-not-ready-toleration-seconds'],
    defaultUnreachableTolerationSeconds: f['default-unreachable-toleration-seconds'],
    kubeletClientTLS: () => ensureKubeletClientCert(dataDir).then((c) => ({ ...c, ca: pki.caCert })),
    serviceAccountSigner: new TokenSigner(f['service-account-signing-key-file'] ? readFileSync(f['service-account-signing-key-file'], 'utf8') : ensureServiceAccountKey(dataDir), f['service-account-issuer']),
  });
  await api.bootstrap();

  const server = createServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: false }, api.handle);
  server.on('upgrade', api.handleUpgrade);
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

  const launch = (spec: ComponentSpec): Promise<Started | undefined> =>
    startComponent(spec, dataDir, pki, f['bind-address'], f.port).catch((e: unknown) => {
      console.error(`k8ts: ${spec.name} failed to start: ${(e as Error).message}`);
      return undefined;
    });
  const components: Array<Promise<Started | undefined>> = [];
  const managerOpts: ManagerOptions = { clusterCIDR: f['cluster-cidr'], nodeMonitorGracePeriodMs: nodeGraceMs, terminatedPodGCThreshold: f['terminated-pod-gc-threshold'], podGCQuarantineMs, rootCACert: pki.caCert };
  if (!f['disable-controllers']) components.push(launch(controllerManager(leaderElection, managerOpts)));
  if (!f['disable-scheduler']) components.push(launch(scheduler(leaderElection)));
  if (f['simulate-nodes'] > 0) {
    components.push(
      launch(
        simulatedNodes({
          count: f['simulate-nodes'],
          cpu: f['simulate-node-cpu'],
          memory: f['simulate-node-memory'],
          pods: f['simulate-node-pods'],
          kubeletVersion: VERSION,
          // The kubelet renews every leaseDuration/4 (10 s of 40 s); a shorter grace period needs faster renewals.
          leaseRenewMs: Math.min(10_000, nodeGraceMs / 4),
        }),
      ),
    );
  }

  const nodeName = (f['node-name'] || hostname()).toLowerCase();
  // With the agent, DNS also serves in the node's network namespace on the pod network gateway (kube-dns endpoints).
  if (dns) components.push(launch(clusterDns(f['disable-agent'] ? dns : { ...dns, node: { name: nodeName, ...(f['node-netns'] ? { netns: f['node-netns'] } : {}) } })));
  if (!f['disable-agent']) {
    components.push(
      launch(
        agent(agentOptions(f, { dataDir, nodeName, proxyMode, dns: dns !== undefined }), pki),
      ),
    );
  }
  if (proxyMode !== 'none') components.push(launch(serviceLB(leaderElection)));
  // Endpoints may not be loopback: a server advertised on 127.0.0.1 leaves default/kubernetes without endpoints.
  if (isIP(host) !== 0 && !host.startsWith('127.') && host !== '::1') components.push(launch(apiEndpoints(host, f.port)));

  // Start-up is over once every component is launched: from here on the young generation grows as V8 sees fit.
  void Promise.all(components).then(() => youngGen.end());

  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`k8ts: ${sig} received, shutting down`);
    setTimeout(() => process.exit(1), 5000).unref();
    // Controllers first (they end their watches and finish in-flight syncs), bounded so shutdown stays quick.
    const stopControllers = Promise.all(components.map((p) => p.then((c) => c?.stop())));
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
