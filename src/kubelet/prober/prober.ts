// The kubelet's probe manager (ProbeManager of ../types.ts): one worker per container and probe kind, with
// upstream's worker semantics — defaults, initialDelaySeconds, success/failure thresholds, the startup probe gating
// liveness and readiness, readiness starting false and liveness true, a liveness/startup failure holding the worker
// until the next container instance — and upstream's `Unhealthy` / `ProbeWarning` events.
import type { RuntimeService } from '../../runtime/interface.js';
import type { Container, Pod, ProbeKind, ProbeManager, ProbeResult } from '../types.js';
import { execProbe, expandCommand, httpGetSpec, httpProbe, resolvePort, tcpProbe, type Dial, type Outcome } from './handlers.js';

export type EventFn = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => void;
export type LogFn = (message: string, fields?: Record<string, unknown>) => void;

export interface ProberOptions {
  runtime: RuntimeService;
  dial: Dial;
  event?: EventFn;
  log?: LogFn;
}

/** A probe spec with upstream's defaults applied. */
export interface ProbeSpec {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  action: Record<string, any>;
}

/** Defaults as upstream's SetDefaults_Probe (period 10, timeout 1, success 1, failure 3); values < 1 take them too. */
export function probeSpec(probe: Record<string, any>): ProbeSpec {
  const pos = (v: unknown, d: number): number => (typeof v === 'number' && v >= 1 ? v : d);
  return {
    initialDelaySeconds: typeof probe.initialDelaySeconds === 'number' && probe.initialDelaySeconds > 0 ? probe.initialDelaySeconds : 0,
    periodSeconds: pos(probe.periodSeconds, 10),
    timeoutSeconds: pos(probe.timeoutSeconds, 1),
    successThreshold: pos(probe.successThreshold, 1),
    failureThreshold: pos(probe.failureThreshold, 3),
    action: probe,
  };
}

const KIND_FIELD: Record<ProbeKind, string> = { startup: 'startupProbe', liveness: 'livenessProbe', readiness: 'readinessProbe' };
const KIND_TITLE: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };
/** Upstream retries a probe that errors (not one that fails) this many times within one period. */
const MAX_PROBE_RETRIES = 3;

interface Worker {
  kind: ProbeKind;
  spec: ProbeSpec;
  /** The state after thresholds: readiness starts false, liveness true, startup unknown (undefined). */
  state: boolean | undefined;
  lastResult: boolean | undefined;
  resultRun: number;
  /** After a liveness/startup failure: no more probing of this container instance. */
  onHold: boolean;
  /** Past initialDelaySeconds: the periodic timer runs. */
  armed: boolean;
  timer?: NodeJS.Timeout;
  inFlight?: Promise<void>;
  pending: boolean;
  stopped: boolean;
}

interface Entry {
  pod: Pod;
  container: Container;
  containerId: string;
  podIP: string;
  workers: Partial<Record<ProbeKind, Worker>>;
}

