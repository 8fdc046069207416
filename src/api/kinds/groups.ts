// Kinds of the named API groups (apps, batch, autoscaling, …), in discovery order: groups as upstream lists
// them under /apis, resources of a group alphabetically.

import { controllerRevisionKind } from './apps/controllerrevision.js';
import { daemonSetKind } from './apps/daemonset.js';
import { deploymentKind } from './apps/deployment.js';
import { replicaSetKind } from './apps/replicaset.js';
import { statefulSetKind } from './apps/statefulset.js';
import { hpaKind } from './autoscaling/hpa.js';
import { cronJobKind } from './batch/cronjob.js';
import { jobKind } from './batch/job.js';
import { leaseKind } from './coordination/lease.js';
import { endpointSliceKind } from './discovery/endpointslice.js';
import { eventsV1Kind } from './events/event.js';
import { ingressKind } from './networking/ingress.js';
import { ingressClassKind } from './networking/ingressclass.js';
import { networkPolicyKind } from './networking/networkpolicy.js';
import { pdbKind } from './policy/pdb.js';
import { clusterRoleBindingKind, clusterRoleKind, roleBindingKind, roleKind } from './rbac/rbac.js';
import { priorityClassKind } from './scheduling/priorityclass.js';
import { storageClassKind } from './storage/storageclass.js';
import type { KindDef } from './types.js';

export const groupKinds: KindDef[] = [
  controllerRevisionKind,
  daemonSetKind,
  deploymentKind,
  replicaSetKind,
  statefulSetKind,
  eventsV1Kind,
  hpaKind,
  cronJobKind,
  jobKind,
  ingressClassKind,
  ingressKind,
  networkPolicyKind,
  pdbKind,
  clusterRoleBindingKind,
  clusterRoleKind,
  roleBindingKind,
  roleKind,
  storageClassKind,
  priorityClassKind,
  leaseKind,
  endpointSliceKind,
];
