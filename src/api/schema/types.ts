// The shape of an OpenAPI v3 schema node as the API machinery uses it (field validation, strategic merge patch,
// server-side apply, `kubectl explain`). Nodes come from api/schema/registry.ts with `$ref`s already resolved.

export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  enum?: unknown[];
  default?: unknown;
  /** Strategic merge patch: "merge", "replace", "retainKeys", "merge,retainKeys". */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  /** Server-side apply: "atomic" | "set" | "map". */
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  /** Name of the definition this node came from, e.g. "io.k8s.api.apps.v1.DeploymentSpec". */
  'x-k8ts-ref'?: string;
}
