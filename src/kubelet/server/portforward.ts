// kubelet /portForward: SPDY/3.1 (plain or inside WebSocket `SPDY/3.1+portforward.k8s.io`). Not implemented yet:
// the upgrade is refused with 501 so that kubectl reports an error instead of hanging.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export async function servePortForward(
  _req: IncomingMessage,
  socket: Duplex,
  _head: Buffer,
  _dial: (port: number) => Promise<Duplex>,
  _log?: (msg: string) => void,
): Promise<void> {
  socket.end('HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nport-forward (SPDY/3.1) is not implemented by this kubelet yet');
}
