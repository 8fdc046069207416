// core/v1 kinds, in upstream's discovery order.

import type { KindDef } from '../types.js';

export const coreKinds: KindDef[] = [];
