// The one generic resource store: CRUD, list, watch, optimistic concurrency, generateName, generation,
// graceful deletion and finalizers for every kind; per-kind behaviour comes from the KindDef strategy.
// **Invariant:** every write goes through Store.create/update/delete guarded by the key's mod revision, so a
// rejected request never leaves anything half-written.

import { randomUUID } from 'node:crypto';
import { alreadyExists, ApiError, conflict, expired, invalidError, notFound, OBJECT_MODIFIED, type FieldError } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { FieldSelector } from '../../api/selectors/fields.js';
import type { Selector } from '../../api/selectors/labels.js';
import { isObject, type KubeObject } from '../../api/types.js';
import { validateManagedFields } from '../../api/managedfields/index.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../api/validation/names.js';
import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  type KeyValue,
  type Store,
  type Watcher,
  type WatchEvent,
} from '../../storage/interface.js';
import type { Admission } from '../admission.js';
import type { UserInfo } from '../auth.js';
import { deepEqual, deepClone } from './objects.js';

export interface RequestContext {
  user: UserInfo;
  dryRun: boolean;
  /** fieldManager query parameter, or derived from the User-Agent. */
  fieldManager?: string;
  userAgent?: string;
  /** Warnings to send back as `Warning:` headers. */
  warnings: string[];
  /** Server-side apply computed managedFields itself: don't record an Update operation. */
  skipFieldTracking?: boolean;
  /** Run when the write was refused after admission reserved something (e.g. a ClusterIP). */
  onAbort?: (() => Promise<void>)[];
  /** Run after the write is stored. */
  afterCommit?: (() => Promise<void>)[];
  /** Run after the object is gone from the store. */
  afterDelete?: (() => Promise<void>)[];
}

/** Decoded watch-event values, by the store's (shared) KeyValue object. */
const sharedDecoded = new WeakMap<KeyValue, KubeObject>();
const sharedDeleted = new WeakMap<WatchEvent, KubeObject>();

async function runHooks(hooks: (() => Promise<void>)[] | undefined): Promise<void> {
  if (!hooks?.length) return;
  const list = hooks.splice(0);
  await Promise.allSettled(list.map((h) => h()));
}

/** Hooks to keep metadata.managedFields up to date (implemented by api/managedfields; absent = not tracked). */
export interface FieldManager {
  update(old: KubeObject | undefined, updated: KubeObject, ctx: RequestContext, def: KindDef, subresource?: string): KubeObject;
}

export interface ListOptions {
  labelSelector?: Selector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continueToken?: string;
  /** resourceVersion + resourceVersionMatch=Exact → read at that revision. */
  exactRevision?: number;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export interface DeleteResult {
  /** The object as deleted (or as marked for deletion). */
  object: KubeObject;
  /** False when deletion is pending (graceful deletion or finalizers). */
  deleted: boolean;
}

export interface ObjectEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** The previous state (for MODIFIED/DELETED), used for selector transitions. */
  prev?: KubeObject;
  revision: number;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_CONFLICT_RETRIES = 10;

export function nowRFC3339(d?: Date): string {
  const ms = d ? d.getTime() : Date.now();
  const sec = Math.floor(ms / 1000);
  if (sec !== lastSecond) {
    lastSecond = sec;
    lastFormatted = new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return lastFormatted;
}
// The last second formatted (timestamps have whole-second precision; writes come in bursts).
let lastSecond = NaN;
let lastFormatted = '';

function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return s;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Field-selector values every kind supports plus the kind's own. */
export function fieldSet(def: KindDef, obj: KubeObject): Record<string, string> {
  const f: Record<string, string> = { 'metadata.name': obj.metadata.name ?? '' };
  if (def.namespaced) f['metadata.namespace'] = obj.metadata.namespace ?? '';
  if (def.fieldLabels) Object.assign(f, def.fieldLabels(obj));
  return f;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}
function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString()) as ContinueToken;
    if (typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad');
    return t;
  } catch {
    throw new ApiError(400, 'BadRequest', 'continue key is not valid: illegal base64 data');
  }
}

