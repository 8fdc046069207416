// resource.Quantity: parse, canonical format and arithmetic with upstream's rules (apimachinery/pkg/api/resource).
// Values are exact (bigint mantissa × 10^scale); the canonical string is what the API server returns ("100m", "1Gi").

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** value = mantissa × 10^scale, exactly. `format` remembers how it was written (decides the canonical suffix). */
export interface Quantity {
  mantissa: bigint;
  scale: number;
  format: QuantityFormat;
}

export const QUANTITY_FORMAT_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_MESSAGE = "unable to parse quantity's suffix";

export class QuantityError extends Error {}

const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_BY_EXP = new Map(Object.entries(DECIMAL_SUFFIX).map(([k, v]) => [v, k]));
const BINARY_BY_EXP = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
/** Upstream never keeps precision below nano: finer values round up to the next nano. */
const MIN_SCALE = -9;

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** Parse "100m", "1.5Gi", "1e3", "-2", or a JSON number. Throws QuantityError with upstream's message. */
export function parseQuantity(input: string | number): Quantity {
  let s: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
    s = String(input);
  } else if (typeof input === 'string') s = input;
  else throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
  if (s.length === 0) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);

  let i = 0;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  const numStart = i;
  while (i < s.length && /[0-9.]/.test(s[i])) i++;
  const num = s.slice(numStart, i);
  const suffix = s.slice(i);
  if (!/^[eEinumkKMGTP]*[-+]?[0-9]*$/.test(suffix) || num.length === 0) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
  const parts = num.split('.');
  if (parts.length > 2) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);
  const [whole, frac = ''] = parts;
  if (whole.length === 0 && frac.length === 0) throw new QuantityError(QUANTITY_FORMAT_MESSAGE);

  let mantissa = BigInt((whole || '0') + frac);
  let scale = -frac.length;
  let format: QuantityFormat;
  if (suffix in DECIMAL_SUFFIX) {
    format = 'DecimalSI';
    scale += DECIMAL_SUFFIX[suffix];
  } else if (suffix in BINARY_SUFFIX) {
    format = 'BinarySI';
    mantissa *= 1024n ** BigInt(BINARY_SUFFIX[suffix]);
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = 'DecimalExponent';
    const exp = Number(suffix.slice(1));
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 1000) throw new QuantityError(QUANTITY_SUFFIX_MESSAGE);
    scale += exp;
  } else {
    throw new QuantityError(QUANTITY_SUFFIX_MESSAGE);
  }
  if (negative) mantissa = -mantissa;
  return normalize({ mantissa, scale, format });
}

/** Parse, or undefined when the input is not a quantity. */
export function tryParseQuantity(input: unknown): Quantity | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  try {
    return parseQuantity(input);
  } catch {
    return undefined;
  }
}

/** Strip trailing zeros into the scale and round anything finer than nano up (away from zero). */
function normalize(q: Quantity): Quantity {
  let { mantissa, scale } = q;
  if (mantissa === 0n) return { mantissa: 0n, scale: 0, format: q.format };
  if (scale < MIN_SCALE) {
    mantissa = roundAwayFromZero(mantissa, pow10(MIN_SCALE - scale));
    scale = MIN_SCALE;
  }
  while (mantissa !== 0n && mantissa % 10n === 0n) {
    mantissa /= 10n;
    scale++;
  }
  return { mantissa, scale, format: q.format };
}

function roundAwayFromZero(m: bigint, div: bigint): bigint {
  const q = m / div;
  if (m % div === 0n) return q;
  return m > 0n ? q + 1n : q - 1n;
}

/** Round up to the given decimal scale (upstream RoundUp; -3 = milli, as resource lists are defaulted). */
export function roundUp(q: Quantity, scale: number): Quantity {
  if (q.scale >= scale) return q;
  return normalize({ mantissa: roundAwayFromZero(q.mantissa, pow10(scale - q.scale)), scale, format: q.format });
}

