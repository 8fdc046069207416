// DefaultIngressClass admission (upstream plugin/pkg/admission/network/defaultingressclass): a new Ingress that
// names no class (neither spec.ingressClassName nor the legacy kubernetes.io/ingress.class annotation) gets the
// default IngressClass — the one annotated ingressclass.kubernetes.io/is-default-class: "true", the newest when
// several are (as upstream since 1.26). Updates are left alone.

import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import type { AdmissionPlugin } from '../admission.js';
import { ObjectCache } from './cache.js';

export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The default class among `classes`: annotated "true", newest creationTimestamp first, then name. */
export function defaultIngressClass(classes: KubeObject[]): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const c of classes) {
    if (c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] !== 'true') continue;
    if (!best) {
      best = c;
      continue;
    }
    const a = c.metadata.creationTimestamp ?? '';
    const b = best.metadata.creationTimestamp ?? '';
    if (a > b || (a === b && (c.metadata.name ?? '') < (best.metadata.name ?? ''))) best = c;
  }
  return best;
}

export function defaultIngressClassAdmission(kind: (group: string, plural: string) => KindDef | undefined): AdmissionPlugin {
  const classesDef = (): KindDef | undefined => kind('networking.k8s.io', 'ingressclasses');
  const cache = new ObjectCache(classesDef);
  return {
    name: 'DefaultIngressClass',
    async mutate(a) {
      if (a.operation !== 'CREATE' || a.subresource || !a.object || a.def !== kind('networking.k8s.io', 'ingresses')) return;
      const ing = a.object;
      const spec = (ing.spec ??= {}) as { ingressClassName?: string | null };
      if (spec.ingressClassName) return;
      if (ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION] !== undefined) return;
      const def = classesDef();
      if (!def) return;
      const dc = defaultIngressClass(cache.list(a.store, undefined) ?? (await a.store.list(def, undefined)).items);
      if (dc?.metadata.name) spec.ingressClassName = dc.metadata.name;
    },
  };
}
