// Informer: list+watch one resource into a local cache keyed by namespace/name and tell handlers about adds,
// updates and deletes. Re-lists on 410 Expired (and after errors, with backoff); optional periodic resync.
// On a client marked with shareInformers(), informers of the same resource/namespace/selectors share one cache
// and one watch (client-go's SharedInformerFactory), each keeping its own handlers and resync; a metadata-only
// informer joins a whole-object one that already exists.
// **Cached objects are shared: handlers and readers must clone before mutating.**

import type { KubeObject } from '../api/types.js';
import { isGone, objectKey, type Client, type ObjectList, type Resource, type WatchEvent } from './interface.js';

export interface EventHandler {
  add?(obj: KubeObject): void;
  /** Also called by resync with old === new. */
  update?(oldObj: KubeObject, newObj: KubeObject): void;
  /** The last state seen (after a re-list, the cached state, as client-go's DeletedFinalStateUnknown). */
  delete?(obj: KubeObject): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Cache only meta.k8s.io PartialObjectMetadata (kind, apiVersion, metadata) of each object, as client-go's
   * metadata informers: for controllers that read nothing else (the garbage collector).
   */
  metadataOnly?: boolean;
  /**
   * Drop metadata.managedFields before caching (upstream kube-controller-manager's informers do, since 1.28): the
   * field-ownership records are often the bulk of a small object and no controller reads them. An update sent
   * without managedFields keeps the stored ones. On a shareInformers() client, the client's setting applies.
   */
  stripManagedFields?: boolean;
  /**
   * The first list and every re-list read pages of this many objects (limit/continue, one consistent snapshot), as
   * client-go's reflector does, so neither the server nor this process holds a whole large list at once; 0: one
   * request. Default 500.
   */
  pageSize?: number;
  /** Re-deliver every cached object as an update this often (0: never). */
  resyncMs?: number;
  /** Watch requests ask the server to end after this long (randomised ×1–2 as client-go does); default 300 s. */
  watchTimeoutSeconds?: number;
  /** Called with list/watch failures (which are retried); default: silent. */
  onError?: (err: unknown) => void;
  /** First retry delay after a failed list or watch (doubles to 30 s); default 200 ms. */
  retryBaseMs?: number;
}

/**
 * Informers made on `client` from now on share caches and watches with equal ones (same resource and filters);
 * `stripManagedFields` applies to all of them.
 */
export function shareInformers(client: Client, opts: { stripManagedFields?: boolean } = {}): void {
  if (!shared.has(client)) shared.set(client, { reflectors: new Map(), stripManagedFields: !!opts.stripManagedFields });
}

const shared = new WeakMap<Client, { reflectors: Map<string, Reflector>; stripManagedFields: boolean }>();

/** The object as cached: without metadata.managedFields when asked. */
function trimmed(o: KubeObject, strip: boolean | undefined): KubeObject {
  if (!strip || o?.metadata?.managedFields === undefined) return o;
  // A fresh metadata object rather than `delete`, which would leave it a slow dictionary-mode object.
  const { managedFields: _drop, ...metadata } = o.metadata;
  o.metadata = metadata;
  return o;
}

