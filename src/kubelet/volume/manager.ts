// The kubelet's volume manager: makes a pod's volumes ready under `<podsDir>/<uid>/volumes/<plugin>/<name>` (upstream's
// layout), keeps API-data volumes in step with their sources on every sync, turns volumeMounts into runtime mounts,
// and unmounts and deletes a pod's directory without ever leaving it (hostPath data is never touched).

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseQuantity, quantityValueBig } from '../../api/quantity.js';
import type { KubeObject } from '../../api/types.js';
import { ApiError, isNotFound, type Client, type Resource } from '../../client/interface.js';
import { CONFIGMAPS, NODES, PERSISTENTVOLUMES, PVCS, SECRETS, SERVICEACCOUNTS } from '../../client/resources.js';
import type { Mount } from '../../runtime/interface.js';
import { ContainerConfigError, VolumeError, type Container, type Pod, type VolumeManager } from '../types.js';
import { writeAtomically } from './atomicwriter.js';
import { checkHostPathType } from './hostpath.js';
import { ensureTmpfs, mountPointsUnder, unmount } from './mounts.js';
import { aggregate, configMapPayload, DEFAULT_MODE, downwardPayload, secretPayload, type Payload } from './payload.js';
import { checkSubPath, expandSubPathExpr, subPathEnv, within } from './subpath.js';

export interface KubeletVolumeManagerOptions {
  client: Client;
  /** The kubelet's pods directory (upstream /var/lib/kubelet/pods). */
  podsDir: string;
  nodeName: string;
  log?: (m: string) => void;
}

/** Upstream's plugin directory names. */
export const PLUGIN_DIRS = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;

/** Where a set-up volume lives on the host, and whether every mount of it is read-only. */
interface VolumeInfo {
  path: string;
  readOnly: boolean;
}

const PROPAGATION: Record<string, Mount['propagation']> = { None: 'private', HostToContainer: 'rslave', Bidirectional: 'rshared' };


const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A failure of one volume, worded as the kubelet's operation executor words MountVolume.SetUp failures. */
const setUpFailed = (vol: string, e: unknown): VolumeError => (e instanceof VolumeError ? e : new VolumeError(`MountVolume.SetUp failed for volume ${JSON.stringify(vol)} : ${message(e)}`));

/** A PVC that cannot be used yet, worded as the volume manager's populator reports it. */
const pvcFailed = (vol: string, ns: string, claim: string, why: string): VolumeError =>
  new VolumeError(`Unable to attach or mount volumes: unmounted volumes=[${vol}], unattached volumes=[], failed to process volumes=[${vol}]: error processing PVC ${ns}/${claim}: ${why}`);

/**
 * The objects one setUpPod reads, each fetched through the client at most once per call. There is no cache across
 * calls: every sync reads the current ConfigMaps, Secrets, PVCs and PVs, which is what makes updates propagate.
 */
class Reads {
  private readonly memo = new Map<string, Promise<KubeObject | undefined>>();
  private allocatableP: Promise<Record<string, unknown>> | undefined;

  constructor(
    private readonly client: Client,
    private readonly nodeName: string,
  ) {}

  /** The object, or undefined when it does not exist; other errors throw. */
  get(r: Resource, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    const key = `${r.resource}/${ns ?? ''}/${name}`;
    let p = this.memo.get(key);
    if (!p) {
      p = this.client.get(r, ns, name).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      this.memo.set(key, p);
    }
    return p;
  }

  /** The node's allocatable resources (what unset limits stand for in resourceFieldRefs); empty when unreadable. */
  allocatable(): Promise<Record<string, unknown>> {
    this.allocatableP ??= this.client
      .get(NODES, undefined, this.nodeName)
      .then((n) => ((n.status as Record<string, any> | undefined)?.allocatable ?? {}) as Record<string, unknown>)
      .catch(() => ({}));
    return this.allocatableP;
  }
}

