// ServiceAccount admission (upstream plugin/pkg/admission/serviceaccount): a new non-mirror Pod must name a
// ServiceAccount that exists. Defaulting spec.serviceAccountName to "default" happens in the Pod kind's
// admissionDefaults; the `default` account itself is not checked, because the serviceaccount controller may not
// have made it yet in a brand-new namespace (upstream waits for it briefly instead).

import { forbiddenError } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { AdmissionPlugin } from '../admission.js';

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export function serviceAccountAdmission(kind: (group: string, plural: string) => KindDef | undefined): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    async validate(a) {
      if (a.operation !== 'CREATE' || a.subresource || !a.object || !a.namespace) return;
      if (a.def !== kind('', 'pods')) return;
      if (a.object.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) return;
      const sa = (a.object.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName;
      if (!sa || sa === 'default') return;
      const saDef = kind('', 'serviceaccounts');
      if (!saDef || (await a.store.tryGet(saDef, a.namespace, sa))) return;
      throw forbiddenError(`pods "${a.name}" is forbidden: error looking up service account ${a.namespace}/${sa}: serviceaccount "${sa}" not found`, { name: a.name, kind: 'pods' });
    },
  };
}
