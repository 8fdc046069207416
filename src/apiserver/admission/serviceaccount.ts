// ServiceAccount admission (upstream plugin/pkg/admission/serviceaccount): a new non-mirror Pod must name a
// ServiceAccount that exists, and gets the `kube-api-access-xxxxx` projected volume (token, cluster CA, namespace)
// mounted in every container at /var/run/secrets/kubernetes.io/serviceaccount unless automounting is off.
// Defaulting spec.serviceAccountName to "default" happens in the Pod kind's admissionDefaults; the `default`
// account itself is not required, because the serviceaccount controller may not have made it yet in a brand-new
// namespace (upstream waits for it briefly instead).

import { randomInt } from 'node:crypto';
import { forbiddenError } from '../../api/errors.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import type { AdmissionPlugin } from '../admission.js';

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** upstream utilrand's alphabet (no vowels, no look-alikes). */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  volumes?: Array<{ name: string }>;
  containers?: Array<{ volumeMounts?: VolumeMount[] }>;
  initContainers?: Array<{ volumeMounts?: VolumeMount[] }>;
}

/** Upstream's projected kube-api-access volume (defaultMode 420 spelled out: defaulting ran before admission). */
export function apiAccessVolume(name: string): Record<string, unknown> {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/**
 * Adds the token volume and its mounts to `spec` (upstream mountServiceAccountToken): containers that already mount
 * something at the token path are left alone; an existing kube-api-access-* volume is reused.
 */
export function mountServiceAccountToken(spec: PodSpec, randomSuffix: () => string): void {
  const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(TOKEN_VOLUME_PREFIX));
  const name = existing?.name ?? TOKEN_VOLUME_PREFIX + randomSuffix();
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === TOKEN_MOUNT_PATH)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
    needed = true;
  }
  if (needed && !existing) spec.volumes = [...(spec.volumes ?? []), apiAccessVolume(name) as { name: string }];
}

export const randomSuffix = (): string => Array.from({ length: 5 }, () => ALPHANUMS[randomInt(ALPHANUMS.length)]).join('');

export function serviceAccountAdmission(kind: (group: string, plural: string) => KindDef | undefined): AdmissionPlugin {
  const isNewPod = (a: { operation: string; subresource?: string; object?: KubeObject; namespace?: string; def: KindDef }): a is { operation: string; object: KubeObject; namespace: string; def: KindDef } =>
    a.operation === 'CREATE' && !a.subresource && !!a.object && !!a.namespace && a.def === kind('', 'pods') && a.object.metadata.annotations?.[MIRROR_ANNOTATION] === undefined;
  return {
    name: 'ServiceAccount',
    async mutate(a) {
      if (!isNewPod(a)) return;
      const spec = a.object.spec as PodSpec | undefined;
      if (!spec) return;
      // The pod's own setting wins; otherwise the account's (upstream shouldAutomount).
      let automount = spec.automountServiceAccountToken;
      if (automount === undefined) {
        const saDef = kind('', 'serviceaccounts');
        const sa = saDef ? await a.store.tryGet(saDef, a.namespace, spec.serviceAccountName || 'default') : undefined;
        automount = (sa as { automountServiceAccountToken?: boolean } | undefined)?.automountServiceAccountToken ?? true;
      }
      if (automount) mountServiceAccountToken(spec, randomSuffix);
    },
    async validate(a) {
      if (!isNewPod(a)) return;
      const sa = (a.object.spec as PodSpec | undefined)?.serviceAccountName;
      if (!sa || sa === 'default') return;
      const saDef = kind('', 'serviceaccounts');
      if (!saDef || (await a.store.tryGet(saDef, a.namespace, sa))) return;
      throw forbiddenError(`pods "${a.name}" is forbidden: error looking up service account ${a.namespace}/${sa}: serviceaccount "${sa}" not found`, { name: a.name, kind: 'pods' });
    },
  };
}
