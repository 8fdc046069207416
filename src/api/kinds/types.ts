// The per-kind strategy: everything that differs between built-in kinds (defaults, validation, what an update
// may change, Table columns, field selectors, subresources). The generic store (apiserver/registry) does the rest.
// Adding a built-in kind = one file exporting a KindDef, listed in api/kinds/index.ts.

import type { FieldError } from '../errors.js';
import type { KubeObject, ObjectMeta } from '../types.js';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface TableDef {
  columns: ColumnDefinition[];
  /** One row's cells, in column order. `now` is the server clock for ages. */
  cells(obj: KubeObject, now: number): unknown[];
}

/** Where `/scale` reads and writes (autoscaling/v1 Scale). */
export interface ScaleDef {
  /** spec.replicas path, e.g. ['spec','replicas'] */
  specReplicasPath: string[];
  statusReplicasPath: string[];
  /** Compute the `status.selector` string (e.g. "app=web"). */
  selector(obj: KubeObject): string;
}

/** A subresource listed in discovery whose handler lives elsewhere (log, exec, binding, eviction, …). */
export interface ExtraSubresource {
  name: string;
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

/** Another served version of the same kind, converted to/from the stored (first) version. */
export interface ServedVersion {
  version: string;
  /** Convert an object of this version (apiVersion already set to it) to the stored version. */
  toStored(obj: KubeObject): KubeObject;
  /** Convert a stored object to this version. */
  fromStored(obj: KubeObject): KubeObject;
}

export interface KindDef {
  group: string; // '' = core
  /** The stored version; also served. */
  version: string;
  /** Additional served versions (converted). The preferred version of a group is decided in api/kinds/index.ts. */
  otherVersions?: ServedVersion[];
  kind: string;
  listKind?: string; // default `${kind}List`
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Verbs override (default: all of create/delete/deletecollection/get/list/patch/update/watch). */
  verbs?: string[];
  /** Has a `/status` subresource (status ignored on main-resource writes and vice versa). */
  status?: boolean;
  /**
   * Metadata fields a `/status` write cannot change (upstream's status strategy resets them, e.g. pods'
   * ownerReferences, deployments' labels); the others come from the request, as upstream.
   */
  statusResetsMetadata?: Array<keyof ObjectMeta>;
  scale?: ScaleDef;
  extraSubresources?: ExtraSubresource[];
  /** Share storage with another resource (e.g. events.k8s.io events are core events). */
  storedAs?: { group: string; plural: string; toStored(obj: KubeObject): KubeObject; fromStored(obj: KubeObject): KubeObject };

  /** Apply upstream defaulting (mutates). Runs on create and on update, after patching. */
  defaults?(obj: KubeObject): void;
  /** Called on create before validation: reset status, set initial status (e.g. Pod phase Pending). */
  prepareForCreate?(obj: KubeObject): void;
  /** Called on a main-resource update before validation (status already carried over from `old`). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  validate?(obj: KubeObject): FieldError[];
  /** Checks that apply on create only (upstream's Validate vs ValidateUpdate split). */
  validateCreate?(obj: KubeObject): FieldError[];
  /** Validator for metadata.name (default: DNS-1123 subdomain). */
  nameValidator?(name: string): string[];
  /** Extra checks on update (immutable fields …); `validate` also runs on updates. */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Validation of a `/status` update. */
  validateStatusUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Top-level fields whose change bumps metadata.generation; kinds without it get no generation (as pods in 1.32). */
  generationFields?: string[];
  table?: TableDef;
  /** Field-selector values beyond metadata.name / metadata.namespace, e.g. {'spec.nodeName': …}. */
  fieldLabels?(obj: KubeObject): Record<string, string>;
  /**
   * Graceful deletion: the grace period to use given the one requested in DeleteOptions (upstream's
   * CheckGracefulDelete; pods: unscheduled → 0, else requested ?? terminationGracePeriodSeconds). Undefined or
   * absent = delete immediately.
   */
  gracePeriodSeconds?(obj: KubeObject, requested: number | undefined): number | undefined;
  /** Deletion waits while this is true, besides metadata.finalizers (namespaces: spec.finalizers). */
  pendingDeletion?(obj: KubeObject): boolean;
  /** Mutate an object whose deletion starts but must wait (namespaces: status.phase Terminating). */
  prepareForDeletion?(obj: KubeObject): void;
}
