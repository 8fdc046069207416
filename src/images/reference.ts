// Image references as distribution/reference parses and normalises them: `busybox` →
// `docker.io/library/busybox:latest`, `127.0.0.1:5000/x@sha256:…`. Pure; the store and the registry client key on
// the normalised form.

export interface Reference {
  /** Registry host[:port], normalised (`docker.io` for Docker Hub). */
  domain: string;
  /** Repository path inside the registry (`library/busybox`). */
  path: string;
  tag?: string;
  digest?: string;
}

export class ReferenceError extends Error {}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const ID_RE = /^[a-f0-9]{64}$/;
const NAME_TOTAL_MAX = 255;

export const DOCKER_HUB = 'docker.io';

/** Parses and normalises a reference; adds `:latest` when it has neither tag nor digest (as the kubelet does). */
export function parseReference(input: string): Reference {
  const s = input.trim();
  if (s === '') throw new ReferenceError('invalid reference format: repository name must have at least one component');
  if (ID_RE.test(s)) throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new ReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new ReferenceError('invalid reference format');
  }
  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && !first.startsWith('[') && first.toLowerCase() === first)) {
    domain = DOCKER_HUB;
    path = rest;
  } else {
    domain = first;
    path = rest.slice(slash + 1);
  }
  if (domain === 'index.docker.io' || domain === 'registry-1.docker.io') domain = DOCKER_HUB;
  if (!DOMAIN_RE.test(domain)) throw new ReferenceError('invalid reference format');
  if (path !== path.toLowerCase()) throw new ReferenceError('invalid reference format: repository name must be lowercase');
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (path.split('/').some((c) => !PATH_COMPONENT_RE.test(c))) throw new ReferenceError('invalid reference format');
  if (domain.length + 1 + path.length > NAME_TOTAL_MAX) throw new ReferenceError(`repository name must not be more than ${NAME_TOTAL_MAX} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** `domain/path` — the repository name images are listed under. */
export function repositoryName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** `domain/path:tag` (tag refs) or `domain/path@digest` (digest refs; a digest wins over a tag, as in containerd). */
export function referenceString(r: Reference): string {
  if (r.digest) return `${repositoryName(r)}@${r.digest}`;
  return `${repositoryName(r)}:${r.tag ?? 'latest'}`;
}

/** The normalised tag ref (`domain/path:tag`), or undefined for a digest-only ref. */
export function tagString(r: Reference): string | undefined {
  return r.tag !== undefined ? `${repositoryName(r)}:${r.tag}` : undefined;
}

/** The host to talk to: Docker Hub's API lives on registry-1.docker.io. */
export function registryHost(domain: string): string {
  return domain === DOCKER_HUB ? 'registry-1.docker.io' : domain;
}

/** Loopback registries are spoken to over plain HTTP; every other one over HTTPS. */
export function isLoopbackRegistry(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