/** The list+watch loop and cache behind one or more Informers. Starts with its first started view, stops with its last. */
class Reflector {
  readonly cache = new Map<string, KubeObject>();
  private readonly views = new Set<Informer>();
  private stopped = false;
  private started = false;
  private lastRV = '';
  private currentWatch: { stop(): void } | undefined;
  private wake: (() => void) | undefined;
  private syncedResolve!: () => void;
  synced = false;
  readonly hasSynced: Promise<void>;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly resource: Resource,
    private readonly opts: InformerOptions,
    private readonly onIdle: () => void,
  ) {
    this.hasSynced = new Promise((r) => (this.syncedResolve = r));
  }

  attach(v: Informer): void {
    this.views.add(v);
    if (!this.started) {
      this.started = true;
      this.loop = this.run();
    }
  }

  async detach(v: Informer): Promise<void> {
    if (!this.views.delete(v) || this.views.size > 0) return;
    this.stopped = true;
    this.onIdle();
    this.currentWatch?.stop();
    this.wake?.();
    await this.loop;
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: KubeObject, old?: KubeObject): void {
    for (const v of this.views) v.deliver(kind, obj, old);
  }

  private error(e: unknown): void {
    for (const v of this.views) v.error(e);
  }

  /** Replaces the cache with a fresh list, telling handlers what changed (deletes for objects now absent). */
  private replace(items: KubeObject[]): void {
    const seen = new Set<string>();
    for (const o of items) {
      const k = objectKey(o);
      seen.add(k);
      const old = this.cache.get(k);
      this.cache.set(k, o);
      if (!old) this.emit('add', o);
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('update', o, old);
    }
    for (const [k, o] of [...this.cache]) {
      if (seen.has(k)) continue;
      this.cache.delete(k);
      this.emit('delete', o);
    }
  }

  private apply(ev: WatchEvent): void {
    if (ev.object?.metadata?.resourceVersion) this.lastRV = ev.object.metadata.resourceVersion;
    if (ev.type === 'BOOKMARK') return;
    trimmed(ev.object, this.opts.stripManagedFields);
    const k = objectKey(ev.object);
    const old = this.cache.get(k);
    if (ev.type === 'DELETED') {
      this.cache.delete(k);
      this.emit('delete', ev.object);
      return;
    }
    this.cache.set(k, ev.object);
    if (old) this.emit('update', ev.object, old);
    else this.emit('add', ev.object);
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        r();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        r();
      };
    });
  }

  /**
   * One list into the cache; false when stopped meanwhile. Its own frame, so the list (its items array and any
   * object the cache has since replaced) is not kept alive by the loop while it waits on the watch.
   */
  private async relist(): Promise<boolean> {
    const { namespace, labelSelector, fieldSelector, metadataOnly } = this.opts;
    const base = { labelSelector, fieldSelector, ...(metadataOnly ? { metadataOnly } : {}) };
    const pageSize = this.opts.pageSize ?? 500;
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      let page: ObjectList;
      try {
        page = await this.client.list(this.resource, namespace, pageSize > 0 ? { ...base, limit: pageSize, ...(cont ? { continue: cont } : {}) } : base);
      } catch (e) {
        if (!cont || !isGone(e)) throw e;
        // The snapshot the pages were read from was compacted meanwhile: one whole list instead (client-go's pager).
        items.length = 0;
        page = await this.client.list(this.resource, namespace, base);
      }
      if (this.stopped) return false;
      for (const o of page.items) {
        // List items carry no apiVersion/kind; fill them in so handlers see whole objects.
        o.apiVersion ??= page.apiVersion;
        o.kind ??= page.kind?.replace(/List$/, '');
        items.push(trimmed(o, this.opts.stripManagedFields));
      }
      rv = page.metadata.resourceVersion ?? '';
      cont = page.metadata.continue || undefined;
    } while (cont);
    this.replace(items);
    this.lastRV = rv;
    return true;
  }

  private async run(): Promise<void> {
    const base = this.opts.retryBaseMs ?? 200;
    let delay = base;
    let needList = true;
    const { namespace, labelSelector, fieldSelector, metadataOnly } = this.opts;
    while (!this.stopped) {
      try {
        if (needList) {
          if (!(await this.relist())) return;
          needList = false;
          if (!this.synced) {
            this.synced = true;
            this.syncedResolve();
          }
        }
        const t = this.opts.watchTimeoutSeconds ?? 300;
        const w = this.client.watch(
          this.resource,
          namespace,
          { resourceVersion: this.lastRV, allowWatchBookmarks: true, timeoutSeconds: Math.floor(t * (1 + Math.random())), labelSelector, fieldSelector, ...(metadataOnly ? { metadataOnly } : {}) },
          (ev) => this.apply(ev),
        );
        this.currentWatch = w;
        if (this.stopped) w.stop();
        const began = Date.now();
        await w.done;
        // A stream the server ends at once (rather than at timeoutSeconds) must not become a hot loop.
        if (Date.now() - began < 1000 && !this.stopped) {
          await this.sleep(delay);
          delay = Math.min(delay * 2, 30_000);
        } else delay = base;
      } catch (e) {
        if (this.stopped) return;
        needList = true;
        if (isGone(e)) continue; // compacted: re-list at once
        this.error(e);
        await this.sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }
}

export class Informer {
  private readonly handlers: EventHandler[] = [];
  private readonly core: Reflector;
  private started = false;
  private stopped = false;
  private synced = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private syncedResolve!: () => void;
  /** Resolves after the first complete list has been delivered to the handlers. */
  readonly hasSynced: Promise<void>;

  constructor(
    client: Client,
    readonly resource: Resource,
    private readonly opts: InformerOptions = {},
  ) {
    this.hasSynced = new Promise((r) => (this.syncedResolve = r));
    const share = shared.get(client);
    if (!share) {
      this.core = new Reflector(client, resource, opts, () => undefined);
      return;
    }
    const registry = share.reflectors;
    const keyOf = (metadataOnly: boolean) => JSON.stringify([resource.group, resource.version, resource.resource, opts.namespace ?? '', opts.labelSelector ?? '', opts.fieldSelector ?? '', metadataOnly]);
    const key = keyOf(!!opts.metadataOnly);
    // Whole objects serve a metadata-only view too: no second watch when another controller caches them already.
    let core = (opts.metadataOnly ? registry.get(keyOf(false)) : undefined) ?? registry.get(key);
    if (!core) {
      const made = new Reflector(client, resource, { ...opts, stripManagedFields: share.stripManagedFields }, () => {
        if (registry.get(key) === made) registry.delete(key);
      });
      registry.set(key, made);
      core = made;
    }
    this.core = core;
  }

  addEventHandler(h: EventHandler): void {
    this.handlers.push(h);
    if (this.synced) for (const o of this.core.cache.values()) h.add?.(o);
  }

  get(key: string): KubeObject | undefined {
    return this.core.cache.get(key);
  }

  list(): KubeObject[] {
    return [...this.core.cache.values()];
  }

  get isSynced(): boolean {
    return this.synced;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const joinedSynced = this.core.synced;
    this.core.attach(this);
    if (joinedSynced) {
      // Joining a running cache: this informer's handlers see its contents as adds, as a fresh list would give.
      for (const o of this.core.cache.values()) this.deliver('add', o);
      this.markSynced();
    } else void this.core.hasSynced.then(() => this.markSynced());
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const o of this.core.cache.values()) for (const h of this.handlers) h.update?.(o, o);
      }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.started) await this.core.detach(this);
  }

  private markSynced(): void {
    if (this.stopped || this.synced) return;
    this.synced = true;
    this.syncedResolve();
  }

  /** @internal From the shared cache: one event to this informer's handlers. */
  deliver(kind: 'add' | 'update' | 'delete', obj: KubeObject, old?: KubeObject): void {
    if (this.stopped) return;
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(obj);
        else if (kind === 'update') h.update?.(old!, obj);
        else h.delete?.(obj);
      } catch (e) {
        this.opts.onError?.(e);
      }
    }
  }

  /** @internal A list/watch failure of the shared cache (retried there). */
  error(e: unknown): void {
    this.opts.onError?.(e);
  }
}
