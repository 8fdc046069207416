// Test helpers for kind strategies: render field errors the way upstream's Status message lists them, and
// detect whether api/errors.ts prints pre-rendered Go values raw (see GoValue).

import { fieldErrorBody, type FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { goValue, OMIT_VALUE } from './gofmt.js';

/** `field: body`, one per error, as in `kubectl` output. */
export const messages = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);

/**
 * True when fieldErrorBody prints a GoValue verbatim (needed for upstream's `map[string]string{...}` values) and
 * drops the value of field.OmitValueType errors. Until api/errors.ts does, such cases run as `todo`.
 */
export const goValuesRendered =
  fieldErrorBody({ type: 'FieldValueInvalid', field: 'x', value: goValue('v'), detail: 'd' }) === 'Invalid value: v: d' &&
  fieldErrorBody({ type: 'FieldValueInvalid', field: 'x', value: OMIT_VALUE, detail: 'd' }) === 'Invalid value: d';

export const GO_VALUE_TODO = 'api/errors.ts must print GoValue.goString() raw and omit OMIT_VALUE';

/** A minimal object of a kind for tests. */
export function obj(apiVersion: string, kind: string, name: string, rest: Record<string, unknown>, namespace: string | undefined = 'default'): KubeObject {
  return { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}), uid: 'uid-1', creationTimestamp: '2024-01-01T00:00:00Z' }, ...rest };
}
