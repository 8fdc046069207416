// The garbage collector's dependency graph: every observed object by uid, and for each owner uid (observed or
// not) the uids of the objects whose ownerReferences name it. Pure bookkeeping; no I/O.

import type { OwnerReference } from '../../api/types.js';
import type { ApiResource } from '../../client/interface.js';

export interface GraphNode {
  uid: string;
  resource: ApiResource;
  namespace: string | undefined;
  name: string;
  owners: OwnerReference[];
  /** deletionTimestamp is set. */
  beingDeleted: boolean;
  /** Being deleted with the foregroundDeletion finalizer: waits for its blocking dependents. */
  deletingDependents: boolean;
  /** Being deleted with the orphan finalizer: its dependents must lose their references to it. */
  orphaning: boolean;
}

export interface OwnerChanges {
  added: OwnerReference[];
  removed: OwnerReference[];
  /** References kept but whose blockOwnerDeletion went from true to false. */
  unblocked: OwnerReference[];
}

export class Graph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, Set<string>>();

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** The observed objects whose ownerReferences name ownerUid. */
  dependentsOf(ownerUid: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const d of this.dependents.get(ownerUid) ?? []) {
      const n = this.nodes.get(d);
      if (n) out.push(n);
    }
    return out;
  }

  /** Inserts or replaces a node; reports how its owner references changed. */
  upsert(node: GraphNode): OwnerChanges {
    const old = this.nodes.get(node.uid);
    this.nodes.set(node.uid, node);
    const before = new Map((old?.owners ?? []).map((r) => [r.uid, r]));
    const after = new Map(node.owners.map((r) => [r.uid, r]));
    const changes: OwnerChanges = { added: [], removed: [], unblocked: [] };
    for (const [uid, r] of after) {
      const prev = before.get(uid);
      if (!prev) {
        changes.added.push(r);
        this.link(uid, node.uid);
      } else if (prev.blockOwnerDeletion && !r.blockOwnerDeletion) changes.unblocked.push(r);
    }
    for (const [uid, r] of before) {
      if (after.has(uid)) continue;
      changes.removed.push(r);
      this.unlink(uid, node.uid);
    }
    return changes;
  }

  /** Removes a node; its entry as an owner stays while dependents still name it. */
  remove(uid: string): GraphNode | undefined {
    const node = this.nodes.get(uid);
    if (!node) return undefined;
    this.nodes.delete(uid);
    for (const r of node.owners) this.unlink(r.uid, uid);
    return node;
  }

  private link(owner: string, dep: string): void {
    let s = this.dependents.get(owner);
    if (!s) this.dependents.set(owner, (s = new Set()));
    s.add(dep);
  }

  private unlink(owner: string, dep: string): void {
    const s = this.dependents.get(owner);
    if (!s) return;
    s.delete(dep);
    if (!s.size) this.dependents.delete(owner);
  }
}
