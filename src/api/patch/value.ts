// JSON value helpers shared by the patch engines: safe cloning and key setting (no prototype tricks), key-order-
// insensitive equality, Go `%v` rendering for upstream-identical error text, and a JSON decoder whose syntax errors
// read like Go's encoding/json (what kubectl prints after "Error from server (BadRequest): ").

export type JsonObject = Record<string, unknown>;

const hasOwnProperty = Object.prototype.hasOwnProperty;

export const hasOwn = (o: object, k: string): boolean => hasOwnProperty.call(o, k);

export const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Sets `o[k]` as an own data property, also for `__proto__` (plain assignment would change the prototype). */
export function setKey(o: JsonObject, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** Deep copy of a JSON value. */
export function clone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = clone(v[i]);
    return out as T;
  }
  const out: JsonObject = {};
  for (const k of Object.keys(v)) setKey(out, k, clone((v as JsonObject)[k]));
  return out as T;
}

/**
 * Deep equality of JSON values: object key order is ignored, array order is not, and a key holding `undefined` counts
 * as absent. Used to detect no-op patches (no resourceVersion bump) and by the JSON patch `test` operation.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const aArr = Array.isArray(a);
  if (aArr !== Array.isArray(b)) return false;
  if (aArr) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as JsonObject;
  const y = b as JsonObject;
  let n = 0;
  for (const k of Object.keys(x)) {
    const xv = x[k];
    if (xv === undefined) continue;
    n++;
    if (!hasOwn(y, k) || !deepEqual(xv, y[k])) return false;
  }
  let m = 0;
  for (const k of Object.keys(y)) if (y[k] !== undefined) m++;
  return n === m;
}

/**
 * Go's `%v` of a number decoded from JSON: integers are int64 (the API server decodes patches preserving ints),
 * other values float64 printed as shortest `%g` (exponent form when exp < -4 or exp >= 6).
 */
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const [mant, expStr] = n.toExponential().split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** Go's `fmt.Sprintf("%v", x)` for values decoded from JSON into interface{} (maps print sorted). */
export function goFmt(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(goFmt).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as JsonObject;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goFmt(o[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** Go's reflect type name of a JSON-decoded value, as printed by mergepatch.ErrBadArgType. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'object':
      return 'map[string]interface {}';
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(v) ? 'int64' : 'float64';
    case 'boolean':
      return 'bool';
    default:
      return typeof v;
  }
}

/** The word encoding/json uses for a JSON value in "json: cannot unmarshal <word> into Go value of type T". */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'object':
      return 'object';
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return typeof v;
  }
}

/** A JSON syntax error, with encoding/json's wording. */
export class JsonSyntaxError extends Error {}

/** encoding/json's maximum nesting depth. */
export const MAX_JSON_DEPTH = 10000;

/**
 * Parses JSON text. Syntax errors (and nesting deeper than encoding/json allows) throw JsonSyntaxError with the
 * message Go's decoder would give, e.g. `invalid character 'x' looking for beginning of value`.
 */
export function decodeJson(input: string | Uint8Array): unknown {
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
    throw new JsonSyntaxError(goSyntaxError(bytes) ?? (e as Error).message);
  }
  if (text.length > MAX_JSON_DEPTH && value !== null && typeof value === 'object' && tooDeep(text)) {
    throw new JsonSyntaxError(`invalid character ${quoteChar(text.charCodeAt(deepestOpen(text)))} exceeded max depth`);
  }
  return value;
}

function tooDeep(text: string): boolean {
  return deepestOpen(text) >= 0;
}

/** Index of the bracket that first exceeds MAX_JSON_DEPTH, or -1 (strings are skipped). */
function deepestOpen(text: string): number {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return -1;
}

