// The node agent `k8ts server` runs unless --disable-agent: the image store and runc runtime on <data-dir>, the
// volume manager, prober and hook runner, and the kubelet over them, all in the node's network namespace (the
// machine's own, or a test host's with --node-netns). Built and stopped as one unit by src/cli.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '../client/interface.js';
import { LocalImageService } from '../images/service.js';
import { openNetnsDialer } from '../runtime/dialer.js';
import { openRuncRuntime } from '../runtime/runc/runtime.js';
import { Kubelet } from './kubelet.js';
// Interim, until src/kubelet/prober lands in this same session: containers count as started and ready once
// running (what upstream does for containers without probes); probes and hooks are not run yet.
class Prober { constructor(_o: unknown) {} addContainer() {} removeContainer() {} removePod() {} isReady() { return true; } isStarted() { return true; } onResult() {} async stop() {} }
class LifecycleHookRunner { constructor(_o: unknown) {} async run() {} }
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
    kubeletPort: o.kubeletPort,
    kubeletVersion: o.kubeletVersion,
    ...(o.podCIDR ? { podCIDR: o.podCIDR } : {}),
    log: o.log,
  });
  await kubelet.start();
  const k = kubelet;
  return {
    kubelet: k,
    stop: async () => {
      await k.stop();
      await dialer.close();
      // Containers keep running (a restarted server adopts them); only the runtime's own watchers go.
      await rt.close();
    },
  };
}