export class ResourceStore {
  constructor(
    readonly store: Store,
    private readonly admission: Admission,
    private readonly fieldManager?: FieldManager,
  ) {}

  // ---- keys and (de)serialisation -------------------------------------------------------------------------

  private storedGroupPlural(def: KindDef): { group: string; plural: string } {
    return def.storedAs ? { group: def.storedAs.group, plural: def.storedAs.plural } : { group: def.group, plural: def.plural };
  }

  prefix(def: KindDef, ns?: string): string {
    const { group, plural } = this.storedGroupPlural(def);
    const base = `/registry/${group || 'core'}/${plural}/`;
    return def.namespaced && ns ? `${base}${ns}/` : base;
  }

  key(def: KindDef, ns: string | undefined, name: string): string {
    return `${this.prefix(def, def.namespaced ? ns : undefined)}${name}`;
  }

  /** Decode a stored value into the kind's stored version (events.k8s.io views convert here). */
  decode(def: KindDef, kv: KeyValue): KubeObject {
    let obj = JSON.parse(kv.value) as KubeObject;
    obj.metadata.resourceVersion = String(kv.modRevision);
    if (def.storedAs) obj = def.storedAs.fromStored(obj);
    return obj;
  }

  private encode(def: KindDef, obj: KubeObject): string {
    let o = obj;
    if (def.storedAs) o = def.storedAs.toStored(obj);
    const rv = o.metadata.resourceVersion;
    delete o.metadata.resourceVersion;
    const s = JSON.stringify(o);
    if (rv !== undefined) o.metadata.resourceVersion = rv;
    return s;
  }

  private notFound(def: KindDef, name: string): ApiError {
    return notFound(def.group, def.plural, name);
  }

  // ---- reads -----------------------------------------------------------------------------------------------

  async get(def: KindDef, ns: string | undefined, name: string): Promise<KubeObject> {
    const kv = await this.store.get(this.key(def, ns, name));
    if (!kv) throw this.notFound(def, name);
    return this.decode(def, kv);
  }

  async tryGet(def: KindDef, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    const kv = await this.store.get(this.key(def, ns, name));
    return kv ? this.decode(def, kv) : undefined;
  }

