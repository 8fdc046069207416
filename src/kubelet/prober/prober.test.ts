// Unit tests of the prober and hook runner with a fake runtime (scripted exec) and a fake dial that maps pod
// addresses to HTTP servers on loopback: pure helpers as tables, thresholds, startup gating, events, HTTP details,
// hook messages, and no timers left behind. Periods are 1 s; nothing asserts on durations.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RuntimeError, type RuntimeService, type StreamIO } from '../../runtime/interface.js';
import type { Container, Pod, ProbeResult } from '../types.js';
import { dialErrorText, expandCommand, goQuote, httpProbe, probeUrl, resolvePort, execProbe, type HttpGetSpec } from './handlers.js';
import { LifecycleHookRunner } from './hooks.js';
import { Prober, probeSpec } from './prober.js';

const POD_IP = '10.42.0.5';

type ExecScript = (cmd: string[], io: StreamIO, timeoutSeconds?: number) => Promise<number>;

/** A runtime whose exec runs a script per command name and records every call. */
function fakeRuntime(scripts: Record<string, ExecScript>): { runtime: RuntimeService; calls: string[][] } {
  const calls: string[][] = [];
  const runtime = {
    exec: async (_id: string, cmd: string[], io: StreamIO, timeoutSeconds?: number) => {
      calls.push(cmd);
      const s = scripts[cmd[0] ?? ''];
      if (!s) throw new RuntimeError(`exec: "${cmd[0]}": executable file not found in $PATH`, 'Unknown');
      return s(cmd, io, timeoutSeconds);
    },
  } as unknown as RuntimeService;
  return { runtime, calls };
}

/** Dials `POD_IP:port` to whatever loopback port is mapped for it; anything else is refused. */
function fakeDial(map: Map<string, number>, dialled: string[]) {
  return (host: string, port: number): Promise<Duplex> => {
    dialled.push(`${host}:${port}`);
    const to = map.get(`${host}:${port}`);
    if (to === undefined) {
      const e: NodeJS.ErrnoException = new Error(`connect ECONNREFUSED ${host}:${port}`);
      e.code = 'ECONNREFUSED';
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: to });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  };
}

