// Unit tests for the subcommand flag parser and Go-style durations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlagError, parseDuration, parseFlags } from './flags.js';

describe('flags', () => {
  it('parses --name value, --name=value and booleans, with defaults', () => {
    const spec = { a: { type: 'string', default: 'x', help: '' }, n: { type: 'number', default: 1, help: '' }, b: { type: 'boolean', default: false, help: '' } } as const;
    assert.deepEqual(parseFlags(spec, []), { a: 'x', n: 1, b: false });
    assert.deepEqual(parseFlags(spec, ['--a', 'y', '--n=7', '--b']), { a: 'y', n: 7, b: true });
    assert.deepEqual(parseFlags(spec, ['--b=false']), { a: 'x', n: 1, b: false });
    assert.throws(() => parseFlags(spec, ['--zz']), /unknown flag: --zz/);
    assert.throws(() => parseFlags(spec, ['--n', 'seven']), /not a number/);
    assert.throws(() => parseFlags(spec, ['--a']), /needs an argument/);
  });

  it('parses Go durations into milliseconds', () => {
    assert.equal(parseDuration('40s'), 40_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0'), 0);
    for (const bad of ['', '40', 's', '4x', '10s junk', '-1s']) assert.throws(() => parseDuration(bad), FlagError, bad);
  });
});
