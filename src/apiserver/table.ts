// Server-side printing: meta.k8s.io/v1 Table replies (columns from the kind's TableDef, rows carrying
// PartialObjectMetadata or the object), for gets, lists and watch events.

import { ageColumn, ageOf, nameColumn } from '../api/kinds/table.js';
import type { ColumnDefinition, KindDef, TableDef } from '../api/kinds/types.js';
import type { KubeObject, ListMeta } from '../api/types.js';
import { partialObjectMetadata, type MetaVersion } from './negotiate.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const defaultTable: TableDef = {
  columns: [nameColumn(), { ...ageColumn(), name: 'Created At', type: 'date' }],
  cells: (obj) => [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''],
};

export function tableDef(def: KindDef): TableDef {
  return def.table ?? defaultTable;
}

export function tableRow(def: KindDef, obj: KubeObject, include: IncludeObject, now: number): Record<string, unknown> {
  let cells: unknown[];
  try {
    cells = tableDef(def).cells(obj, now);
  } catch {
    // A printer must never break a list; fall back to the name and age.
    cells = [obj.metadata.name ?? '', ageOf(obj, now)];
  }
  const row: Record<string, unknown> = { cells };
  if (include === 'Metadata') row.object = partialObjectMetadata(obj, 'v1');
  else if (include === 'Object') row.object = obj;
  return row;
}

export function toTable(def: KindDef, objs: KubeObject[], listMeta: ListMeta, include: IncludeObject, withColumns = true, version: MetaVersion = 'v1'): Record<string, unknown> {
  const now = Date.now();
  const t: Record<string, unknown> = { kind: 'Table', apiVersion: `meta.k8s.io/${version}`, metadata: listMeta };
  if (withColumns) t.columnDefinitions = tableDef(def).columns as ColumnDefinition[];
  t.rows = objs.map((o) => tableRow(def, o, include, now));
  return t;
}
