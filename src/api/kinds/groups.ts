// Kinds of the named API groups (apps, batch, autoscaling, …), in discovery order.

import type { KindDef } from './types.js';

export const groupKinds: KindDef[] = [];
