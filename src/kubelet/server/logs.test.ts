// Tests of streaming a CRI log file: options on what is there, follow with new records, across a rotation
// (rename + new file), partial records, limitBytes, and the end once the container no longer runs.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { streamContainerLog } from './logs.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ts-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const line = (t: string, text: string, tag = 'F', stream = 'stdout') => `${t} ${stream} ${tag} ${text}\n`;

function sink() {
  const s = { out: '', closed: false, write: (c: string) => void (s.out += c), waiters: [] as Array<() => void> };
  const orig = s.write;
  s.write = (c: string) => {
    orig(c);
    for (const w of s.waiters.splice(0)) w();
  };
  return s;
}

test('non-follow: since, tail, timestamps, limitBytes, partial lines joined', async () => {
  const p = join(dir, 'a.log');
  writeFileSync(p, line('2026-01-01T00:00:01.000000001Z', 'one') + line('2026-01-01T00:00:02Z', 'tw', 'P') + line('2026-01-01T00:00:02Z', 'o') + 'garbage\n' + line('2026-01-01T00:00:03Z', 'three', 'F', 'stderr'));
  const run = async (o: Parameters<typeof streamContainerLog>[1]) => {
    const s = sink();
    await streamContainerLog(p, o, s, async () => false);
    return s.out;
  };
  assert.equal(await run({ follow: false }), 'one\ntwo\nthree\n');
  assert.equal(await run({ follow: false, tailLines: 2 }), 'two\nthree\n');
  assert.equal(await run({ follow: false, sinceMs: Date.parse('2026-01-01T00:00:02Z') }), 'two\nthree\n');
  assert.equal(await run({ follow: false, tailLines: 1, timestamps: true }), '2026-01-01T00:00:03Z three\n');
  assert.equal(await run({ follow: false, limitBytes: 6 }), 'one\ntw');
});

test('follow: new records, then a rotated file, ends when the container stopped', async () => {
  const p = join(dir, 'b.log');
  writeFileSync(p, line('2026-01-01T00:00:01Z', 'before'));
  let running = true;
  const s = sink();
  const until = async (text: string) => {
    while (!s.out.includes(text)) await new Promise<void>((r) => s.waiters.push(r));
  };
  const done = streamContainerLog(p, { follow: true }, s, async () => running);
  await until('before\n');
  appendFileSync(p, line('2026-01-01T00:00:02Z', 'appended'));
  await until('appended\n');
  appendFileSync(p, line('2026-01-01T00:00:03Z', 'last-in-old'));
  renameSync(p, `${p}.20260101-000003`);
  writeFileSync(p, line('2026-01-01T00:00:04Z', 'first-in-new'));
  await until('first-in-new\n');
  running = false;
  await done;
  assert.equal(s.out, 'before\nappended\nlast-in-old\nfirst-in-new\n');
});
