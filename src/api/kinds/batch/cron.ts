// CronJob schedules as upstream understands them: robfig/cron v3's ParseStandard (five fields, names, ranges,
// steps, @descriptors, @every, TZ=/CRON_TZ= prefixes) with its exact error texts, IANA time-zone checks, and
// the next activation time (SpecSchedule.Next) for the CronJob controller.
// Hand-written rather than a cron library: validation must accept exactly what robfig accepts and fail with
// its messages (kubectl shows them verbatim), which no npm cron parser reproduces.

export class CronParseError extends Error {}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

/** One field: the allowed values plus robfig's "star bit" (the field was `*` or `?`). */
export interface CronField {
  values: Set<number>;
  star: boolean;
}

export type CronSchedule =
  | { kind: 'spec'; second: CronField; minute: CronField; hour: CronField; dom: CronField; month: CronField; dow: CronField; timeZone?: string }
  | { kind: 'every'; seconds: number; timeZone?: string };

const goList = (fields: string[]): string => `[${fields.join(' ')}]`;

/** strconv.Atoi + robfig's mustParseInt. */
function mustParseInt(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr)) throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number(expr);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63 - 1)
    throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: value out of range`);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, names?: Record<string, number>): number {
  if (names) {
    const v = names[expr.toLowerCase()];
    if (v !== undefined) return v;
  }
  return mustParseInt(expr);
}

function getRange(expr: string, r: Bounds, into: CronField): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = r.min;
    end = r.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0], r.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1], r.names);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step: number;
  if (rangeAndStep.length === 1) step = 1;
  else if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]);
    if (singleDigit) end = r.max; // "N/step" means "N-max/step"
    if (step > 1) star = false;
  } else throw new CronParseError(`too many slashes: ${expr}`);
  if (start < r.min) throw new CronParseError(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new CronParseError(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) into.values.add(i);
  if (star) into.star = true;
}

function getField(field: string, r: Bounds): CronField {
  const out: CronField = { values: new Set(), star: false };
  for (const expr of field.split(',').filter((x) => x !== '')) getRange(expr, r, out);
  return out;
}

const all = (r: Bounds): CronField => {
  const values = new Set<number>();
  for (let i = r.min; i <= r.max; i++) values.add(i);
  return { values, star: true };
};
const one = (v: number): CronField => ({ values: new Set([v]), star: false });

/** time.ParseDuration, in seconds (robfig rounds @every up to at least one second). */
export function parseGoDuration(s: string): number {
  const orig = s;
  const bad = (): never => {
    throw new CronParseError(`time: invalid duration ${JSON.stringify(orig)}`);
  };
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') bad();
  const units: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(\.(\d*))?/.exec(s);
    if (!m || (m[1] === '' && (m[3] ?? '') === '')) bad();
    const numText = m![0];
    s = s.slice(numText.length);
    const u = /^[^\d.]*/.exec(s)![0];
    if (u === '') throw new CronParseError(`time: missing unit in duration ${JSON.stringify(orig)}`);
    if (!(u in units)) throw new CronParseError(`time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(orig)}`);
    s = s.slice(u.length);
    total += Number(numText) * units[u];
  }
  return neg ? -total : total;
}

/** robfig/cron v3 ParseStandard. Throws CronParseError with robfig's message. */
export function parseStandard(spec: string): CronSchedule {
  if (spec.length === 0) throw new CronParseError('empty spec string');
  let timeZone: string | undefined;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    const name = i < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, i);
    const err = loadLocationError(name);
    if (err !== undefined || i < 0) throw new CronParseError(`provided bad location ${name}: ${err ?? `unknown time zone ${name}`}`);
    timeZone = name === '' ? 'UTC' : name;
    spec = spec.slice(i).trim();
  }
  if (spec.startsWith('@')) return { ...parseDescriptor(spec), timeZone } as CronSchedule;
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: ${goList(fields)}`);
  return {
    kind: 'spec',
    second: one(0),
    minute: getField(fields[0], MINUTES),
    hour: getField(fields[1], HOURS),
    dom: getField(fields[2], DOM),
    month: getField(fields[3], MONTHS),
    dow: getField(fields[4], DOW),
    timeZone,
  };
}

