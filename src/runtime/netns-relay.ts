// A TCP relay run inside a network namespace (`nsenter --net=<ns> node netns-relay.js <host> <port>`): connects to
// host:port there and joins the connection to stdin/stdout. Prints "ok" on stderr once connected (the caller's
// readiness signal), or the error and exits 1.
import { connect } from 'node:net';

const [host = '127.0.0.1', portText = ''] = process.argv.slice(2);
const sock = connect({ host, port: Number(portText) });
sock.once('connect', () => {
  process.stderr.write('ok\n');
  process.stdin.pipe(sock);
  sock.pipe(process.stdout);
});
sock.on('error', (err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
sock.on('close', () => process.exit(0));
process.stdout.on('error', () => sock.destroy());
