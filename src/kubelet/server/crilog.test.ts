// Table tests of the CRI log rules: record parsing, partial lines, tail, since and the query options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRecord, parseCriLine, parseLogQuery, selectRecords, splitRecords, tailStart, type CriLogLine } from './crilog.js';

const rec = (time: string, stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string) => `${time} ${stream} ${tag} ${text}`;

test('parseCriLine', () => {
  const cases: Array<[string, Partial<CriLogLine> | undefined]> = [
    [rec('2026-12-04T00:00:00.123456789Z', 'stdout', 'F', 'hello world'), { stream: 'stdout', full: true, text: 'hello world', timeMs: Date.parse('2026-12-04T00:00:00.123Z') }],
    [rec('2026-12-04T00:00:00.5+01:00', 'stderr', 'P', 'part'), { stream: 'stderr', full: false, text: 'part' }],
    ['2026-12-04T00:00:00Z stdout F', { text: '', full: true }],
    ['garbage', undefined],
    ['notatime stdout F x', undefined],
    ['2026-12-04T00:00:00Z stdin F x', undefined],
  ];
  for (const [line, want] of cases) {
    const got = parseCriLine(line);
    if (want === undefined) assert.equal(got, undefined, line);
    else for (const [k, v] of Object.entries(want)) assert.equal((got as unknown as Record<string, unknown>)[k], v, `${line}: ${k}`);
  }
});

test('splitRecords keeps the unterminated tail and multi-byte characters', () => {
  const buf = Buffer.from('a\nbé\nc');
  const { records, rest } = splitRecords(buf.subarray(0, 5));
  assert.deepEqual(records, ['a']);
  assert.deepEqual(splitRecords(Buffer.concat([rest, buf.subarray(5)])).records, ['bé']);
});

const L = (text: string, full = true, t = 0): CriLogLine => ({ time: new Date(t).toISOString(), timeMs: t, stream: 'stdout', full, text });

test('tailStart counts logical lines (partials belong to the line they continue)', () => {
  const recs = [L('a'), L('b1', false), L('b2'), L('c')];
  const cases: Array<[number, number]> = [
    [0, 4],
    [1, 3],
    [2, 1],
    [3, 0],
    [10, 0],
  ];
  for (const [n, want] of cases) assert.equal(tailStart(recs, n), want, `tail ${n}`);
});

test('selectRecords: since then tail; formatRecord with and without timestamps', () => {
  const recs = [L('a', true, 1000), L('b', true, 2000), L('c', true, 3000)];
  assert.deepEqual(selectRecords(recs, { sinceMs: 2000 }).map((r) => r.text), ['b', 'c']);
  assert.deepEqual(selectRecords(recs, { sinceMs: 2000, tailLines: 1 }).map((r) => r.text), ['c']);
  assert.deepEqual(selectRecords(recs, {}).map((r) => r.text), ['a', 'b', 'c']);
  assert.equal(formatRecord(L('x', true, 0), false), 'x\n');
  assert.equal(formatRecord(L('x', false, 0), true), '1970-01-01T00:00:00.000Z x');
});

test('parseLogQuery', () => {
  const q = (s: string) => parseLogQuery(new URLSearchParams(s), 100_000);
  assert.deepEqual(q('follow=true&tailLines=5&timestamps=true'), { follow: true, previous: false, timestamps: true, tailLines: 5 });
  assert.equal(q('sinceSeconds=10').sinceMs, 90_000);
  assert.equal(q('sinceTime=1970-01-01T00:00:50Z').sinceMs, 50_000);
  assert.equal(q('limitBytes=7').limitBytes, 7);
  assert.throws(() => q('sinceSeconds=1&sinceTime=1970-01-01T00:00:50Z'), /at most one of/);
  assert.throws(() => q('tailLines=-1'), /tailLines/);
  assert.throws(() => q('tailLines=x'), /invalid value/);
  assert.throws(() => q('sinceSeconds=0'), /sinceSeconds/);
  assert.throws(() => q('limitBytes=0'), /limitBytes/);
});
