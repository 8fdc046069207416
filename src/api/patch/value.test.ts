// Value helpers: Go-worded JSON syntax errors, Go %v rendering, cloning and equality.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { clone, decodeJson, deepEqual, goFmt, goTypeName, JsonSyntaxError } from './value.js';

function syntaxError(text: string): string {
  try {
    decodeJson(text);
  } catch (e) {
    assert.ok(e instanceof JsonSyntaxError);
    return e.message;
  }
  assert.fail(`expected a syntax error for ${JSON.stringify(text)}`);
}

describe('decodeJson: encoding/json error texts', () => {
  const cases: [string, string][] = [
    ['', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['{"a":"b', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
    ['[1 2]', "invalid character '2' after array element"],
    ['{1:2}', "invalid character '1' looking for beginning of object key string"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":1}x', "invalid character 'x' after top-level value"],
    ['01', "invalid character '1' after top-level value"],
    ['tru', "invalid character ' ' in literal true (expecting 'e')"],
    ['nul!', "invalid character '!' in literal null (expecting 'l')"],
    ['fals', "invalid character ' ' in literal false (expecting 'e')"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['1.', "invalid character ' ' after decimal point in numeric literal"],
    ['-', "invalid character ' ' in numeric literal"],
    ['1e+', "invalid character ' ' in exponent of numeric literal"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['[', 'unexpected end of JSON input'],
    ['{"a":[1,{"b":2]}', "invalid character ']' after object key:value pair"],
  ];
  for (const [text, message] of cases) {
    it(JSON.stringify(text), () => assert.equal(syntaxError(text), message));
  }

  it('parses valid documents like JSON.parse', () => {
    for (const t of ['{}', '[]', '0', '-1.5e3', '"x"', 'true', 'null', ' {"a":[1,{"b":null}]} ']) assert.deepEqual(decodeJson(t), JSON.parse(t));
  });

  it('explains every string JSON.parse rejects in Go’s words', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 12 }), fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1)))), (s) => {
        let valid = true;
        try {
          JSON.parse(s);
        } catch {
          valid = false;
        }
        if (valid) return;
        assert.match(syntaxError(s), /^(invalid character '.+' .+|unexpected end of JSON input)$/s);
      }),
      { numRuns: 500 },
    );
  });
});

describe('goFmt / goTypeName', () => {
  const cases: [unknown, string][] = [
    [{ name: 'a', image: 'nginx', b: { y: 1, x: [1, 'z'] } }, 'map[b:map[x:[1 z] y:1] image:nginx name:a]'],
    [null, '<nil>'],
    [[true, 1.5, 1e21, 1234567.5, 0.00001], '[true 1.5 1e+21 1.2345675e+06 1e-05]'],
  ];
  for (const [v, s] of cases) it(s, () => assert.equal(goFmt(v), s));
  it('type names', () => {
    assert.deepEqual([{}, [], 'x', 1, 1.5, true, null].map(goTypeName), ['map[string]interface {}', '[]interface {}', 'string', 'int64', 'float64', 'bool', '%!s(<nil>)']);
  });
});

describe('clone / deepEqual', () => {
  it('clone is deep and equal', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = clone(v);
        assert.ok(deepEqual(c, v));
        assert.deepEqual(c, v);
      }),
      { numRuns: 200 },
    );
  });
  it('deepEqual agrees with node’s deepStrictEqual on JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        let same = true;
        try {
          assert.deepStrictEqual(a, b);
        } catch {
          same = false;
        }
        assert.equal(deepEqual(a, b), same);
      }),
      { numRuns: 300 },
    );
  });
});