function parseDescriptor(d: string): CronSchedule {
  const spec = (minute: CronField, hour: CronField, dom: CronField, month: CronField, dow: CronField): CronSchedule => ({ kind: 'spec', second: one(0), minute, hour, dom, month, dow });
  switch (d) {
    case '@yearly':
    case '@annually':
      return spec(one(0), one(0), one(1), one(1), all(DOW));
    case '@monthly':
      return spec(one(0), one(0), one(1), all(MONTHS), all(DOW));
    case '@weekly':
      return spec(one(0), one(0), all(DOM), all(MONTHS), one(0));
    case '@daily':
    case '@midnight':
      return spec(one(0), one(0), all(DOM), all(MONTHS), all(DOW));
    case '@hourly':
      return spec(one(0), all(HOURS), all(DOM), all(MONTHS), all(DOW));
  }
  const every = '@every ';
  if (d.startsWith(every)) {
    let secs: number;
    try {
      secs = parseGoDuration(d.slice(every.length));
    } catch (e) {
      throw new CronParseError(`failed to parse duration ${d}: ${(e as Error).message}`);
    }
    return { kind: 'every', seconds: Math.max(1, Math.floor(secs)) };
  }
  throw new CronParseError(`unrecognized descriptor: ${d}`);
}

// ---- time zones ----

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** Go's time.LoadLocation error text, or undefined when the zone loads. "" and "UTC" are UTC. */
export function loadLocationError(name: string): string | undefined {
  if (name === '' || name === 'UTC') return undefined;
  if (name === 'Local') return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    // The tz database is case-sensitive on disk; ICU is not.
    if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) return `unknown time zone ${name}`;
    return undefined;
  } catch {
    return `unknown time zone ${name}`;
  }
}

/** Offset (ms) of `tz` at instant `t`: wall clock minus UTC. */
function offsetAt(tz: string, t: number): number {
  if (tz === 'UTC') return 0;
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(t / 1000) * 1000;
}

/** Instant whose wall-clock time in `tz` is `wall` (ms of a naive UTC date); later offset wins in a gap. */
function wallToInstant(tz: string, wall: number): number {
  let t = wall - offsetAt(tz, wall);
  t = wall - offsetAt(tz, t);
  return t;
}

// ---- next activation (robfig SpecSchedule.Next over wall-clock time) ----

function dayMatches(s: Extract<CronSchedule, { kind: 'spec' }>, d: Date): boolean {
  const domMatch = s.dom.values.has(d.getUTCDate());
  const dowMatch = s.dow.values.has(d.getUTCDay());
  if (s.dom.star || s.dow.star) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

/**
 * The first activation strictly after `after`, in `timeZone` (the CronJob's spec.timeZone, else the schedule's
 * TZ= prefix, else UTC). Returns undefined when there is none within five years (e.g. "0 0 30 2 *").
 */
export function nextActivation(s: CronSchedule, after: Date, timeZone?: string): Date | undefined {
  const tz = timeZone ?? s.timeZone ?? 'UTC';
  if (s.kind === 'every') return new Date((Math.floor(after.getTime() / 1000) + s.seconds) * 1000);
  // Work on a naive wall-clock date (UTC fields = local fields in tz).
  const start = Math.floor(after.getTime() / 1000) * 1000 + 1000;
  let w = new Date(start + offsetAt(tz, start));
  const yearLimit = w.getUTCFullYear() + 5;
  let added = false;
  const setW = (y: number, mo: number, d: number, h: number, mi: number, sec: number): void => {
    w = new Date(Date.UTC(y, mo, d, h, mi, sec));
  };
  for (;;) {
    if (w.getUTCFullYear() > yearLimit) return undefined;
    let wrapped = false;
    while (!s.month.values.has(w.getUTCMonth() + 1)) {
      if (!added) {
        added = true;
        setW(w.getUTCFullYear(), w.getUTCMonth(), 1, 0, 0, 0);
      }
      setW(w.getUTCFullYear(), w.getUTCMonth() + 1, 1, 0, 0, 0);
      if (w.getUTCMonth() === 0) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    while (!dayMatches(s, w)) {
      if (!added) {
        added = true;
        setW(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate(), 0, 0, 0);
      }
      setW(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate() + 1, 0, 0, 0);
      if (w.getUTCDate() === 1) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    while (!s.hour.values.has(w.getUTCHours())) {
      if (!added) {
        added = true;
        setW(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate(), w.getUTCHours(), 0, 0);
      }
      w = new Date(w.getTime() + 3600_000);
      if (w.getUTCHours() === 0) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    while (!s.minute.values.has(w.getUTCMinutes())) {
      if (!added) {
        added = true;
        w = new Date(Math.floor(w.getTime() / 60_000) * 60_000);
      }
      w = new Date(w.getTime() + 60_000);
      if (w.getUTCMinutes() === 0) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    while (!s.second.values.has(w.getUTCSeconds())) {
      if (!added) {
        added = true;
        w = new Date(Math.floor(w.getTime() / 1000) * 1000);
      }
      w = new Date(w.getTime() + 1000);
      if (w.getUTCSeconds() === 0) {
        wrapped = true;
        break;
      }
    }
    if (wrapped) continue;
    return new Date(wallToInstant(tz, w.getTime()));
  }
}
