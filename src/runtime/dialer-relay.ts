// The long-lived relay of dialer.ts, run inside a network namespace (`nsenter --net=<ns> node dialer-relay.js <sock>`):
// listens on a unix socket (reachable across network namespaces), reads one JSON header line per connection
// ({host, port, timeoutMs}), dials it from inside the namespace, answers `{"ok":true}` or `{"error","code"}` and
// then joins the two streams. Prints "ready" on stdout once listening; when its stdin closes (the parent died, even
// by SIGKILL) it removes its socket and the socket's directory and exits.
import { rmdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';

const [path = ''] = process.argv.slice(2);

function handle(client: Socket): void {
  let buf = Buffer.alloc(0);
  const onData = (d: Buffer): void => {
    buf = Buffer.concat([buf, d]);
    const nl = buf.indexOf(10);
    if (nl < 0) {
      if (buf.length > 4096) client.destroy();
      return;
    }
    client.off('data', onData);
    client.pause();
    const rest = buf.subarray(nl + 1);
    let req: { host: string; port: number; timeoutMs?: number };
    try {
      req = JSON.parse(buf.subarray(0, nl).toString()) as typeof req;
    } catch {
      client.destroy();
      return;
    }
    const tcp = connect({ host: req.host, port: req.port, allowHalfOpen: true });
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: NodeJS.ErrnoException): void => {
      if (timer) clearTimeout(timer);
      tcp.destroy();
      client.end(`${JSON.stringify({ error: err.message, code: err.code ?? 'UNKNOWN' })}\n`);
    };
    if (req.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        const e: NodeJS.ErrnoException = new Error(`connect ETIMEDOUT ${req.host}:${req.port}`);
        e.code = 'ETIMEDOUT';
        fail(e);
      }, req.timeoutMs);
    }
    tcp.once('error', fail);
    tcp.once('connect', () => {
      if (timer) clearTimeout(timer);
      tcp.off('error', fail);
      client.write('{"ok":true}\n');
      if (rest.length > 0) tcp.write(rest);
      client.pipe(tcp);
      tcp.pipe(client);
      client.resume();
      tcp.on('error', () => client.destroy());
      client.on('error', () => tcp.destroy());
      tcp.on('close', (hadError) => hadError && client.destroy());
      client.on('close', (hadError) => hadError && tcp.destroy());
    });
  };
  client.on('data', onData);
  client.on('error', () => client.destroy());
}

const server = createServer({ allowHalfOpen: true }, handle);
server.listen(path, () => process.stdout.write('ready\n'));
server.on('error', (err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
const orphaned = (): void => {
  rmSync(path, { force: true });
  try {
    rmdirSync(dirname(path));
  } catch {
    // not empty or already gone: not ours to remove
  }
  process.exit(0);
};
process.stdin.on('end', orphaned);
process.stdin.on('error', orphaned);
process.stdin.resume();