const pod = (uid: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${uid}`, namespace: 'default', uid } });

/** Resolves with the first result the predicate accepts. */
function nextResult(p: Prober, pred: (r: ProbeResult) => boolean): Promise<ProbeResult> {
  return new Promise((resolve) => p.onResult((r) => pred(r) && resolve(r)));
}

/** Resolves once fn() is true, checked whenever `poke` fires (here: every fake exec call). */
function until(hooks: Array<() => void>, fn: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (fn()) resolve();
    };
    hooks.push(check);
    check();
  });
}

const ok = async (): Promise<number> => 0;

describe('prober helpers', () => {
  it('probe defaults as upstream', () => {
    const cases: Array<[Record<string, any>, Partial<ReturnType<typeof probeSpec>>]> = [
      [{}, { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 }],
      [{ periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 1, initialDelaySeconds: 4 }, { periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 1, initialDelaySeconds: 4 }],
      [{ periodSeconds: 0, successThreshold: 0 }, { periodSeconds: 10, successThreshold: 1 }],
    ];
    for (const [input, want] of cases) {
      const got = probeSpec(input);
      for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, `${JSON.stringify(input)} ${k}`);
    }
  });

  it('resolves ports: numbers, named container ports, numeric strings; errors as upstream', () => {
    const c: Container = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };
    const cases: Array<[unknown, number | RegExp]> = [
      [80, 80],
      ['http', 8080],
      ['9090', 9090],
      ['metrics', /^strconv.Atoi: parsing "metrics": invalid syntax$/],
      [0, /^invalid port number: 0$/],
      [70000, /^invalid port number: 70000$/],
    ];
    for (const [port, want] of cases) {
      if (typeof want === 'number') assert.equal(resolvePort(port, c), want);
      else assert.throws(() => resolvePort(port, c), { message: want });
    }
  });

  it('expands $(VAR) in commands with literal env values only', () => {
    const c: Container = { name: 'c', env: [{ name: 'A', value: 'x' }, { name: 'S', valueFrom: { secretKeyRef: {} } }] };
    assert.deepEqual(expandCommand(['echo', '$(A)', '$(S)', '$(MISSING)', '$$(A)', 'a$(A)b'], c), ['echo', 'x', '$(S)', '$(MISSING)', '$(A)', 'axb']);
  });

  it('Go wording of URLs, quotes and dial errors', () => {
    assert.equal(probeUrl({ scheme: 'http', host: POD_IP, port: 8080, path: '/' }), 'http://10.42.0.5:8080/');
    assert.equal(probeUrl({ scheme: 'https', host: 'fd00::5', port: 443, path: '/healthz?x=1' }), 'https://[fd00::5]:443/healthz?x=1');
    assert.equal(goQuote('sh -c "x"\n'), '"sh -c \\"x\\"\\n"');
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`connect ${code}`), { code });
    assert.equal(dialErrorText('10.42.0.5:8080', err('ECONNREFUSED')), 'dial tcp 10.42.0.5:8080: connect: connection refused');
    assert.equal(dialErrorText('10.42.0.5:8080', err('ETIMEDOUT')), 'dial tcp 10.42.0.5:8080: i/o timeout');
    assert.equal(dialErrorText('10.42.0.5:8080', err('EHOSTUNREACH')), 'dial tcp 10.42.0.5:8080: connect: no route to host');
  });
});

describe('probe handlers', () => {
  let server: Server;
  let port = 0;
  let other: Server;
  let otherPort = 0;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const map = new Map<string, number>();
  const dialled: string[] = [];
  const dial = fakeDial(map, dialled);
  const spec = (path: string, extra: Partial<HttpGetSpec> = {}): HttpGetSpec => ({ scheme: 'http', host: POD_IP, port: 8080, path, headers: [], purpose: 'probe', ...extra });

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      const routes: Record<string, () => void> = {
        '/ok': () => res.end('fine'),
        '/500': () => res.writeHead(500).end('secret body'),
        '/hop': () => res.writeHead(302, { location: '/ok' }).end(),
        '/away': () => res.writeHead(301, { location: 'http://elsewhere.example:8080/' }).end('moved'),
        '/loop': () => res.writeHead(302, { location: '/loop' }).end(),
        '/big': () => res.end('x'.repeat(100_000)),
        '/hang': () => {},
      };
      (routes[req.url?.split('?')[0] ?? ''] ?? (() => res.writeHead(404).end()))();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
    other = createServer((_req, res) => res.end('other'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    otherPort = (other.address() as AddressInfo).port;
    map.set(`${POD_IP}:8080`, port);
    map.set(`${POD_IP}:9090`, otherPort);
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => other.close(r));
  });

  it('GET with upstream headers: User-Agent, Accept, Host, custom headers, query', async () => {
    seen.length = 0;
    assert.deepEqual(await httpProbe(dial, spec('/ok?a=1', { headers: [{ name: 'X-Custom', value: 'v' }] }), 1000), { result: 'success', output: 'fine' });
    const h = seen[0]!;
    assert.equal(h.url, '/ok?a=1');
    assert.equal(h.headers['user-agent'], 'kube-probe/1.32');
    assert.equal(h.headers.accept, '*/*');
    assert.equal(h.headers.host, '10.42.0.5:8080');
    assert.equal(h.headers['x-custom'], 'v');
    seen.length = 0;
    await httpProbe(dial, spec('/ok', { headers: [{ name: 'Host', value: 'svc.local' }, { name: 'User-Agent', value: 'mine' }] }), 1000);
    assert.equal(seen[0]!.headers.host, 'svc.local');
    assert.equal(seen[0]!.headers['user-agent'], 'mine');
  });

  it('status codes, redirects, body limit, refusal and timeout', async () => {
    assert.deepEqual(await httpProbe(dial, spec('/500'), 1000), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    assert.deepEqual(await httpProbe(dial, spec('/nope'), 1000), { result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
    assert.deepEqual(await httpProbe(dial, spec('/hop'), 1000), { result: 'success', output: 'fine' });
    dialled.length = 0;
    assert.deepEqual(await httpProbe(dial, spec('/away'), 1000), { result: 'warning', output: 'Probe terminated redirects, Response body: moved' });
    assert.deepEqual(dialled, ['10.42.0.5:8080'], 'a redirect to another host is not followed');
    assert.deepEqual(await httpProbe(dial, spec('/loop'), 2000), { result: 'failure', output: 'Get "http://10.42.0.5:8080/loop": stopped after 10 redirects' });
    const big = await httpProbe(dial, spec('/big'), 2000);
    assert.equal(big.result, 'success');
    assert.equal(big.output.length, 10 * 1024);
    assert.deepEqual(await httpProbe(dial, spec('/', { port: 8081 }), 1000), {
      result: 'failure',
      output: 'Get "http://10.42.0.5:8081/": dial tcp 10.42.0.5:8081: connect: connection refused',
    });
    assert.deepEqual(await httpProbe(dial, spec('/hang'), 300), {
      result: 'failure',
      output: 'Get "http://10.42.0.5:8080/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
    });
  });

  it('exec: exit code, combined output, timeout as failure, other errors thrown', async () => {
    const { runtime } = fakeRuntime({
      ok: async (_c, io) => (io.stdout!.write('out\n'), 0),
      bad: async (_c, io) => (io.stderr!.write("cat: can't open '/tmp/healthy': No such file or directory\n"), 1),
      slow: async () => {
        throw new RuntimeError('timeout', 'DeadlineExceeded');
      },
    });
    assert.deepEqual(await execProbe(runtime, 'cid', ['ok'], 1), { result: 'success', output: 'out\n' });
    assert.deepEqual(await execProbe(runtime, 'cid', ['bad'], 1), { result: 'failure', output: "cat: can't open '/tmp/healthy': No such file or directory\n" });
    assert.deepEqual(await execProbe(runtime, 'cid', ['slow', '5'], 1), { result: 'failure', output: 'command "slow 5" timed out' });
    await assert.rejects(execProbe(runtime, 'cid', ['missing'], 1), /executable file not found/);
  });
});

describe('Prober', { timeout: 30_000 }, () => {
  const fast = { periodSeconds: 1, timeoutSeconds: 1 };

  it('liveness: starts healthy, fails after failureThreshold with an event each time, then holds', async () => {
    const pokes: Array<() => void> = [];
    const { runtime, calls } = fakeRuntime({
      live: async (_c, io) => (io.stdout!.write('boom'), 1),
      ready: async () => (pokes.forEach((f) => f()), 0),
    });
    const events: string[] = [];
    const p = new Prober({ runtime, dial: fakeDial(new Map(), []), event: (_p, type, reason, msg) => events.push(`${type} ${reason} ${msg}`) });
    const c: Container = { name: 'app', livenessProbe: { exec: { command: ['live'] }, ...fast, failureThreshold: 2 }, readinessProbe: { exec: { command: ['ready'] }, ...fast } };
    const failed = nextResult(p, (r) => r.kind === 'liveness');
    p.addContainer(pod('u1'), c, 'cid-1', POD_IP);
    assert.equal(p.isStarted('u1', 'app'), true);
    const r = await failed;
    assert.deepEqual(r, { podUid: 'u1', containerName: 'app', containerId: 'cid-1', kind: 'liveness', success: false, message: 'Liveness probe failed: boom' });
    const liveCalls = calls.filter((x) => x[0] === 'live').length;
    assert.equal(liveCalls, 2);
    assert.deepEqual(events, ['Warning Unhealthy Liveness probe failed: boom', 'Warning Unhealthy Liveness probe failed: boom']);
    // On hold: two more readiness periods pass without another liveness probe.
    const readyNow = calls.filter((x) => x[0] === 'ready').length;
    await until(pokes, () => calls.filter((x) => x[0] === 'ready').length >= readyNow + 2);
    assert.equal(calls.filter((x) => x[0] === 'live').length, 2);
    await p.stop();
  });

  it('readiness: false until successThreshold successes, one result per state change, HTTP failure message', async () => {
    let status = 200;
    const srv = createServer((_q, res) => res.writeHead(status).end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const map = new Map([[`${POD_IP}:8080`, (srv.address() as AddressInfo).port]]);
    const { runtime } = fakeRuntime({});
    const results: ProbeResult[] = [];
    const events: string[] = [];
    const p = new Prober({ runtime, dial: fakeDial(map, []), event: (_p, _t, _r, m) => events.push(m) });
    p.onResult((r) => results.push(r));
    const c: Container = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 'http' }, ...fast, successThreshold: 2, failureThreshold: 1 } };
    const ready = nextResult(p, (r) => r.success);
    p.addContainer(pod('u2'), c, 'cid-2', POD_IP);
    assert.equal(p.isReady('u2', 'web'), false);
    await ready;
    assert.equal(p.isReady('u2', 'web'), true);
    status = 500;
    const unready = nextResult(p, (r) => !r.success);
    assert.equal((await unready).message, 'Readiness probe failed: HTTP probe failed with statuscode: 500');
    assert.equal(p.isReady('u2', 'web'), false);
    assert.deepEqual(results.map((r) => r.success), [true, false]);
    assert.deepEqual(events, ['Readiness probe failed: HTTP probe failed with statuscode: 500']);
    await p.stop();
    await new Promise((r) => srv.close(r));
  });

  it('startup gates liveness and readiness; a container without probes is ready and started', async () => {
    let startupCalls = 0;
    const { runtime, calls } = fakeRuntime({
      started: async () => (++startupCalls >= 2 ? 0 : 1),
      live: ok,
    });
    const dialled: string[] = [];
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const p = new Prober({ runtime, dial: fakeDial(new Map([[`${POD_IP}:5000`, (srv.address() as AddressInfo).port]]), dialled) });
    const c: Container = {
      name: 'slow',
      startupProbe: { exec: { command: ['started'] }, ...fast, failureThreshold: 5 },
      livenessProbe: { exec: { command: ['live'] }, ...fast },
      readinessProbe: { tcpSocket: { port: 5000 }, ...fast },
    };
    let atStartup: { calls: string[]; dialled: number } | undefined;
    p.onResult((r) => {
      if (r.kind === 'startup') atStartup = { calls: calls.map((x) => x[0]!), dialled: dialled.length };
    });
    const started = nextResult(p, (r) => r.kind === 'startup');
    const ready = nextResult(p, (r) => r.kind === 'readiness');
    p.addContainer(pod('u3'), c, 'cid-3', POD_IP);
    p.addContainer(pod('u3'), { name: 'plain' }, 'cid-3b', POD_IP);
    assert.equal(p.isStarted('u3', 'slow'), false);
    assert.equal(p.isReady('u3', 'slow'), false);
    assert.equal(p.isReady('u3', 'plain'), true);
    assert.equal(p.isStarted('u3', 'plain'), true);
    assert.deepEqual(await started, { podUid: 'u3', containerName: 'slow', containerId: 'cid-3', kind: 'startup', success: true, message: undefined });
    // Nothing but the startup probe ran before it succeeded.
    assert.deepEqual(atStartup, { calls: ['started', 'started'], dialled: 0 });
    assert.equal(p.isStarted('u3', 'slow'), true);
    await ready;
    assert.equal(p.isReady('u3', 'slow'), true);
    assert.deepEqual(dialled, ['10.42.0.5:5000']);
    await p.stop();
    await new Promise((r) => srv.close(r));
  });

  it('grpc probes are reported as errors and leave the state unchanged', async () => {
    const { runtime } = fakeRuntime({});
    const events: string[] = [];
    const p = new Prober({ runtime, dial: fakeDial(new Map(), []), event: (_p, t, r, m) => events.push(`${t} ${r} ${m}`) });
    const got = new Promise<void>((resolve) => {
      const orig = p['opts'].event!;
      p['opts'].event = (...a) => (orig(...a), resolve());
    });
    p.addContainer(pod('u4'), { name: 'g', readinessProbe: { grpc: { port: 9000 }, ...fast } }, 'cid-4', POD_IP);
    await got;
    assert.deepEqual(events, ['Warning Unhealthy Readiness probe errored and resulted in unknown state: grpc probes are not supported by this kubelet']);
    assert.equal(p.isReady('u4', 'g'), false);
    await p.stop();
  });

  it('removeContainer, removePod and stop() leave no timers; a new container instance starts over', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const base = timers();
    const { runtime } = fakeRuntime({ live: ok });
    const p = new Prober({ runtime, dial: fakeDial(new Map(), []) });
    const c: Container = { name: 'a', livenessProbe: { exec: { command: ['live'] }, ...fast, initialDelaySeconds: 30 }, readinessProbe: { exec: { command: ['live'] }, ...fast } };
    p.addContainer(pod('u5'), c, 'cid-5', POD_IP);
    p.addContainer(pod('u5'), { ...c, name: 'b' }, 'cid-5b', POD_IP);
    p.addContainer(pod('u6'), c, 'cid-6', POD_IP);
    assert.equal(timers(), base + 6);
    p.removeContainer('u5', 'a');
    assert.equal(timers(), base + 4);
    p.removePod('u5');
    assert.equal(timers(), base + 2);
    // Same instance again is a no-op; a new instance replaces the workers.
    p.addContainer(pod('u6'), c, 'cid-6', POD_IP);
    assert.equal(timers(), base + 2);
    p.addContainer(pod('u6'), c, 'cid-6-restarted', POD_IP);
    assert.equal(timers(), base + 2);
    assert.equal(p.isReady('u6', 'a'), false);
    await p.stop();
    assert.equal(timers(), base);
    p.addContainer(pod('u7'), c, 'cid-7', POD_IP);
    assert.equal(timers(), base, 'a stopped prober starts nothing');
  });
});

describe('LifecycleHookRunner', () => {
  const p = pod('h1');
  const c: Container = { name: 'main' };

  it('exec: resolves on exit 0, rejects with upstream message otherwise', async () => {
    const { runtime, calls } = fakeRuntime({
      ok,
      fail: async (_c, io) => (io.stdout!.write('partial'), io.stderr!.write('bad thing'), 3),
    });
    const hooks = new LifecycleHookRunner({ runtime, dial: fakeDial(new Map(), []) });
    await hooks.run(p, c, 'cid', { exec: { command: ['ok'] } }, POD_IP, 5000);
    assert.deepEqual(calls, [['ok']]);
    await assert.rejects(hooks.run(p, c, 'cid', { exec: { command: ['fail', '-x'] } }, POD_IP, 5000), {
      message: 'Exec lifecycle hook ([fail -x]) for Container "main" in Pod "pod-h1_default(h1)" failed - error: command \'fail -x\' exited with 3: bad thing, message: "partialbad thing"',
    });
  });

  it('httpGet: any response succeeds, a refused connection rejects; sleep is bounded by the timeout', async () => {
    const srv = createServer((_q, res) => res.writeHead(500).end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const { runtime } = fakeRuntime({});
    const hooks = new LifecycleHookRunner({ runtime, dial: fakeDial(new Map([[`${POD_IP}:8080`, (srv.address() as AddressInfo).port]]), []) });
    await hooks.run(p, c, 'cid', { httpGet: { path: '/stop', port: 8080 } }, POD_IP, 1000);
    await assert.rejects(hooks.run(p, c, 'cid', { httpGet: { path: '/stop', port: 8081 } }, POD_IP, 1000), {
      message: 'HTTP lifecycle hook (/stop) for Container "main" in Pod "pod-h1_default(h1)" failed - error: Get "http://10.42.0.5:8081/stop": dial tcp 10.42.0.5:8081: connect: connection refused',
    });
    await hooks.run(p, c, 'cid', { sleep: { seconds: 0 } }, POD_IP, 1000);
    await assert.rejects(hooks.run(p, c, 'cid', { sleep: { seconds: 30 } }, POD_IP, 50), /Sleep lifecycle hook \(30\) .* failed - error: container terminated before sleep hook finished/);
    await assert.rejects(hooks.run(p, c, 'cid', { tcpSocket: { port: 80 } }, POD_IP, 50), /^Error: Cannot run handler: invalid handler/);
    await new Promise((r) => srv.close(r));
  });
});