/** Canonical string, exactly as upstream's Quantity.String(). */
export function formatQuantity(q: Quantity): string {
  if (q.mantissa === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const intVal = q.scale >= 0 ? q.mantissa * pow10(q.scale) : undefined;
    if (intVal === undefined || (intVal > -1024n && intVal < 1024n)) format = 'DecimalSI';
    else {
      let m = intVal;
      let exp = 0;
      while (exp < 6 && m % 1024n === 0n) {
        m /= 1024n;
        exp++;
      }
      return `${m}${BINARY_BY_EXP[exp]}`;
    }
  }
  // Decimal: mantissa with an exponent that is a multiple of 3 (mantissa grows instead of fractions).
  let m = q.mantissa;
  let exp = q.scale;
  const rem = exp % 3;
  if (rem === 1 || rem === -2) {
    m *= 10n;
    exp -= 1;
  } else if (rem === 2 || rem === -1) {
    m *= 100n;
    exp -= 2;
  }
  if (format === 'DecimalExponent') return exp === 0 ? `${m}` : `${m}e${exp}`;
  const suffix = DECIMAL_BY_EXP.get(exp);
  if (suffix !== undefined) return `${m}${suffix}`;
  return `${m}e${exp}`;
}

/** Parse and re-format; throws QuantityError for non-quantities. */
export function canonicalQuantity(input: string | number): string {
  return formatQuantity(parseQuantity(input));
}

/** -1, 0 or 1 as a < b, a == b, a > b. */
export function compareQuantity(a: Quantity, b: Quantity): number {
  const s = Math.min(a.scale, b.scale);
  const x = a.mantissa * pow10(a.scale - s);
  const y = b.mantissa * pow10(b.scale - s);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compare two quantity strings/numbers; throws QuantityError for invalid input. */
export function cmpQuantity(a: string | number, b: string | number): number {
  return compareQuantity(parseQuantity(a), parseQuantity(b));
}

export function addQuantity(a: Quantity, b: Quantity): Quantity {
  const s = Math.min(a.scale, b.scale);
  return normalize({ mantissa: a.mantissa * pow10(a.scale - s) + b.mantissa * pow10(b.scale - s), scale: s, format: a.mantissa === 0n ? b.format : a.format });
}

export function subQuantity(a: Quantity, b: Quantity): Quantity {
  return addQuantity(a, { ...b, mantissa: -b.mantissa });
}

export function isZeroQuantity(q: Quantity): boolean {
  return q.mantissa === 0n;
}

export function signQuantity(q: Quantity): number {
  return q.mantissa > 0n ? 1 : q.mantissa < 0n ? -1 : 0;
}

/** Integer value rounded up (away from zero), as upstream Value(); exact as bigint. */
export function quantityValueBig(q: Quantity): bigint {
  if (q.scale >= 0) return q.mantissa * pow10(q.scale);
  return roundAwayFromZero(q.mantissa, pow10(-q.scale));
}

/** Milli-units rounded up, as upstream MilliValue(); exact as bigint. */
export function quantityMilliValueBig(q: Quantity): bigint {
  return quantityValueBig({ ...q, scale: q.scale + 3 });
}

/** Integer value (rounded up) as a JS number (lossy above 2^53). */
export function quantityValue(q: Quantity): number {
  return Number(quantityValueBig(q));
}

/** Milli value (rounded up) as a JS number: cpu "100m" → 100, "1" → 1000. */
export function quantityMilliValue(q: Quantity): number {
  return Number(quantityMilliValueBig(q));
}

/** Approximate float value (for ratios, scoring). */
export function quantityToNumber(q: Quantity): number {
  return Number(q.mantissa) * 10 ** q.scale;
}

/** Build a quantity from an integer count (e.g. bytes, pods) in the given format. */
export function newQuantity(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return normalize({ mantissa: BigInt(value), scale: 0, format });
}

/** Build a quantity from milli-units (e.g. millicores). */
export function newMilliQuantity(milli: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return normalize({ mantissa: BigInt(milli), scale: -3, format });
}
