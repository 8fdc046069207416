// Build step (after tsc): generates dist/openapi/definitions.json, the OpenAPI v3 component schemas of the built-in
// types, named like upstream (io.k8s.api.apps.v1.Deployment …). Source: the type declarations and compiled
// validators shipped in the dev dependency kubernetes-models (field names, doc comments, required, enums from the
// .d.ts; integer/number and int32/int64/byte/date-time formats by probing the compiled validators), merged with our
// own table of struct-tag facts (dist/src/api/schema/extensions.js). Generated output: never edit it by hand.
//
// kubernetes-models@4.5.x carries the Kubernetes 1.33.0 schemas (plus definitions of removed APIs); fields that
// 1.33 added to the types we serve are dropped (fieldsAddedAfter132 in extensions.ts) so explain and field
// validation match 1.32.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
/** Directory of an installed package (some of these packages do not export their package.json). */
function packageDir(name) {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot locate package ${name}`);
    dir = up;
  }
  return dir;
}
const modelsDir = packageDir('kubernetes-models');
const machineryDir = packageDir('@kubernetes-models/apimachinery');
const baseMeta = path.join(packageDir('@kubernetes-models/base'), 'dist', 'meta.d.ts');
const outFile = path.join(root, 'dist', 'openapi', 'definitions.json');

/** Served API versions are GA: v1, v2 … (beta/alpha packages of kubernetes-models are skipped). */
const GA_VERSION = /^v\d+$/;

/** "io.k8s.api.apps.v1.Deployment" → "IoK8sApiAppsV1Deployment" (kubernetes-models' export alias). */
function pascal(defName) {
  return defName
    .split(/[.-]/)
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join('');
}

/** Upstream definition prefix of a kubernetes-models group directory. */
function packagePrefix(groupDir, version) {
  if (groupDir === '') return `io.k8s.api.core.${version}`;
  if (groupDir === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}`;
  if (groupDir === 'apiregistration.k8s.io') return `io.k8s.kube-aggregator.pkg.apis.apiregistration.${version}`;
  return `io.k8s.api.${groupDir.split('.')[0]}.${version}`;
}

/** All declaration files with their upstream definition names. */
function listSources() {
  const out = [];
  const addDir = (dir, prefix, schemasDir) => {
    for (const f of fs.readdirSync(dir)) {
      if (!f.endsWith('.d.ts') || f === 'index.d.ts') continue;
      const name = f.slice(0, -'.d.ts'.length);
      out.push({ file: path.join(dir, f), def: `${prefix}.${name}`, schemasDir });
    }
  };
  const modelsSchemas = path.join(modelsDir, '_schemas');
  addDir(path.join(modelsDir, 'v1'), packagePrefix('', 'v1'), modelsSchemas);
  for (const g of fs.readdirSync(modelsDir)) {
    if (g === 'v1' || g.startsWith('_') || g === 'node_modules') continue;
    const gdir = path.join(modelsDir, g);
    if (!fs.statSync(gdir).isDirectory()) continue;
    for (const v of fs.readdirSync(gdir)) {
      if (!GA_VERSION.test(v) || !fs.statSync(path.join(gdir, v)).isDirectory()) continue;
      addDir(path.join(gdir, v), packagePrefix(g, v), modelsSchemas);
    }
  }
  const machSchemas = path.join(machineryDir, '_schemas');
  for (const sub of ['apis/meta/v1', 'api/resource', 'util/intstr', 'runtime', 'version']) {
    addDir(path.join(machineryDir, sub), `io.k8s.apimachinery.pkg.${sub.replaceAll('/', '.')}`, machSchemas);
  }
  return out;
}