export class KubeletVolumeManager implements VolumeManager {
  private readonly client: Client;
  private readonly podsDir: string;
  private readonly nodeName: string;
  private readonly log: (m: string) => void;
  /** pod uid → volume name → where it was set up (filled by setUpPod, read by containerMounts). */
  private readonly volumes = new Map<string, Map<string, VolumeInfo>>();
  /** Projected service account tokens: `uid/volume/path` → token and when to renew it (80 % of its lifetime). */
  private readonly tokens = new Map<string, { token: string; renewAt: number }>();

  constructor(opts: KubeletVolumeManagerOptions) {
    this.client = opts.client;
    this.podsDir = opts.podsDir;
    this.nodeName = opts.nodeName;
    this.log = opts.log ?? (() => undefined);
  }

  /** `<podsDir>/<uid>`; refuses uids that are not a single path element. */
  podDir(uid: string): string {
    if (!uid || uid === '.' || uid === '..' || uid.includes('/') || uid.includes('\0')) throw new Error(`invalid pod uid ${JSON.stringify(uid)}`);
    return join(this.podsDir, uid);
  }

  /** `<podsDir>/<uid>/volumes/<plugin>/<name>`. */
  volumeDir(uid: string, plugin: keyof typeof PLUGIN_DIRS, name: string): string {
    if (!name || name.includes('/') || name.startsWith('..')) throw new Error(`invalid volume name ${JSON.stringify(name)}`);
    return join(this.podDir(uid), 'volumes', PLUGIN_DIRS[plugin], name);
  }

