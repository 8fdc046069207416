// core/v1 kinds, in upstream's discovery order (bindings and componentstatuses are not storable kinds here).

import type { KindDef } from '../types.js';
import { configMaps } from './configmap.js';
import { endpoints } from './endpoints.js';
import { events } from './event.js';
import { limitRanges } from './limitrange.js';
import { namespaces } from './namespace.js';
import { nodes } from './node.js';
import { persistentVolumeClaims } from './persistentvolumeclaim.js';
import { persistentVolumes } from './persistentvolume.js';
import { pods } from './pod.js';
import { podTemplates } from './podtemplate.js';
import { replicationControllers } from './replicationcontroller.js';
import { resourceQuotas } from './resourcequota.js';
import { secrets } from './secret.js';
import { serviceAccounts } from './serviceaccount.js';
import { services } from './service.js';

export const coreKinds: KindDef[] = [
  configMaps,
  endpoints,
  events,
  limitRanges,
  namespaces,
  nodes,
  persistentVolumeClaims,
  persistentVolumes,
  pods,
  podTemplates,
  replicationControllers,
  resourceQuotas,
  secrets,
  serviceAccounts,
  services,
];
