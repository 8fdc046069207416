// Tests of shell-spawner.ts and command.ts's run() over it: argv reaches the program byte for byte (quotes, `$`,
// backquotes, newlines, spaces), the environment is exactly the one asked for, stdin/stdout/stderr, exit codes and
// signals, timeouts, a missing program or folder as spawn's errors, many programs at once, and no files left behind.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from './command.js';
import { ShellSpawner, shellQuote } from './shell-spawner.js';

const NASTY = [`it's`, `"double"`, '$(touch /tmp/k8ts-pwned)', '`id`', 'a\nb', ' lead', 'trail ', '', '*', '\\', '; exit 3', "'; exit 4; '", '$HOME', 'ünï'];

describe('shell spawner', () => {
  const sp = new ShellSpawner();
  const work = mkdtempSync(join(tmpdir(), 'k8ts-spawner-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('passes every argument unchanged and runs no shell syntax in it', async () => {
    // printf '%s\0' prints each argument NUL-terminated: exactly what the program received.
    const r = await sp.run({ cmd: 'printf', args: ['%s\\0', ...NASTY] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), NASTY);
    assert.equal(existsSync('/tmp/k8ts-pwned'), false);
  });

  it('quotes with single quotes only', () => {
    assert.equal(shellQuote(`a'b`), `'a'\\''b'`);
  });

  it('leaves to command.ts\'s other path an environment the shell cannot spell', () => {
    assert.equal(sp.canRun({ cmd: 'env', args: [], env: { PATH: '/bin', 'A.B': 'x' } }), false);
    assert.equal(sp.canRun({ cmd: 'env', args: [], env: { ...process.env, OK_NAME: 'x' } }), true);
    assert.equal(sp.canRun({ cmd: 'env', args: [] }), true);
  });

  it('gives the program exactly the environment asked for', async () => {
    const env = { PATH: process.env.PATH, ONLY: `x'y z`, EMPTY: '' };
    const r = await sp.run({ cmd: 'env', args: [], env });
    assert.equal(r.code, 0);
    const got = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    // dash adds PWD for a program it starts; nothing else from the server's environment may leak in.
    delete got.PWD;
    assert.deepEqual(got, env);
    const inherited = await sp.run({ cmd: 'env', args: [] });
    assert.match(inherited.stdout, new RegExp(`^PATH=${process.env.PATH!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });

  it('feeds stdin and keeps stdout and stderr apart', async () => {
    const input = 'line 1\nline 2 \'"$x\n';
    const r = await sp.run({ cmd: 'sh', args: ['-c', 'cat; echo oops >&2; exit 7'], input });
    assert.deepEqual(r, { code: 7, stdout: input, stderr: 'oops\n' });
    const none = await sp.run({ cmd: 'cat', args: [] });
    assert.deepEqual(none, { code: 0, stdout: '', stderr: '' });
  });

  it('reports a signal as 128 + its number and kills on timeout', async () => {
    const killed = await sp.run({ cmd: 'sh', args: ['-c', 'kill -TERM $$'] });
    assert.equal(killed.code, 128 + 15);
    const t0 = Date.now();
    const slow = await sp.run({ cmd: 'sleep', args: ['30'], timeoutMs: 200 });
    assert.equal(slow.code, 128 + 9);
    assert.ok(Date.now() - t0 < 10_000);
  });

  it('runs in the folder asked for, and refuses a missing program or folder as spawn does', async () => {
    assert.equal((await sp.run({ cmd: 'pwd', args: [], cwd: work })).stdout.trim(), work);
    await assert.rejects(sp.run({ cmd: '/no/such/program', args: [] }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    await assert.rejects(sp.run({ cmd: 'true', args: [], cwd: join(work, 'missing') }), (e: NodeJS.ErrnoException) => e.code === 'EACCES');
    await assert.rejects(sp.run({ cmd: 'echo', args: ['a\0b'] }), TypeError);
    // A program's own 127 (a script missing a command) is its exit status, not a spawn error.
    const inner = await sp.run({ cmd: 'sh', args: ['-c', 'no-such-command-k8ts'] });
    assert.equal(inner.code, 127);
    assert.match(inner.stderr, /no-such-command-k8ts: not found/);
  });

  it('runs many programs at once, each answer to its own request', async () => {
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => sp.run({ cmd: 'sh', args: ['-c', `sleep 0.0${i % 10}; echo ${i}; exit ${i % 5}`] })));
    rs.forEach((r, i) => assert.deepEqual(r, { code: i % 5, stdout: `${i}\n`, stderr: '' }));
  });

  it('leaves no per-command files behind', async () => {
    await sp.run({ cmd: 'true', args: [], input: 'x' });
    const root = existsSync('/dev/shm') ? '/dev/shm/k8ts-spawn' : join(tmpdir(), 'k8ts-spawn');
    const mine = readdirSync(root).filter((n) => n.startsWith(`${process.pid}-`));
    assert.ok(mine.length >= 1);
    for (const d of mine) assert.deepEqual(readdirSync(join(root, d)), []);
  });

  it('is what command.ts runs programs with, and comes back after its shell dies', async () => {
    assert.deepEqual(await run('echo', ['hi']), { code: 0, stdout: 'hi\n', stderr: '' });
    // An environment name no shell can export still reaches the program (through the worker thread).
    assert.match((await run('env', [], { env: { PATH: process.env.PATH!, 'A.B': 'dotted' } })).stdout, /^A\.B=dotted$/m);
    const pid = sp.shellPid!;
    const slow = sp.run({ cmd: 'sleep', args: ['5'] }).then(
      () => 'answered',
      (e: Error) => e.message,
    );
    process.kill(pid, 'SIGKILL');
    assert.match(await slow, /the spawning shell exited/);
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(await sp.run({ cmd: 'echo', args: ['again'] }), { code: 0, stdout: 'again\n', stderr: '' });
  });
});
