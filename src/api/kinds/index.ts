// The list of built-in kinds served by the API server, in discovery order (kubectl `get all` follows it).
// Within a group, the first version in groupVersionOrder is the preferred one.

import { coreKinds } from './core/index.js';
import { groupKinds } from './groups.js';
import type { KindDef } from './types.js';

let cached: readonly KindDef[] | undefined;

export function allKinds(): readonly KindDef[] {
  cached ??= [...coreKinds, ...groupKinds];
  return cached;
}

/** Served groups and versions; the first version of a group is its preferred version; '' is core. */
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
