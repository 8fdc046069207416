// An in-memory Client for unit tests: an object tracker with the API server's delete/finalizer rules, watch
// streams fed from its writes, and a log of every action taken (tests assert on the log, not on mock calls).

import type { KubeObject } from '../api/types.js';
import { mergePatch } from '../api/patch/index.js';
import {
  ApiError,
  objectKey,
  type ApiResource,
  type Client,
  type DeleteOptions,
  type ListOptions,
  type ObjectList,
  type PatchType,
  type Resource,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from './interface.js';

export interface Action {
  verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'watch';
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** delete: the propagation policy; update/patch: the body sent. */
  detail?: unknown;
}

interface Subscriber {
  resource: string;
  namespace?: string;
  onEvent: (ev: WatchEvent) => void;
  finish: (err?: Error) => void;
}

const clone = <T>(v: T): T => structuredClone(v);
/** Metadata a `/status` write cannot change, per resource (upstream's status strategies: pods, deployments). */
const STATUS_RESETS: Record<string, string[]> = { pods: ['ownerReferences'], deployments: ['labels'] };

/** The API server's generateName suffix: five characters from upstream's consonant-and-digit alphabet. */
/**
 * A `/status` write as the API server does it: everything but metadata and status from the stored object, the
 * request's metadata except system fields and what the kind's status strategy resets.
 */
function statusWrite(r: Resource, cur: KubeObject, obj: KubeObject): KubeObject {
  const m = clone(obj.metadata);
  const cm = cur.metadata;
  m.uid = cm.uid;
  m.creationTimestamp = cm.creationTimestamp;
  m.deletionTimestamp = cm.deletionTimestamp;
  m.generation = cm.generation;
  for (const f of STATUS_RESETS[r.resource] ?? []) (m as Record<string, unknown>)[f] = clone((cm as Record<string, unknown>)[f]);
  for (const k of Object.keys(m) as Array<keyof typeof m>) if (m[k] === undefined) delete m[k];
  return { ...clone(cur), metadata: m, status: clone(obj.status) };
}

const randomSuffix = (): string => Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[Math.floor(Math.random() * 27)]).join('');

export class FakeClient implements Client {
  readonly actions: Action[] = [];
  /** resource → objectKey → object */
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly subscribers = new Set<Subscriber>();
  private rv = 100;
  /** Every event so far, so a watch from a list's resourceVersion misses nothing written in between. */
  private readonly history: Array<{ resource: string; rv: number; type: WatchEvent['type']; object: KubeObject }> = [];
  private uidSeq = 0;
  private quiet = false;
  /** Make the next request of a verb/resource fail: key "verb resource". */
  readonly failures = new Map<string, ApiError>();

  constructor(readonly resources: ApiResource[] = []) {}

  /** Puts an object in place without recording an action (test set-up). Returns the stored copy. */
  seed(resource: string, obj: KubeObject): KubeObject {
    return this.store(resource, this.fresh(obj), 'ADDED');
  }

  /** Current stored object, or undefined. */
  peek(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(resource).get(namespace ? `${namespace}/${name}` : name);
    return o && clone(o);
  }

  all(resource: string): KubeObject[] {
    return [...this.bucket(resource).values()].map(clone);
  }

  /** Runs writes that no watch will ever report (as if the events were compacted away). */
  async silently<T>(fn: () => Promise<T>): Promise<T> {
    this.quiet = true;
    try {
      return await fn();
    } finally {
      this.quiet = false;
    }
  }

  /** Ends every open watch with 410 Expired (as a compacted revision does). */
  expireWatches(): void {
    for (const s of [...this.subscribers]) s.finish(new ApiError(410, 'Expired', 'too old resource version'));
  }

  /** Ends every open watch normally (as timeoutSeconds does). */
  closeWatches(): void {
    for (const s of [...this.subscribers]) s.finish();
  }

  get openWatches(): number {
    return this.subscribers.size;
  }

  actionsOf(verb: Action['verb']): Action[] {
    return this.actions.filter((a) => a.verb === verb);
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let b = this.objects.get(resource);
    if (!b) this.objects.set(resource, (b = new Map()));
    return b;
  }

