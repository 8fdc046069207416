// Parsed view of the compact descriptor table (descriptors.ts): message and field descriptions shared by the
// decoder and the encoder, built lazily per message on first use.

import { kinds, messages, otherKinds } from './descriptors.js';

export type ScalarType = 's' | 'b' | 'by' | 'i32' | 'i64' | 'u32' | 'u64' | 'si32' | 'si64' | 'fx32' | 'fx64' | 'sfx32' | 'sfx64' | 'f32' | 'f64';

/** Messages with a hand-written JSON mapping (their wire layout is checked by generate.mjs). */
export type SpecialType = 'time' | 'microtime' | 'duration' | 'rawjson' | 'quantity' | 'intorstring' | 'stringlist';

const SPECIALS: Readonly<Record<string, SpecialType>> = {
  'meta.v1.Time': 'time',
  'meta.v1.MicroTime': 'microtime',
  'meta.v1.Duration': 'duration',
  'meta.v1.FieldsV1': 'rawjson',
  'runtime.RawExtension': 'rawjson',
  'resource.Quantity': 'quantity',
  'intstr.IntOrString': 'intorstring',
  'authentication.v1.ExtraValue': 'stringlist',
  'authorization.v1.ExtraValue': 'stringlist',
  'certificates.v1.ExtraValue': 'stringlist',
  'meta.v1.Verbs': 'stringlist',
};

/** What one value slot holds: a scalar, a special message or a regular message. */
export type ValueType = { scalar: ScalarType } | { special: SpecialType; name: string } | { message: string };

export interface FieldDesc {
  /** JSON name (also the proto field name). */
  json: string;
  num: number;
  value: ValueType;
  repeated: boolean;
  /** Map key type when the field is a map (value is then the map's value type). */
  mapKey?: ScalarType;
  /** The Go field is a pointer: present means set, even to 0/false/"". */
  pointer: boolean;
  /** A non-pointer field without omitempty: Go's JSON writes its zero value. */
  keepZero: boolean;
  /** The Go field is an embedded struct inlined into the parent's JSON. */
  inline: boolean;
}

export interface MessageDesc {
  name: string;
  /** Last part of the name (`DeploymentSpec`), as gogo names messages in errors. */
  short: string;
  fields: readonly FieldDesc[];
  byNumber: ReadonlyMap<number, FieldDesc>;
  byJson: ReadonlyMap<string, FieldDesc>;
}

const SCALARS = new Set<string>(['s', 'b', 'by', 'i32', 'i64', 'u32', 'u64', 'si32', 'si64', 'fx32', 'fx64', 'sfx32', 'sfx64', 'f32', 'f64']);

function valueType(token: string): ValueType {
  if (SCALARS.has(token)) return { scalar: token as ScalarType };
  const special = SPECIALS[token];
  if (special) return { special, name: token };
  if (!(token in messages)) throw new Error(`descriptor table: unknown type ${token}`);
  return { message: token };
}

const FIELD_RE = /^(\w+)=(\d+):(.+?)([?!^]*)$/;

function parseField(owner: string, token: string): FieldDesc {
  const m = FIELD_RE.exec(token);
  if (!m) throw new Error(`descriptor table: bad field ${owner}.${token}`);
  const [, json, num, type, flags] = m;
  let repeated = false;
  let mapKey: ScalarType | undefined;
  let value: ValueType;
  if (type.startsWith('[')) {
    repeated = true;
    value = valueType(type.slice(1, -1));
  } else if (type.startsWith('{')) {
    const [k, v] = type.slice(1, -1).split(/:(.*)/s);
    const key = valueType(k);
    if (!('scalar' in key)) throw new Error(`descriptor table: map key ${owner}.${json}`);
    mapKey = key.scalar;
    value = valueType(v);
  } else {
    value = valueType(type);
  }
  return { json, num: Number(num), value, repeated, mapKey, pointer: flags.includes('?'), keepZero: flags.includes('!'), inline: flags.includes('^') };
}

const cache = new Map<string, MessageDesc>();

/** The description of a message by short name (e.g. `apps.v1.Deployment`). */
export function messageDesc(name: string): MessageDesc {
  let d = cache.get(name);
  if (d) return d;
  const spec = messages[name];
  if (spec === undefined) throw new Error(`descriptor table: no message ${name}`);
  const fields = spec === '' ? [] : spec.split(' ').map((t) => parseField(name, t));
  d = { name, short: name.slice(name.lastIndexOf('.') + 1), fields, byNumber: new Map(fields.map((f) => [f.num, f])), byJson: new Map(fields.map((f) => [f.json, f])) };
  cache.set(name, d);
  return d;
}

/** Message name for a kind, or undefined. DeleteOptions is registered in every group version. */
export function kindMessage(apiVersion: string, kind: string): string | undefined {
  return kinds[`${apiVersion} ${kind}`] ?? kinds[`* ${kind}`];
}

/** True when upstream 1.32 has this kind (so it is a type we do not decode, not a type that does not exist). */
export function isOtherUpstreamKind(apiVersion: string, kind: string): boolean {
  return (otherKinds[apiVersion] ?? '').split(' ').includes(kind);
}

/** Every supported "apiVersion Kind" (apiVersion `*` for kinds of every group version). */
export function supportedKinds(): { apiVersion: string; kind: string; message: string }[] {
  return Object.entries(kinds).map(([k, message]) => {
    const [apiVersion, kind] = k.split(' ');
    return { apiVersion, kind, message };
  });
}

/** Every message name in the table. */
export function messageNames(): string[] {
  return Object.keys(messages);
}