/** The text of the JSDoc block right before `node`, without comment markers (kubernetes-models escapes `*`). */
function docOf(node, sf) {
  const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
  const last = ranges.filter((r) => sf.text.startsWith('/**', r.pos)).pop();
  if (!last) return undefined;
  const raw = sf.text.slice(last.pos + 3, last.end - 2);
  const lines = raw.split('\n').map((l) => {
    const m = /^\s*\* ?(.*)$/.exec(l);
    return m ? m[1] : l.trim();
  });
  while (lines.length && lines[0].trim() === '') lines.shift();
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const text = lines.join('\n').replace(/\\([*/])/g, '$1');
  return text === '' ? undefined : text;
}

function propName(member) {
  const n = member.name;
  if (ts.isStringLiteral(n) || ts.isIdentifier(n)) return n.text;
  throw new Error(`unexpected property name ${n.getText()}`);
}

const typeMetaDocs = {};
{
  const sf = ts.createSourceFile(baseMeta, fs.readFileSync(baseMeta, 'utf8'), ts.ScriptTarget.Latest, true);
  sf.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n) && n.name.text === 'TypeMeta') {
      for (const m of n.members) typeMetaDocs[propName(m)] = docOf(m, sf);
    }
  });
}

/** Definitions whose upstream shape is not what the declaration file shows. */
const shapeOverrides = {
  // kubernetes-models inlines the PVC here to relax apiVersion/kind; upstream refers to the PVC definition.
  'io.k8s.api.apps.v1.StatefulSetSpec': { volumeClaimTemplates: { type: 'array', items: { $ref: ref('io.k8s.api.core.v1.PersistentVolumeClaim') } } },
};

function ref(def) {
  return `#/components/schemas/${def}`;
}

/**
 * Parse one declaration file into a draft schema. Number-typed spots are recorded in `probes` to be typed later
 * from the compiled validator.
 */
