// The API client seam every component (controllers, later scheduler and kubelet) codes against: generic verbs
// for any group/version/resource, watch and discovery. `rest.ts` implements it over HTTPS, `fake.ts` in memory.

import type { KubeObject, Status } from '../api/types.js';

/** A group/version/resource, plus whether it lives in namespaces. */
export interface Resource {
  group: string;
  version: string;
  /** Plural resource name as in URLs: "pods", "deployments". */
  resource: string;
  namespaced: boolean;
}

/** One served resource found by discovery (preferred version of its group; subresources excluded). */
export interface ApiResource extends Resource {
  kind: string;
  verbs: string[];
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
  /** Ask for meta.k8s.io PartialObjectMetadataList: items carry only kind, apiVersion and metadata. */
  metadataOnly?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ObjectList {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: KubeObject[];
}

export type PatchType = 'application/merge-patch+json' | 'application/json-patch+json' | 'application/strategic-merge-patch+json';

export interface WatchOptions {
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  /** Events carry meta.k8s.io PartialObjectMetadata instead of the objects (client-go's metadata informers). */
  metadataOnly?: boolean;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: KubeObject;
}

/** A running watch. `done` resolves when the server ends the stream (timeout) and rejects with ApiError on ERROR. */
export interface Watch {
  readonly done: Promise<void>;
  stop(): void;
}

/** A failed request: the server's Status (code 410 with reason Expired for a compacted watch revision). */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: Partial<Status> | undefined;

  constructor(code: number, reason: string, message: string, status?: Partial<Status>) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.status = status;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;
export const isGone = (e: unknown): boolean => e instanceof ApiError && e.code === 410;

export interface Client {
  get(r: Resource, namespace: string | undefined, name: string): Promise<KubeObject>;
  list(r: Resource, namespace: string | undefined, opts?: ListOptions): Promise<ObjectList>;
  /**
   * POST the object to the collection or, with `subresource`, to that subresource of the object named by
   * obj.metadata.name (pods/binding, pods/eviction, serviceaccounts/token); resolves to the reply.
   */
  create(r: Resource, namespace: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject>;
  /** PUT the object (optionally to a subresource: "status", "finalize"); its resourceVersion is the precondition. */
  update(r: Resource, namespace: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject>;
  patch(r: Resource, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: string): Promise<KubeObject>;
  /** DELETE; resolves to the returned object or Status body. */
  delete(r: Resource, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<unknown>;
  deleteCollection(r: Resource, namespace: string | undefined, opts?: DeleteOptions, list?: ListOptions): Promise<unknown>;
  /** Streams events to onEvent (BOOKMARKs included) until stop(), the server's timeout, or an error. */
  watch(r: Resource, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void): Watch;
  /** Served resources, preferred version per group, without subresources. */
  discover(): Promise<ApiResource[]>;
}

/** URL path of a resource collection or object: /api/v1/namespaces/ns/pods/name[/sub]. */
export function resourcePath(r: Resource, namespace: string | undefined, name?: string, subresource?: string): string {
  let p = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

/** The cache key client-go uses: "namespace/name", or "name" for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

/** Splits an objectKey back into namespace and name. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