  async setUpPod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    await fs.mkdir(this.podDir(uid), { recursive: true, mode: 0o750 });
    const reads = new Reads(this.client, this.nodeName);
    const infos = new Map<string, VolumeInfo>();
    let first: VolumeError | undefined;
    for (const v of (pod.spec?.volumes ?? []) as Array<Record<string, any>>) {
      const name = String(v.name ?? '');
      try {
        infos.set(name, await this.setUpVolume(pod, v, reads));
      } catch (e) {
        const err = setUpFailed(name, e);
        this.log(`pod ${pod.metadata.namespace}/${pod.metadata.name}: ${err.message}`);
        first ??= err;
      }
    }
    this.volumes.set(uid, infos);
    if (first) throw first;
  }

  private async setUpVolume(pod: Pod, v: Record<string, any>, reads: Reads): Promise<VolumeInfo> {
    const uid = pod.metadata.uid ?? '';
    const ns = pod.metadata.namespace ?? '';
    const name = String(v.name);
    const fsGroup = fsGroupOf(pod);
    const write = { fsGroup };
    if (v.emptyDir) {
      const dir = this.volumeDir(uid, 'emptyDir', name);
      await fs.mkdir(dir, { recursive: true, mode: 0o750 });
      const medium = String(v.emptyDir.medium ?? '');
      if (medium === 'Memory') await ensureTmpfs(dir, memorySize(pod, v.emptyDir.sizeLimit));
      else if (medium !== '') throw new Error(`emptyDir medium ${JSON.stringify(medium)} is not supported by this kubelet`);
      // World-writable as upstream; with an fsGroup the root is also that group's, setgid so new files inherit it.
      await fs.chmod(dir, fsGroup === undefined ? 0o777 : 0o2777);
      if (fsGroup !== undefined) await fs.chown(dir, -1, fsGroup);
      return { path: dir, readOnly: false };
    }
    if (v.hostPath) {
      const path = String(v.hostPath.path ?? '');
      await checkHostPathType(path, v.hostPath.type);
      return { path, readOnly: false };
    }
    if (v.configMap) {
      const src = v.configMap;
      const cm = await reads.get(CONFIGMAPS, ns, String(src.name ?? ''));
      if (!cm && src.optional !== true) throw new Error(`configmap ${JSON.stringify(String(src.name ?? ''))} not found`);
      const dir = this.volumeDir(uid, 'configMap', name);
      await volumeRoot(dir, false);
      await writeAtomically(dir, configMapPayload(src, cm, modeOf(src.defaultMode)), write);
      return { path: dir, readOnly: true };
    }
    if (v.secret) {
      const src = v.secret;
      const secret = await reads.get(SECRETS, ns, String(src.secretName ?? ''));
      if (!secret && src.optional !== true) throw new Error(`secret ${JSON.stringify(String(src.secretName ?? ''))} not found`);
      const payload = secretPayload(src, secret, modeOf(src.defaultMode));
      const dir = this.volumeDir(uid, 'secret', name);
      await volumeRoot(dir, true);
      await writeAtomically(dir, payload, write);
      return { path: dir, readOnly: true };
    }
    if (v.downwardAPI) {
      const items = v.downwardAPI.items ?? [];
      const alloc = hasResourceRefs(items) ? await reads.allocatable() : {};
      const payload = downwardPayload(items, pod, modeOf(v.downwardAPI.defaultMode), alloc);
      const dir = this.volumeDir(uid, 'downwardAPI', name);
      await volumeRoot(dir, false);
      await writeAtomically(dir, payload, write);
      return { path: dir, readOnly: true };
    }
    if (v.projected) {
      const payload = await this.projectedPayload(pod, name, v.projected, reads);
      const dir = this.volumeDir(uid, 'projected', name);
      await volumeRoot(dir, true);
      await writeAtomically(dir, payload, write);
      return { path: dir, readOnly: true };
    }
    if (v.persistentVolumeClaim) {
      const path = await this.claimPath(pod, name, String(v.persistentVolumeClaim.claimName ?? ''), reads);
      return { path, readOnly: v.persistentVolumeClaim.readOnly === true };
    }
    if (v.ephemeral) {
      // Generic ephemeral volumes: the claim `<pod>-<volume>` that the ephemeral-volume controller creates for the pod.
      const claim = `${pod.metadata.name}-${name}`;
      const path = await this.claimPath(pod, name, claim, reads, true);
      return { path, readOnly: false };
    }
    const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
    throw new Error(`volume type ${JSON.stringify(kind)} is not supported by this kubelet`);
  }

  /** The host directory of a PVC's PersistentVolume (hostPath or local), once the claim is Bound to it. */
  private async claimPath(pod: Pod, vol: string, claim: string, reads: Reads, ownedByPod = false): Promise<string> {
    const ns = pod.metadata.namespace ?? '';
    const fail = (why: string): VolumeError => pvcFailed(vol, ns, claim, why);
    let pvc: KubeObject | undefined;
    try {
      pvc = await reads.get(PVCS, ns, claim);
    } catch (e) {
      throw fail(`failed to fetch PVC from API server: ${message(e)}`);
    }
    if (!pvc) throw fail(`failed to fetch PVC from API server: persistentvolumeclaims ${JSON.stringify(claim)} not found`);
    if (ownedByPod && !(pvc.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === pod.metadata.uid))
      throw fail(`PVC ${ns}/${claim} was not created for pod ${ns}/${pod.metadata.name} (pod is not owner)`);
    if (pvc.metadata.deletionTimestamp) throw fail(`can't start pod because PVC ${ns}/${claim} is being deleted`);
    const volumeName = String((pvc.spec as Record<string, any> | undefined)?.volumeName ?? '');
    if ((pvc.status as Record<string, any> | undefined)?.phase !== 'Bound' || !volumeName) throw fail('PVC is not bound');
    let pv: KubeObject | undefined;
    try {
      pv = await reads.get(PERSISTENTVOLUMES, undefined, volumeName);
    } catch (e) {
      throw fail(`failed to fetch PV ${volumeName} from API server: ${message(e)}`);
    }
    if (!pv) throw fail(`failed to fetch PV ${volumeName} from API server: persistentvolumes ${JSON.stringify(volumeName)} not found`);
    const spec = (pv.spec ?? {}) as Record<string, any>;
    if (!spec.claimRef) throw fail(`found PV object ${volumeName} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`);
    if (spec.claimRef.uid !== pvc.metadata.uid)
      throw fail(`found PV object ${volumeName} but its pv.Spec.ClaimRef.UID (${String(spec.claimRef.uid ?? '')}) does not point to claim.UID (${pvc.metadata.uid ?? ''})`);
    if (spec.hostPath) {
      const path = String(spec.hostPath.path ?? '');
      await checkHostPathType(path, spec.hostPath.type).catch((e: unknown) => {
        throw setUpFailed(volumeName, e);
      });
      return path;
    }
    if (spec.local) {
      const path = String(spec.local.path ?? '');
      const st = await fs.stat(path).catch(() => undefined);
      if (!st) throw new VolumeError(`MountVolume.NewMounter initialization failed for volume ${JSON.stringify(volumeName)} : path ${JSON.stringify(path)} does not exist`);
      return path;
    }
    const kind = Object.keys(spec).find((k) => !['accessModes', 'capacity', 'claimRef', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode', 'nodeAffinity', 'mountOptions'].includes(k)) ?? 'unknown';
    throw setUpFailed(volumeName, new Error(`persistent volume source ${JSON.stringify(kind)} is not supported by this kubelet (hostPath and local are)`));
  }

  /** A projected volume's sources merged into one payload; the sources' errors are reported together. */
  private async projectedPayload(pod: Pod, vol: string, proj: Record<string, any>, reads: Reads): Promise<Payload> {
    const ns = pod.metadata.namespace ?? '';
    const defaultMode = modeOf(proj.defaultMode);
    const payload: Payload = new Map();
    const errs: string[] = [];
    for (const src of (proj.sources ?? []) as Array<Record<string, any>>) {
      try {
        let part: Payload;
        if (src.configMap) {
          const cm = await reads.get(CONFIGMAPS, ns, String(src.configMap.name ?? ''));
          if (!cm && src.configMap.optional !== true) throw new Error(`configmap ${JSON.stringify(String(src.configMap.name ?? ''))} not found`);
          part = configMapPayload(src.configMap, cm, defaultMode);
        } else if (src.secret) {
          const s = await reads.get(SECRETS, ns, String(src.secret.name ?? ''));
          if (!s && src.secret.optional !== true) throw new Error(`secret ${JSON.stringify(String(src.secret.name ?? ''))} not found`);
          part = secretPayload(src.secret, s, defaultMode);
        } else if (src.downwardAPI) {
          const items = src.downwardAPI.items ?? [];
          part = downwardPayload(items, pod, defaultMode, hasResourceRefs(items) ? await reads.allocatable() : {});
        } else if (src.serviceAccountToken) {
          const t = src.serviceAccountToken;
          const token = await this.serviceAccountToken(pod, vol, t);
          part = new Map([[String(t.path ?? ''), { data: Buffer.from(token, 'utf8'), mode: defaultMode }]]);
        } else if (src.clusterTrustBundle) {
          throw new Error('clusterTrustBundle projections are not supported by this kubelet');
        } else continue;
        for (const [k, f] of part) payload.set(k, f);
      } catch (e) {
        errs.push(message(e));
      }
    }
    if (errs.length) throw new Error(aggregate(errs));
    return payload;
  }

  /**
   * A token from the API server's TokenRequest (`serviceaccounts/<name>/token`), bound to the pod, kept until 80 %
   * of its lifetime has passed. Servers without TokenRequest get a clear error instead of a made-up token.
   */
  private async serviceAccountToken(pod: Pod, vol: string, src: Record<string, any>): Promise<string> {
    const key = `${pod.metadata.uid}/${vol}/${String(src.path ?? '')}`;
    const cached = this.tokens.get(key);
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const sa = String(pod.spec?.serviceAccountName || 'default');
    const ns = pod.metadata.namespace ?? '';
    const expirationSeconds = Number(src.expirationSeconds ?? 3600);
    const req: KubeObject = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: sa, namespace: ns },
      spec: {
        audiences: src.audience ? [String(src.audience)] : [],
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    };
    let res: KubeObject;
    try {
      res = await this.client.create(SERVICEACCOUNTS, ns, req, 'token');
    } catch (e) {
      if (e instanceof ApiError && [404, 405].includes(e.code))
        throw new Error(`failed to fetch token: the API server does not serve TokenRequest (serviceaccounts/token) for service account ${ns}/${sa}`);
      throw new Error(`failed to fetch token: ${message(e)}`);
    }
    const token = (res.status as Record<string, any> | undefined)?.token;
    if (typeof token !== 'string' || !token)
      throw new Error(`failed to fetch token: the API server does not serve TokenRequest (serviceaccounts/token) for service account ${ns}/${sa}`);
    const exp = Date.parse(String((res.status as Record<string, any>).expirationTimestamp ?? '')) || Date.now() + expirationSeconds * 1000;
    this.tokens.set(key, { token, renewAt: Date.now() + 0.8 * (exp - Date.now()) });
    return token;
  }

  async containerMounts(pod: Pod, container: Container): Promise<Mount[]> {
    const uid = pod.metadata.uid ?? '';
    const infos = this.volumes.get(uid) ?? (await this.locate(pod));
    const mounts: Mount[] = [];
    let env: Map<string, string> | undefined;
    for (const vm of (container.volumeMounts ?? []) as Array<Record<string, any>>) {
      const volName = String(vm.name ?? '');
      const info = infos.get(volName);
      if (!info) throw new ContainerConfigError(`cannot find volume ${JSON.stringify(volName)} to mount into container ${JSON.stringify(container.name)}`);
      let sub = String(vm.subPath ?? '');
      if (vm.subPathExpr) {
        env ??= subPathEnv(pod, container);
        try {
          sub = expandSubPathExpr(String(vm.subPathExpr), env);
        } catch (e) {
          throw new ContainerConfigError(message(e));
        }
      }
      let hostPath = info.path;
      if (sub) {
        const bad = checkSubPath(sub);
        if (bad) throw new ContainerConfigError(bad);
        hostPath = await prepareSubPath(info.path, sub, volName, container.name);
      }
      const m: Mount = { containerPath: String(vm.mountPath ?? ''), hostPath, readonly: vm.readOnly === true || info.readOnly };
      const prop = PROPAGATION[String(vm.mountPropagation ?? 'None')];
      if (prop) m.propagation = prop;
      mounts.push(m);
    }
    return mounts;
  }

  /** Where a pod's volumes are without setting them up (containerMounts before any setUpPod of this process). */
  private async locate(pod: Pod): Promise<Map<string, VolumeInfo>> {
    const uid = pod.metadata.uid ?? '';
    const reads = new Reads(this.client, this.nodeName);
    const infos = new Map<string, VolumeInfo>();
    for (const v of (pod.spec?.volumes ?? []) as Array<Record<string, any>>) {
      const name = String(v.name ?? '');
      try {
        if (v.hostPath) infos.set(name, { path: String(v.hostPath.path ?? ''), readOnly: false });
        else if (v.persistentVolumeClaim)
          infos.set(name, { path: await this.claimPath(pod, name, String(v.persistentVolumeClaim.claimName ?? ''), reads), readOnly: v.persistentVolumeClaim.readOnly === true });
        else if (v.ephemeral) infos.set(name, { path: await this.claimPath(pod, name, `${pod.metadata.name}-${name}`, reads, true), readOnly: false });
        else {
          const plugin = (Object.keys(PLUGIN_DIRS) as Array<keyof typeof PLUGIN_DIRS>).find((k) => v[k]) ?? 'emptyDir';
          infos.set(name, { path: this.volumeDir(uid, plugin, name), readOnly: plugin !== 'emptyDir' });
        }
      } catch (e) {
        throw new ContainerConfigError(`volume ${JSON.stringify(name)} is not set up: ${message(e)}`);
      }
    }
    return infos;
  }

  async tearDownPod(podUid: string): Promise<void> {
    const dir = this.podDir(podUid);
    this.volumes.delete(podUid);
    for (const k of [...this.tokens.keys()]) if (k.startsWith(`${podUid}/`)) this.tokens.delete(k);
    const st = await fs.lstat(dir).catch(() => undefined);
    if (!st) return;
    if (!st.isDirectory()) {
      await fs.unlink(dir);
      return;
    }
    // Deepest first: mountinfo lists mounts in the order they were made, children after parents.
    for (const m of (await mountPointsUnder(dir)).reverse()) await unmount(m);
    const left = await mountPointsUnder(dir);
    if (left.length) throw new Error(`cannot remove pod directory ${dir}: still mounted: ${left.join(', ')}`);
    await removeTree(dir, (await fs.lstat(dir)).dev);
  }

  async podsOnDisk(): Promise<string[]> {
    const entries = await fs.readdir(this.podsDir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }
}

/** An API-data volume's root, made as upstream's wrapped emptyDir makes it: 0777 (the container bind is read-only). */
async function volumeRoot(dir: string, tmpfs: boolean): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o750 });
  if (tmpfs) await ensureTmpfs(dir);
  await fs.chmod(dir, 0o777);
}

