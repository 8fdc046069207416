// The node-local ImageService (the seam in src/runtime/interface.ts): the store (store.ts) plus registry pulls
// (registry.ts) and archive imports (archive.ts). The runc runtime and `k8ts image` both open one on
// `<data-dir>/images`.

import type { AuthConfig, Image, ImageService, PullProgress } from '../runtime/interface.js';
import { importArchive } from './archive.js';
import { type Platform, nodePlatform } from './oci.js';
import { Puller, type RegistryOptions } from './registry.js';
import { ImageStore, isStoreNotFound } from './store.js';

export interface LocalImageServiceOptions extends RegistryOptions {
  platform?: Platform;
}

export class LocalImageService implements ImageService {
  private readonly puller: Puller;
  private readonly platform: Platform;

  private constructor(
    readonly store: ImageStore,
    opts: LocalImageServiceOptions,
  ) {
    this.platform = opts.platform ?? nodePlatform();
    this.puller = new Puller(store, { ...opts, platform: this.platform });
  }

  /** Opens the store at `root` (e.g. `<data-dir>/images`), creating it. */
  static async open(root: string, opts: LocalImageServiceOptions = {}): Promise<LocalImageService> {
    return new LocalImageService(await ImageStore.open(root), opts);
  }

  pullImage(ref: string, auth?: AuthConfig, onProgress?: (p: PullProgress) => void): Promise<Image> {
    return this.puller.pull(ref, auth, onProgress);
  }

  imageStatus(ref: string): Promise<Image | undefined> {
    return this.store.getImage(ref);
  }

  listImages(): Promise<Image[]> {
    return this.store.listImages();
  }

  /** Idempotent as CRI RemoveImage: removing an image that is not there succeeds. */
  async removeImage(ref: string): Promise<void> {
    try {
      await this.store.removeImage(ref);
    } catch (e) {
      if (!isStoreNotFound(e)) throw e;
    }
  }

  importImage(tarPath: string): Promise<Image[]> {
    return importArchive(this.store, tarPath, this.platform);
  }

  mountRootfs(imageId: string, containerId: string): Promise<string> {
    return this.store.mountRootfs(imageId, containerId);
  }

  removeRootfs(containerId: string): Promise<void> {
    return this.store.removeRootfs(containerId);
  }

  fsInfo(): Promise<{ usedBytes: number; inodesUsed: number }> {
    return this.store.fsInfo();
  }
}
