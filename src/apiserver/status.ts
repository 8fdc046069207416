// The one translator from errors to Kubernetes `Status` replies at the HTTP edge.

import { ApiError } from '../api/errors.js';
import type { Status } from '../api/types.js';
import { CompactedError, StorageError } from '../storage/interface.js';

export function statusOf(err: unknown): Status {
  if (err instanceof ApiError) {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: err.reason, code: err.code };
    if (err.details && Object.keys(err.details).length) s.details = err.details;
    return s;
  }
  if (err instanceof CompactedError) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'Expired', code: 410 };
  }
  const msg = err instanceof StorageError ? `storage error: ${err.message}` : err instanceof Error ? err.message : String(err);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Internal error occurred: ${msg}`, reason: 'InternalError', details: { causes: [{ message: msg }] }, code: 500 };
}

export function successStatus(details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}
