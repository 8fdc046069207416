// Decoding of Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`) into the JSON object the Go API
// server would hold after decoding: the envelope (magic `k8s\0` + runtime.Unknown) and the object inside, mapped
// field by field with the descriptor table.
//
// Zero values: gogo-protobuf writes every non-pointer Go field, zero or not, so a zero there means "unset" and is
// dropped (as encoding/json's omitempty would), unless the Go field has no omitempty (`currentReplicas: 0`, as Go's
// JSON shows it). Pointer fields are written only when set, so theirs are kept (`--replicas=0` stays 0). Non-pointer
// struct fields are always present in Go, so they become `{}` even when absent from the bytes (`strategy: {}`,
// `status: {}`, like kubectl's own JSON), except the types with their own JSON form: a zero Time is left out instead
// of `null`, and a non-pointer zero IntOrString is left out (Go treats it as unset when defaulting).
// The result equals `kubectl create … --dry-run=client -o json` minus `creationTimestamp: null` (decode.test.ts).

import { badRequest, ApiError } from '../errors.js';
import { tryParseQuantity } from '../quantity.js';
import type { KubeObject } from '../types.js';
import { isOtherUpstreamKind, kindMessage, messageDesc } from './schema.js';
import type { FieldDesc, MessageDesc, ScalarType, SpecialType, ValueType } from './schema.js';
import { int64Of, Reader, sint64Of, uint64Of, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, WireError } from './reader.js';

/** The 4 bytes in front of every Kubernetes protobuf body: "k8s\0". */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Deepest message nesting accepted (the built-in types need about 15). */
const MAX_DEPTH = 64;

/** What the route expects; fills a missing apiVersion/kind in the envelope, as upstream does. */
export interface ExpectedKind {
  apiVersion?: string;
  kind?: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** Marks a special value whose Go JSON form is null or that equals "unset": the field is left out. */
const OMIT = Symbol('omit');

/**
 * Decode a protobuf request body into the object's JSON form with apiVersion and kind from the envelope.
 * Throws ApiError: 400 BadRequest for malformed bytes or a kind that does not exist, 415 UnsupportedMediaType for an
 * upstream kind whose protobuf form k8ts does not decode (the client can send JSON instead).
 */
export function decodeProtobufObject(body: Buffer, expected?: ExpectedKind): KubeObject {
  if (body.length === 0) throw badRequest('empty data');
  if (body.length < PROTOBUF_MAGIC.length || !body.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC))
    throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  if (body.length === PROTOBUF_MAGIC.length) throw badRequest('empty body');

  let envelope: Envelope;
  try {
    envelope = readEnvelope(new Reader(body, PROTOBUF_MAGIC.length));
  } catch (e) {
    if (e instanceof WireError) throw badRequest(`the object provided is unrecognized: ${e.message}`);
    throw e;
  }
  const apiVersion = envelope.apiVersion || expected?.apiVersion || '';
  const kind = envelope.kind || expected?.kind || '';
  if (!kind) throw badRequest("Object 'Kind' is missing in the protobuf body (runtime.Unknown typeMeta)");
  if (!apiVersion) throw badRequest("Object 'apiVersion' is missing in the protobuf body (runtime.Unknown typeMeta)");
  const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
  const target = expected?.kind || kind;

  const message = kindMessage(apiVersion, kind);
  if (!message) {
    if (isOtherUpstreamKind(apiVersion, kind))
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf is not supported for ${apiVersion}, Kind=${kind})`,
      );
    throw badRequest(`${kind} in version "${version}" cannot be handled as a ${target}: no kind "${kind}" is registered for version "${apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
  }

  let obj: JsonObject;
  try {
    obj = decodeMessage(new Reader(envelope.raw), messageDesc(message), 0);
  } catch (e) {
    if (e instanceof WireError) throw badRequest(`${kind} in version "${version}" cannot be handled as a ${target}: ${e.message}`);
    throw e;
  }
  return { apiVersion, kind, ...obj } as KubeObject;
}

/**
 * Decode one message (by short name, e.g. `core.v1.PodSpec`) from its bytes without the envelope. Throws ApiError
 * 400 for malformed bytes.
 */
export function decodeMessageJSON(message: string, raw: Uint8Array): Record<string, unknown> {
  try {
    return decodeMessage(new Reader(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)), messageDesc(message), 0);
  } catch (e) {
    if (e instanceof WireError) throw badRequest(`${messageDesc(message).short}: ${e.message}`);
    throw e;
  }
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Buffer;
}

/** runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType (ignored, as upstream). */
function readEnvelope(r: Reader): Envelope {
  const env: Envelope = { apiVersion: '', kind: '', raw: Buffer.alloc(0) };
  while (!r.atEnd()) {
    const [num, wire] = r.tag('Unknown');
    if (num === 1 && wire === WIRE_BYTES) {
      const end = r.lengthEnd();
      const tm = new Reader(r.buf, r.pos, end);
      r.pos = end;
      while (!tm.atEnd()) {
        const [n, w] = tm.tag('TypeMeta');
        if (n === 1 && w === WIRE_BYTES) env.apiVersion = tm.string();
        else if (n === 2 && w === WIRE_BYTES) env.kind = tm.string();
        else if (n <= 2) throw new WireError(`proto: wrong wireType = ${w} for field ${n === 1 ? 'APIVersion' : 'Kind'}`);
        else tm.skip(w);
      }
    } else if (num === 2 && wire === WIRE_BYTES) env.raw = r.bytes();
    else if (num <= 4 && wire !== WIRE_BYTES) throw new WireError(`proto: wrong wireType = ${wire} for field ${['', 'TypeMeta', 'Raw', 'ContentEncoding', 'ContentType'][num]}`);
    else r.skip(wire);
  }
  return env;
}

/** Decode one message into a fresh object and fill its absent non-pointer struct fields. */
function decodeMessage(r: Reader, desc: MessageDesc, depth: number): JsonObject {
  const out: JsonObject = {};
  decodeInto(r, desc, out, depth);
  fillZeroStructs(desc, out);
  return out;
}

function decodeInto(r: Reader, desc: MessageDesc, out: JsonObject, depth: number): void {
  if (depth > MAX_DEPTH) throw new WireError(`proto: ${desc.name}: messages nested more than ${MAX_DEPTH} deep`);
  while (!r.atEnd()) {
    const [num, wire] = r.tag(desc.short);
    const f = desc.byNumber.get(num);
    if (!f) {
      r.skip(wire); // unknown fields are skipped, as gogo's Unmarshal does
      continue;
    }
    if (f.mapKey) {
      expectWire(f, wire, WIRE_BYTES);
      const end = r.lengthEnd();
      const [k, v] = decodeMapEntry(new Reader(r.buf, r.pos, end), f, depth + 1);
      r.pos = end;
      const m = (isObject(out[f.json]) ? out[f.json] : (out[f.json] = {})) as JsonObject;
      m[k] = v;
    } else if (f.repeated) {
      const list = (Array.isArray(out[f.json]) ? out[f.json] : (out[f.json] = [])) as Json[];
      const v = f.value;
      if ('scalar' in v && wire === WIRE_BYTES && packable(v.scalar)) {
        const end = r.lengthEnd();
        const packed = new Reader(r.buf, r.pos, end);
        while (!packed.atEnd()) list.push(readScalar(packed, v.scalar));
        r.pos = end;
      } else {
        const value = readValue(r, f, wire, depth);
        list.push(value === OMIT ? null : value);
      }
    } else if (f.inline && 'message' in f.value) {
      expectWire(f, wire, WIRE_BYTES);
      const end = r.lengthEnd();
      decodeInto(new Reader(r.buf, r.pos, end), messageDesc(f.value.message), out, depth + 1);
      r.pos = end;
    } else if ('message' in f.value) {
      // A message field seen twice is merged, as protobuf does.
      expectWire(f, wire, WIRE_BYTES);
      const end = r.lengthEnd();
      const sub = messageDesc(f.value.message);
      const target = isObject(out[f.json]) ? (out[f.json] as JsonObject) : {};
      decodeInto(new Reader(r.buf, r.pos, end), sub, target, depth + 1);
      fillZeroStructs(sub, target);
      out[f.json] = target;
      r.pos = end;
    } else {
      const value = readValue(r, f, wire, depth);
      if (value !== OMIT && (f.pointer || f.keepZero || !isZero(value))) out[f.json] = value;
      else if (f.json in out) delete out[f.json]; // a later zero overrides an earlier value
    }
  }
}

/** A scalar, special or message value of field f (not a packed run, not a map entry). */
function readValue(r: Reader, f: FieldDesc, wire: number, depth: number): Json | typeof OMIT {
  const v = f.value;
  if ('scalar' in v) {
    expectWire(f, wire, wireTypeOf(v.scalar));
    return readScalar(r, v.scalar);
  }
  expectWire(f, wire, WIRE_BYTES);
  const end = r.lengthEnd();
  const sub = new Reader(r.buf, r.pos, end);
  r.pos = end;
  if ('special' in v) return decodeSpecial(sub, v.special, f.pointer || f.keepZero || f.repeated, f.json);
  return decodeMessage(sub, messageDesc(v.message), depth + 1);
}

