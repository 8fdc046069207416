// core/v1 PodTemplate strategy (pkg/registry/core/podtemplate): template defaulting/validation, generation bumps on
// template changes, and the Table (Containers, Images, Pod Labels).

import { col, formatLabels, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import { ensureObj, obj, objs, str } from './common.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './podspec.js';

export const podTemplates: KindDef = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  singular: 'podtemplate',
  namespaced: true,
  generationFields: ['template'],
  defaults(o) {
    defaultPodTemplateSpec(ensureObj(o, 'template'));
  },
  validate: (o) => validatePodTemplateSpec(o.template, 'template'),
  table: {
    columns: [
      nameColumn(),
      col('Containers', 'string', 'Names of each container in the template.'),
      col('Images', 'string', 'Images referenced by each container in the template.'),
      col('Pod Labels', 'string', 'The labels for the pod template.'),
    ],
    cells(o) {
      const tpl = obj(o.template) ?? {};
      const containers = objs(obj(tpl.spec)?.containers);
      return [
        o.metadata.name,
        containers.map((c) => str(c.name)).join(','),
        containers.map((c) => str(c.image)).join(','),
        formatLabels(obj(obj(tpl.metadata)?.labels) as Record<string, string> | undefined),
      ];
    },
  },
};