  private fresh(obj: KubeObject): KubeObject {
    const o = clone(obj);
    o.metadata.uid ??= `uid-${++this.uidSeq}`;
    o.metadata.creationTimestamp ??= new Date().toISOString();
    return o;
  }

  private store(resource: string, o: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(resource).set(objectKey(o), o);
    this.notify(resource, type, o);
    return clone(o);
  }

  private remove(resource: string, o: KubeObject): void {
    this.bucket(resource).delete(objectKey(o));
    o.metadata.resourceVersion = String(++this.rv);
    this.notify(resource, 'DELETED', o);
  }

  private notify(resource: string, type: WatchEvent['type'], o: KubeObject): void {
    if (this.quiet) return;
    this.history.push({ resource, rv: Number(o.metadata.resourceVersion), type, object: clone(o) });
    for (const s of this.subscribers) {
      if (s.resource !== resource || (s.namespace && s.namespace !== o.metadata.namespace)) continue;
      const ev = { type, object: clone(o) };
      queueMicrotask(() => s.onEvent(ev));
    }
  }

  private record(a: Action): void {
    this.actions.push(a);
    const key = `${a.verb} ${a.resource}`;
    const err = this.failures.get(key);
    if (err) {
      this.failures.delete(key);
      throw err;
    }
  }

  private mustGet(r: Resource, ns: string | undefined, name: string): KubeObject {
    const o = this.bucket(r.resource).get(r.namespaced && ns ? `${ns}/${name}` : name);
    if (!o) throw new ApiError(404, 'NotFound', `${r.resource} "${name}" not found`);
    return o;
  }

