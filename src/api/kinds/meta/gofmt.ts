// Bad values rendered the way upstream's field.Error prints them (Go's %#v, or a type's String()), so that
// messages such as `Invalid value: map[string]string{"app":"x"}: ...` match kubectl output byte for byte.

/**
 * A bad value whose text is already what Go would print. `goString()` mirrors Go's GoStringer; the error
 * renderer (api/errors.ts) prints it raw. `toJSON` keeps it readable anywhere else.
 */
export class GoValue {
  /** `omitted`: field.OmitValueType — the body reads `Invalid value: <detail>` with no value at all. */
  constructor(
    readonly text: string,
    readonly omitted = false,
  ) {}
  goString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
  toString(): string {
    return this.text;
  }
}

export const goValue = (text: string): GoValue => new GoValue(text);

/** field.OmitValueType{}: the error names no value. */
export const OMIT_VALUE = new GoValue('', true);

/** Go's %#v of a []int32: `[]int32{1, 2}`, `[]int32(nil)` when absent. */
export function goInt32Slice(v: unknown): GoValue {
  if (!Array.isArray(v)) return goValue('[]int32(nil)');
  return goValue(`[]int32{${v.map((x) => String(x)).join(', ')}}`);
}

/** Go's %q for a string (close enough to strconv.Quote for printable input). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** %#v of a map[string]string: `map[string]string{"a":"b", "c":"d"}`, `map[string]string(nil)` when absent. */
export function goStringMap(m: unknown): GoValue {
  if (!isRecord(m)) return goValue('map[string]string(nil)');
  const keys = Object.keys(m).sort();
  return goValue(`map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(String(m[k]))}`).join(', ')}}`);
}

/** IntOrString's String(): the number, or the raw string (no quotes). */
export function goIntOrString(v: unknown): GoValue {
  if (typeof v === 'number') return goValue(String(v));
  if (typeof v === 'string') return goValue(v);
  return goValue('0');
}

/** Go's %v of a []string: `[a b c]`. */
export function goStringSlice(v: unknown): string {
  return `[${Array.isArray(v) ? v.map((x) => String(x)).join(' ') : ''}]`;
}

/** The generated String() of *metav1.LabelSelector (a pointer Stringer, so field.Error prints it). */
export function goLabelSelector(sel: unknown): GoValue | undefined {
  if (!isRecord(sel)) return undefined; // nil pointer prints as "null"
  const ml = isRecord(sel.matchLabels) ? sel.matchLabels : {};
  const labels = Object.keys(ml)
    .sort()
    .map((k) => `${k}: ${String(ml[k])},`)
    .join('');
  const exprs = (Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [])
    .map((e) => {
      const r = isRecord(e) ? e : {};
      return `LabelSelectorRequirement{Key:${String(r.key ?? '')},Operator:${String(r.operator ?? '')},Values:${goStringSlice(r.values)},},`;
    })
    .join('');
  return goValue(`&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`);
}

/**
 * %#v of an internal struct whose exact Go rendering we do not reproduce (huge nested structs, pointer
 * addresses). The type name and the `field is immutable`-style detail are what users read.
 */
export function goOpaque(typeName: string): GoValue {
  return goValue(`${typeName}{...}`);
}

/** %#v of a nil or non-nil typed pointer field inside a struct, e.g. `(*apps.RollingUpdateDeployment)(nil)`. */
export function goPtr(typeName: string, present: boolean): string {
  return `(*${typeName})(${present ? '0xc000000000' : 'nil'})`;
}
