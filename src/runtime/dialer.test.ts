// Tests of the netns dialer (dialer.ts) inside a test host: a listener there, refused and dropped ports, many
// parallel connections through the one relay, and close() leaving no process in the namespace.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { check, run } from './command.js';
import { openNetnsDialer, type NetnsDialer } from './dialer.js';
import { createTestHost, preflight, type TestHost } from './testing.js';

const PORT = 7070;
// A server inside the test host: greets each connection with "hi\n", then echoes upper-cased.
const SERVER = `require('net').createServer((s)=>{s.write('hi\\n');s.on('data',(d)=>s.write(d.toString().toUpperCase()));s.on('end',()=>s.end());}).listen(${PORT},'127.0.0.1',()=>console.log('listening'));`;

function readUntil(s: Duplex, want: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (text.includes(want)) {
        s.off('data', onData);
        resolve(text);
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('end', () => reject(new Error(`ended before ${JSON.stringify(want)}: ${JSON.stringify(text)}`)));
  });
}

async function netnsPids(host: TestHost): Promise<string[]> {
  return (await run('ip', ['netns', 'pids', host.name])).stdout.split('\n').filter(Boolean);
}

describe('netns dialer', { timeout: 60_000 }, () => {
  let host: TestHost;
  let server: ChildProcess | undefined;
  let dialer: NetnsDialer | undefined;

  before(async () => {
    preflight();
    host = await createTestHost();
    server = spawn('nsenter', [`--net=${host.path}`, '--', process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    await readUntil(server.stdout as unknown as Duplex, 'listening');
    // Port 9 drops SYNs, so a dial there can only time out.
    await check('nsenter', [`--net=${host.path}`, '--', 'iptables', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '9', '-j', 'DROP']);
    dialer = await openNetnsDialer(host.path);
  });

  after(async () => {
    await dialer?.close();
    server?.kill('SIGKILL');
    await host?.destroy();
  });

  it('relays a connection to a listener inside the namespace, including bytes the server sends first', async () => {
    const s = await dialer!.dial('127.0.0.1', PORT, 2000);
    assert.equal(await readUntil(s, 'hi\n'), 'hi\n');
    s.write('ping');
    assert.equal(await readUntil(s, 'PING'), 'PING');
    s.end();
    await new Promise((r) => s.once('close', r));
  });

  it('the listener is not reachable from the root namespace: the dial really happens inside', async () => {
    const direct = await openNetnsDialer(undefined);
    // Nothing listens on this port in the root namespace (we hold it ourselves to be sure, then free it).
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const free = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await assert.rejects(direct.dial('127.0.0.1', free, 1000), { code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${free}` });
    await assert.rejects(dialer!.dial('127.0.0.1', free, 1000), { code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${free}` });
  });

  it('refused, unreachable and timed-out connections reject with the errno message', async () => {
    await assert.rejects(dialer!.dial('127.0.0.1', PORT + 1, 1000), { code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${PORT + 1}` });
    await assert.rejects(dialer!.dial('10.42.0.5', 8080, 1000), { code: 'ENETUNREACH', message: /^connect ENETUNREACH 10.42.0.5:8080/ });
    await assert.rejects(dialer!.dial('127.0.0.1', 9, 300), { code: 'ETIMEDOUT', message: 'connect ETIMEDOUT 127.0.0.1:9' });
  });

  it('carries many parallel connections through one relay process', async () => {
    const before = await netnsPids(host);
    const results = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const s = await dialer!.dial('127.0.0.1', PORT, 5000);
        await readUntil(s, 'hi\n');
        s.write(`conn${i}`);
        const got = await readUntil(s, `CONN${i}`);
        s.destroy();
        return got;
      }),
    );
    assert.deepEqual(results, Array.from({ length: 60 }, (_, i) => `CONN${i}`));
    assert.deepEqual(await netnsPids(host), before);
  });

  it('a relay whose parent is SIGKILLed removes its socket directory and exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-dialer-test-'));
    const dialerJs = fileURLToPath(new URL('./dialer.js', import.meta.url));
    const script = `const { openNetnsDialer } = await import(${JSON.stringify(dialerJs)}); await openNetnsDialer(${JSON.stringify(host.path)}); console.log('open'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
    await readUntil(child.stdout as unknown as Duplex, 'open');
    assert.equal(readdirSync(dir).length, 1);
    const before = (await netnsPids(host)).length;
    child.kill('SIGKILL');
    for (let i = 0; i < 100 && (readdirSync(dir).length > 0 || (await netnsPids(host)).length >= before); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(readdirSync(dir), []);
    assert.equal((await netnsPids(host)).length, before - 1);
    rmSync(dir, { recursive: true, force: true });
  });

  it('close() kills the relay and leaves no process in the namespace; later dials reject', async () => {
    const pids = await netnsPids(host);
    assert.equal(pids.length, 2, `server and relay: ${pids.join(' ')}`);
    await dialer!.close();
    server!.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    assert.deepEqual(await netnsPids(host), []);
    await assert.rejects(dialer!.dial('127.0.0.1', PORT), /closed/);
  });
});