export class Prober implements ProbeManager {
  private readonly pods = new Map<string, Map<string, Entry>>();
  private readonly listeners: Array<(r: ProbeResult) => void> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly opts: ProberOptions) {}

  addContainer(pod: Pod, container: Container, containerId: string, podIP: string): void {
    if (this.stopped) return;
    const podUid = pod.metadata?.uid ?? '';
    const existing = this.pods.get(podUid)?.get(container.name);
    if (existing?.containerId === containerId) return;
    if (existing) this.stopEntry(existing);
    const entry: Entry = { pod, container, containerId, podIP, workers: {} };
    let byName = this.pods.get(podUid);
    if (!byName) this.pods.set(podUid, (byName = new Map()));
    byName.set(container.name, entry);
    for (const kind of ['startup', 'liveness', 'readiness'] as const) {
      const probe = container[KIND_FIELD[kind]] as Record<string, any> | undefined;
      if (!probe) continue;
      const spec = probeSpec(probe);
      const w: Worker = {
        kind,
        spec,
        state: kind === 'readiness' ? false : kind === 'liveness' ? true : undefined,
        lastResult: undefined,
        resultRun: 0,
        onHold: false,
        armed: false,
        pending: false,
        stopped: false,
      };
      entry.workers[kind] = w;
      w.timer = setTimeout(() => {
        w.armed = true;
        w.timer = setInterval(() => this.tick(entry, w), spec.periodSeconds * 1000);
        this.tick(entry, w);
      }, spec.initialDelaySeconds * 1000);
    }
  }

  removeContainer(podUid: string, containerName: string): void {
    const byName = this.pods.get(podUid);
    const entry = byName?.get(containerName);
    if (!entry) return;
    this.stopEntry(entry);
    byName!.delete(containerName);
    if (byName!.size === 0) this.pods.delete(podUid);
  }

  removePod(podUid: string): void {
    for (const entry of this.pods.get(podUid)?.values() ?? []) this.stopEntry(entry);
    this.pods.delete(podUid);
  }

  isReady(podUid: string, containerName: string): boolean {
    const entry = this.pods.get(podUid)?.get(containerName);
    if (!entry) return true;
    if (!this.started(entry)) return false;
    const r = entry.workers.readiness;
    return r ? r.state === true : true;
  }

  isStarted(podUid: string, containerName: string): boolean {
    const entry = this.pods.get(podUid)?.get(containerName);
    return entry ? this.started(entry) : true;
  }

  onResult(listener: (r: ProbeResult) => void): void {
    this.listeners.push(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const uid of [...this.pods.keys()]) this.removePod(uid);
    await Promise.allSettled([...this.inFlight]);
  }

  private started(entry: Entry): boolean {
    const s = entry.workers.startup;
    return s ? s.state === true : true;
  }

  private stopEntry(entry: Entry): void {
    for (const w of Object.values(entry.workers)) {
      w.stopped = true;
      if (w.timer) {
        clearTimeout(w.timer);
        clearInterval(w.timer);
        w.timer = undefined;
      }
    }
  }

  /** One period of a worker (upstream's doProbe); overlapping ticks run once, right after the probe in flight. */
  private tick(entry: Entry, w: Worker): void {
    if (w.stopped || w.onHold) return;
    if (w.inFlight) {
      w.pending = true;
      return;
    }
    const started = this.started(entry);
    if (w.kind === 'startup' ? started : !started) return;
    const p = this.probeOnce(entry, w).finally(() => {
      this.inFlight.delete(p);
      w.inFlight = undefined;
      if (w.pending) {
        w.pending = false;
        this.tick(entry, w);
      }
    });
    w.inFlight = p;
    this.inFlight.add(p);
  }

  private async probeOnce(entry: Entry, w: Worker): Promise<void> {
    const title = KIND_TITLE[w.kind];
    let outcome: Outcome | undefined;
    let error: Error | undefined;
    for (let i = 0; i < MAX_PROBE_RETRIES && !w.stopped; i++) {
      try {
        outcome = await this.run(entry, w.spec);
        error = undefined;
        break;
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
      }
    }
    if (w.stopped) return;
    if (!outcome) {
      // An errored probe leaves the state as it was (upstream throws the result away).
      const message = `${title} probe errored and resulted in unknown state: ${error?.message ?? 'unknown error'}`;
      this.opts.log?.('probe errored', { pod: entry.pod.metadata?.name, container: entry.container.name, probe: w.kind, error: error?.message });
      this.opts.event?.(entry.pod, 'Warning', 'Unhealthy', message);
      return;
    }
    let success: boolean;
    let message: string | undefined;
    if (outcome.result === 'failure') {
      success = false;
      message = `${title} probe failed: ${outcome.output}`;
      this.opts.event?.(entry.pod, 'Warning', 'Unhealthy', message);
    } else {
      success = true;
      if (outcome.result === 'warning') this.opts.event?.(entry.pod, 'Warning', 'ProbeWarning', `${title} probe warning: ${outcome.output}`);
    }
    if (w.lastResult === success) w.resultRun++;
    else {
      w.lastResult = success;
      w.resultRun = 1;
    }
    if (w.resultRun < (success ? w.spec.successThreshold : w.spec.failureThreshold)) return;
    const changed = w.state !== success;
    w.state = success;
    if (!success && (w.kind === 'liveness' || w.kind === 'startup')) {
      w.onHold = true;
      w.resultRun = 0;
    }
    if (!changed) return;
    const podUid = entry.pod.metadata?.uid ?? '';
    const result: ProbeResult = { podUid, containerName: entry.container.name, containerId: entry.containerId, kind: w.kind, success, message };
    for (const l of this.listeners) l(result);
    if (w.kind === 'startup' && success) {
      // Started: readiness runs now rather than a period later (upstream triggers it from the status update).
      const r = entry.workers.readiness;
      if (r?.armed) this.tick(entry, r);
      if (w.timer) clearInterval(w.timer);
      w.timer = undefined;
    }
  }

  private run(entry: Entry, spec: ProbeSpec): Promise<Outcome> {
    const a = spec.action;
    const { container, podIP } = entry;
    if (a.exec) return execProbe(this.opts.runtime, entry.containerId, expandCommand((a.exec.command as string[] | undefined) ?? [], container), spec.timeoutSeconds);
    if (a.httpGet) return httpProbe(this.opts.dial, httpGetSpec(a.httpGet, container, podIP, 'probe'), spec.timeoutSeconds * 1000);
    if (a.tcpSocket) {
      const port = resolvePort(a.tcpSocket.port, container);
      return tcpProbe(this.opts.dial, (a.tcpSocket.host as string | undefined) || podIP, port, spec.timeoutSeconds * 1000);
    }
    if (a.grpc) return Promise.reject(new Error('grpc probes are not supported by this kubelet'));
    return Promise.reject(new Error('probe has no handler (exec, httpGet, tcpSocket or grpc)'));
  }
}