  async list(def: KindDef, ns: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const prefix = this.prefix(def, ns);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    let revision = opts.exactRevision ?? 0;
    let startAfter: string | undefined;
    if (opts.continueToken) {
      const t = decodeContinue(opts.continueToken);
      revision = t.rv;
      startAfter = prefix + t.start;
    }
    // Narrow to one key when the field selector pins metadata.name.
    const pinnedName = opts.fieldSelector?.exact('metadata.name');
    const items: KubeObject[] = [];
    const matches = (obj: KubeObject): boolean =>
      (!opts.labelSelector || opts.labelSelector.matches(obj.metadata.labels)) && (!opts.fieldSelector || opts.fieldSelector.matches(fieldSet(def, obj)));
    try {
      if (pinnedName !== undefined && !opts.continueToken && !revision && (def.namespaced ? ns !== undefined : true)) {
        const rev = await this.store.currentRevision();
        const kv = await this.store.get(prefix + pinnedName);
        if (kv) {
          const obj = this.decode(def, kv);
          if (matches(obj)) items.push(obj);
        }
        return { items, resourceVersion: String(rev) };
      }
      for (;;) {
        const page = await this.store.list(prefix, { revision, limit: limit ? Math.max(limit - items.length, limit) : 0, startAfter });
        revision = page.revision;
        let lastKey: string | undefined;
        for (const kv of page.items) {
          lastKey = kv.key;
          const obj = this.decode(def, kv);
          if (!matches(obj)) continue;
          items.push(obj);
          if (limit && items.length >= limit) {
            const idx = page.items.indexOf(kv);
            const more = idx < page.items.length - 1 || page.more;
            if (!more) return { items, resourceVersion: String(revision) };
            const filtered = !!(opts.labelSelector && !opts.labelSelector.empty) || !!(opts.fieldSelector && !opts.fieldSelector.empty);
            const remaining = filtered ? undefined : (page.remaining !== undefined ? page.remaining + (page.items.length - idx - 1) : undefined);
            return {
              items,
              resourceVersion: String(revision),
              continueToken: encodeContinue({ rv: revision, start: kv.key.slice(prefix.length) }),
              remainingItemCount: remaining,
            };
          }
        }
        if (!page.more || !lastKey) break;
        startAfter = lastKey;
      }
    } catch (e) {
      if (e instanceof CompactedError) {
        if (opts.continueToken)
          throw expired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          );
        throw expired(`too old resource version: ${revision} (${e.compacted})`);
      }
      throw e;
    }
    return { items, resourceVersion: String(revision) };
  }

  async count(def: KindDef, ns?: string): Promise<number> {
    return this.store.count(this.prefix(def, ns));
  }

  // ---- writes ----------------------------------------------------------------------------------------------

  private validate(def: KindDef, obj: KubeObject, old?: KubeObject): void {
    const errs: FieldError[] = [];
    errs.push(...validateObjectMeta(obj.metadata, def.namespaced, def.nameValidator));
    errs.push(...validateManagedFields(obj));
    if (old) errs.push(...validateObjectMetaUpdate(obj.metadata, old.metadata));
    if (def.validate) errs.push(...def.validate(obj));
    if (!old && def.validateCreate) errs.push(...def.validateCreate(obj));
    if (old && def.validateUpdate) errs.push(...def.validateUpdate(obj, old));
    if (errs.length) throw invalidError(def.group, def.kind, obj.metadata.name ?? obj.metadata.generateName ?? '', errs);
  }

  /** Create an object (already decoded into the stored version, namespace resolved). */
  async create(def: KindDef, ns: string | undefined, input: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    try {
      const out = await this.createInner(def, ns, input, ctx);
      await runHooks(ctx.afterCommit);
      return out;
    } catch (e) {
      await runHooks(ctx.onAbort);
      throw e;
    }
  }

  private async createInner(def: KindDef, ns: string | undefined, input: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    const obj = input;
    obj.apiVersion = apiVersionOf(def.group, def.version);
    obj.kind = def.kind;
    if (!isObject(obj.metadata)) obj.metadata = {};
    const meta = obj.metadata;
    if (def.namespaced) meta.namespace = ns;
    else delete meta.namespace;
    if (meta.resourceVersion) throw new ApiError(400, 'BadRequest', 'resourceVersion should not be set on objects to be created');
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    meta.uid = randomUUID();
    meta.creationTimestamp = nowRFC3339();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (def.generationFields) meta.generation = 1;
    else delete meta.generation;
    def.defaults?.(obj);
    def.prepareForCreate?.(obj);
    await this.admission.mutate({ operation: 'CREATE', def, namespace: ns, name: meta.name ?? '', object: obj, user: ctx.user, dryRun: ctx.dryRun, store: this, ctx });
    this.validate(def, obj);
    await this.admission.validate({ operation: 'CREATE', def, namespace: ns, name: meta.name ?? '', object: obj, user: ctx.user, dryRun: ctx.dryRun, store: this, ctx });
    await this.admission.reserve({ operation: 'CREATE', def, namespace: ns, name: meta.name ?? '', object: obj, user: ctx.user, dryRun: ctx.dryRun, store: this, ctx });
    const tracked = this.fieldManager && !ctx.skipFieldTracking ? this.fieldManager.update(undefined, obj, ctx, def) : obj;
    if (ctx.dryRun) {
      if (await this.store.get(this.key(def, ns, meta.name!))) throw alreadyExists(def.group, def.plural, meta.name!);
      return tracked;
    }
    try {
      const kv = await this.store.create(this.key(def, ns, meta.name!), this.encode(def, tracked));
      tracked.metadata.resourceVersion = String(kv.modRevision);
      return tracked;
    } catch (e) {
      if (e instanceof KeyExistsError) throw alreadyExists(def.group, def.plural, meta.name!);
      throw e;
    }
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` gets a private copy of the current object and
   * returns the desired object (or throws). Retries on a concurrent write unless `preconditionRV` pins the version.
   * Returns the stored object; a no-op returns the current object without writing.
   */
  async guaranteedUpdate(
    def: KindDef,
    ns: string | undefined,
    name: string,
    ctx: RequestContext,
    mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    opts: { subresource?: string; preconditionRV?: string; allowCreate?: (ns: string | undefined) => Promise<KubeObject> } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    try {
      const out = await this.guaranteedUpdateInner(def, ns, name, ctx, mutate, opts);
      await runHooks(ctx.afterCommit);
      return out;
    } catch (e) {
      await runHooks(ctx.onAbort);
      throw e;
    }
  }

  private async guaranteedUpdateInner(
    def: KindDef,
    ns: string | undefined,
    name: string,
    ctx: RequestContext,
    mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    opts: { subresource?: string; preconditionRV?: string; allowCreate?: (ns: string | undefined) => Promise<KubeObject> },
  ): Promise<{ object: KubeObject; created: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const key = this.key(def, ns, name);
      const kv = await this.store.get(key);
      if (!kv) {
        if (opts.allowCreate) return { object: await opts.allowCreate(ns), created: true };
        throw this.notFound(def, name);
      }
      const current = this.decode(def, kv);
      const desired = await mutate(deepClone(current));
      const rvWanted = opts.preconditionRV ?? desired.metadata?.resourceVersion;
      if (rvWanted && rvWanted !== current.metadata.resourceVersion) throw conflict(def.group, def.plural, name, OBJECT_MODIFIED);
      const next = await this.prepareUpdate(def, ns, current, desired, ctx, opts.subresource);
      if (next === current) return { object: current, created: false };
      if (ctx.dryRun) return { object: next, created: false };
      try {
        if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0 && this.readyToDelete(next) && !def.pendingDeletion?.(next)) {
          const del = await this.store.delete(key, kv.modRevision);
          next.metadata.resourceVersion = String(del.modRevision);
          return { object: next, created: false };
        }
        const out = await this.store.update(key, this.encode(def, next), kv.modRevision);
        next.metadata.resourceVersion = String(out.modRevision);
        return { object: next, created: false };
      } catch (e) {
        if (e instanceof RevisionMismatchError || e instanceof KeyNotFoundError) {
          if (rvWanted || attempt >= MAX_CONFLICT_RETRIES) throw conflict(def.group, def.plural, name, OBJECT_MODIFIED);
          continue;
        }
        throw e;
      }
    }
  }

  /** An object whose deletion is pending can go once its grace period is over (pods: kubelet sets grace 0). */
  private readyToDelete(obj: KubeObject): boolean {
    return (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
  }

  /** Apply update semantics to `desired` (based on `current`); returns `current` itself for a no-op. */
  private async prepareUpdate(def: KindDef, ns: string | undefined, current: KubeObject, desired: KubeObject, ctx: RequestContext, subresource?: string): Promise<KubeObject> {
    if (!isObject(desired) || !isObject(desired.metadata)) throw new ApiError(400, 'BadRequest', 'the object has no metadata');
    const obj = desired;
    obj.apiVersion = apiVersionOf(def.group, def.version);
    obj.kind = def.kind;
    const meta = obj.metadata;
    const cm = current.metadata;
    if (def.namespaced) meta.namespace = meta.namespace ?? ns;
    // System-owned metadata cannot be changed by updates.
    if (meta.uid === undefined || meta.uid === '') meta.uid = cm.uid;
    if (meta.creationTimestamp === undefined || meta.creationTimestamp === null) meta.creationTimestamp = cm.creationTimestamp;
    meta.deletionTimestamp = cm.deletionTimestamp;
    meta.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
    if (meta.deletionTimestamp === undefined) delete meta.deletionTimestamp;
    if (meta.deletionGracePeriodSeconds === undefined) delete meta.deletionGracePeriodSeconds;
    if (cm.generation !== undefined) meta.generation = cm.generation;
    else delete meta.generation;
    delete meta.selfLink;

    if (subresource === 'finalize') {
      // /finalize changes only spec.finalizers (namespaces).
      const fins = (isObject(obj.spec) ? (obj.spec as { finalizers?: unknown }).finalizers : undefined) as string[] | undefined;
      const next = deepClone(current);
      const spec = (isObject(next.spec) ? next.spec : (next.spec = {})) as { finalizers?: string[] };
      if (fins === undefined) delete spec.finalizers;
      else spec.finalizers = fins;
      Object.assign(obj, next);
      for (const k of Object.keys(obj)) if (!(k in next)) delete obj[k];
    } else if (subresource === 'binding') {
      // pods/binding: the binding handler's change (nodeName, PodScheduled, annotations) is the whole update and
      // is exempt from the pod spec's update rules, as upstream's BindingREST writes it directly.
    } else if (subresource === 'status') {
      // Status updates keep everything but status and metadata from the stored object (upstream's status
      // strategies reset spec); metadata is the request's (system fields fixed above) except the fields the
      // kind's status strategy resets (pods: ownerReferences; deployments: labels).
      const keepStatus = obj.status;
      const next = deepClone(current);
      if (keepStatus === undefined) delete next.status;
      else next.status = keepStatus;
      next.metadata = { ...meta, resourceVersion: meta.resourceVersion ?? cm.resourceVersion };
      for (const f of def.statusResetsMetadata ?? []) {
        if (cm[f] === undefined) delete next.metadata[f];
        else (next.metadata as Record<string, unknown>)[f] = deepClone(cm[f]);
      }
      Object.assign(obj, next);
      for (const k of Object.keys(obj)) if (!(k in next)) delete obj[k];
      if (def.validateStatusUpdate) {
        const errs = def.validateStatusUpdate(obj, current);
        if (errs.length) throw invalidError(def.group, def.kind, cm.name ?? '', errs);
      }
    } else {
      if (def.status) {
        if (current.status === undefined) delete obj.status;
        else obj.status = deepClone(current.status);
      }
      def.defaults?.(obj);
      def.prepareForUpdate?.(obj, current);
      if (def.generationFields) {
        const changed = def.generationFields.some((f) => !deepEqual(obj[f], current[f]));
        if (changed) meta.generation = (cm.generation ?? 0) + 1;
      }
      // Once deletion started, finalizers may only be removed, not added (upstream).
      if (cm.deletionTimestamp) {
        const added = (meta.finalizers ?? []).filter((f) => !(cm.finalizers ?? []).includes(f));
        if (added.length)
          throw invalidError(def.group, def.kind, cm.name ?? '', [
            { type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` },
          ]);
      }
    }
    await this.admission.mutate({ operation: 'UPDATE', def, namespace: ns, name: cm.name ?? '', object: obj, oldObject: current, subresource, user: ctx.user, dryRun: ctx.dryRun, store: this, ctx });
    if (subresource !== 'status' && subresource !== 'binding') this.validate(def, obj, current);
    await this.admission.validate({ operation: 'UPDATE', def, namespace: ns, name: cm.name ?? '', object: obj, oldObject: current, subresource, user: ctx.user, dryRun: ctx.dryRun, store: this, ctx });
    await this.admission.reserve({ operation: 'UPDATE', def, namespace: ns, name: cm.name ?? '', object: obj, oldObject: current, subresource, user: ctx.user, dryRun: ctx.dryRun, store: this, ctx });
    // A binding writes no managedFields entry: upstream's BindingREST updates storage directly, past the field manager.
    const tracked = this.fieldManager && !ctx.skipFieldTracking && subresource !== 'binding' ? this.fieldManager.update(current, obj, ctx, def, subresource) : obj;
    const a = { ...tracked, metadata: { ...tracked.metadata, resourceVersion: undefined } };
    const b = { ...current, metadata: { ...current.metadata, resourceVersion: undefined } };
    if (deepEqual(a, b)) return current;
    return tracked;
  }

  /** PUT: replace the object (resourceVersion precondition when given). */
  async update(def: KindDef, ns: string | undefined, name: string, obj: KubeObject, ctx: RequestContext, subresource?: string): Promise<{ object: KubeObject; created: boolean }> {
    if (!isObject(obj.metadata)) obj.metadata = {};
    if (obj.metadata.name !== undefined && obj.metadata.name !== name)
      throw new ApiError(400, 'BadRequest', `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    obj.metadata.name = name;
    const rv = obj.metadata.resourceVersion;
    return this.guaranteedUpdate(def, ns, name, ctx, () => obj, { subresource, preconditionRV: rv || undefined });
  }

  /** DELETE with graceful deletion, finalizers and propagation policy. */
  async delete(def: KindDef, ns: string | undefined, name: string, opts: DeleteOptions, ctx: RequestContext): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      const key = this.key(def, ns, name);
      const kv = await this.store.get(key);
      if (!kv) throw this.notFound(def, name);
      const current = this.decode(def, kv);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid)
        throw conflict(def.group, def.plural, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)
        throw conflict(def.group, def.plural, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
      await this.admission.validate({ operation: 'DELETE', def, namespace: ns, name, object: undefined, oldObject: current, user: ctx.user, dryRun: ctx.dryRun, store: this, ctx });

      const next = deepClone(current);
      const m = next.metadata;
      let changed = false;
      // Propagation policy → GC finalizers (the garbage collector honours them).
      const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
      const fins = new Set(m.finalizers ?? []);
      if (policy === 'Foreground' && !fins.has('foregroundDeletion')) {
        fins.add('foregroundDeletion');
        fins.delete('orphan');
        changed = true;
      } else if (policy === 'Orphan' && !fins.has('orphan')) {
        fins.add('orphan');
        fins.delete('foregroundDeletion');
        changed = true;
      } else if (policy === 'Background' && (fins.has('orphan') || fins.has('foregroundDeletion'))) {
        fins.delete('orphan');
        fins.delete('foregroundDeletion');
        changed = true;
      }
      // Foreground/Orphan only matter when the object may have dependents; upstream always sets them.
      if (fins.size) m.finalizers = [...fins];
      else delete m.finalizers;

      let grace = def.gracePeriodSeconds?.(current, opts.gracePeriodSeconds);
      if (grace !== undefined && grace < 0) grace = 0;
      const graceful = grace !== undefined && grace > 0;
      if (m.deletionTimestamp) {
        // Already being deleted: a shorter grace period may be requested (upstream allows shortening).
        if (grace !== undefined && m.deletionGracePeriodSeconds !== undefined && grace < m.deletionGracePeriodSeconds) {
          m.deletionGracePeriodSeconds = grace;
          m.deletionTimestamp = nowRFC3339(new Date(Date.now() + grace * 1000));
          changed = true;
        }
      } else if (graceful || fins.size > 0 || def.pendingDeletion?.(next)) {
        m.deletionTimestamp = nowRFC3339(new Date(Date.now() + (grace ?? 0) * 1000));
        m.deletionGracePeriodSeconds = grace ?? 0;
        def.prepareForDeletion?.(next);
        changed = true;
      }
      const pendingFinalizers = (m.finalizers ?? []).length > 0 || (def.pendingDeletion?.(next) ?? false);
      const immediate = !pendingFinalizers && (m.deletionGracePeriodSeconds ?? 0) === 0;
      if (ctx.dryRun) return { object: next, deleted: immediate };
      try {
        if (immediate) {
          const del = await this.store.delete(key, kv.modRevision);
          next.metadata.resourceVersion = String(del.modRevision);
          await runHooks(ctx.afterDelete);
          return { object: next, deleted: true };
        }
        if (!changed) return { object: current, deleted: false };
        if (m.generation !== undefined) m.generation += 1;
        const out = await this.store.update(key, this.encode(def, next), kv.modRevision);
        next.metadata.resourceVersion = String(out.modRevision);
        return { object: next, deleted: false };
      } catch (e) {
        if ((e instanceof RevisionMismatchError || e instanceof KeyNotFoundError) && attempt < MAX_CONFLICT_RETRIES) {
          if (e instanceof KeyNotFoundError) throw this.notFound(def, name);
          continue;
        }
        throw e;
      }
    }
  }

  // ---- watch -----------------------------------------------------------------------------------------------

  /**
   * Watch objects of a kind (optionally in one namespace) from a revision, with selector transitions
   * (an object leaving the selector is DELETED, entering it is ADDED), as upstream's watch cache does.
   */
  /**
   * Decodes a watch event's stored value once for every watcher the store hands the same event to (1,000 watchers
   * of a namespace share one JSON.parse). **The result is shared: consumers must not mutate it.**
   */
  private decodeShared(def: KindDef, kv: KeyValue): KubeObject {
    let o = sharedDecoded.get(kv);
    if (o === undefined) {
      o = this.decode(def, kv);
      sharedDecoded.set(kv, o);
    }
    return o;
  }

  /** The last state of a deleted object stamped with the deletion's revision; shared like decodeShared. */
  private deletedShared(def: KindDef, ev: WatchEvent, prev: KubeObject | undefined): KubeObject {
    let o = sharedDeleted.get(ev);
    if (o === undefined) {
      const base = prev ?? this.decodeShared(def, ev.kv);
      o = { ...base, metadata: { ...base.metadata, resourceVersion: String(ev.revision) } };
      sharedDeleted.set(ev, o);
    }
    return o;
  }

  watch(
    def: KindDef,
    ns: string | undefined,
    fromRevision: number,
    filter: (obj: KubeObject) => boolean,
    onEvents: (events: ObjectEvent[]) => void,
    onError: (err: Error) => void,
  ): Watcher {
    return this.store.watch(this.prefix(def, ns), fromRevision, {
      onEvents: (evs: WatchEvent[]) => {
        const out: ObjectEvent[] = [];
        for (const ev of evs) {
          try {
            const cur = ev.type === 'put' ? this.decodeShared(def, ev.kv) : undefined;
            const prev = ev.prev ? this.decodeShared(def, ev.prev) : undefined;
            const curOk = cur ? filter(cur) : false;
            const prevOk = prev ? filter(prev) : false;
            if (ev.type === 'put' && cur) {
              if (curOk && prevOk) out.push({ type: 'MODIFIED', object: cur, prev, revision: ev.revision });
              else if (curOk) out.push({ type: 'ADDED', object: cur, prev, revision: ev.revision });
              else if (prevOk && prev) {
                // Left the selector: report the new state as DELETED (upstream sends the new object).
                out.push({ type: 'DELETED', object: cur, prev, revision: ev.revision });
              }
            } else if (ev.type === 'delete') {
              const last = this.deletedShared(def, ev, prev);
              if (filter(last)) out.push({ type: 'DELETED', object: last, revision: ev.revision });
            }
          } catch (e) {
            onError(e as Error);
            return;
          }
        }
        if (out.length) onEvents(out);
      },
      onError,
    });
  }
}