/** The pod's securityContext.fsGroup, when set. */
const fsGroupOf = (pod: Pod): number | undefined => {
  const g = (pod.spec?.securityContext as Record<string, unknown> | undefined)?.fsGroup;
  return typeof g === 'number' ? g : undefined;
};

const modeOf = (m: unknown): number => (typeof m === 'number' ? m : DEFAULT_MODE);

const hasResourceRefs = (items: unknown): boolean => Array.isArray(items) && items.some((i) => (i as Record<string, unknown>)?.resourceFieldRef);

/**
 * The size of a memory-backed emptyDir: its sizeLimit, else the pod's memory limit when every container has one
 * (upstream caps it at the pod's limit), else the kernel's tmpfs default.
 */
export function memorySize(pod: Pod, sizeLimit: unknown): number | undefined {
  if (sizeLimit !== undefined && sizeLimit !== null && sizeLimit !== '') return Number(quantityValueBig(parseQuantity(sizeLimit as string)));
  const cs = (pod.spec?.containers ?? []) as Container[];
  if (cs.length === 0) return undefined;
  let total = 0n;
  for (const c of cs) {
    const l = (c.resources as Record<string, any> | undefined)?.limits?.memory;
    if (l === undefined || l === null) return undefined;
    total += quantityValueBig(parseQuantity(l as string));
  }
  return Number(total);
}