/** encoding/json quoteChar. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const s = JSON.stringify(String.fromCharCode(c));
  let inner = s.slice(1, -1);
  if (c === 0x7f) inner = '\\x7f';
  return `'${inner}'`;
}

const enum P {
  ObjKey,
  ObjValue,
  Array,
}

/** Replays encoding/json's scanner over invalid input and returns its error text (undefined if it finds none). */
function goSyntaxError(b: Uint8Array): string | undefined {
  const stack: P[] = [];
  const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
  const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
  const err = (c: number, ctx: string) => `invalid character ${quoteChar(c)} ${ctx}`;
  type State = (c: number) => string | undefined;
  let step: State;
  let ended = false;

  const push = (c: number, p: P, next: State): string | undefined => {
    stack.push(p);
    if (stack.length > MAX_JSON_DEPTH) return err(c, 'exceeded max depth');
    step = next;
    return undefined;
  };
  const beginValue: State = (c) => {
    if (isSpace(c)) return undefined;
    switch (c) {
      case 0x7b:
        return push(c, P.ObjKey, beginStringOrEmpty);
      case 0x5b:
        return push(c, P.Array, beginValueOrEmpty);
      case 0x22:
        step = inString;
        return undefined;
      case 0x2d:
        step = neg;
        return undefined;
      case 0x30:
        step = zero;
        return undefined;
      case 0x74:
        step = literal('true', 1);
        return undefined;
      case 0x66:
        step = literal('false', 1);
        return undefined;
      case 0x6e:
        step = literal('null', 1);
        return undefined;
    }
    if (c >= 0x31 && c <= 0x39) {
      step = one;
      return undefined;
    }
    return err(c, 'looking for beginning of value');
  };
  const beginValueOrEmpty: State = (c) => {
    if (isSpace(c)) return undefined;
    if (c === 0x5d) return endValue(c);
    return beginValue(c);
  };
  const beginStringOrEmpty: State = (c) => {
    if (isSpace(c)) return undefined;
    if (c === 0x7d) {
      stack[stack.length - 1] = P.ObjValue;
      return endValue(c);
    }
    return beginString(c);
  };
  const beginString: State = (c) => {
    if (isSpace(c)) return undefined;
    if (c === 0x22) {
      step = inString;
      return undefined;
    }
    return err(c, 'looking for beginning of object key string');
  };
  const endTop: State = (c) => (isSpace(c) ? undefined : err(c, 'after top-level value'));
  const endValue: State = (c) => {
    if (stack.length === 0) {
      step = endTop;
      ended = true;
      return endTop(c);
    }
    if (isSpace(c)) {
      step = endValue;
      return undefined;
    }
    const top = stack[stack.length - 1];
    if (top === P.ObjKey) {
      if (c === 0x3a) {
        stack[stack.length - 1] = P.ObjValue;
        step = beginValue;
        return undefined;
      }
      return err(c, 'after object key');
    }
    if (top === P.ObjValue) {
      if (c === 0x2c) {
        stack[stack.length - 1] = P.ObjKey;
        step = beginString;
        return undefined;
      }
      if (c === 0x7d) return pop();
      return err(c, 'after object key:value pair');
    }
    if (c === 0x2c) {
      step = beginValue;
      return undefined;
    }
    if (c === 0x5d) return pop();
    return err(c, 'after array element');
  };
  const pop = (): undefined => {
    stack.pop();
    if (stack.length === 0) {
      ended = true;
      step = endTop;
    } else step = endValue;
    return undefined;
  };
  const inString: State = (c) => {
    if (c === 0x22) {
      step = endValue;
      return undefined;
    }
    if (c === 0x5c) {
      step = inStringEsc;
      return undefined;
    }
    if (c < 0x20) return err(c, 'in string literal');
    return undefined;
  };
  const inStringEsc: State = (c) => {
    if ([0x62, 0x66, 0x6e, 0x72, 0x74, 0x5c, 0x2f, 0x22].includes(c)) {
      step = inString;
      return undefined;
    }
    if (c === 0x75) {
      step = hex(4);
      return undefined;
    }
    return err(c, 'in string escape code');
  };
  const hex =
    (left: number): State =>
    (c) => {
      if (!isHex(c)) return err(c, 'in \\u hexadecimal character escape');
      step = left === 1 ? inString : hex(left - 1);
      return undefined;
    };
  const neg: State = (c) => {
    if (c === 0x30) {
      step = zero;
      return undefined;
    }
    if (c >= 0x31 && c <= 0x39) {
      step = one;
      return undefined;
    }
    return err(c, 'in numeric literal');
  };
  const one: State = (c) => {
    if (isDigit(c)) return undefined;
    return zero(c);
  };
  const zero: State = (c) => {
    if (c === 0x2e) {
      step = dot;
      return undefined;
    }
    if (c === 0x65 || c === 0x45) {
      step = e;
      return undefined;
    }
    return endValue(c);
  };
  const dot: State = (c) => {
    if (isDigit(c)) {
      step = dot0;
      return undefined;
    }
    return err(c, 'after decimal point in numeric literal');
  };
  const dot0: State = (c) => {
    if (isDigit(c)) return undefined;
    if (c === 0x65 || c === 0x45) {
      step = e;
      return undefined;
    }
    return endValue(c);
  };
  const e: State = (c) => {
    if (c === 0x2b || c === 0x2d) {
      step = eSign;
      return undefined;
    }
    return eSign(c);
  };
  const eSign: State = (c) => {
    if (isDigit(c)) {
      step = e0;
      return undefined;
    }
    return err(c, 'in exponent of numeric literal');
  };
  const e0: State = (c) => (isDigit(c) ? undefined : endValue(c));
  const literal =
    (word: string, i: number): State =>
    (c) => {
      if (c !== word.charCodeAt(i)) return err(c, `in literal ${word} (expecting '${word[i]}')`);
      step = i + 1 === word.length ? endValue : literal(word, i + 1);
      return undefined;
    };

  step = beginValue;
  for (let i = 0; i < b.length; i++) {
    const r = step(b[i]);
    if (r !== undefined) return r;
  }
  // EOF, as scanner.eof(): feed a virtual space (completing a trailing number or reporting a cut literal).
  if (!ended) {
    const r = step(0x20);
    if (r !== undefined) return r;
    if (!ended) return 'unexpected end of JSON input';
  }
  return undefined;
}
