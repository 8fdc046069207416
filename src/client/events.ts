// Event recorder for every component: writes core/v1 Events about an object with upstream's naming and
// aggregation (the same object/type/reason/message within ten minutes bumps `count` and `lastTimestamp`), so
// `kubectl describe` and `kubectl get events` tell the story. Recording never throws and never blocks the caller.

import type { KubeObject } from '../api/types.js';
import type { Client, Resource } from './interface.js';
import { EVENTS } from './resources.js';
import { rfc3339 } from '../api/time.js';
export { EVENTS };

export type EventType = 'Normal' | 'Warning';

/** An object an event is about: enough of it to build `involvedObject`. */
export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

const AGGREGATE_MS = 10 * 60 * 1000;
const MAX_REMEMBERED = 4096;

interface Remembered {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  at: number;
}

/** Upstream's event name: `<object name>.<hex unix nanoseconds>`. */
export function eventName(objectName: string, nowMs: number, seq: number): string {
  const nanos = BigInt(nowMs) * 1_000_000n + BigInt(seq % 1_000_000);
  return `${objectName}.${nanos.toString(16)}`;
}


export class EventRecorder {
  private readonly seen = new Map<string, Remembered>();
  private seq = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly client: Client,
    /** source.component / reportingComponent, e.g. "deployment-controller", "default-scheduler". */
    private readonly component: string,
    /** source.host (kubelets set it to their node name). */
    private readonly host?: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an event about `obj`; failures are swallowed (events are best-effort, as upstream). */
  event(obj: InvolvedObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    const p = this.write(obj, type, reason, message, fieldPath).catch(() => undefined);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves when every event recorded so far has been written (for tests and shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async write(obj: InvolvedObject, type: EventType, reason: string, message: string, fieldPath?: string): Promise<void> {
    const m = obj.metadata;
    const namespace = m.namespace || 'default';
    const involvedObject: Record<string, string> = {};
    if (obj.kind) involvedObject.kind = obj.kind;
    if (m.namespace) involvedObject.namespace = m.namespace;
    if (m.name) involvedObject.name = m.name;
    if (m.uid) involvedObject.uid = m.uid;
    if (obj.apiVersion) involvedObject.apiVersion = obj.apiVersion;
    if (m.resourceVersion) involvedObject.resourceVersion = m.resourceVersion;
    if (fieldPath) involvedObject.fieldPath = fieldPath;
    const key = [obj.kind, namespace, m.name, m.uid, fieldPath ?? '', type, reason, message].join('\u0000');
    const nowMs = this.now();
    const ts = rfc3339(nowMs);
    const prev = this.seen.get(key);
    if (prev && nowMs - prev.at < AGGREGATE_MS) {
      prev.count++;
      prev.at = nowMs;
      try {
        await this.client.patch(EVENTS, prev.namespace, prev.name, 'application/merge-patch+json', { count: prev.count, lastTimestamp: ts });
        return;
      } catch {
        // The event was deleted or compacted away: write a fresh one.
      }
    }
    const name = eventName(m.name ?? 'unknown', nowMs, this.seq++);
    const source: Record<string, string> = { component: this.component };
    if (this.host) source.host = this.host;
    const ev: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject,
      reason,
      message,
      source,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    };
    this.remember(key, { name, namespace, count: 1, firstTimestamp: ts, at: nowMs });
    await this.client.create(EVENTS, namespace, ev);
  }

  private remember(key: string, r: Remembered): void {
    if (this.seen.size >= MAX_REMEMBERED) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(key, r);
  }
}
