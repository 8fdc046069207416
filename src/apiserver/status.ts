// The one translator from errors to Kubernetes `Status` replies at the HTTP edge.

import { ApiError } from '../api/errors.js';
import type { Status } from '../api/types.js';
import { CompactedError, StorageError } from '../storage/interface.js';

export function statusOf(err: unknown): Status {
  if (err instanceof ApiError) {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: err.reason, code: err.code };
    const details = err.details && omitEmpty(err.details);
    if (details && Object.keys(details).length) s.details = details;
    return s;
  }
  if (err instanceof CompactedError) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'Expired', code: 410 };
  }
  const msg = err instanceof StorageError ? `storage error: ${err.message}` : err instanceof Error ? err.message : String(err);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Internal error occurred: ${msg}`, reason: 'InternalError', details: { causes: [{ message: msg }] }, code: 500 };
}

/** StatusDetails fields are all `omitempty` upstream: an empty group (core) or name is left out. */
function omitEmpty(d: NonNullable<Status['details']>): Status['details'] {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) if (v !== '' && v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  return out as Status['details'];
}

/** A Success Status; `code` follows the HTTP reply (upstream's create handler defaults it to 201). */
export function successStatus(details?: Status['details'], code = 200): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  if (details) s.details = details;
  return s;
}
