// Typed API errors raised anywhere in the API machinery; the HTTP edge turns them into `Status` in one place
// (apiserver/status.ts). Field errors use upstream's wording so kubectl prints upstream's messages.

import type { StatusCause } from './types.js';

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

/** One invalid field, as `details.causes[]` of a 422 Invalid: `field: message`. */
export interface FieldError {
  type: FieldErrorType;
  /** Path such as `spec.containers[0].image` or `metadata.labels`. */
  field: string;
  /** The offending value (rendered into the message for Invalid/NotSupported/Duplicate). */
  value?: unknown;
  /** Detail text; for Required/Forbidden the whole message after the type's prefix. */
  detail?: string;
}

/** A value that prints itself the way Go's %#v would (see api/kinds/meta/gofmt.ts). */
interface GoStringer {
  goString(): string;
  omitted?: boolean;
}
const isGoStringer = (v: unknown): v is GoStringer => typeof v === 'object' && v !== null && typeof (v as GoStringer).goString === 'function';

const quote = (v: unknown): string =>
  isGoStringer(v)
    ? v.goString()
    : typeof v === 'string'
      ? JSON.stringify(v)
      : typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : v === undefined || v === null
          ? 'null'
          : JSON.stringify(v);

/** Upstream's field.Error.ErrorBody(): e.g. `Required value`, `Invalid value: "x": must be …`. */
export function fieldErrorBody(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired':
      return e.detail ? `Required value: ${e.detail}` : 'Required value';
    case 'FieldValueForbidden':
      return e.detail ? `Forbidden: ${e.detail}` : 'Forbidden';
    case 'FieldValueTooLong':
      return `Too long: ${e.detail ?? ''}`.trimEnd();
    case 'FieldValueTooMany':
      return `Too many: ${e.detail ?? ''}`.trimEnd();
    case 'FieldValueDuplicate':
      return `Duplicate value: ${quote(e.value)}`;
    case 'FieldValueNotSupported':
      return `Unsupported value: ${quote(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueNotFound':
      return `Not found: ${quote(e.value)}`;
    case 'FieldValueTypeInvalid':
      return `Invalid value: ${quote(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueInvalid':
    default:
      // field.OmitValueType: upstream prints the detail alone.
      if (isGoStringer(e.value) && e.value.omitted) return `Invalid value: ${e.detail ?? ''}`;
      return `Invalid value: ${quote(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
  }
}

export const required = (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, detail });
export const invalid = (field: string, value: unknown, detail?: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value });
export const tooLong = (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `may not be more than ${max} bytes` });
export const notSupported = (field: string, value: unknown, valid: readonly string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  value,
  detail: valid.length ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : undefined,
});

export function fieldErrorCause(e: FieldError): StatusCause {
  return { reason: e.type, message: fieldErrorBody(e), field: e.field };
}

/** Base of every error the HTTP edge knows how to translate. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number },
  ) {
    super(message);
  }
}

/** `<resource>.<group> "name"` the way upstream's qualified resource prints. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const notFound = (group: string, resource: string, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource });

export const alreadyExists = (group: string, resource: string, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, group, kind: resource });

export const conflict = (group: string, resource: string, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, { name, group, kind: resource });

export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

/** 422 Invalid; `kind` is the Kind (e.g. Pod), as upstream's NewInvalid. */
export function invalidError(group: string, kind: string, name: string, errs: FieldError[]): ApiError {
  const causes = errs.map(fieldErrorCause);
  const agg = causes.map((c) => `${c.field}: ${c.message}`);
  const list = agg.length === 1 ? agg[0] : `[${agg.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${list}`, { name, group, kind, causes });
}

export const badRequest = (message: string, causes?: StatusCause[]): ApiError => new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);
export const forbiddenError = (message: string, details?: ApiError['details']): ApiError => new ApiError(403, 'Forbidden', message, details);
export const methodNotAllowed = (message: string): ApiError => new ApiError(405, 'MethodNotAllowed', message);
export const unsupportedMediaType = (message: string): ApiError => new ApiError(415, 'UnsupportedMediaType', message);
export const tooLarge = (message = 'Request entity too large: limit is 3145728'): ApiError => new ApiError(413, 'RequestEntityTooLarge', message);
export const internalError = (message: string): ApiError => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);
export const gone = (message: string): ApiError => new ApiError(410, 'Gone', message);
export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');