function parseFile(src, byPascal) {
  const sf = ts.createSourceFile(src.file, fs.readFileSync(src.file, 'utf8'), ts.ScriptTarget.Latest, true);
  const alias = pascal(src.def);
  let exported = false;
  let decl;
  const localName = `I${src.def.split('.').pop()}`;
  sf.forEachChild((n) => {
    if (ts.isExportDeclaration(n) && n.exportClause && ts.isNamedExports(n.exportClause)) {
      for (const e of n.exportClause.elements) if (e.name.text === alias) exported = true;
    }
    if ((ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) && n.name.text === localName) decl = n;
  });
  if (!exported) throw new Error(`${src.file}: expected export alias ${alias} for ${src.def}`);
  if (!decl) throw new Error(`${src.file}: no declaration ${localName}`);

  const probes = []; // {path: string[] (property, then '0' for array items or 'k' for map values), node}
  const resolveRef = (name) => {
    if (name === localName) return src.def;
    if (name.startsWith('II')) {
      const def = byPascal.get(name.slice(1));
      if (def) return def;
    }
    throw new Error(`${src.file}: cannot resolve type ${name}`);
  };
  const mapType = (t, at) => {
    if (ts.isParenthesizedTypeNode(t)) return mapType(t.type, at);
    switch (t.kind) {
      case ts.SyntaxKind.StringKeyword:
        return probe({ type: 'string' }, at, 'string');
      case ts.SyntaxKind.NumberKeyword:
        return probe({ type: 'integer' }, at, 'number');
      case ts.SyntaxKind.BooleanKeyword:
        return { type: 'boolean' };
      case ts.SyntaxKind.AnyKeyword:
      case ts.SyntaxKind.UnknownKeyword:
        return {};
      case ts.SyntaxKind.ObjectKeyword:
        return { type: 'object' };
    }
    if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) return { type: 'string', enum: [t.literal.text] };
    if (ts.isUnionTypeNode(t)) {
      const lits = t.types.filter((x) => ts.isLiteralTypeNode(x) && ts.isStringLiteral(x.literal));
      if (lits.length === t.types.length) return { type: 'string', enum: lits.map((x) => x.literal.text) };
      throw new Error(`${src.file}: unsupported union ${t.getText()}`);
    }
    if (ts.isArrayTypeNode(t)) return { type: 'array', items: mapType(t.elementType, [...at, '0']) };
    if (ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName)) {
      const n = t.typeName.text;
      if (n === 'Array' && t.typeArguments?.length === 1) return { type: 'array', items: mapType(t.typeArguments[0], [...at, '0']) };
      return { $ref: ref(resolveRef(n)) };
    }
    if (ts.isTypeLiteralNode(t)) {
      const idx = t.members.find((m) => ts.isIndexSignatureDeclaration(m));
      if (idx && t.members.length === 1) return { type: 'object', additionalProperties: mapType(idx.type, [...at, 'k']) };
      return objectSchema(t.members, at, false);
    }
    throw new Error(`${src.file}: unsupported type ${t.getText()}`);
  };
  const probe = (schema, at, kind) => {
    probes.push({ path: at, kind, schema });
    return schema;
  };
  const objectSchema = (members, at, typeMeta) => {
    const properties = {};
    const required = [];
    for (const m of members) {
      if (!ts.isPropertySignature(m) || !m.type) continue;
      const name = propName(m);
      const isTypeMetaField = typeMeta && (name === 'apiVersion' || name === 'kind');
      let s = isTypeMetaField ? { type: 'string' } : mapType(m.type, [...at, name]);
      const description = docOf(m, sf) ?? (isTypeMetaField ? typeMetaDocs[name] : undefined);
      s = withDescription(s, description);
      properties[name] = s;
      if (!m.questionToken && !isTypeMetaField) required.push(name);
    }
    const out = { type: 'object', properties };
    if (required.length) out.required = required.sort();
    return out;
  };

  const description = docOf(decl, sf);
  let schema;
  let gvk;
  if (ts.isTypeAliasDeclaration(decl)) {
    schema = aliasSchema(src.def, decl);
  } else {
    const typeMeta = (decl.heritageClauses ?? []).some((h) => h.types.some((x) => x.expression.getText() === 'TypeMeta'));
    if (decl.members.length === 0) {
      schema = { type: 'object' }; // refined by probing: empty declarations may accept any JSON value
      probes.push({ path: [], kind: 'empty', schema });
    } else {
      schema = objectSchema(decl.members, [], typeMeta);
    }
    if (typeMeta) gvk = gvkOf(decl);
  }
  const override = shapeOverrides[src.def];
  if (override) {
    for (const [k, v] of Object.entries(override)) {
      schema.properties[k] = { ...v, ...(schema.properties[k].description ? { description: schema.properties[k].description } : {}) };
    }
  }
  if (description) schema = { description, ...schema };
  if (gvk) schema['x-kubernetes-group-version-kind'] = [gvk];
  return { schema, probes };
}

/** Literal apiVersion/kind of a top-level kind's declaration. */
function gvkOf(decl) {
  let apiVersion;
  let kind;
  for (const m of decl.members) {
    if (!ts.isPropertySignature(m) || !m.type || !ts.isLiteralTypeNode(m.type) || !ts.isStringLiteral(m.type.literal)) continue;
    if (propName(m) === 'apiVersion') apiVersion = m.type.literal.text;
    if (propName(m) === 'kind') kind = m.type.literal.text;
  }
  if (!apiVersion || !kind) return undefined;
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion, kind } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), kind };
}

/** Scalar definitions declared as type aliases (Time, MicroTime, Quantity, IntOrString). */
function aliasSchema(def, decl) {
  if (def === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString') {
    return { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true };
  }
  if (def === 'io.k8s.apimachinery.pkg.api.resource.Quantity') return { oneOf: [{ type: 'string' }, { type: 'number' }] };
  if (decl.type.kind === ts.SyntaxKind.StringKeyword) return { type: 'string', probeSelf: true };
  throw new Error(`unsupported alias ${def}: ${decl.type.getText()}`);
}

/** A `$ref` with its own description is wrapped in allOf, as upstream does, so the description is not ignored. */
function withDescription(s, description) {
  if (!description) return s;
  if (s.$ref) return { description, allOf: [{ $ref: s.$ref }] };
  // mutate in place: probes hold this object and refine its type/format later
  const rest = { ...s };
  for (const k of Object.keys(s)) delete s[k];
  return Object.assign(s, { description }, rest);
}

