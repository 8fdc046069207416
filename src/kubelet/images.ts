// The kubelet's image manager: imagePullPolicy (Always / IfNotPresent / Never), credentials from the pod's
// imagePullSecrets (dockerconfigjson / dockercfg), and upstream's pull back-off (ErrImagePull, then
// ImagePullBackOff for 10 s doubling to 5 min), with the Pulling/Pulled/Failed/BackOff events.

import type { KubeObject } from '../api/types.js';
import { parseReference, registryHost } from '../images/reference.js';
import { ImagePullError, type AuthConfig, type Image, type ImageService } from '../runtime/interface.js';
import { Backoff } from './backoff.js';
import type { Container, Pod } from './types.js';

export type EventFn = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

/** Why a container cannot have its image: the waiting reason and message the status shows. */
export class ImageUnavailable extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

/** The default policy when the spec leaves it out (the API server normally sets it): `:latest` or no tag → Always. */
export function pullPolicy(c: Container): 'Always' | 'IfNotPresent' | 'Never' {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const image = String(c.image ?? '');
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.split('/').pop() ?? '';
  return !last.includes(':') || last.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

/** Registry credentials for `image` from pull secrets (kubernetes.io/dockerconfigjson or dockercfg). */
export function credentialsFor(image: string, secrets: KubeObject[]): AuthConfig | undefined {
  let host: string;
  try {
    host = registryHost(parseReference(image).domain);
  } catch {
    return undefined;
  }
  const candidates = new Set([host, `https://${host}`, `http://${host}`, host === 'registry-1.docker.io' ? 'https://index.docker.io/v1/' : '', host === 'registry-1.docker.io' ? 'docker.io' : ''].filter(Boolean));
  for (const s of secrets) {
    const data = (s as any).data ?? {};
    let auths: Record<string, any> | undefined;
    try {
      if (data['.dockerconfigjson']) auths = JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8')).auths;
      else if (data['.dockercfg']) auths = JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8'));
    } catch {
      continue;
    }
    for (const [k, v] of Object.entries(auths ?? {})) {
      const key = k.replace(/\/+$/, '');
      if (!candidates.has(key) && !candidates.has(k)) continue;
      if (v.username || v.password) return { username: v.username, password: v.password };
      if (v.auth) {
        const [username, ...rest] = Buffer.from(String(v.auth), 'base64').toString('utf8').split(':');
        return { username, password: rest.join(':') };
      }
      if (v.identitytoken || v.registrytoken) return { token: v.identitytoken ?? v.registrytoken };
    }
  }
  return undefined;
}

export class ImageManager {
  private readonly backoff = new Backoff(10_000, 300_000);

  constructor(
    private readonly images: ImageService,
    private readonly pullSecrets: (pod: Pod) => Promise<KubeObject[]>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The image to run `c` with, pulling per policy; ImageUnavailable otherwise (with the events already recorded). */
  async ensure(pod: Pod, c: Container, event: EventFn): Promise<Image> {
    const ref = String(c.image ?? '');
    const key = `${pod.metadata.uid}/${c.name}/${ref}`;
    if (!ref) throw new ImageUnavailable('InvalidImageName', 'image is empty');
    const policy = pullPolicy(c);
    const present = await this.images.imageStatus(ref);
    if (present && policy !== 'Always') {
      event('Normal', 'Pulled', `Container image "${ref}" already present on machine`);
      return present;
    }
    if (policy === 'Never') {
      const msg = `Container image "${ref}" is not present with pull policy of Never`;
      event('Warning', 'ErrImageNeverPull', msg);
      throw new ImageUnavailable('ErrImageNeverPull', msg);
    }
    if (this.backoff.inBackoff(key, this.now())) {
      const msg = `Back-off pulling image "${ref}"`;
      event('Normal', 'BackOff', msg);
      throw new ImageUnavailable('ImagePullBackOff', msg);
    }
    event('Normal', 'Pulling', `Pulling image "${ref}"`);
    const began = this.now();
    try {
      const auth = credentialsFor(ref, await this.pullSecrets(pod));
      const img = await this.images.pullImage(ref, auth);
      const secs = ((this.now() - began) / 1000).toFixed(3);
      event('Normal', 'Pulled', `Successfully pulled image "${ref}" in ${secs}s (${secs}s including waiting). Image size: ${img.size} bytes.`);
      this.backoff.reset(key);
      return img;
    } catch (e) {
      this.backoff.next(key, this.now());
      const reason = e instanceof ImagePullError && e.reason === 'InvalidImageName' ? 'InvalidImageName' : 'ErrImagePull';
      const msg = `Failed to pull image "${ref}": ${(e as Error).message}`;
      event('Warning', 'Failed', msg);
      event('Warning', 'Failed', `Error: ${reason}`);
      throw new ImageUnavailable(reason, msg);
    }
  }

  /** When the next pull attempt of `c` may happen (for requeueing), or 0. */
  retryAt(pod: Pod, c: Container): number {
    return this.backoff.until(`${pod.metadata.uid}/${c.name}/${String(c.image ?? '')}`);
  }

  forgetPod(uid: string): void {
    this.backoff.forgetPrefix(`${uid}/`);
  }
}
