// Completion indexes of Indexed Jobs (upstream pkg/controller/job/indexed_job_utils.go): reading a pod's index
// from its annotation, and status.completedIndexes as ordered intervals "0-2,4".

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

/** A pod's completion index, or -1 when absent or not a canonical non-negative integer. */
export function completionIndexOf(annotations: Record<string, string> | undefined): number {
  const v = annotations?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^(0|[1-9]\d*)$/.test(v)) return -1;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : -1;
}

/** Parses "1,3-5" into a sorted set of indexes below `completions` (invalid pieces are skipped, as upstream). */
export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (!s) return out;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let i = first; i <= last && i < completions; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as upstream's orderedIntervals.String(): consecutive runs as "a-b", joined by commas. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The lowest `count` indexes below `completions` that are neither succeeded nor held by an active pod. */
export function firstPendingIndexes(succeeded: Set<number>, active: Set<number>, count: number, completions: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!succeeded.has(i) && !active.has(i)) out.push(i);
  return out;
}