function setAt(obj, at, value) {
  let o = obj;
  for (let i = 0; i < at.length - 1; i++) o = o[at[i]] ??= {};
  o[at[at.length - 1]] = value;
}

/** Type number-typed spots (integer vs number, int32 vs int64) and string formats from the compiled validator. */
async function refine(src, parsed) {
  const schemasFile = path.join(src.schemasDir, `${pascal(src.def)}.mjs`);
  if (!fs.existsSync(schemasFile)) throw new Error(`no compiled validator ${schemasFile}`);
  const { validate } = await import(pathToFileURL(schemasFile).href);
  const run = (value) => {
    validate(value);
    return validate.errors ?? [];
  };
  if (parsed.schema.probeSelf) {
    delete parsed.schema.probeSelf;
    const f = run('not a time %%').find((e) => e.instancePath === '' && e.keyword === 'format');
    if (f) parsed.schema.format = f.params.format;
    return;
  }
  const empty = parsed.probes.find((p) => p.kind === 'empty');
  if (empty) {
    if (!run('x').some((e) => e.instancePath === '' && e.keyword === 'type')) delete parsed.schema.type;
    return;
  }
  const byPath = new Map(parsed.probes.map((p) => [`/${p.path.join('/')}`, p]));
  const tryAll = (kind, value) => {
    const doc = {};
    for (const p of parsed.probes) if (p.kind === kind && !p.path.includes('0') && !p.path.includes('k')) setAt(doc, p.path, value);
    for (const p of parsed.probes) {
      if (p.kind !== kind) continue;
      const i = p.path.findIndex((x) => x === '0' || x === 'k');
      if (i < 0) continue;
      // one level of array/map nesting: a one-element container holding the probe value
      const container = p.path[i] === '0' ? [value] : { k: value };
      setAt(doc, p.path.slice(0, i), container);
    }
    return run(doc);
  };
  // numbers: a string gives the declared type ("integer" or "number"); 2^31 fails int32 only.
  for (const e of tryAll('number', 'x')) {
    const p = byPath.get(e.instancePath);
    if (p && e.keyword === 'type' && (e.params.type === 'integer' || e.params.type === 'number')) p.schema.type = e.params.type;
  }
  const int32 = new Set(tryAll('number', 2 ** 31).filter((e) => e.keyword === 'format' && e.params.format === 'int32').map((e) => e.instancePath));
  for (const p of parsed.probes) {
    if (p.kind !== 'number') continue;
    const key = `/${p.path.join('/')}`;
    if (p.schema.type === 'integer') p.schema.format = int32.has(key) ? 'int32' : 'int64';
    else p.schema.format = 'double';
  }
  for (const e of tryAll('string', '%% not base64 or a date %%')) {
    const p = byPath.get(e.instancePath);
    if (p && e.keyword === 'format') p.schema.format = e.params.format;
  }
}

function stripProbes(schema) {
  delete schema.probeSelf;
  return schema;
}

async function main() {
  const sources = listSources();
  const byPascal = new Map(sources.map((s) => [pascal(s.def), s.def]));
  const defs = {};
  for (const src of sources) {
    const parsed = parseFile(src, byPascal);
    await refine(src, parsed);
    defs[src.def] = stripProbes(parsed.schema);
  }
  const extUrl = pathToFileURL(path.join(root, 'dist', 'src', 'api', 'schema', 'extensions.js')).href;
  const ext = await import(extUrl);
  const problems = ext.applyExtensions(defs);
  if (problems.length) {
    throw new Error(`extensions table does not match the schemas:\n  ${problems.join('\n  ')}`);
  }
  const sorted = Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k]]));
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(sorted));
  console.log(`gen-openapi: ${Object.keys(sorted).length} definitions → ${path.relative(root, outFile)}`);
}

main().catch((err) => {
  console.error(`gen-openapi: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
