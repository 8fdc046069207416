// The list of built-in kinds served by the API server. Each entry is a KindDef from its own file.
// Order matters: it is discovery order (kubectl `get all` follows it), and within a group the first
// version listed for that group is the preferred one.

import type { KindDef } from './types.js';

const registered: KindDef[] = [];

/** Register kinds (called by the per-group modules below). */
export function registerKinds(...defs: KindDef[]): void {
  registered.push(...defs);
}

export function allKinds(): readonly KindDef[] {
  return registered;
}

/** Preferred version per group (first version listed wins); '' is core. */
export const groupVersionOrder: { group: string; versions: string[] }[] = [
  { group: '', versions: ['v1'] },
  { group: 'apps', versions: ['v1'] },
  { group: 'events.k8s.io', versions: ['v1'] },
  { group: 'authentication.k8s.io', versions: ['v1'] },
  { group: 'authorization.k8s.io', versions: ['v1'] },
  { group: 'autoscaling', versions: ['v2', 'v1'] },
  { group: 'batch', versions: ['v1'] },
  { group: 'networking.k8s.io', versions: ['v1'] },
  { group: 'policy', versions: ['v1'] },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'] },
  { group: 'storage.k8s.io', versions: ['v1'] },
  { group: 'scheduling.k8s.io', versions: ['v1'] },
  { group: 'coordination.k8s.io', versions: ['v1'] },
  { group: 'discovery.k8s.io', versions: ['v1'] },
];
