// metav1.LabelSelector helpers with upstream semantics, over the shared selector model (api/selectors/labels):
// LabelSelectorAsSelector with its error cases, the String() form used by /scale status.selector and the wide
// Selector columns, and ValidateLabelSelector.

import { forbidden, invalid, required, type FieldError } from '../../errors.js';
import { everything, makeSelector, nothingSelector, type Operator, type Requirement, type Selector } from '../../selectors/labels.js';
import type { LabelSelector } from '../../types.js';
import { isQualifiedName, isValidLabelValue, validateLabels } from '../../validation/names.js';

export type { Selector };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class SelectorError extends Error {}

const OPERATORS: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector with its error cases (unknown operator, empty In/NotIn values, bad keys or
 * values): nil → Nothing, {} → Everything. Throws SelectorError where upstream returns an error.
 */
export function labelSelectorAsSelector(sel: unknown): Selector {
  if (sel === undefined || sel === null) return nothingSelector();
  if (!isRecord(sel)) throw new SelectorError('selector must be an object');
  const reqs: Requirement[] = [];
  if (isRecord(sel.matchLabels)) for (const [k, v] of Object.entries(sel.matchLabels)) reqs.push(newRequirement(k, '=', [String(v)]));
  if (Array.isArray(sel.matchExpressions))
    for (const e of sel.matchExpressions) {
      if (!isRecord(e)) throw new SelectorError('matchExpressions entries must be objects');
      const op = OPERATORS[String(e.operator)];
      if (!op) throw new SelectorError(`${JSON.stringify(String(e.operator ?? ''))} is not a valid label selector operator`);
      reqs.push(newRequirement(String(e.key ?? ''), op, Array.isArray(e.values) ? e.values.map((x) => String(x)) : []));
    }
  return reqs.length === 0 ? everything() : makeSelector(reqs);
}

/** labels.NewRequirement's checks. */
function newRequirement(key: string, op: Operator, values: string[]): Requirement {
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) throw new SelectorError(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);
  if ((op === 'in' || op === 'notin') && values.length === 0) throw new SelectorError("for 'in', 'notin' operators, values set can't be empty");
  if ((op === 'exists' || op === '!') && values.length !== 0) throw new SelectorError('values set must be empty for exists and does not exist');
  for (const v of values) {
    const errs = isValidLabelValue(v);
    if (errs.length) throw new SelectorError(`values[0][${key}]: Invalid value: ${JSON.stringify(v)}: ${errs.join('; ')}`);
  }
  return { key, op, values };
}

/**
 * The selector string of a metav1.LabelSelector, as `/scale` reports it in status.selector
 * (LabelSelectorAsSelector(sel).String(), e.g. `app=web,tier in (a,b)`; "" for nil or {}).
 * Throws SelectorError on a selector upstream cannot convert.
 */
export function selectorString(sel: LabelSelector | undefined | null | unknown): string {
  return labelSelectorAsSelector(sel).toString();
}

/** metav1.FormatLabelSelector: like selectorString, but "<none>" when empty and "<error>" when invalid. */
export function formatLabelSelector(sel: unknown): string {
  try {
    const s = selectorString(sel);
    return s === '' ? '<none>' : s;
  } catch {
    return '<error>';
  }
}

/** labels.Selector.Matches. */
export const selectorMatches = (s: Selector, labels: Record<string, string> | undefined): boolean => s.matches(labels);

/** labels.Selector.Empty(): true only for Everything. */
export const selectorEmpty = (s: Selector): boolean => s.empty;

/** Convert a LabelSelector and match, false when it does not convert. */
export function labelSelectorMatches(sel: unknown, labels: Record<string, string> | undefined): boolean {
  try {
    return selectorMatches(labelSelectorAsSelector(sel), labels);
  } catch {
    return false;
  }
}

/** metav1validation.ValidateLabelSelector. */
export function validateLabelSelector(sel: unknown, path: string, allowInvalidLabelValue = false): FieldError[] {
  const errs: FieldError[] = [];
  if (sel === undefined || sel === null) return errs;
  if (!isRecord(sel)) return [invalid(path, sel, 'must be an object')];
  errs.push(...validateLabels(sel.matchLabels, `${path}.matchLabels`));
  const me = sel.matchExpressions;
  if (me !== undefined && me !== null && !Array.isArray(me)) return [...errs, invalid(`${path}.matchExpressions`, me, 'must be a list')];
  (Array.isArray(me) ? me : []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const r = isRecord(e) ? e : {};
    const values = Array.isArray(r.values) ? r.values : [];
    switch (r.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, String(r.operator ?? ''), 'not a valid selector operator'));
    }
    const key = String(r.key ?? '');
    for (const m of isQualifiedName(key)) errs.push(invalid(`${p}.key`, key, m));
    if (!allowInvalidLabelValue)
      values.forEach((v, j) => {
        for (const m of isValidLabelValue(String(v))) errs.push(invalid(`${p}.values[${j}]`, String(v), m));
      });
  });
  return errs;
}

/** Number of matchLabels + matchExpressions (upstream's "empty selector" test). */
export function selectorSize(sel: unknown): number {
  if (!isRecord(sel)) return 0;
  return (isRecord(sel.matchLabels) ? Object.keys(sel.matchLabels).length : 0) + (Array.isArray(sel.matchExpressions) ? sel.matchExpressions.length : 0);
}
