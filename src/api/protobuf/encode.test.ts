// Round trips between the Go-style encoder (protobufjs) and the decoder: real kubectl bodies re-encode byte for byte,
// and random objects of every message in the table survive encode → decode unchanged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { decodeMessageJSON, decodeProtobufObject, formatDuration } from './decode.js';
import { encodeMessage, encodeProtobufObject, parseDuration } from './encode.js';
import { messageDesc, messageNames } from './schema.js';
import type { FieldDesc, ValueType } from './schema.js';

const testdata = new URL('../../../../src/api/protobuf/testdata/', import.meta.url);

test('real kubectl bodies re-encode to the same bytes (field order, zero fields and pointers as gogo writes them)', () => {
  const files = readdirSync(testdata).filter((f) => f.endsWith('.bin'));
  assert.ok(files.length >= 25, `only ${files.length} fixtures`);
  for (const f of files) {
    const body = readFileSync(new URL(f, testdata));
    assert.ok(encodeProtobufObject(decodeProtobufObject(body)).equals(body), f);
  }
});

test('encodeProtobufObject makes a body decodeProtobufObject reads back', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, creationTimestamp: '2024-05-01T10:00:00Z' },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'nginx',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: { limits: { cpu: '500m', memory: '128Mi' } },
          livenessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 10 },
          env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: false } } }],
        },
      ],
      volumes: [{ name: 'v', configMap: { name: 'cm', defaultMode: 0o644 } }, { name: 'e', emptyDir: {} }],
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsUser: 0, supplementalGroups: [1, 2] },
    },
    status: {},
  };
  assert.deepStrictEqual(decodeProtobufObject(encodeProtobufObject(pod)), pod);
});

test('durations parse back from their Go form', () => {
  for (const ns of [1, 1500, 1_000_000, 1_500_000_000, 3_723_500_000_000, -2_000_000_000]) assert.equal(parseDuration(formatDuration(ns)), ns);
});

// ---- random objects of every message ----

const MAX_DEPTH = 2;
const key = fc.constantFrom('a', 'b.c', 'k-1', 'x/y', '', 'Ü');
const str = fc.string({ maxLength: 6 });
const nonEmptyStr = fc.string({ minLength: 1, maxLength: 6 });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64 = fc.maxSafeInteger();
const nonZero = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T> => a.filter((v) => v !== 0 && v !== '' && v !== (false as unknown));
const base64 = (min: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: min, maxLength: 6 }).map((b) => Buffer.from(b).toString('base64'));
const seconds = fc.integer({ min: -62135596800, max: 253402300799 });
const isoSeconds = (s: number): string => `${new Date(s * 1000).toISOString().slice(0, 19)}Z`;
const quantities = fc.constantFrom('0', '1', '100m', '1.5Gi', '2k', '1e3', '-1');
const jsonValue = fc
  .dictionary(fc.constantFrom('a', 'f:b', 'c'), fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.boolean()), { minKeys: 1, maxKeys: 3 })
  .map((d) => ({ ...d }));

/** A value of type t; `zeroOk` says whether the zero form may appear (pointers, list items, map values). */
function valueArb(t: ValueType, zeroOk: boolean, depth: number): fc.Arbitrary<unknown> {
  if ('scalar' in t) {
    const a: fc.Arbitrary<unknown> =
      t.scalar === 's' ? str : t.scalar === 'b' ? fc.boolean() : t.scalar === 'by' ? base64(zeroOk ? 0 : 1) : t.scalar === 'i32' ? int32 : int64;
    return zeroOk ? a : nonZero(a);
  }
  if ('special' in t) {
    switch (t.special) {
      case 'time':
        return seconds.map(isoSeconds);
      case 'microtime':
        return fc.tuple(seconds, fc.integer({ min: 0, max: 999_999 })).map(([s, us]) => `${isoSeconds(s).slice(0, -1)}.${String(us).padStart(6, '0')}Z`);
      case 'duration':
        return (zeroOk ? int64 : nonZero(int64)).map(formatDuration);
      case 'rawjson':
        return jsonValue;
      case 'quantity':
        return quantities;
      case 'intorstring':
        return fc.oneof(zeroOk ? int32 : nonZero(int32), zeroOk ? str : nonEmptyStr);
      case 'stringlist':
        return fc.array(str, { maxLength: 3 });
    }
  }
  return messageArb(t.message, depth + 1);
}

/** Fields always present in the decoded JSON (Go writes them whatever their value). */
function mandatory(f: FieldDesc): boolean {
  if (f.pointer || f.repeated || f.mapKey) return false;
  if ('message' in f.value) return true;
  if ('special' in f.value) return f.value.special === 'quantity' || (f.keepZero && f.value.special !== 'time' && f.value.special !== 'microtime');
  return f.keepZero;
}

function fieldArb(f: FieldDesc, depth: number): fc.Arbitrary<unknown> {
  if (f.mapKey) return fc.dictionary(key, valueArb(f.value, true, depth), { minKeys: 1, maxKeys: 2 }).map((d) => ({ ...d }));
  if (f.repeated) return fc.array(valueArb(f.value, true, depth), { minLength: 1, maxLength: 2 });
  return valueArb(f.value, f.pointer || f.keepZero, depth);
}

const arbCache = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

/**
 * Random JSON of a message in the form the decoder produces: optional fields present or not (none beyond
 * MAX_DEPTH), mandatory fields always, inlined embeds merged into the parent.
 */
function messageArb(name: string, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const cacheKey = `${name}@${Math.min(depth, MAX_DEPTH + 1)}`;
  const cached = arbCache.get(cacheKey);
  if (cached) return cached;
  const desc = messageDesc(name);
  const own: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  const inlined: fc.Arbitrary<Record<string, unknown>>[] = [];
  for (const f of desc.fields) {
    if (f.inline && 'message' in f.value) inlined.push(messageArb(f.value.message, depth));
    else if (mandatory(f)) {
      own[f.json] = fieldArb(f, depth);
      required.push(f.json);
    } else if (depth <= MAX_DEPTH) own[f.json] = fieldArb(f, depth);
  }
  const arb = fc
    .tuple(fc.record(own, { requiredKeys: required }), ...inlined)
    .map((parts) => Object.assign({}, ...parts) as Record<string, unknown>);
  arbCache.set(cacheKey, arb);
  return arb;
}

test('every message in the table survives encode → decode', () => {
  const names = messageNames();
  assert.ok(names.length > 300);
  for (const name of names) {
    fc.assert(
      fc.property(messageArb(name, 0), (obj) => {
        assert.deepStrictEqual(decodeMessageJSON(name, encodeMessage(name, obj)), obj);
      }),
      { numRuns: 8, seed: 42 },
    );
  }
});
