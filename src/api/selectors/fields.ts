// Field selectors (`metadata.name=x,status.phase!=Failed`): parsing and matching against a kind's field labels.

export interface FieldRequirement {
  field: string;
  op: '=' | '==' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  empty: boolean;
  matches(fields: Record<string, string>): boolean;
  /** The value this selector pins `field` to with `=`, if any (used to narrow storage reads, e.g. metadata.name). */
  exact(field: string): string | undefined;
}

export class FieldSelectorParseError extends Error {}

/** Split on unescaped commas, honouring upstream's `\,` `\=` `\\` escaping. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

export function parseFieldSelector(input: string): FieldSelector {
  const s = input.trim();
  const reqs: FieldRequirement[] = [];
  if (s !== '') {
    for (const term of splitTerms(s)) {
      if (term === '') continue;
      let m: RegExpMatchArray | null = null;
      for (const op of ['!=', '==', '='] as const) {
        const idx = findUnescaped(term, op);
        if (idx >= 0) {
          m = [term, term.slice(0, idx), op, term.slice(idx + op.length)];
          break;
        }
      }
      if (!m) throw new FieldSelectorParseError(`invalid selector: '${s}'; can't understand '${term}'`);
      reqs.push({ field: unescape(m[1]).trim(), op: m[2] as FieldRequirement['op'], value: unescape(m[3]) });
    }
  }
  return {
    requirements: reqs,
    empty: reqs.length === 0,
    matches(fields) {
      for (const r of reqs) {
        const v = fields[r.field] ?? '';
        if (r.op === '!=' ? v === r.value : v !== r.value) return false;
      }
      return true;
    },
    exact(field) {
      for (const r of reqs) if (r.field === field && r.op !== '!=') return r.value;
      return undefined;
    },
  };
}

function findUnescaped(term: string, op: string): number {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++;
      continue;
    }
    if (term.startsWith(op, i)) return i;
  }
  return -1;
}
