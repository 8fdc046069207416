// HTTP and HTTPS requests made from inside a test host's network namespace (through the runtime's netns dialer), for
// end-to-end tests that reach NodePorts, LoadBalancer addresses and the Ingress controller as a client on the node.

import { request, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { NetnsDialer } from '../../src/runtime/dialer.js';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One GET over a fresh connection to ip:port inside the dialer's namespace; `host` sets the Host header. */
export async function netnsGet(dialer: NetnsDialer, ip: string, port: number, path = '/', host?: string): Promise<HttpResult> {
  const conn = await dialer.dial(ip, port, 5000);
  return await new Promise<HttpResult>((resolve, reject) => {
    const req = request({ method: 'GET', path, headers: { host: host ?? `${ip}:${port}` }, setHost: false, createConnection: () => conn as Socket, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${ip}:${port}${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A TLS handshake with `servername` (SNI) to ip:port inside the namespace, then one GET: the peer certificate too. */
export async function netnsGetTLS(dialer: NetnsDialer, ip: string, port: number, servername: string | undefined, path = '/', host?: string): Promise<HttpResult & { cert: PeerCertificate }> {
  const raw = await dialer.dial(ip, port, 5000);
  return await new Promise((resolve, reject) => {
    const s = tlsConnect({ socket: raw as Socket, ...(servername ? { servername } : {}), rejectUnauthorized: false }, () => {
      const cert = s.getPeerCertificate();
      const req = request({ method: 'GET', path, headers: { host: host ?? servername ?? ip }, setHost: false, createConnection: () => s as unknown as Socket, timeout: 10_000 }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, cert }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`GET https://${ip}:${port}${path}: timed out`)));
      req.on('error', reject);
      req.end();
    });
    s.on('error', reject);
  });
}
