// Create-only "virtual" resources answered by the server itself: access reviews (authorization.k8s.io),
// SelfSubjectReview (authentication.k8s.io) and core/v1 bindings. Nothing is stored.

import { badRequest, invalidError } from '../api/errors.js';
import type { KindDef } from '../api/kinds/types.js';
import { isObject, type KubeObject } from '../api/types.js';
import type { Authorizer } from './auth.js';
import type { RequestContext } from './registry/store.js';
import { nowRFC3339 } from './registry/store.js';

const create = ['create'];
const v = (group: string, version: string, kind: string, plural: string, namespaced: boolean): KindDef => ({
  group,
  version,
  kind,
  plural,
  singular: '',
  namespaced,
  verbs: create,
});

export const virtualKinds: KindDef[] = [
  v('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  v('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false),
  v('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false),
  v('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', false),
  v('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', false),
];

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export async function handleVirtualCreate(def: KindDef, body: KubeObject, ctx: RequestContext, ns: string | undefined, authorizer: Authorizer): Promise<KubeObject> {
  const out: KubeObject = { ...body, metadata: { ...(body.metadata ?? {}), creationTimestamp: nowRFC3339() } };
  delete out.metadata.resourceVersion;
  const spec = (isObject(body.spec) ? body.spec : {}) as { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: { path?: string; verb?: string }; user?: string; groups?: string[]; namespace?: string };
  switch (def.kind) {
    case 'SelfSubjectAccessReview':
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      const ra = spec.resourceAttributes;
      const nra = spec.nonResourceAttributes;
      if (!ra && !nra) throw invalidError('authorization.k8s.io', def.kind, '', [{ type: 'FieldValueRequired', field: 'spec.resourceAttributes', detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
      if (def.kind === 'LocalSubjectAccessReview' && ra && ra.namespace !== ns) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${ns}`);
      const user = def.kind === 'SelfSubjectAccessReview' ? ctx.user : { username: spec.user ?? '', groups: spec.groups ?? [] };
      const d = await authorizer.authorize({
        user,
        verb: ra?.verb ?? nra?.verb ?? '',
        namespace: ra?.namespace,
        apiGroup: ra?.group,
        resource: ra?.resource,
        subresource: ra?.subresource,
        name: ra?.name,
        path: nra?.path,
        resourceRequest: !!ra,
      });
      out.status = { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) };
      return out;
    }
    case 'SelfSubjectRulesReview': {
      if (!spec.namespace) throw invalidError('authorization.k8s.io', def.kind, '', [{ type: 'FieldValueRequired', field: 'spec.namespace', detail: 'no namespace on request' }]);
      const d = await authorizer.authorize({ user: ctx.user, verb: '*', namespace: spec.namespace, apiGroup: '*', resource: '*', resourceRequest: true });
      out.status = d.allowed
        ? { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false }
        : { resourceRules: [], nonResourceRules: [], incomplete: true };
      return out;
    }
    case 'SelfSubjectReview': {
      out.status = { userInfo: { username: ctx.user.username, ...(ctx.user.uid ? { uid: ctx.user.uid } : {}), groups: ctx.user.groups, ...(ctx.user.extra ? { extra: ctx.user.extra } : {}) } };
      return out;
    }
    default:
      throw badRequest(`unsupported virtual resource ${def.kind}`);
  }
}
