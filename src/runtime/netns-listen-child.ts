// The helper process of netns-listen.ts, run inside a network namespace (`nsenter --net=<ns> node
// netns-listen-child.js tcp|udp4|udp6 <host> <port> [backlog]`) with an IPC channel: it binds the socket there,
// hands the handle to its parent over the channel, closes its own copy and exits. On failure it sends
// {error, code} instead.
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

const [kind = '', host = '', portText = '', backlogText = ''] = process.argv.slice(2);
const port = Number(portText);

function fail(err: NodeJS.ErrnoException): void {
  process.send?.({ error: err.message, code: err.code ?? 'UNKNOWN' }, () => process.exit(1));
}

if (!process.send) {
  process.stderr.write('netns-listen-child: no IPC channel\n');
  process.exit(2);
}

if (kind === 'tcp') {
  const server: Server = createServer();
  server.once('error', fail);
  // Connections are never accepted here: the parent has the handle by the time anyone knows the address works.
  server.on('connection', (s) => s.destroy());
  server.listen({ host, port, ...(backlogText ? { backlog: Number(backlogText) } : {}) }, () => {
    // The raw TCP handle ("net.Native" in node's IPC), so the parent can make any net.Server (http, https) listen on it.
    const handle = (server as unknown as { _handle: object })._handle;
    process.send!({ ok: true }, handle as never, () => server.close(() => process.exit(0)));
  });
} else if (kind === 'udp4' || kind === 'udp6') {
  const sock = createSocket({ type: kind });
  sock.once('error', fail);
  sock.bind(port, host, () => {
    process.send!({ ok: true }, sock, () => sock.close(() => process.exit(0)));
  });
} else {
  fail(new Error(`netns-listen-child: unknown kind ${JSON.stringify(kind)}`));
}
