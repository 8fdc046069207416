// In-process components of `k8ts server` (controller manager, scheduler, simulated nodes): each an HTTPS client of
// our own listener with its own client certificate, optionally run only while it holds a leader-election Lease.

import { ensureClientCert, type ClusterPKI } from '../apiserver/pki.js';
import type { Client } from '../client/interface.js';
import type { RestConfig } from '../client/rest.js';

/** A component instance: started once, stopped once. A new one is made each time leadership is (re)gained. */
export interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface LeaderElectionConfig {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface ComponentSpec {
  /** Log prefix and lease name, e.g. "kube-controller-manager". */
  name: string;
  /** File stem of the client certificate under <data-dir>/pki, and its subject. */
  certFile: string;
  user: string;
  groups?: string[];
  userAgent: string;
  /** Leader-elect on kube-system/<name> before running; undefined runs at once. */
  leaderElection?: LeaderElectionConfig;
  make(client: Client, log: (m: string) => void): Promise<Runnable>;
}

export interface Started {
  stop(): Promise<void>;
}

const loopback = (bindAddress: string): string => {
  const addr = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  return addr.includes(':') ? `[${addr}]` : addr;
};

/** Starts `spec` against https://<bind address>:<port> (loopback for a wildcard bind). */
export async function startComponent(spec: ComponentSpec, dataDir: string, pki: ClusterPKI, bindAddress: string, port: number): Promise<Started> {
  const { cert, key } = await ensureClientCert(dataDir, spec.certFile, spec.user, spec.groups ?? []);
  const { RestClient } = await import('../client/rest.js');
  const cfg: RestConfig = { server: `https://${loopback(bindAddress)}:${port}`, caCert: pki.caCert, clientCert: cert, clientKey: key, userAgent: spec.userAgent };
  const client = new RestClient(cfg);
  const log = (m: string) => console.error(`${new Date().toISOString()} ${spec.name}: ${m}`);

  if (!spec.leaderElection) {
    const r = await spec.make(client, log);
    await r.start();
    return {
      stop: async () => {
        await r.stop();
        client.close();
      },
    };
  }

  const { LeaderElector } = await import('../client/leaderelection.js');
  const { EventRecorder } = await import('../client/events.js');
  const events = new EventRecorder(client, spec.name);
  const le = spec.leaderElection;
  // The running instance, if leading; `chain` serialises start/stop so a quick lose-then-win never overlaps.
  let current: Runnable | undefined;
  let chain: Promise<void> = Promise.resolve();
  const stopCurrent = (): Promise<void> => {
    chain = chain.then(async () => {
      const r = current;
      current = undefined;
      await r?.stop().catch((e: unknown) => log(`stop failed: ${(e as Error).message}`));
    });
    return chain;
  };
  const elector = new LeaderElector(client, {
    name: spec.name,
    leaseDurationMs: le.leaseDurationMs,
    renewDeadlineMs: le.renewDeadlineMs,
    retryPeriodMs: le.retryPeriodMs,
    onStartedLeading: (lost) => {
      log(`successfully acquired lease kube-system/${spec.name}; became leader ${elector.identity}`);
      events.event({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace: 'kube-system', name: spec.name } }, 'Normal', 'LeaderElection', `${elector.identity} became leader`);
      chain = chain.then(async () => {
        const r = await spec.make(client, log);
        current = r;
        await r.start();
      }).catch((e: unknown) => log(`failed to start: ${(e as Error).message}`));
      void lost.then(() => {
        log(`leaderelection lost (${elector.identity})`);
        void stopCurrent();
      });
    },
    onNewLeader: (id) => {
      if (id !== elector.identity) log(`new leader elected: ${id}`);
    },
  });
  log(`attempting to acquire leader lease kube-system/${spec.name} as ${elector.identity}`);
  const campaign = elector.run().catch((e: unknown) => log(`leader election stopped with an error: ${(e as Error).message}`));
  return {
    stop: async () => {
      // Stop the work first, then give the lease up so a stand-by takes over at once.
      await stopCurrent();
      await elector.stop();
      await campaign;
      await chain;
      await events.flush();
      client.close();
    },
  };
}
