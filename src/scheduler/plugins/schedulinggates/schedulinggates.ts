// SchedulingGates: a pod with spec.schedulingGates is not scheduled until every gate is removed (upstream
// keeps it out of the active queue at PreEnqueue; the scheduler checks `gated` before queueing).

import type { Pod } from '../../../api/corev1/types.js';

export const NAME = 'SchedulingGates';

export const gated = (pod: Pod): boolean => (pod.spec?.schedulingGates ?? []).length > 0;
