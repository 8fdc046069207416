// Label selectors: the query-string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and metav1.LabelSelector,
// parsed into one requirement list with upstream's matching semantics and error messages.

import type { LabelSelector } from '../types.js';
import { isQualifiedName, isValidLabelValue } from '../validation/names.js';

export type Operator = 'in' | 'notin' | 'exists' | '!' | '=' | '==' | '!=' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

export interface Selector {
  requirements: Requirement[];
  /** True for the empty selector (matches everything). */
  empty: boolean;
  /** True for a selector that matches nothing (nil LabelSelector semantics where upstream uses labels.Nothing()). */
  nothing?: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
  /** Upstream-style string form, e.g. `app=web,tier in (a,b)`. */
  toString(): string;
}

export class SelectorParseError extends Error {}

function matchReq(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key] : undefined;
  switch (r.op) {
    case '=':
    case '==':
    case 'in':
      return has && r.values.includes(v as string);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(v as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has) return false;
      const n = Number(v);
      if (!Number.isInteger(n)) return false;
      return r.op === 'gt' ? n > Number(r.values[0]) : n < Number(r.values[0]);
    }
  }
}

function reqString(r: Requirement): string {
  switch (r.op) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.op} (${[...r.values].sort().join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
    default:
      return `${r.key}${r.op}${r.values[0]}`;
  }
}

export function makeSelector(requirements: Requirement[], nothing = false): Selector {
  // Upstream sorts requirements by key for the string form.
  const sorted = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements: sorted,
    empty: sorted.length === 0 && !nothing,
    nothing,
    matches(labels) {
      if (nothing) return false;
      const l = labels ?? {};
      for (const r of sorted) if (!matchReq(r, l)) return false;
      return true;
    },
    toString() {
      return sorted.map(reqString).join(',');
    },
  };
}

export const everything = (): Selector => makeSelector([]);
export const nothingSelector = (): Selector => makeSelector([], true);

function validateKey(key: string): void {
  const errs = isQualifiedName(key);
  if (errs.length) throw new SelectorParseError(`unable to parse requirement: key: Invalid value: "${key}": ${errs.join('; ')}`);
}
function validateValue(v: string): void {
  const errs = isValidLabelValue(v);
  if (errs.length) throw new SelectorParseError(`unable to parse requirement: values[0][${v}]: Invalid value: "${v}": ${errs.join('; ')}`);
}

/** Parse the query-string form (labels.Parse). Throws SelectorParseError with upstream-like messages. */
export function parseLabelSelector(input: string): Selector {
  const s = input.trim();
  if (s === '') return everything();
  const reqs: Requirement[] = [];
  let i = 0;
  const n = s.length;
  const skipWs = () => {
    while (i < n && /\s/.test(s[i])) i++;
  };
  const readIdent = (): string => {
    const start = i;
    while (i < n && !/[\s,=!()<>]/.test(s[i])) i++;
    return s.slice(start, i);
  };
  while (i < n) {
    skipWs();
    let negate = false;
    if (s[i] === '!') {
      negate = true;
      i++;
      skipWs();
    }
    const key = readIdent();
    if (!key) throw new SelectorParseError(`unable to parse requirement: found '${s[i] ?? ''}', expected: identifier`);
    validateKey(key);
    skipWs();
    if (negate) {
      reqs.push({ key, op: '!', values: [] });
    } else if (i >= n || s[i] === ',') {
      reqs.push({ key, op: 'exists', values: [] });
    } else if (s.startsWith('==', i) || s.startsWith('!=', i) || s[i] === '=') {
      const op: Operator = s.startsWith('==', i) ? '==' : s.startsWith('!=', i) ? '!=' : '=';
      i += op.length;
      skipWs();
      const v = readIdent();
      validateValue(v);
      reqs.push({ key, op, values: [v] });
    } else if (s[i] === '>' || s[i] === '<') {
      const op: Operator = s[i] === '>' ? 'gt' : 'lt';
      i++;
      skipWs();
      const v = readIdent();
      if (!/^-?\d+$/.test(v)) throw new SelectorParseError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      reqs.push({ key, op, values: [v] });
    } else {
      const word = readIdent();
      const op = word === 'in' ? 'in' : word === 'notin' ? 'notin' : undefined;
      if (!op) throw new SelectorParseError(`unable to parse requirement: found '${word}', expected: in, notin, =, ==, !=, gt, lt`);
      skipWs();
      if (s[i] !== '(') throw new SelectorParseError(`unable to parse requirement: found '${s[i] ?? ''}', expected: '('`);
      i++;
      const values: string[] = [];
      for (;;) {
        skipWs();
        const v = readIdent();
        validateValue(v);
        values.push(v);
        skipWs();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ')') {
          i++;
          break;
        }
        throw new SelectorParseError(`unable to parse requirement: found '${s[i] ?? ''}', expected: ',', ')'`);
      }
      if (values.length === 1 && values[0] === '' && op === 'in') throw new SelectorParseError('unable to parse requirement: for \'in\', \'notin\' operators, values set can\'t be empty');
      reqs.push({ key, op, values });
    }
    skipWs();
    if (i < n) {
      if (s[i] !== ',') throw new SelectorParseError(`found '${s[i]}', expected: ',' or 'end of string'`);
      i++;
      if (i >= n) throw new SelectorParseError(`found '', expected: identifier after ','`);
    }
  }
  return makeSelector(reqs);
}

/** metav1.LabelSelectorAsSelector: nil → nothing; empty → everything. */
export function fromLabelSelector(sel: LabelSelector | undefined | null): Selector {
  if (sel === undefined || sel === null) return nothingSelector();
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    const op: Operator = e.operator === 'In' ? 'in' : e.operator === 'NotIn' ? 'notin' : e.operator === 'Exists' ? 'exists' : '!';
    reqs.push({ key: e.key, op, values: [...(e.values ?? [])] });
  }
  return makeSelector(reqs);
}