/**
 * Resolves `<volume>/<subPath>`, making missing directories with the volume root's mode, and refuses any path
 * that (through symlinks) leaves the volume. Returns the resolved host path the runtime should bind.
 */
async function prepareSubPath(volPath: string, sub: string, volName: string, containerName: string): Promise<string> {
  let base: string;
  let baseMode: number;
  try {
    base = await fs.realpath(volPath);
    baseMode = (await fs.stat(base)).mode & 0o7777;
  } catch (e) {
    throw new ContainerConfigError(`volume ${JSON.stringify(volName)} is not set up: ${message(e)}`);
  }
  const parts = sub.split('/').filter((p) => p !== '' && p !== '.');
  let cur = base;
  for (let i = 0; i < parts.length; i++) {
    const next = join(cur, parts[i]!);
    let real: string | undefined;
    try {
      real = await fs.realpath(next);
    } catch {
      real = undefined;
    }
    if (real === undefined) {
      // Missing (or a dangling symlink): only a plain missing name may be created, and only as a directory.
      const isLink = await fs.lstat(next).then((s) => s.isSymbolicLink(), () => false);
      if (isLink) throw new ContainerConfigError(`subpath ${JSON.stringify(join(volPath, sub))} not within volume path ${JSON.stringify(volPath)}`);
      try {
        await fs.mkdir(next, { mode: baseMode });
        await fs.chmod(next, baseMode);
      } catch (e) {
        throw new ContainerConfigError(`failed to create subPath directory for volumeMount ${JSON.stringify(volName)} of container ${JSON.stringify(containerName)}: ${message(e)}`);
      }
      real = next;
    }
    if (!within(base, real)) throw new ContainerConfigError(`subpath ${JSON.stringify(join(volPath, sub))} not within volume path ${JSON.stringify(volPath)}`);
    cur = real;
  }
  return cur;
}

/** Deletes a tree without following symlinks and without crossing into another filesystem (a mount left behind). */
async function removeTree(p: string, dev: number): Promise<void> {
  const st = await fs.lstat(p).catch(() => undefined);
  if (!st) return;
  if (!st.isDirectory()) {
    await fs.unlink(p);
    return;
  }
  if (st.dev !== dev) throw new Error(`refusing to delete ${p}: it is on another filesystem (a mount left behind)`);
  for (const name of await fs.readdir(p)) await removeTree(join(p, name), dev);
  await fs.rmdir(p);
}
