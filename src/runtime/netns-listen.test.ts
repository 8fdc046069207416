// Tests of netns-listen.ts inside a test host: TCP and UDP sockets bound in the namespace and served by this
// process (reached from inside it, not from ours), an http.Server on such a socket, bind errors with their codes,
// and no helper process left behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { run } from './command.js';
import { bindUdp, closeTcp, closeUdp, listenTcp } from './netns-listen.js';
import { createTestHost, preflight, type TestHost } from './testing.js';

const exec = promisify(execFile);

/** Runs a node script inside the test host and returns its stdout. */
async function inHost(host: TestHost, script: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('nsenter', [`--net=${host.path}`, '--', process.execPath, '-e', script, '--', ...args], { timeout: 10_000 });
  return stdout;
}

const TCP_CLIENT = `const s=require('net').connect(+process.argv[1],'127.0.0.1');let t='';s.on('data',d=>t+=d);s.on('end',()=>console.log(t));s.on('error',e=>console.log('error '+e.code));`;
const UDP_CLIENT = `const u=require('dgram').createSocket('udp4');u.on('message',m=>{console.log(m.toString());u.close()});u.send('ping',+process.argv[1],'127.0.0.1');setTimeout(()=>{console.log('timeout');process.exit(0)},3000).unref();`;
const HTTP_CLIENT = `require('http').get('http://127.0.0.1:'+process.argv[1]+'/x',r=>{let t='';r.on('data',d=>t+=d);r.on('end',()=>console.log(r.statusCode+' '+t))}).on('error',e=>console.log('error '+e.code));`;

describe('netns listen', { timeout: 60_000 }, () => {
  let host: TestHost;

  before(async () => {
    preflight();
    host = await createTestHost();
  });

  after(async () => {
    await host?.destroy();
  });

  it('serves TCP from inside the namespace, not from ours', async () => {
    const server = await listenTcp(host.path, '127.0.0.1', 0);
    server.on('connection', (s) => s.end(`hello ${s.remoteAddress}`));
    const port = (server.address() as AddressInfo).port;
    try {
      assert.ok(port > 0);
      assert.equal((await inHost(host, TCP_CLIENT, String(port))).trim(), 'hello 127.0.0.1');
      // The port is free in our namespace: the socket lives in the test host's.
      const mine = createServer();
      await new Promise<void>((r, j) => mine.once('error', j).listen(port, '127.0.0.1', () => r()));
      await closeTcp(mine);
    } finally {
      await closeTcp(server);
    }
    assert.equal((await inHost(host, TCP_CLIENT, String(port))).trim(), 'error ECONNREFUSED', 'closed');
  });

  it('answers UDP from inside the namespace', async () => {
    const sock = await bindUdp(host.path, '127.0.0.1', 0);
    sock.on('message', (m, r) => sock.send(`pong:${m.toString()}`, r.port, r.address));
    try {
      const port = sock.address().port;
      assert.equal((await inHost(host, UDP_CLIENT, String(port))).trim(), 'pong:ping');
    } finally {
      await closeUdp(sock);
    }
    await closeUdp(sock); // idempotent
  });

  it('an http.Server listens on a socket bound in the namespace', async () => {
    const http = createHttpServer((req, res) => res.end(`path ${req.url}`));
    const server: Server = await listenTcp(host.path, '127.0.0.1', 0, http);
    assert.equal(server, http);
    try {
      const port = (http.address() as AddressInfo).port;
      assert.equal((await inHost(host, HTTP_CLIENT, String(port))).trim(), '200 path /x');
    } finally {
      await closeTcp(http);
    }
  });

  it('reports bind errors with their codes', async () => {
    await assert.rejects(listenTcp(host.path, '10.254.254.254', 0), (e: NodeJS.ErrnoException) => e.code === 'EADDRNOTAVAIL');
    await assert.rejects(bindUdp(host.path, '10.254.254.254', 0), (e: NodeJS.ErrnoException) => e.code === 'EADDRNOTAVAIL');
    const first = await bindUdp(host.path, '127.0.0.1', 0);
    try {
      await assert.rejects(bindUdp(host.path, '127.0.0.1', first.address().port), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    } finally {
      await closeUdp(first);
    }
    const tcp = await listenTcp(host.path, '127.0.0.1', 0);
    try {
      await assert.rejects(listenTcp(host.path, '127.0.0.1', (tcp.address() as AddressInfo).port), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    } finally {
      await closeTcp(tcp);
    }
  });

  it('binds directly without a namespace', async () => {
    const server = await listenTcp(undefined, '127.0.0.1', 0);
    const sock = await bindUdp(undefined, '127.0.0.1', 0);
    assert.ok((server.address() as AddressInfo).port > 0);
    assert.ok(sock.address().port > 0);
    await closeTcp(server);
    await closeUdp(sock);
  });

  it('leaves no helper process in the namespace', async () => {
    const sock = await bindUdp(host.path, '127.0.0.1', 0);
    const pids = (await run('ip', ['netns', 'pids', host.name])).stdout.split('\n').filter(Boolean);
    await closeUdp(sock);
    assert.deepEqual(pids, []);
  });
});
