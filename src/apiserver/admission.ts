// The admission chain stage: mutating plugins run first, then validating plugins, on every write; reserving
// plugins (datastore-side allocations) last, once the write is otherwise accepted.
// Plugins are small objects; RBAC-era and quota plugins plug in here later.

import type { KindDef } from '../api/kinds/types.js';
import type { KubeObject } from '../api/types.js';
import type { UserInfo } from './auth.js';
import type { RequestContext, ResourceStore } from './registry/store.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface Attributes {
  operation: Operation;
  def: KindDef;
  namespace: string | undefined;
  name: string;
  /** The new object (mutable in mutating plugins); undefined for DELETE. */
  object: KubeObject | undefined;
  oldObject?: KubeObject;
  subresource?: string;
  user: UserInfo;
  dryRun: boolean;
  store: ResourceStore;
  /** The request's context (hooks to undo or finish work once the write is decided). */
  ctx?: RequestContext;
}

export interface AdmissionPlugin {
  name: string;
  mutate?(a: Attributes): Promise<void> | void;
  validate?(a: Attributes): Promise<void> | void;
  /**
   * Runs once the object has passed validation and every validating plugin, just before the write: for work
   * that writes to the datastore itself (upstream's BeginCreate/BeginUpdate, e.g. Service IP allocation), so a
   * request that is refused anyway never writes anything. May still set fields the allocation decides.
   */
  reserve?(a: Attributes): Promise<void> | void;
}

export class Admission {
  constructor(private readonly plugins: AdmissionPlugin[] = []) {}

  add(p: AdmissionPlugin): void {
    this.plugins.push(p);
  }

  async mutate(a: Attributes): Promise<void> {
    for (const p of this.plugins) if (p.mutate) await p.mutate(a);
  }

  async validate(a: Attributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(a);
  }

  async reserve(a: Attributes): Promise<void> {
    for (const p of this.plugins) if (p.reserve) await p.reserve(a);
  }
}
