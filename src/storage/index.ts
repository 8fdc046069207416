// Entry point of the storage layer: picks a driver from a datastore URL (`sqlite://PATH`, `etcd://h:p[,h:p…]`).
import type { EtcdOptions } from './etcd.js';
import { StorageError, type Store } from './interface.js';
import type { SqliteOptions } from './sqlite.js';

export interface OpenStoreOptions {
  sqlite?: SqliteOptions;
  etcd?: Partial<EtcdOptions>;
}

/**
 * Open a store by URL:
 * - `sqlite://PATH` (also `sqlite:PATH`; `sqlite:///abs/path` and `sqlite://rel/path` both work): embedded, default;
 * - `etcd://host:port[,host:port…][?prefix=/p&timeout=ms]`: every key is stored under the prefix, so several
 *   clusters or test runs can share one etcd.
 * The etcd store resolves only after the cluster answered, so a wrong address fails here, not on first use.
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new StorageError(`datastore URL ${url}: missing file path`);
    // Drivers load on demand: the etcd client (gRPC) costs start-up time and memory a SQLite server never needs.
    const { SqliteStore } = await import('./sqlite.js');
    return new SqliteStore(decodeURIComponent(path), opts.sqlite);
  }
  if (url.startsWith('etcd:') || url.startsWith('etcd3:')) {
    const { EtcdStore, parseEtcdUrl } = await import('./etcd.js');
    const parsed = parseEtcdUrl(url);
    const store = new EtcdStore({ ...parsed, ...opts.etcd, hosts: opts.etcd?.hosts ?? parsed.hosts });
    try {
      await store.currentRevision();
    } catch (err) {
      await store.close();
      throw new StorageError(`datastore ${url}: etcd unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    return store;
  }
  throw new StorageError(`unsupported datastore URL ${JSON.stringify(url)} (want sqlite://PATH or etcd://host:port)`);
}
