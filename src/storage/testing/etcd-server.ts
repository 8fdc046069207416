// Starts a throwaway single-member etcd (Debian `etcd-server`, /usr/bin/etcd) on free 127.0.0.1 ports with a
// temporary data dir, for tests and benchmarks; stop() kills it and removes the data dir. Never skips: if
// etcd cannot start, startEtcd() rejects with the reason (and etcd's last log lines).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdServer {
  /** Datastore URL for openStore(), e.g. `etcd://127.0.0.1:40123`. */
  url: string;
  /** Client endpoint, e.g. `http://127.0.0.1:40123`. */
  endpoint: string;
  dataDir: string;
  readonly pid: number;
  /** Kill etcd (SIGTERM, then SIGKILL after 5 s) and remove its data dir. Idempotent. */
  stop(): Promise<void>;
  /** kill -9 etcd and start it again on the same ports and data (for fault tests). */
  restart(): Promise<void>;
}

export interface StartEtcdOptions {
  /** etcd binary; default $K8TS_ETCD_BIN or /usr/bin/etcd. */
  binary?: string;
  /** How long to wait for /health (default 15,000 ms). */
  timeoutMs?: number;
}

const INSTALL_HINT = 'install it with: apt-get update && apt-get install -y etcd-server etcd-client';

export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdServer> {
  const binary = opts.binary ?? process.env.K8TS_ETCD_BIN ?? '/usr/bin/etcd';
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`etcd binary ${binary} not found or not executable; ${INSTALL_HINT}`);
  }
  let lastErr: Error | undefined;
  // Free ports are picked by binding port 0 and releasing it; another process may grab one in between,
  // so retry with fresh ports when etcd reports the address in use.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, opts.timeoutMs ?? 15_000);
    } catch (err) {
      lastErr = err instanceof Error ? err : new Error(String(err));
      if (!/address already in use/i.test(lastErr.message)) break;
    }
  }
  throw lastErr ?? new Error('etcd did not start');
}

async function startOnce(binary: string, timeoutMs: number): Promise<EtcdServer> {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-etcd-'));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const name = 'k8ts-test';
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-level=warn',
  ];

  let child: ChildProcess;
  let exited = true;
  let exitedP: Promise<void> = Promise.resolve();
  let log = '';
  const launch = (): void => {
    // A clean environment: ETCD_* variables of the caller would override the flags.
    const c = spawn(binary, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dataDir },
    });
    child = c;
    exited = false;
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (chunk: string) => {
      log = (log + chunk).slice(-8_192); // keep draining so etcd never blocks on a full pipe
    });
    exitedP = new Promise<void>((resolve) => {
      c.once('exit', () => {
        if (child === c) exited = true;
        resolve();
      });
    });
    c.once('error', (err) => {
      log += `\nspawn error: ${err.message}`;
      if (child === c) exited = true;
    });
  };
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (exited) return;
    child.kill(signal);
    const t = setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, 5_000);
    await exitedP;
    clearTimeout(t);
  };
  const waitHealthy = async (): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`etcd exited during start-up (code ${String(child.exitCode)}): ${log.trim().slice(-2_000)}`);
      if (await healthy(endpoint)) return;
      if (Date.now() > deadline) throw new Error(`etcd not healthy after ${timeoutMs} ms: ${log.trim().slice(-2_000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const onProcessExit = (): void => {
    if (!exited) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('exit', onProcessExit);

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await kill('SIGTERM');
      process.removeListener('exit', onProcessExit);
      rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const restart = async (): Promise<void> => {
    if (stopped !== null) throw new Error('etcd server was stopped');
    await kill('SIGKILL');
    launch();
    try {
      await waitHealthy();
    } catch (err) {
      await stop();
      throw err;
    }
  };

  launch();
  try {
    await waitHealthy();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `etcd://127.0.0.1:${clientPort}`,
    endpoint,
    dataDir,
    get pid() {
      return child.pid ?? 0;
    },
    stop,
    restart,
  };
}

function healthy(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(`${endpoint}/health`, { timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body)));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

