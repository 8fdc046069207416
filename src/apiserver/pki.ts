// Cluster PKI on first start: a CA, the API server's serving certificate and an admin client certificate,
// plus the admin kubeconfig. Later starts only read the PEM files (no crypto library loaded: start-up ≤ 1 s).

import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

export interface ClusterPKI {
  caCert: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
}

const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
} as const;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/** Load the PKI from `dir/pki`, generating whatever is missing. `hosts` are the serving cert's SANs. */
export async function ensurePKI(dataDir: string, hosts: string[]): Promise<ClusterPKI> {
  const dir = join(dataDir, 'pki');
  const p = (f: string) => join(dir, f);
  if (Object.values(FILES).every((f) => existsSync(p(f)))) {
    return {
      caCert: readFileSync(p(FILES.caCert), 'utf8'),
      serverCert: readFileSync(p(FILES.serverCert), 'utf8'),
      serverKey: readFileSync(p(FILES.serverKey), 'utf8'),
      adminCert: readFileSync(p(FILES.adminCert), 'utf8'),
      adminKey: readFileSync(p(FILES.adminKey), 'utf8'),
    };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await import('reflect-metadata'); // @peculiar/x509's DI container needs the Reflect polyfill
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto as unknown as Crypto;
  x509.cryptoProvider.set(crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const now = new Date(Date.now() - 60_000);
  const tenYears = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const oneYear = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const serial = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');

  const caKeys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=k8ts-ca@${Math.floor(Date.now() / 1000)}`,
    notBefore: now,
    notAfter: tenYears,
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  async function leaf(subject: string, usage: 'server' | 'client', sans: string[]) {
    const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const exts: X509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ];
    if (sans.length) {
      exts.push(
        new x509.SubjectAlternativeNameExtension(
          sans.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h })),
          false,
        ),
      );
    }
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: caCert.subject,
      notBefore: now,
      notAfter: oneYear,
      signingKey: caKeys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: alg,
      extensions: exts,
    });
    const key = pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey));
    return { cert: cert.toString('pem') + '\n', key };
  }

  const sans = [...new Set(['localhost', '127.0.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', ...hosts])];
  const server = await leaf('CN=kube-apiserver', 'server', sans);
  const admin = await leaf('CN=system:admin, O=system:masters', 'client', []);
  const out: ClusterPKI = {
    caCert: caCert.toString('pem') + '\n',
    serverCert: server.cert,
    serverKey: server.key,
    adminCert: admin.cert,
    adminKey: admin.key,
  };
  const write = (f: string, s: string, mode = 0o600) => writeFileSync(p(f), s, { mode });
  write(FILES.caKey, pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', caKeys.privateKey)));
  write(FILES.serverKey, out.serverKey);
  write(FILES.adminKey, out.adminKey);
  write(FILES.serverCert, out.serverCert, 0o644);
  write(FILES.adminCert, out.adminCert, 0o644);
  write(FILES.caCert, out.caCert, 0o644); // written last: its presence marks a complete set
  return out;
}

/** The admin kubeconfig (YAML) pointing at `server`. */
export function adminKubeconfig(pki: ClusterPKI, server: string, name = 'k8ts'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    `    server: ${server}`,
    `  name: ${name}`,
    'contexts:',
    '- context:',
    `    cluster: ${name}`,
    '    user: admin',
    `  name: ${name}`,
    `current-context: ${name}`,
    'preferences: {}',
    'users:',
    '- name: admin',
    '  user:',
    `    client-certificate-data: ${b64(pki.adminCert)}`,
    `    client-key-data: ${b64(pki.adminKey)}`,
    '',
  ].join('\n');
}

/**
 * A client certificate for a control-plane component (`pki/<file>.crt`/`.key`), issued by the cluster CA on
 * first use and read back afterwards. Issuing loads the x509 library, so callers do it after the server listens.
 */
export async function ensureClientCert(dataDir: string, file: string, commonName: string, organizations: string[] = []): Promise<{ cert: string; key: string }> {
  return ensureLeafCert(dataDir, file, commonName, organizations, 'client', []);
}

/** The API server's client certificate toward kubelets (kubeadm's `apiserver-kubelet-client`). */
export function ensureKubeletClientCert(dataDir: string): Promise<{ cert: string; key: string }> {
  return ensureLeafCert(dataDir, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters'], 'client', []);
}

/** A kubelet's serving certificate (`pki/kubelet-<node>.crt`), signed by the cluster CA, with the node's names and IPs as SANs. */
export function ensureKubeletServingCert(dataDir: string, nodeName: string, sans: string[]): Promise<{ cert: string; key: string }> {
  return ensureLeafCert(dataDir, `kubelet-${nodeName}`, `system:node:${nodeName}`, ['system:nodes'], 'server', [...new Set([nodeName, ...sans])]);
}

async function ensureLeafCert(dataDir: string, file: string, commonName: string, organizations: string[], usage: 'client' | 'server', sans: string[]): Promise<{ cert: string; key: string }> {
  const dir = join(dataDir, 'pki');
  const certPath = join(dir, `${file}.crt`);
  const keyPath = join(dir, `${file}.key`);
  if (existsSync(certPath) && existsSync(keyPath)) return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto as unknown as Crypto;
  x509.cryptoProvider.set(crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const caCert = new x509.X509Certificate(readFileSync(join(dir, FILES.caCert), 'utf8'));
  const caDer = Buffer.from(readFileSync(join(dir, FILES.caKey), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const caKey = await crypto.subtle.importKey('pkcs8', caDer, alg, false, ['sign']);
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const dnEscape = (s: string) => s.replace(/([,+"\\<>;=])/g, '\\$1');
  const subject = [`CN=${dnEscape(commonName)}`, ...organizations.map((o) => `O=${dnEscape(o)}`)].join(', ');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
      ...(sans.length
        ? [new x509.SubjectAlternativeNameExtension(sans.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h })), false)]
        : []),
    ],
  });
  const out = { cert: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey)) };
  writeFileSync(keyPath, out.key, { mode: 0o600 });
  writeFileSync(certPath, out.cert, { mode: 0o644 }); // written last: its presence marks a complete pair
  return out;
}

/**
 * The service account token signing key (`pki/sa.key`, EC P-256, kubeadm's sa.key), made on first start. Servers
 * sharing a datastore must share it (copy it, as kubeadm does for its control-plane nodes).
 */
export function ensureServiceAccountKey(dataDir: string): string {
  const dir = join(dataDir, 'pki');
  const path = join(dir, 'sa.key');
  if (existsSync(path)) return readFileSync(path, 'utf8');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(path, key, { mode: 0o600 });
  return key;
}