function decodeMapEntry(r: Reader, f: FieldDesc, depth: number): [string, Json] {
  const keyType = f.mapKey as ScalarType;
  let key: Json = keyType === 's' ? '' : keyType === 'b' ? false : 0;
  let value: Json | typeof OMIT | undefined;
  while (!r.atEnd()) {
    const [num, wire] = r.tag('MapEntry');
    if (num === 1) {
      if (wire !== wireTypeOf(keyType)) throw new WireError(`proto: wrong wireType = ${wire} for field ${f.json} (map key)`);
      key = readScalar(r, keyType);
    } else if (num === 2) {
      value = readValue(r, { ...f, pointer: true, repeated: false, mapKey: undefined }, wire, depth);
    } else r.skip(wire);
  }
  if (value === undefined || value === OMIT) value = zeroValue(f.value);
  return [String(key), value];
}

/** The JSON of a map value absent from its entry (Go's zero value, with "" for bytes and [] for string lists). */
function zeroValue(v: ValueType): Json {
  if ('scalar' in v) return v.scalar === 's' || v.scalar === 'by' ? '' : v.scalar === 'b' ? false : 0;
  if ('special' in v) {
    switch (v.special) {
      case 'quantity':
        return '0';
      case 'stringlist':
        return [];
      case 'intorstring':
        return 0;
      case 'duration':
        return '0s';
      default:
        return null; // Time, MicroTime, raw JSON: null in Go's JSON, left out here
    }
  }
  const out: JsonObject = {};
  fillZeroStructs(messageDesc(v.message), out);
  return out;
}

/**
 * Go holds non-pointer fields even when the bytes lack them: give struct fields their zero JSON (`{}`) and
 * non-omitempty scalars their zero value, as Go's JSON would show them.
 */
function fillZeroStructs(desc: MessageDesc, out: JsonObject): void {
  for (const f of desc.fields) {
    if (f.pointer || f.repeated || f.mapKey) continue;
    if (!('message' in f.value)) {
      if (f.keepZero && out[f.json] === undefined) {
        const z = zeroValue(f.value);
        if (z !== null) out[f.json] = z;
      }
      continue;
    }
    const sub = messageDesc(f.value.message);
    if (f.inline) fillZeroStructs(sub, out);
    else if (out[f.json] === undefined) {
      const z: JsonObject = {};
      fillZeroStructs(sub, z);
      out[f.json] = z;
    }
  }
}

function readScalar(r: Reader, t: ScalarType): Json {
  switch (t) {
    case 's':
      return r.string();
    case 'by':
      return r.bytes().toString('base64');
    case 'b': {
      const [lo, hi] = r.varintParts();
      return lo !== 0 || hi !== 0;
    }
    case 'i32':
      return r.varintParts()[0] | 0;
    case 'u32':
      return r.varintParts()[0];
    case 'i64':
      return int64Of(r.varintParts());
    case 'u64':
      return uint64Of(r.varintParts());
    case 'si32': {
      const lo = r.varintParts()[0];
      return (lo >>> 1) ^ -(lo & 1);
    }
    case 'si64':
      return sint64Of(r.varintParts());
    case 'fx32':
      return r.fixed32().readUInt32LE(0);
    case 'sfx32':
      return r.fixed32().readInt32LE(0);
    case 'fx64':
      return Number(r.fixed64().readBigUInt64LE(0));
    case 'sfx64':
      return Number(r.fixed64().readBigInt64LE(0));
    case 'f32':
      return finite(r.fixed32().readFloatLE(0));
    case 'f64':
      return finite(r.fixed64().readDoubleLE(0));
  }
}

function finite(n: number): number {
  if (!Number.isFinite(n)) throw new WireError(`json: unsupported value: ${n}`);
  return n;
}

/**
 * Special messages. `keepZero`: the field is a pointer (or a list element), so a zero IntOrString stays 0 and a zero
 * Quantity stays "0"; zero Time/MicroTime/RawExtension are null in Go's JSON and left out either way.
 */
