// Child process of the SQLite crash test (sqlite.test.ts): creates keys from many concurrent writers and prints
// "<key> <revision>" for each write only after the store acknowledged it, until the parent kill -9s it.
import { SqliteStore } from '../sqlite.js';

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write('usage: crash-writer DBPATH\n');
  process.exit(2);
}
const store = new SqliteStore(path, { compactIntervalMs: 0 });
const value = 'v'.repeat(512);
let next = 0;

async function writer(): Promise<void> {
  for (;;) {
    const key = `/crash/${String(next++).padStart(8, '0')}`;
    const kv = await store.create(key, value);
    // stdout to a pipe is synchronous on Linux: once write() returns, the parent can read the line even if we die.
    process.stdout.write(`${key} ${kv.modRevision}\n`);
  }
}

for (let i = 0; i < 16; i++) {
  writer().catch((err: unknown) => {
    process.stderr.write(`writer failed: ${String(err)}\n`);
    process.exit(1);
  });
}