  /** Deleted objects with no finalizers left go; namespaces also wait for spec.finalizers. */
  private settle(r: Resource, o: KubeObject): KubeObject {
    const pending = (o.metadata.finalizers ?? []).length > 0 || (r.resource === 'namespaces' && ((o.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0);
    if (o.metadata.deletionTimestamp && !pending) {
      this.remove(r.resource, o);
      return clone(o);
    }
    return this.store(r.resource, o, 'MODIFIED');
  }

  async get(r: Resource, ns: string | undefined, name: string): Promise<KubeObject> {
    this.record({ verb: 'get', resource: r.resource, namespace: ns, name });
    return clone(this.mustGet(r, ns, name));
  }

  async list(r: Resource, ns: string | undefined, opts?: ListOptions): Promise<ObjectList> {
    this.record({ verb: 'list', resource: r.resource, namespace: ns });
    const items = [...this.bucket(r.resource).values()].filter((o) => !ns || o.metadata.namespace === ns).map(clone);
    if (opts?.metadataOnly) return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadataList', metadata: { resourceVersion: String(this.rv) }, items: items.map(partialObjectMetadata) };
    return { apiVersion: r.group ? `${r.group}/${r.version}` : r.version, kind: 'List', metadata: { resourceVersion: String(this.rv) }, items };
  }

  /** Subresources are not served here (404, as a server without them); subclasses add the ones tests need. */
  async create(r: Resource, ns: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject> {
    this.record({ verb: 'create', resource: r.resource, namespace: ns, name: obj.metadata.name, ...(subresource ? { subresource } : {}) });
    if (subresource) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const o = this.fresh(obj);
    if (r.namespaced) o.metadata.namespace = ns;
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = o.metadata.generateName + randomSuffix();
    if (this.bucket(r.resource).has(objectKey(o))) throw new ApiError(409, 'AlreadyExists', `${r.resource} "${o.metadata.name}" already exists`);
    return this.store(r.resource, o, 'ADDED');
  }

  async update(r: Resource, ns: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject> {
    this.record({ verb: 'update', resource: r.resource, namespace: ns, name: obj.metadata.name, subresource, detail: clone(obj) });
    const cur = this.mustGet(r, ns, obj.metadata.name ?? '');
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new ApiError(409, 'Conflict', 'the object has been modified');
    let next: KubeObject;
    if (subresource === 'status') next = statusWrite(r, cur, obj);
    else if (subresource === 'finalize') next = { ...clone(cur), spec: { ...(cur.spec as object), finalizers: (obj.spec as { finalizers?: string[] } | undefined)?.finalizers } };
    else next = { ...clone(obj), metadata: { ...clone(obj.metadata), uid: cur.metadata.uid, deletionTimestamp: cur.metadata.deletionTimestamp } };
    if (next.metadata.deletionTimestamp === undefined) delete next.metadata.deletionTimestamp;
    return this.settle(r, next);
  }

  async patch(r: Resource, ns: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: string): Promise<KubeObject> {
    this.record({ verb: 'patch', resource: r.resource, namespace: ns, name, subresource, detail: clone(patch) });
    if (type !== 'application/merge-patch+json') throw new ApiError(415, 'UnsupportedMediaType', `fake client: ${type} not supported`);
    const cur = this.mustGet(r, ns, name);
    const next = mergePatch(cur, patch) as KubeObject;
    if (next.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new ApiError(409, 'Conflict', 'the object has been modified');
    next.metadata.uid = cur.metadata.uid;
    return this.settle(r, subresource === 'status' ? statusWrite(r, cur, next) : next);
  }

  async delete(r: Resource, ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<unknown> {
    this.record({ verb: 'delete', resource: r.resource, namespace: ns, name, detail: opts.propagationPolicy });
    const cur = this.mustGet(r, ns, name);
    if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid) throw new ApiError(409, 'Conflict', 'Precondition failed: UID');
    const next = clone(cur);
    const fins = new Set(next.metadata.finalizers ?? []);
    if (opts.propagationPolicy === 'Foreground') (fins.add('foregroundDeletion'), fins.delete('orphan'));
    if (opts.propagationPolicy === 'Orphan') (fins.add('orphan'), fins.delete('foregroundDeletion'));
    if (opts.propagationPolicy === 'Background') (fins.delete('orphan'), fins.delete('foregroundDeletion'));
    if (fins.size) next.metadata.finalizers = [...fins];
    else delete next.metadata.finalizers;
    if (!fins.size && r.resource !== 'namespaces') {
      this.remove(r.resource, next);
      return { kind: 'Status', status: 'Success' };
    }
    if (!next.metadata.deletionTimestamp) {
      next.metadata.deletionTimestamp = new Date().toISOString();
      if (r.resource === 'namespaces') next.status = { ...(next.status as object), phase: 'Terminating' };
    }
    return this.settle(r, next);
  }

  async deleteCollection(r: Resource, ns: string | undefined, opts: DeleteOptions = {}, _list?: ListOptions): Promise<unknown> {
    this.record({ verb: 'deletecollection', resource: r.resource, namespace: ns, detail: opts.propagationPolicy });
    for (const o of [...this.bucket(r.resource).values()]) {
      if (ns && o.metadata.namespace !== ns) continue;
      const next = clone(o);
      if ((next.metadata.finalizers ?? []).length) next.metadata.deletionTimestamp ??= new Date().toISOString();
      else next.metadata.deletionTimestamp = new Date().toISOString();
      this.settle(r, next);
    }
    return { kind: 'Status', status: 'Success' };
  }

  watch(r: Resource, ns: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void): Watch {
    this.actions.push({ verb: 'watch', resource: r.resource, namespace: ns, detail: opts.resourceVersion });
    let finish!: (err?: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      finish = (err) => {
        this.subscribers.delete(sub);
        if (err) reject(err);
        else resolve();
      };
    });
    done.catch(() => undefined);
    const deliver = opts.metadataOnly ? (ev: WatchEvent) => onEvent({ type: ev.type, object: partialObjectMetadata(ev.object) }) : onEvent;
    const sub: Subscriber = { resource: r.resource, namespace: ns, onEvent: deliver, finish: (e) => finish(e) };
    this.subscribers.add(sub);
    const from = Number(opts.resourceVersion || this.rv);
    for (const h of this.history) {
      if (h.resource !== r.resource || h.rv <= from || (ns && h.object.metadata.namespace !== ns)) continue;
      const ev = { type: h.type, object: clone(h.object) };
      queueMicrotask(() => onEvent(ev));
    }
    return { done, stop: () => finish() };
  }

  async discover(): Promise<ApiResource[]> {
    const err = this.failures.get('discover ');
    if (err) {
      this.failures.delete('discover ');
      throw err;
    }
    return this.resources.map((r) => ({ ...r }));
  }
}

/** An object as the server's metadata-only representation (meta.k8s.io/v1 PartialObjectMetadata). */
function partialObjectMetadata(o: KubeObject): KubeObject {
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: o.metadata };
}
