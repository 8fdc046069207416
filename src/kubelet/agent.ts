// The node agent `k8ts server` runs unless --disable-agent: the image store and runc runtime on <data-dir>, the
// volume manager, prober and hook runner, and the kubelet over them, all in the node's network namespace (the
// machine's own, or a test host's with --node-netns). Built and stopped as one unit by src/cli.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '../client/interface.js';
import { LocalImageService } from '../images/service.js';
import { openNetnsDialer } from '../runtime/dialer.js';
import { listenTcp } from '../runtime/netns-listen.js';
import { openRuncRuntime } from '../runtime/runc/runtime.js';
import { IngressController, type IngressControllerOptions } from '../ingress/controller.js';
import { ServiceProxy, type ProxyMode } from '../proxy/proxy.js';
import { Kubelet } from './kubelet.js';
import { KubeletServer } from './server/server.js';
import { LifecycleHookRunner } from './prober/hooks.js';
import { Prober } from './prober/prober.js';
import type { Pod } from './types.js';
import { KubeletVolumeManager } from './volume/index.js';

export interface AgentOptions {
  client: Client;
  dataDir: string;
  nodeName: string;
  nodeIP: string;
  /** The node's network namespace (a test host); default the process's own. */
  nodeNetns?: string;
  podCIDR?: string;
  clusterDNS: string[];
  clusterDomain: string;
  kubeletPort: number;
  kubeletVersion: string;
  /** The kubelet's serving certificate (signed by the cluster CA) and the CA its clients must present. */
  servingTLS: { cert: string; key: string; caCert: string };
  /** Address the kubelet's HTTPS server listens on (default: the node IP). */
  kubeletBindAddress?: string;
  /** The node's service proxy backend, or none. */
  proxyMode: ProxyMode | 'none';
  /** The Ingress controller's ports on this node (src/ingress); both 0: no Ingress controller. */
  ingressHttpPort: number;
  ingressHttpsPort: number;
  log: (m: string) => void;
}

export interface Agent {
  kubelet: Kubelet;
  stop(): Promise<void>;
}

export async function startAgent(o: AgentOptions): Promise<Agent> {
  const root = join(o.dataDir, 'kubelet');
  mkdirSync(join(root, 'pods'), { recursive: true });
  const images = await LocalImageService.open(join(o.dataDir, 'images'));
  const rt = await openRuncRuntime({ root: join(o.dataDir, 'runtime'), images, ...(o.nodeNetns ? { hostNetns: o.nodeNetns } : {}), ...(o.podCIDR ? { podCidr: o.podCIDR } : {}) });
  const dialer = await openNetnsDialer(o.nodeNetns);
  let kubelet: Kubelet | undefined;
  const event = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => kubelet?.recordEvent(pod, type, reason, message);
  const prober = new Prober({ runtime: rt.runtime, dial: dialer.dial, event, log: o.log });
  const hooks = new LifecycleHookRunner({ runtime: rt.runtime, dial: dialer.dial });
  const volumes = new KubeletVolumeManager({ client: o.client, podsDir: join(root, 'pods'), nodeName: o.nodeName, log: o.log });
  // The HTTPS server comes first: with --kubelet-port 0 its port is known only once it listens.
  const server = new KubeletServer({
    backend: { nodeName: o.nodeName, runtime: rt.runtime, pods: () => kubelet?.pods() ?? [] },
    tls: o.servingTLS,
    bindAddress: o.kubeletBindAddress ?? o.nodeIP,
    port: o.kubeletPort,
    log: o.log,
  });
  const port = await server.start();
  kubelet = new Kubelet({
    client: o.client,
    nodeName: o.nodeName,
    nodeIP: o.nodeIP,
    runtime: rt,
    volumes,
    prober,
    hooks,
    rootDir: root,
    podLogsDir: join(o.dataDir, 'pod-logs'),
    clusterDNS: o.clusterDNS,
    clusterDomain: o.clusterDomain,
    kubeletPort: port,
    kubeletVersion: o.kubeletVersion,
    ...(o.podCIDR ? { podCIDR: o.podCIDR } : {}),
    log: o.log,
  });
  const proxy = o.proxyMode === 'none' ? undefined : new ServiceProxy({ client: o.client, nodeName: o.nodeName, nodeIPs: [o.nodeIP], ...(o.nodeNetns ? { netns: o.nodeNetns } : {}), mode: o.proxyMode, log: o.log });
  await proxy?.start();
  const [ingress] = await Promise.all([startIngress(o, dialer.dial), kubelet.start()]);
  const k = kubelet;
  return {
    kubelet: k,
    stop: async () => {
      await k.stop();
      await server.stop();
      await ingress?.stop();
      await proxy?.stop();
      await dialer.close();
      // Containers keep running (a restarted server adopts them); only the runtime's own watchers go.
      await rt.close();
    },
  };
}

/**
 * The node's Ingress controller, listening on the node IP (in a test host's namespace: on all its addresses). One that
 * cannot listen is logged and dropped: the node works without it.
 */
async function startIngress(o: AgentOptions, dial: IngressControllerOptions['dial']): Promise<IngressController | undefined> {
  if (o.ingressHttpPort === 0 && o.ingressHttpsPort === 0) return undefined;
  const ingress = new IngressController({
    client: o.client,
    nodeIP: o.nodeIP,
    bindAddress: o.nodeNetns ? '0.0.0.0' : o.nodeIP,
    httpPort: o.ingressHttpPort,
    httpsPort: o.ingressHttpsPort,
    dial,
    listen: (server, port, host) => listenTcp(o.nodeNetns, host, port, server),
    log: o.log,
  });
  try {
    await ingress.start();
    return ingress;
  } catch (e) {
    o.log(`ingress: not started: ${(e as Error).message}`);
    await ingress.stop();
    return undefined;
  }
}