function decodeSpecial(r: Reader, t: SpecialType, keepZero: boolean, field: string): Json | typeof OMIT {
  const f = fieldsOf(r, field);
  switch (t) {
    case 'time':
    case 'microtime': {
      if (f.size === 0) return OMIT; // a zero time is written as an empty message
      const seconds = int64Of(varintField(f, 1, field, 'seconds'));
      const nanos = t === 'microtime' ? int64Of(varintField(f, 2, field, 'nanos')) | 0 : 0;
      return formatTime(seconds, nanos, t === 'microtime', field);
    }
    case 'duration': {
      const ns = int64Of(varintField(f, 1, field, 'duration'));
      return ns === 0 && !keepZero ? OMIT : formatDuration(ns);
    }
    case 'rawjson': {
      const raw = bytesField(f, 1, field, 'raw');
      if (raw.length === 0) return OMIT;
      try {
        return JSON.parse(raw.toString('utf8')) as Json;
      } catch {
        throw new WireError(`${field}: embedded raw data is not valid JSON`);
      }
    }
    case 'quantity': {
      const s = bytesField(f, 1, field, 'string').toString('utf8');
      if (s === '') return keepZero ? '0' : OMIT;
      if (!tryParseQuantity(s)) throw new WireError(`${field}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
      return s;
    }
    case 'intorstring': {
      const type = int64Of(varintField(f, 1, field, 'type'));
      if (type === 0) {
        const v = int64Of(varintField(f, 2, field, 'intVal')) | 0;
        return v === 0 && !keepZero ? OMIT : v;
      }
      if (type === 1) {
        const s = bytesField(f, 3, field, 'strVal').toString('utf8');
        return s === '' && !keepZero ? OMIT : s;
      }
      throw new WireError(`${field}: impossible IntOrString.Type`);
    }
    case 'stringlist':
      return (f.get(1) ?? []).map((x) => {
        if (!Buffer.isBuffer(x)) throw new WireError(`proto: wrong wireType = ${WIRE_VARINT} for field Items`);
        return x.toString('utf8');
      });
  }
}

type RawValue = Buffer | [number, number];

/** All fields of a small message: number → values in order (length-delimited as Buffer, varints as parts). */
function fieldsOf(r: Reader, field: string): Map<number, RawValue[]> {
  const out = new Map<number, RawValue[]>();
  while (!r.atEnd()) {
    const [num, wire] = r.tag(field);
    let v: RawValue;
    if (wire === WIRE_VARINT) v = r.varintParts();
    else if (wire === WIRE_BYTES) v = r.bytes();
    else {
      r.skip(wire);
      continue;
    }
    const list = out.get(num);
    if (list) list.push(v);
    else out.set(num, [v]);
  }
  return out;
}

function varintField(f: Map<number, RawValue[]>, num: number, field: string, name: string): [number, number] {
  const vs = f.get(num);
  if (!vs) return [0, 0];
  const v = vs[vs.length - 1];
  if (Buffer.isBuffer(v)) throw new WireError(`proto: wrong wireType = ${WIRE_BYTES} for field ${field}.${name}`);
  return v;
}

function bytesField(f: Map<number, RawValue[]>, num: number, field: string, name: string): Buffer {
  const vs = f.get(num);
  if (!vs) return Buffer.alloc(0);
  const v = vs[vs.length - 1];
  if (!Buffer.isBuffer(v)) throw new WireError(`proto: wrong wireType = ${WIRE_VARINT} for field ${field}.${name}`);
  return v;
}

const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z: RFC 3339 has four-digit years
const MIN_SECONDS = -62135596800; // 0001-01-01T00:00:00Z

/** metav1.Time → RFC 3339 in UTC to the second; MicroTime → with six fraction digits. */
function formatTime(seconds: number, nanos: number, micro: boolean, field: string): string {
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS || nanos < 0 || nanos > 999_999_999) throw new WireError(`${field}: timestamp out of range`);
  const iso = new Date(seconds * 1000).toISOString(); // yyyy-mm-ddThh:mm:ss.000Z
  const base = iso.slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = BigInt(Math.abs(ns));
  const sign = neg ? '-' : '';
  if (u < 1_000_000_000n) {
    const [unit, div] = u < 1000n ? ['ns', 1n] : u < 1_000_000n ? ['µs', 1000n] : ['ms', 1_000_000n];
    return sign + fraction(u, div) + unit;
  }
  let out = '';
  const h = u / 3_600_000_000_000n;
  u -= h * 3_600_000_000_000n;
  const m = u / 60_000_000_000n;
  u -= m * 60_000_000_000n;
  if (h > 0n) out += `${h}h`;
  if (h > 0n || m > 0n) out += `${m}m`;
  return sign + out + fraction(u, 1_000_000_000n) + 's';
}

function fraction(v: bigint, div: bigint): string {
  const whole = v / div;
  const rest = v % div;
  if (rest === 0n) return String(whole);
  const digits = String(div).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

function wireTypeOf(t: ScalarType): number {
  switch (t) {
    case 's':
    case 'by':
      return WIRE_BYTES;
    case 'fx32':
    case 'sfx32':
    case 'f32':
      return WIRE_FIXED32;
    case 'fx64':
    case 'sfx64':
    case 'f64':
      return WIRE_FIXED64;
    default:
      return WIRE_VARINT;
  }
}

const packable = (t: ScalarType): boolean => t !== 's' && t !== 'by';

function expectWire(f: FieldDesc, got: number, want: number): void {
  if (got !== want) throw new WireError(`proto: wrong wireType = ${got} for field ${f.json}`);
}

function isZero(v: Json): boolean {
  return v === '' || v === 0 || v === false;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
