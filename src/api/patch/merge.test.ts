// JSON merge patch: RFC 7386 appendix A, the evanphx/json-patch pruning rules upstream inherits, kubectl's label /
// annotate / scale patches, purity, and agreement with strategic merge patch where no strategies apply.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mergePatch } from './merge.js';
import { strategicMergePatch } from './strategic.js';
import { clone, type JsonObject } from './value.js';

describe('merge patch: RFC 7386 appendix A', () => {
  const cases: [string, string, string][] = [
    ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
    ['{"a":"b"}', '{"a":null}', '{}'],
    ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
    ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
    ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
    ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
    ['["a","b"]', '["c","d"]', '["c","d"]'],
    ['{"a":"b"}', '["c"]', '["c"]'],
    ['{"a":"foo"}', 'null', 'null'],
    ['{"a":"foo"}', '"bar"', '"bar"'],
    ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
    ['[1,2]', '{"a":"b","c":null}', '{"a":"b"}'],
    ['{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
  ];
  for (const [orig, patch, want] of cases) {
    it(`${orig} + ${patch}`, () => {
      assert.deepEqual(mergePatch(JSON.parse(orig), JSON.parse(patch)), JSON.parse(want));
    });
  }
});

describe('merge patch: upstream (evanphx v4) specifics', () => {
  it('prunes null members of objects inside inserted arrays but keeps null elements', () => {
    assert.deepEqual(mergePatch({}, { a: [null, { x: null, y: 1 }] }), { a: [null, { y: 1 }] });
  });
  it('merges into a member that is null as if it were missing', () => {
    assert.deepEqual(mergePatch({ a: null }, { a: { b: null, c: 1 } }), { a: { c: 1 } });
  });
  it('keeps an array replacing an object unpruned, as upstream does', () => {
    assert.deepEqual(mergePatch({ a: { k: 1 } }, { a: [{ x: null }] }), { a: [{ x: null }] });
  });
});

describe('merge patch: kubectl patches', () => {
  const pod = (): JsonObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web', a: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
  it('label --overwrite', () => {
    assert.deepEqual((mergePatch(pod(), { metadata: { labels: { a: 'b' } } }) as JsonObject).metadata, { name: 'web', labels: { app: 'web', a: 'b' } });
  });
  it('label a-', () => {
    assert.deepEqual((mergePatch(pod(), { metadata: { labels: { a: null } } }) as JsonObject).metadata, { name: 'web', labels: { app: 'web' } });
  });
  it('annotate', () => {
    assert.deepEqual((mergePatch(pod(), { metadata: { annotations: { note: 'hello world' } } }) as JsonObject).metadata, {
      name: 'web',
      labels: { app: 'web', a: 'x' },
      annotations: { note: 'hello world' },
    });
  });
  it('scale on /scale', () => {
    const scale = { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web' }, spec: { replicas: 1 }, status: { replicas: 1, selector: 'app=web' } };
    assert.deepEqual(mergePatch(scale, { spec: { replicas: 3 } }), { ...scale, spec: { replicas: 3 } });
  });
  it('replaces lists (no merge keys in merge patch)', () => {
    assert.deepEqual((mergePatch(pod(), { spec: { containers: [{ name: 'd' }] } }) as JsonObject).spec, { containers: [{ name: 'd' }] });
  });
});

// JSON values without nulls inside arrays and without "$" keys: where both engines must agree.
const key = fc.constantFrom('a', 'b', 'c', 'spec', 'metadata', 'x');
const scalar = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean());
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, fc.constant(null), fc.array(scalar, { maxLength: 3 }), tie('object')),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
}));
const object = fc.dictionary(key, value, { maxKeys: 4, noNullPrototype: true });

describe('merge patch: properties', () => {
  it('never modifies its inputs and shares nothing with them', () => {
    fc.assert(
      fc.property(object, object, (o, p) => {
        const o2 = clone(o);
        const p2 = clone(p);
        const out = mergePatch(o, p) as JsonObject;
        assert.deepEqual(o, o2);
        assert.deepEqual(p, p2);
        for (const k of Object.keys(out)) {
          const v = out[k];
          if (v !== null && typeof v === 'object') assert.ok(v !== o[k] && v !== p[k]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(object, object, (o, p) => {
        const once = mergePatch(o, p);
        assert.deepEqual(mergePatch(once, p), once);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with strategic merge patch when no schema applies', () => {
    fc.assert(
      fc.property(object, object, (o, p) => {
        assert.deepEqual(strategicMergePatch(o, p, undefined), mergePatch(o, p));
      }),
      { numRuns: 300 },
    );
  });
});
