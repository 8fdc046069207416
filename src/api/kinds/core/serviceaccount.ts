// core/v1 ServiceAccount strategy (pkg/registry/core/serviceaccount): DNS-subdomain names (checked by the store),
// the token subresource (authentication.k8s.io/v1 TokenRequest) in discovery, and the Table.

import { ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { arr } from './common.js';

export const serviceAccounts: KindDef = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  extraSubresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
  table: {
    columns: [
      nameColumn(),
      col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'),
      ageColumn(),
    ],
    cells: (o, now) => [o.metadata.name, arr(o.secrets).length, ageOf(o, now)],
  },
};
