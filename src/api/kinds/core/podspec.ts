// PodSpec / PodTemplateSpec defaulting, validation and QoS, shared by pods, pod templates, replication controllers
// and the apps/batch workloads. Mirrors upstream 1.32 pkg/apis/core/v1/defaults.go (PodSpec-level defaults only;
// Pod-only defaults live in pod.ts) and pkg/apis/core/validation ValidatePodSpec with exact messages and paths.

import type { FieldError } from '../../errors.js';
import { formatQuantity, parseQuantity, roundUp, signQuantity, addQuantity, compareQuantity, type Quantity } from '../../quantity.js';
import { validateAnnotations } from '../../validation/names.js';
import {
  FILE_MODE,
  NOT_POSITIVE,
  arr,
  defaultQuantityField,
  defaultResourceList,
  duplicate,
  ensureObj,
  forbidden,
  inclusiveRange,
  invalid,
  isConfigMapKey,
  isRelaxedEnvVarName,
  isValidPortName,
  isValidPortNum,
  label1123,
  labelValue,
  notFoundErr,
  notSupported,
  num,
  obj,
  objs,
  qualifiedName,
  quantityAt,
  regexError,
  required,
  str,
  subdomain1123,
  unsetStr,
  validateIP,
  validateLabelSelector,
  validateLabels,
  validateNonnegative,
  validatePortNumOrName,
  validateResourceRequirements,
  type Obj,
} from './common.js';
import { defaultPersistentVolumeClaimSpec, validatePersistentVolumeClaimSpec } from './persistentvolumeclaim.js';

export type PodQOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

// =============================================================================================================
// Defaulting
// =============================================================================================================

const TAG_RE = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/**
 * The tag of an image reference as upstream's parsers.ParseImageName sees it: "latest" when neither tag nor
 * digest is given, "" for an unparseable reference or a digest-only one.
 */
export function imageTag(image: string): string {
  let name = image;
  let digest = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!DIGEST_RE.test(digest)) return '';
  }
  let tag = '';
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG_RE.test(tag)) return '';
  }
  const parts = name.split('/');
  let path = parts;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost' || parts[0] !== parts[0].toLowerCase())) {
    if (!/^[A-Za-z0-9.-]+(:[0-9]+)?$/.test(parts[0]) && !/^\[[0-9a-fA-F:]+\](:[0-9]+)?$/.test(parts[0])) return '';
    path = parts.slice(1);
  }
  if (path.length === 0 || !path.every((c) => PATH_COMPONENT_RE.test(c))) return '';
  if (!tag && !digest) return 'latest';
  return tag;
}

/** imagePullPolicy default: Always for ":latest" (or no tag), IfNotPresent otherwise. */
export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  return imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHandler(h: unknown): void {
  const o = obj(h);
  if (!o) return;
  const http = obj(o.httpGet);
  if (http) {
    if (unsetStr(http.path)) http.path = '/';
    if (unsetStr(http.scheme)) http.scheme = 'HTTP';
  }
  const grpc = obj(o.grpc);
  if (grpc && (grpc.service === undefined || grpc.service === null)) grpc.service = '';
}

function defaultProbe(p: unknown): void {
  const o = obj(p);
  if (!o) return;
  if (!o.timeoutSeconds) o.timeoutSeconds = 1;
  if (!o.periodSeconds) o.periodSeconds = 10;
  if (!o.successThreshold) o.successThreshold = 1;
  if (!o.failureThreshold) o.failureThreshold = 3;
  defaultHandler(o);
}

function defaultFieldRef(ref: unknown): void {
  const o = obj(ref);
  if (o && unsetStr(o.apiVersion)) o.apiVersion = 'v1';
}

function defaultResourceFieldRef(ref: unknown): void {
  const o = obj(ref);
  if (!o) return;
  // Quantity is a non-pointer struct upstream: an unset divisor serializes as "0".
  if (o.divisor === undefined || o.divisor === null) o.divisor = '0';
  else defaultQuantityField(o, 'divisor');
}

/** SetDefaults_Container (+ declarative defaults of its nested structs). */
export function defaultContainer(c: Obj): void {
  if (unsetStr(c.imagePullPolicy)) c.imagePullPolicy = defaultImagePullPolicy(str(c.image));
  if (unsetStr(c.terminationMessagePath)) c.terminationMessagePath = '/dev/termination-log';
  if (unsetStr(c.terminationMessagePolicy)) c.terminationMessagePolicy = 'File';
  for (const p of objs(c.ports)) if (unsetStr(p.protocol)) p.protocol = 'TCP';
  // ResourceRequirements is a non-pointer struct upstream: always present as {} at least.
  const res = ensureObj(c, 'resources');
  defaultResourceList(res.limits);
  defaultResourceList(res.requests);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  const lc = obj(c.lifecycle);
  if (lc) {
    defaultHandler(lc.postStart);
    defaultHandler(lc.preStop);
  }
  for (const e of objs(c.env)) {
    const vf = obj(e.valueFrom);
    if (vf) {
      defaultFieldRef(vf.fieldRef);
      defaultResourceFieldRef(vf.resourceFieldRef);
    }
  }
}

function defaultDownwardItems(items: unknown): void {
  for (const it of objs(items)) {
    defaultFieldRef(it.fieldRef);
    defaultResourceFieldRef(it.resourceFieldRef);
  }
}

/** Volume source fields in upstream validation order (the first one set wins, later ones are "more than 1"). */
const VOLUME_SOURCES = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'cinder',
  'cephfs',
  'quobyte',
  'downwardAPI',
  'fc',
  'flexVolume',
  'configMap',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'storageos',
  'projected',
  'scaleIO',
  'csi',
  'ephemeral',
  'image',
] as const;

/** SetDefaults_Volume and the defaults of each volume source. */
export function defaultVolume(v: Obj): void {
  if (!VOLUME_SOURCES.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  const ed = obj(v.emptyDir);
  if (ed) defaultQuantityField(ed, 'sizeLimit');
  const hp = obj(v.hostPath);
  if (hp && (hp.type === undefined || hp.type === null)) hp.type = '';
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected'] as const) {
    const s = obj(v[k]);
    if (s && (s.defaultMode === undefined || s.defaultMode === null)) s.defaultMode = 420;
  }
  const dapi = obj(v.downwardAPI);
  if (dapi) defaultDownwardItems(dapi.items);
  const proj = obj(v.projected);
  if (proj)
    for (const src of objs(proj.sources)) {
      const sat = obj(src.serviceAccountToken);
      if (sat && (sat.expirationSeconds === undefined || sat.expirationSeconds === null)) sat.expirationSeconds = 3600;
      const d = obj(src.downwardAPI);
      if (d) defaultDownwardItems(d.items);
    }
  const iscsi = obj(v.iscsi);
  if (iscsi && unsetStr(iscsi.iscsiInterface)) iscsi.iscsiInterface = 'default';
  const rbd = obj(v.rbd);
  if (rbd) {
    if (unsetStr(rbd.pool)) rbd.pool = 'rbd';
    if (unsetStr(rbd.user)) rbd.user = 'admin';
    if (unsetStr(rbd.keyring)) rbd.keyring = '/etc/ceph/keyring';
  }
  const az = obj(v.azureDisk);
  if (az) {
    if (unsetStr(az.cachingMode)) az.cachingMode = 'ReadWrite';
    if (unsetStr(az.fsType)) az.fsType = 'ext4';
    if (az.readOnly === undefined || az.readOnly === null) az.readOnly = false;
    if (unsetStr(az.kind)) az.kind = 'Shared';
  }
  const sio = obj(v.scaleIO);
  if (sio) {
    if (unsetStr(sio.storageMode)) sio.storageMode = 'ThinProvisioned';
    if (unsetStr(sio.fsType)) sio.fsType = 'xfs';
  }
  const img = obj(v.image);
  if (img && unsetStr(img.pullPolicy)) img.pullPolicy = defaultImagePullPolicy(str(img.reference));
  const eph = obj(v.ephemeral);
  const vct = eph && obj(eph.volumeClaimTemplate);
  if (vct) defaultPersistentVolumeClaimSpec(ensureObj(vct, 'spec'));
}

/**
 * SetDefaults_PodSpec and the nested defaults (containers, volumes, probes …). Mutates `spec`. Pod-only
 * defaults (requests from limits, enableServiceLinks, hostNetwork host ports) are in pod.ts.
 */
export function defaultPodSpec(spec: unknown): void {
  const s = obj(spec);
  if (!s) return;
  if (unsetStr(s.dnsPolicy)) s.dnsPolicy = 'ClusterFirst';
  if (unsetStr(s.restartPolicy)) s.restartPolicy = 'Always';
  if (s.securityContext === undefined || s.securityContext === null) s.securityContext = {};
  if (s.terminationGracePeriodSeconds === undefined || s.terminationGracePeriodSeconds === null) s.terminationGracePeriodSeconds = 30;
  if (unsetStr(s.schedulerName)) s.schedulerName = 'default-scheduler';
  // v1 conversion: the deprecated serviceAccount fills an empty serviceAccountName and always mirrors it.
  if (unsetStr(s.serviceAccountName) && str(s.serviceAccount)) s.serviceAccountName = s.serviceAccount;
  if (str(s.serviceAccountName)) s.serviceAccount = s.serviceAccountName;
  else delete s.serviceAccount;
  for (const c of objs(s.containers)) defaultContainer(c);
  for (const c of objs(s.initContainers)) defaultContainer(c);
  for (const c of objs(s.ephemeralContainers)) defaultContainer(c);
  for (const v of objs(s.volumes)) defaultVolume(v);
  defaultResourceList(s.overhead);
  const podRes = obj(s.resources);
  if (podRes) {
    defaultResourceList(podRes.limits);
    defaultResourceList(podRes.requests);
  }
}

/** Defaults for an embedded PodTemplateSpec (metadata.creationTimestamp: null as upstream serializes it). */
export function defaultPodTemplateSpec(tpl: unknown): void {
  const t = obj(tpl);
  if (!t) return;
  const meta = ensureObj(t, 'metadata');
  if (!('creationTimestamp' in meta)) meta.creationTimestamp = null;
  defaultPodSpec(ensureObj(t, 'spec'));
}

// =============================================================================================================
// QoS
// =============================================================================================================

/**
 * upstream qos.GetPodQOS over cpu/memory of all containers. A resource with a limit but no request counts as
 * requested at the limit (what Pod defaulting does), so templates get the class their pods will have.
 */
export function podQOSClass(podSpec: unknown): PodQOSClass {
  const s = obj(podSpec) ?? {};
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const add = (m: Map<string, Quantity>, k: string, q: Quantity): void => {
    const cur = m.get(k);
    m.set(k, cur ? addQuantity(cur, q) : q);
  };
  const parse = (v: unknown): Quantity | undefined => {
    try {
      return typeof v === 'string' || typeof v === 'number' ? parseQuantity(v) : undefined;
    } catch {
      return undefined;
    }
  };
  for (const c of [...objs(s.containers), ...objs(s.initContainers)]) {
    const res = obj(c.resources) ?? {};
    const lim = obj(res.limits) ?? {};
    const req = { ...lim, ...(obj(res.requests) ?? {}) };
    for (const name of ['cpu', 'memory']) {
      const q = parse(req[name]);
      if (q && signQuantity(q) > 0) add(requests, name, q);
    }
    const found = new Set<string>();
    for (const name of ['cpu', 'memory']) {
      const q = parse(lim[name]);
      if (q && signQuantity(q) > 0) {
        found.add(name);
        add(limits, name, q);
      }
    }
    if (!(found.has('cpu') && found.has('memory'))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || compareQuantity(lim, req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

// =============================================================================================================
// Validation
// =============================================================================================================

export interface PodSpecValidationOptions {
  /** The spec belongs to a Pod (not a template): hostNetwork host ports must equal container ports. */
  resourceIsPod?: boolean;
  /** The pod's name, to check the PVC names of generic ephemeral volumes. */
  podName?: string;
}

const SUPPORTED_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const MOUNT_PROPAGATIONS = ['Bidirectional', 'HostToContainer', 'None'];
const ENV_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const DOWNWARD_CONVERTIBLE = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);
const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

function validateLocalDescendingPath(p: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(invalid(path, p, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(p, path));
  return errs;
}

function validatePathNoBacksteps(p: string, path: string): FieldError[] {
  return p.split('/').includes('..') ? [invalid(path, p, "must not contain '..'")] : [];
}

function validateLocalNonReservedPath(p: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(p, path);
  if (p.startsWith('..') && !p.startsWith('../')) errs.push(invalid(path, p, "must not start with '..'"));
  return errs;
}

function validateFileMode(mode: unknown, path: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  return typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0o777 ? [] : [invalid(path, mode, FILE_MODE)];
}

function validateKeyToPath(kp: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(kp.key)) errs.push(required(`${path}.key`));
  if (!str(kp.path)) errs.push(required(`${path}.path`));
  errs.push(...validateLocalNonReservedPath(str(kp.path), `${path}.path`));
  errs.push(...validateFileMode(kp.mode, `${path}.mode`));
  return errs;
}

/** ObjectFieldSelector (downward API fieldRef). */
function validateObjectFieldSelector(fs: Obj, expressions: string[], path: string): FieldError[] {
  if (!str(fs.apiVersion)) return [required(`${path}.apiVersion`)];
  const fp = str(fs.fieldPath);
  if (!fp) return [required(`${path}.fieldPath`)];
  const m = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fp);
  if (m) {
    const key = m[1] === 'metadata.annotations' ? m[2].toLowerCase() : m[2];
    return qualifiedName(key, path);
  }
  if (!DOWNWARD_CONVERTIBLE.has(fp)) return [invalid(`${path}.fieldPath`, fp, `error converting fieldPath: field label not supported: ${fp}`)];
  if (!expressions.includes(fp)) return [notSupported(`${path}.fieldPath`, fp, expressions)];
  return [];
}

const CPU_DIVISORS = ['1m', '1'];
const BYTE_DIVISORS = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];

function validateResourceFieldSelector(fs: Obj, path: string, volume: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const resource = str(fs.resource);
  if (volume && !str(fs.containerName)) errs.push(required(`${path}.containerName`));
  else if (!resource) errs.push(required(`${path}.resource`));
  else if (!RESOURCE_FIELD_PATHS.includes(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-'))
    errs.push(notSupported(`${path}.resource`, resource, RESOURCE_FIELD_PATHS));
  const div = fs.divisor;
  if (div !== undefined && div !== null) {
    const { q } = quantityAt(div, `${path}.divisor`);
    if (q && q.mantissa !== 0n) {
      const d = formatQuantity(q);
      if ((resource === 'limits.cpu' || resource === 'requests.cpu') && !CPU_DIVISORS.includes(d))
        errs.push(invalid(`${path}.divisor`, resource, 'only divisor\'s values 1m and 1 are supported with the cpu resource'));
      else if ((resource === 'limits.memory' || resource === 'requests.memory') && !BYTE_DIVISORS.includes(d))
        errs.push(invalid(`${path}.divisor`, resource, `only divisor's values ${BYTE_DIVISORS.join(', ')} are supported with the memory resource`));
      else if ((resource === 'limits.ephemeral-storage' || resource === 'requests.ephemeral-storage') && !BYTE_DIVISORS.includes(d))
        errs.push(invalid(`${path}.divisor`, resource, `only divisor's values ${BYTE_DIVISORS.join(', ')} are supported with the local ephemeral storage resource`));
    }
  }
  return errs;
}

function validateDownwardAPIFile(f: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(f.path)) errs.push(required(`${path}.path`));
  errs.push(...validateLocalNonReservedPath(str(f.path), `${path}.path`));
  const fr = obj(f.fieldRef);
  const rfr = obj(f.resourceFieldRef);
  if (fr) {
    errs.push(...validateObjectFieldSelector(fr, VOLUME_FIELD_PATHS, `${path}.fieldRef`));
    if (rfr) errs.push(invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (rfr) errs.push(...validateResourceFieldSelector(rfr, `${path}.resourceFieldRef`, true));
  else errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  errs.push(...validateFileMode(f.mode, `${path}.mode`));
  return errs;
}

function validateProjected(p: Obj, path: string): FieldError[] {
  const errs = validateFileMode(p.defaultMode, `${path}.defaultMode`);
  const paths = new Set<string>();
  objs(p.sources).forEach((src, i) => {
    const sp = `${path}.sources[${i}]`;
    let n = 0;
    for (const kind of ['secret', 'configMap'] as const) {
      const s = obj(src[kind]);
      if (!s) continue;
      n++;
      if (!str(s.name)) errs.push(required(`${sp}.${kind}.name`));
      objs(s.items).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, `${sp}.${kind}.items[${j}]`));
        const kpath = str(kp.path);
        if (kpath) {
          if (paths.has(kpath)) errs.push(invalid(path, str(s.name), 'conflicting duplicate paths'));
          paths.add(kpath);
        }
      });
    }
    const d = obj(src.downwardAPI);
    if (d) {
      n++;
      for (const f of objs(d.items)) {
        errs.push(...validateDownwardAPIFile(f, `${sp}.downwardAPI`));
        const fpath = str(f.path);
        if (fpath) {
          if (paths.has(fpath)) errs.push(invalid(path, fpath, 'conflicting duplicate paths'));
          paths.add(fpath);
        }
      }
    }
    const sat = obj(src.serviceAccountToken);
    if (sat) {
      n++;
      const exp = num(sat.expirationSeconds) ?? 0;
      if (exp < 600) errs.push(invalid(`${sp}.serviceAccountToken.expirationSeconds`, exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalid(`${sp}.serviceAccountToken.expirationSeconds`, exp, 'may not specify a duration larger than 2^32 seconds'));
      if (!str(sat.path)) errs.push(required(`${path}.path`));
      else errs.push(...validateLocalNonReservedPath(str(sat.path), `${path}.path`));
    }
    const ctb = obj(src.clusterTrustBundle);
    if (ctb) {
      n++;
      if (!str(ctb.path)) errs.push(required(`${sp}.clusterTrustBundle.path`));
    }
    if (n > 1) errs.push(forbidden(sp, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

/** Validate one volume source; returns errors (empty = usable by mounts). */
function validateVolumeSource(v: Obj, path: string, volName: string, opts: PodSpecValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of VOLUME_SOURCES) {
    const src = v[kind];
    if (src === undefined || src === null) continue;
    if (n > 0) {
      // Upstream's path for the downwardAPI case carries a typo; kept for identical messages.
      errs.push(forbidden(`${path}.${kind === 'downwardAPI' ? 'downwarAPI' : kind}`, 'may not specify more than 1 volume type'));
      continue;
    }
    n++;
    const s = obj(src) ?? {};
    const p = `${path}.${kind}`;
    switch (kind) {
      case 'emptyDir':
        if (s.sizeLimit !== undefined && s.sizeLimit !== null) {
          const { q, err } = quantityAt(s.sizeLimit, `${p}.sizeLimit`);
          if (err) errs.push(err);
          else if (q && signQuantity(q) < 0) errs.push(forbidden(`${p}.sizeLimit`, 'SizeLimit field must be a valid resource quantity'));
        }
        break;
      case 'hostPath':
        if (!str(s.path)) {
          errs.push(required(`${p}.path`));
          break;
        }
        errs.push(...validatePathNoBacksteps(str(s.path), `${p}.path`));
        if (s.type !== undefined && s.type !== null && !HOST_PATH_TYPES.includes(str(s.type))) errs.push(notSupported(`${p}.type`, s.type, HOST_PATH_TYPES));
        break;
      case 'gitRepo':
        if (!str(s.repository)) errs.push(required(`${p}.repository`));
        errs.push(...validateLocalDescendingPath(str(s.directory), `${p}.directory`));
        break;
      case 'secret':
        if (!str(s.secretName)) errs.push(required(`${p}.secretName`));
        errs.push(...validateFileMode(s.defaultMode, `${p}.defaultMode`));
        objs(s.items).forEach((kp, i) => errs.push(...validateKeyToPath(kp, `${p}.items[${i}]`)));
        break;
      case 'configMap':
        if (!str(s.name)) errs.push(required(`${p}.name`));
        errs.push(...validateFileMode(s.defaultMode, `${p}.defaultMode`));
        objs(s.items).forEach((kp, i) => errs.push(...validateKeyToPath(kp, `${p}.items[${i}]`)));
        break;
      case 'persistentVolumeClaim':
        if (!str(s.claimName)) errs.push(required(`${p}.claimName`));
        break;
      case 'nfs':
        if (!str(s.server)) errs.push(required(`${p}.server`));
        if (!str(s.path)) errs.push(required(`${p}.path`));
        if (!str(s.path).startsWith('/')) errs.push(invalid(`${p}.path`, str(s.path), 'must be an absolute path'));
        break;
      case 'downwardAPI':
        errs.push(...validateFileMode(s.defaultMode, `${p}.defaultMode`));
        for (const f of objs(s.items)) errs.push(...validateDownwardAPIFile(f, `${path}.downwardAPI`));
        break;
      case 'projected':
        errs.push(...validateProjected(s, p));
        break;
      case 'csi': {
        const driver = str(s.driver);
        if (!driver) errs.push(required(`${p}.driver`));
        if (driver.length > 63) errs.push({ type: 'FieldValueTooLong', field: `${p}.driver`, detail: 'may not be more than 63 bytes' });
        if (driver) errs.push(...subdomain1123(driver.toLowerCase(), `${p}.driver`).map((e) => ({ ...e, value: driver })));
        break;
      }
      case 'ephemeral': {
        const vct = obj(s.volumeClaimTemplate);
        if (!vct) errs.push(required(`${p}.volumeClaimTemplate`));
        else {
          const meta = obj(vct.metadata) ?? {};
          errs.push(...validateAnnotations(meta.annotations, `${p}.volumeClaimTemplate.metadata.annotations`));
          errs.push(...validateLabels(meta.labels, `${p}.volumeClaimTemplate.metadata.labels`));
          for (const k of Object.keys(meta))
            if (!['annotations', 'labels', 'creationTimestamp'].includes(k) && meta[k] !== undefined && meta[k] !== null && meta[k] !== '')
              errs.push(forbidden(`${p}.volumeClaimTemplate.metadata.${k}`, 'cannot be set'));
          errs.push(...validatePersistentVolumeClaimSpec(vct.spec, `${p}.volumeClaimTemplate.spec`));
        }
        if (opts.podName && volName) {
          const pvcName = `${opts.podName}-${volName}`;
          for (const e of subdomain1123(pvcName, `${path}.name`)) errs.push(invalid(`${path}.name`, volName, `PVC name ${JSON.stringify(pvcName)}: ${e.detail}`));
        }
        break;
      }
      case 'image':
        if (opts.resourceIsPod && !str(s.reference)) errs.push(required(`${p}.reference`));
        errs.push(...validatePullPolicy(s.pullPolicy, `${p}.pullPolicy`));
        break;
      case 'iscsi':
        if (!str(s.targetPortal)) errs.push(required(`${p}.targetPortal`));
        if (!str(s.iqn)) errs.push(required(`${p}.iqn`));
        break;
      case 'rbd':
        if (arr(s.monitors).length === 0) errs.push(required(`${p}.monitors`));
        if (!str(s.image)) errs.push(required(`${p}.image`));
        break;
      case 'cephfs':
        if (arr(s.monitors).length === 0) errs.push(required(`${path}.cephfs.monitors`));
        break;
      case 'glusterfs':
        if (!str(s.endpoints)) errs.push(required(`${p}.endpoints`));
        if (!str(s.path)) errs.push(required(`${p}.path`));
        break;
      case 'awsElasticBlockStore':
        if (!str(s.volumeID)) errs.push(required(`${p}.volumeID`));
        break;
      case 'gcePersistentDisk':
        if (!str(s.pdName)) errs.push(required(`${path}.persistentDisk.pdName`));
        break;
      case 'flexVolume':
        if (!str(s.driver)) errs.push(required(`${p}.driver`));
        break;
      case 'cinder':
      case 'portworxVolume':
        if (!str(s.volumeID)) errs.push(required(`${p}.volumeID`));
        break;
      case 'azureFile':
        if (!str(s.secretName)) errs.push(required(`${p}.secretName`));
        if (!str(s.shareName)) errs.push(required(`${p}.shareName`));
        break;
      default:
        break;
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

/** ValidateVolumes: returns the usable volumes (name → source) and the errors. */
function validateVolumes(volumes: unknown, path: string, opts: PodSpecValidationOptions): { vols: Map<string, Obj>; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const vols = new Map<string, Obj>();
  const names = new Set<string>();
  const list = objs(volumes);
  const createdPVCs = new Set<string>();
  if (opts.podName) for (const v of list) if (obj(v.ephemeral)) createdPVCs.add(`${opts.podName}-${str(v.name)}`);
  list.forEach((v, i) => {
    const p = `${path}[${i}]`;
    const name = str(v.name);
    const el = validateVolumeSource(v, p, name, opts);
    if (!name) el.push(required(`${p}.name`));
    else el.push(...label1123(name, `${p}.name`));
    if (names.has(name)) el.push(duplicate(`${p}.name`, name));
    if (el.length === 0) {
      names.add(name);
      vols.set(name, v);
    } else errs.push(...el);
    const pvc = obj(v.persistentVolumeClaim);
    if (pvc && createdPVCs.has(str(pvc.claimName)))
      errs.push(invalid(`${p}.persistentVolumeClaim.claimName`, str(pvc.claimName), 'must not reference a PVC that gets created for an ephemeral volume'));
  });
  return { vols, errs };
}

function validatePullPolicy(policy: unknown, path: string): FieldError[] {
  if (unsetStr(policy)) return [required(path)];
  return PULL_POLICIES.includes(str(policy)) ? [] : [notSupported(path, policy, PULL_POLICIES)];
}

function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objs(ports).forEach((port, i) => {
    const p = `${path}[${i}]`;
    const name = str(port.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length) for (const m of msgs) errs.push(invalid(`${p}.name`, name, m));
      else if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
      else names.add(name);
    }
    if (!port.containerPort) errs.push(required(`${p}.containerPort`));
    else if (!isValidPortNum(port.containerPort)) errs.push(invalid(`${p}.containerPort`, port.containerPort, inclusiveRange(1, 65535)));
    if (port.hostPort && !isValidPortNum(port.hostPort)) errs.push(invalid(`${p}.hostPort`, port.hostPort, inclusiveRange(1, 65535)));
    if (unsetStr(port.protocol)) errs.push(required(`${p}.protocol`));
    else if (!SUPPORTED_PROTOCOLS.includes(str(port.protocol))) errs.push(notSupported(`${p}.protocol`, port.protocol, SUPPORTED_PROTOCOLS));
  });
  return errs;
}

function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(env).forEach((ev, i) => {
    const p = `${path}[${i}]`;
    const name = str(ev.name);
    if (!name) errs.push(required(`${p}.name`));
    else for (const m of isRelaxedEnvVarName(name)) errs.push(invalid(`${p}.name`, name, m));
    const vf = obj(ev.valueFrom);
    if (!vf) return;
    const vp = `${p}.valueFrom`;
    let n = 0;
    const fr = obj(vf.fieldRef);
    if (fr) {
      n++;
      errs.push(...validateObjectFieldSelector(fr, ENV_FIELD_PATHS, `${vp}.fieldRef`));
    }
    const rfr = obj(vf.resourceFieldRef);
    if (rfr) {
      n++;
      errs.push(...validateResourceFieldSelector(rfr, `${vp}.resourceFieldRef`, false));
    }
    for (const kind of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const ref = obj(vf[kind]);
      if (!ref) continue;
      n++;
      errs.push(...subdomain1123(str(ref.name), `${vp}.${kind}.name`));
      const key = str(ref.key);
      if (!key) errs.push(required(`${vp}.${kind}.key`));
      else for (const m of isConfigMapKey(key)) errs.push(invalid(`${vp}.${kind}.key`, key, m));
    }
    if (n === 0) errs.push(invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (str(ev.value)) errs.push(invalid(vp, '', 'may not be specified when `value` is not empty'));
    else if (n > 1) errs.push(invalid(vp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(envFrom).forEach((ev, i) => {
    const p = `${path}[${i}]`;
    const prefix = str(ev.prefix);
    if (prefix) for (const m of isRelaxedEnvVarName(prefix)) errs.push(invalid(`${p}.prefix`, prefix, m));
    let n = 0;
    for (const kind of ['configMapRef', 'secretRef'] as const) {
      const ref = obj(ev[kind]);
      if (!ref) continue;
      n++;
      const name = str(ref.name);
      if (!name) errs.push(required(`${p}.${kind}.name`));
      else {
        // Names are validated as generateName-style prefixes (trailing '-' allowed), as upstream.
        const trimmed = name.replace(/-+$/, '');
        if (trimmed) for (const e of subdomain1123(trimmed, `${p}.${kind}.name`)) errs.push({ ...e, value: name });
      }
    }
    if (n === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, devices: Map<string, string>, vols: Map<string, Obj>, ctr: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  const privileged = obj(ctr.securityContext)?.privileged === true;
  objs(mounts).forEach((m, i) => {
    const p = `${path}[${i}]`;
    const name = str(m.name);
    const mountPath = str(m.mountPath);
    if (!name) errs.push(required(`${p}.name`));
    if (!vols.has(name)) errs.push(notFoundErr(`${p}.name`, name));
    if (!mountPath) errs.push(required(`${p}.mountPath`));
    if (mountPoints.has(mountPath)) errs.push(invalid(`${p}.mountPath`, mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    if (devices.has(name)) errs.push(invalid(`${p}.name`, name, 'must not already exist in volumeDevices'));
    if ([...devices.values()].includes(mountPath)) errs.push(invalid(`${p}.mountPath`, mountPath, 'must not already exist as a path in volumeDevices'));
    const vol = vols.get(name);
    if (vol && obj(vol.image)) {
      if (str(m.subPath)) errs.push(invalid(`${p}.subPath`, str(m.subPath), 'not allowed in image volume sources'));
      if (str(m.subPathExpr)) errs.push(invalid(`${p}.subPathExpr`, str(m.subPathExpr), 'not allowed in image volume sources'));
    }
    // Upstream reports these two without the index (path.Child, not idxPath).
    if (str(m.subPath)) errs.push(...validateLocalDescendingPath(str(m.subPath), `${path}.subPath`));
    if (str(m.subPathExpr)) {
      if (str(m.subPath)) errs.push(invalid(`${p}.subPathExpr`, str(m.subPathExpr), 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(str(m.subPathExpr), `${path}.subPathExpr`));
    }
    if (m.mountPropagation !== undefined && m.mountPropagation !== null) {
      const mp = str(m.mountPropagation);
      if (!MOUNT_PROPAGATIONS.includes(mp)) errs.push(notSupported(`${path}.mountPropagation`, m.mountPropagation, MOUNT_PROPAGATIONS));
      if (mp === 'Bidirectional' && !privileged) errs.push(forbidden(`${path}.mountPropagation`, 'Bidirectional mount propagation is available only to privileged containers'));
    }
    if (m.recursiveReadOnly !== undefined && m.recursiveReadOnly !== null) {
      const rro = str(m.recursiveReadOnly);
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (m.readOnly !== true) errs.push(forbidden(`${path}.recursiveReadOnly`, 'may only be specified when readOnly is true'));
        if (m.mountPropagation && m.mountPropagation !== 'None')
          errs.push(forbidden(`${path}.recursiveReadOnly`, 'may only be specified when mountPropagation is None or not specified'));
      } else if (rro !== 'Disabled') errs.push(notSupported(`${path}.recursiveReadOnly`, m.recursiveReadOnly, ['Disabled', 'Enabled', 'IfPossible']));
    }
  });
  return errs;
}

function validateVolumeDevices(devices: unknown, mounts: Map<string, string>, vols: Map<string, Obj>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  objs(devices).forEach((d, i) => {
    const p = `${path}[${i}]`;
    const name = str(d.name);
    const devPath = str(d.devicePath);
    const vol = vols.get(name);
    if (!name) errs.push(required(`${p}.name`));
    if (names.has(name)) errs.push(invalid(`${p}.name`, name, 'must be unique'));
    if (vol && !obj(vol.persistentVolumeClaim) && !obj(vol.ephemeral))
      errs.push(invalid(`${p}.name`, name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    if (!vol) errs.push(notFoundErr(`${p}.name`, name));
    if (!devPath) errs.push(required(`${p}.devicePath`));
    if (paths.has(devPath)) errs.push(invalid(`${p}.devicePath`, devPath, 'must be unique'));
    if (devPath && devPath.split('/').includes('..')) errs.push(invalid(`${p}.devicePath`, devPath, "can not contain backsteps ('..')"));
    else paths.add(devPath);
    if (mounts.has(name)) errs.push(invalid(`${p}.name`, name, 'must not already exist in volumeMounts'));
    if ([...mounts.values()].includes(devPath)) errs.push(invalid(`${p}.devicePath`, devPath, 'must not already exist as a path in volumeMounts'));
    if (name) names.add(name);
  });
  return errs;
}

const MAX_UINT32 = 0xffffffff;

function validateID(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_UINT32 ? [] : [invalid(path, v, inclusiveRange(0, MAX_UINT32))];
}

function validateSeccompProfile(sp: unknown, path: string): FieldError[] {
  const s = obj(sp);
  if (!s) return [];
  const errs: FieldError[] = [];
  const t = str(s.type);
  if (!t) errs.push(required(`${path}.type`, 'type is required when seccompProfile is set'));
  else if (!['Localhost', 'RuntimeDefault', 'Unconfined'].includes(t)) errs.push(notSupported(`${path}.type`, t, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  if (t === 'Localhost') {
    if (s.localhostProfile === undefined || s.localhostProfile === null) errs.push(required(`${path}.localhostProfile`, 'must be set when seccomp type is Localhost'));
    else errs.push(...validateLocalDescendingPath(str(s.localhostProfile), `${path}.localhostProfile`));
  } else if (s.localhostProfile !== undefined && s.localhostProfile !== null) {
    errs.push(invalid(`${path}.localhostProfile`, s, 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

function validateAppArmorProfile(ap: unknown, path: string): FieldError[] {
  const a = obj(ap);
  if (!a) return [];
  const t = str(a.type);
  switch (t) {
    case 'Localhost': {
      const lp = a.localhostProfile;
      if (lp === undefined || lp === null || str(lp).trim() === '') return [required(`${path}.localhostProfile`, 'must be set when AppArmor type is Localhost')];
      if (str(lp).trim() !== lp) return [invalid(`${path}.localhostProfile`, lp, 'must not be padded with whitespace')];
      return [];
    }
    case 'RuntimeDefault':
    case 'Unconfined':
      return a.localhostProfile !== undefined && a.localhostProfile !== null ? [invalid(`${path}.localhostProfile`, a.localhostProfile, 'can only be set when AppArmor type is Localhost')] : [];
    case '':
      return [required(`${path}.type`, 'type is required when appArmorProfile is set')];
    default:
      return [notSupported(`${path}.type`, t, ['Localhost', 'RuntimeDefault', 'Unconfined'])];
  }
}

function validateContainerSecurityContext(sc: unknown, path: string, hostUsers: boolean): FieldError[] {
  const s = obj(sc);
  if (!s) return [];
  const errs: FieldError[] = [];
  errs.push(...validateID(s.runAsUser, `${path}.runAsUser`));
  errs.push(...validateID(s.runAsGroup, `${path}.runAsGroup`));
  if (s.procMount !== undefined && s.procMount !== null) {
    if (!['Default', 'Unmasked'].includes(str(s.procMount))) errs.push(notSupported(`${path}.procMount`, s.procMount, ['Default', 'Unmasked']));
    if (hostUsers && s.procMount === 'Unmasked') errs.push(invalid(`${path}.procMount`, s.procMount, '`hostUsers` must be false to use `Unmasked`'));
  }
  errs.push(...validateSeccompProfile(s.seccompProfile, `${path}.seccompProfile`));
  if (s.allowPrivilegeEscalation === false) {
    if (s.privileged === true) errs.push(invalid(path, s, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    for (const cap of arr(obj(s.capabilities)?.add))
      if (cap === 'CAP_SYS_ADMIN') errs.push(invalid(path, s, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
  }
  errs.push(...validateAppArmorProfile(s.appArmorProfile, `${path}.appArmorProfile`));
  return errs;
}

function validateHandler(h: Obj, kinds: readonly string[], gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of kinds) {
    const a = obj(h[kind]);
    if (!a) continue;
    if (n > 0) {
      errs.push(forbidden(`${path}.${kind}`, 'may not specify more than 1 handler type'));
      continue;
    }
    n++;
    const p = `${path}.${kind}`;
    switch (kind) {
      case 'exec':
        if (arr(a.command).length === 0) errs.push(required(`${p}.command`));
        break;
      case 'httpGet':
        if (!str(a.path)) errs.push(required(`${p}.path`));
        errs.push(...validatePortNumOrName(a.port, `${p}.port`));
        if (!['HTTP', 'HTTPS'].includes(str(a.scheme))) errs.push(notSupported(`${p}.scheme`, a.scheme ?? '', ['HTTP', 'HTTPS']));
        for (const hd of objs(a.httpHeaders))
          if (!/^[-A-Za-z0-9]+$/.test(str(hd.name)))
            errs.push(invalid(`${p}.httpHeaders`, str(hd.name), regexError("a valid HTTP header must consist of alphanumeric characters or '-'", '[-A-Za-z0-9]+', 'X-Header-Name')));
        break;
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(a.port, `${p}.port`));
        break;
      case 'grpc':
        errs.push(...validatePortNumOrName(typeof a.port === 'number' ? a.port : 0, `${p}.port`));
        break;
      case 'sleep': {
        const secs = num(a.seconds) ?? 0;
        if (gracePeriod !== undefined && (secs <= 0 || secs > gracePeriod))
          errs.push(
            invalid(
              p,
              secs,
              `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
            ),
          );
        break;
      }
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'] as const;

function validateProbe(probe: unknown, kind: 'liveness' | 'readiness' | 'startup', gracePeriod: number | undefined, path: string): FieldError[] {
  const p = obj(probe);
  if (!p) return [];
  const errs = validateHandler(p, PROBE_HANDLERS, gracePeriod, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) errs.push(...validateNonnegative(p[f], `${path}.${f}`));
  const tgps = p.terminationGracePeriodSeconds;
  if (typeof tgps === 'number' && tgps <= 0) errs.push(invalid(`${path}.terminationGracePeriodSeconds`, tgps, 'must be greater than 0'));
  if ((kind === 'liveness' || kind === 'startup') && (p.successThreshold ?? 1) !== 1) errs.push(invalid(`${path}.successThreshold`, p.successThreshold, 'must be 1'));
  if (kind === 'readiness' && tgps !== undefined && tgps !== null) errs.push(invalid(`${path}.terminationGracePeriodSeconds`, tgps, 'must not be set for readinessProbes'));
  return errs;
}

function validateLifecycle(lc: Obj, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ps = obj(lc.postStart);
  if (ps) errs.push(...validateHandler(ps, LIFECYCLE_HANDLERS, gracePeriod, `${path}.postStart`));
  const pr = obj(lc.preStop);
  if (pr) errs.push(...validateHandler(pr, LIFECYCLE_HANDLERS, gracePeriod, `${path}.preStop`));
  return errs;
}

function validateResizePolicy(list: unknown, path: string, restartPolicy: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objs(list).forEach((p, i) => {
    const rn = str(p.resourceName);
    if (seen.has(rn)) errs.push(duplicate(`${path}[${i}]`, rn));
    seen.add(rn);
    if (!rn) errs.push(required(path));
    else if (rn !== 'cpu' && rn !== 'memory') errs.push(notSupported(path, rn, ['cpu', 'memory']));
    const rp = str(p.restartPolicy);
    if (!rp) errs.push(required(path));
    else if (rp !== 'NotRequired' && rp !== 'RestartContainer') errs.push(notSupported(path, rp, ['NotRequired', 'RestartContainer']));
    if (restartPolicy === 'Never' && rp !== 'NotRequired') errs.push(invalid(path, rp, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
  });
  return errs;
}

/** Validation common to regular, init and ephemeral containers. */
function validateContainerCommon(c: Obj, vols: Map<string, Obj>, path: string, restartPolicy: string, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c.name);
  if (!name) errs.push(required(`${path}.name`));
  else errs.push(...label1123(name, `${path}.name`));
  if (!str(c.image)) errs.push(required(`${path}.image`));
  const tmp = str(c.terminationMessagePolicy);
  if (!tmp) errs.push(required(`${path}.terminationMessagePolicy`));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(`${path}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']));
  const mounts = new Map(objs(c.volumeMounts).map((m) => [str(m.name), str(m.mountPath)] as const));
  const devices = new Map(objs(c.volumeDevices).map((d) => [str(d.name), str(d.devicePath)] as const));
  errs.push(...validateContainerPorts(c.ports, `${path}.ports`));
  errs.push(...validateEnv(c.env, `${path}.env`));
  errs.push(...validateEnvFrom(c.envFrom, `${path}.envFrom`));
  errs.push(...validateVolumeMounts(c.volumeMounts, devices, vols, c, `${path}.volumeMounts`));
  errs.push(...validateVolumeDevices(c.volumeDevices, mounts, vols, `${path}.volumeDevices`));
  errs.push(...validatePullPolicy(c.imagePullPolicy, `${path}.imagePullPolicy`));
  errs.push(...validateResourceRequirements(c.resources, `${path}.resources`));
  errs.push(...validateResizePolicy(c.resizePolicy, `${path}.resizePolicy`, restartPolicy));
  errs.push(...validateContainerSecurityContext(c.securityContext, `${path}.securityContext`, hostUsers));
  return errs;
}

function hostPortConflicts(containers: Obj[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    objs(c.ports).forEach((p, pi) => {
      const hp = num(p.hostPort) ?? 0;
      if (!hp) return;
      const key = `${str(p.protocol)}/${str(p.hostIP)}/${hp}`;
      if (seen.has(key)) errs.push(duplicate(`${path}[${ci}].ports[${pi}].hostPort`, key));
      else seen.add(key);
    });
  });
  return errs;
}

function validateContainers(containers: unknown, vols: Map<string, Obj>, gracePeriod: number | undefined, path: string, restartPolicy: string, hostUsers: boolean): FieldError[] {
  const list = objs(containers);
  if (list.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, vols, p, restartPolicy, hostUsers));
    const name = str(c.name);
    if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
    else names.add(name);
    const lc = obj(c.lifecycle);
    if (lc) errs.push(...validateLifecycle(lc, gracePeriod, `${p}.lifecycle`));
    errs.push(...validateProbe(c.livenessProbe, 'liveness', gracePeriod, `${p}.livenessProbe`));
    errs.push(...validateProbe(c.readinessProbe, 'readiness', gracePeriod, `${p}.readinessProbe`));
    errs.push(...validateProbe(c.startupProbe, 'startup', gracePeriod, `${p}.startupProbe`));
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) errs.push(forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });
  errs.push(...hostPortConflicts(list, path));
  return errs;
}

function validateInitContainers(inits: unknown, regular: unknown, vols: Map<string, Obj>, gracePeriod: number | undefined, path: string, restartPolicy: string, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(objs(regular).map((c) => str(c.name)));
  objs(inits).forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, vols, p, restartPolicy, hostUsers));
    let restartAlways = false;
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) {
      if (c.restartPolicy !== 'Always') errs.push(notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
      restartAlways = c.restartPolicy === 'Always';
    }
    const name = str(c.name);
    if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
    else if (name) names.add(name);
    errs.push(...hostPortConflicts([c], path));
    if (restartAlways) {
      const lc = obj(c.lifecycle);
      if (lc) errs.push(...validateLifecycle(lc, gracePeriod, `${p}.lifecycle`));
      errs.push(...validateProbe(c.livenessProbe, 'liveness', gracePeriod, `${p}.livenessProbe`));
      errs.push(...validateProbe(c.readinessProbe, 'readiness', gracePeriod, `${p}.readinessProbe`));
      errs.push(...validateProbe(c.startupProbe, 'startup', gracePeriod, `${p}.startupProbe`));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'])
        if (c[f] !== undefined && c[f] !== null) errs.push(forbidden(`${p}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
    }
    if (arr(c.resizePolicy).length > 0) errs.push(invalid(`${p}.resizePolicy`, c.resizePolicy, 'must not be set for init containers'));
  });
  return errs;
}

const EPHEMERAL_FORBIDDEN = ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resizePolicy', 'restartPolicy'];

/** Ephemeral containers (only reachable through the ephemeralcontainers subresource; exported for it). */
export function validateEphemeralContainers(spec: Obj, vols: Map<string, Obj>, path: string, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const list = objs(spec.ephemeralContainers);
  if (list.length === 0) return errs;
  const other = new Set([...objs(spec.containers), ...objs(spec.initContainers)].map((c) => str(c.name)));
  const all = new Set(other);
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, vols, p, str(spec.restartPolicy), hostUsers));
    if (str(c.image) !== str(c.image).trim()) errs.push(invalid(`${p}.image`, c.image, 'must not have leading or trailing whitespace'));
    const name = str(c.name);
    if (all.has(name)) errs.push(duplicate(`${p}.name`, name));
    else all.add(name);
    const target = str(c.targetContainerName);
    if (target && !other.has(target)) errs.push(notFoundErr(`${p}.targetContainerName`, target));
    for (const f of EPHEMERAL_FORBIDDEN) {
      const v = c[f];
      const empty = v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (obj(v) && Object.keys(v as Obj).length === 0);
      if (!empty) errs.push(forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
    }
    objs(c.volumeMounts).forEach((vm, j) => {
      if (str(vm.subPath)) errs.push(forbidden(`${p}.volumeMounts[${j}].subPath`, 'cannot be set for an Ephemeral Container'));
      if (str(vm.subPathExpr)) errs.push(forbidden(`${p}.volumeMounts[${j}].subPathExpr`, 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}

/** ValidateTolerations (spec.tolerations). */
export function validateTolerations(tols: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(tols).forEach((t, i) => {
    const p = `${path}[${i}]`;
    const key = str(t.key);
    const op = str(t.operator);
    if (key) errs.push(...qualifiedName(key, `${p}.key`));
    if (!key && op !== 'Exists') errs.push(invalid(`${p}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute')
      errs.push(invalid(`${p}.effect`, str(t.effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    switch (op) {
      case 'Equal':
      case '': {
        const msgs = labelValue(str(t.value), `${p}.operator`);
        if (msgs.length) errs.push(invalid(`${p}.operator`, str(t.value), msgs.map((e) => e.detail).join(';')));
        break;
      }
      case 'Exists':
        if (str(t.value)) errs.push(invalid(`${p}.operator`, str(t.value), "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(`${p}.operator`, op, ['Equal', 'Exists']));
    }
    const effect = str(t.effect);
    if (effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) errs.push(notSupported(`${p}.effect`, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
  });
  return errs;
}

function validateNodeSelectorTerm(term: Obj, path: string, allowInvalidValues: boolean): FieldError[] {
  const errs: FieldError[] = [];
  objs(term.matchExpressions).forEach((rq, j) => {
    const p = `${path}.matchExpressions[${j}]`;
    const values = arr(rq.values);
    switch (rq.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      case 'Gt':
      case 'Lt':
        if (values.length !== 1) errs.push(required(`${p}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, rq.operator ?? '', 'not a valid selector operator'));
    }
    errs.push(...qualifiedName(str(rq.key), `${p}.key`));
    if (!allowInvalidValues) values.forEach((v, k) => errs.push(...labelValue(str(v), `${p}.values[${k}]`)));
  });
  objs(term.matchFields).forEach((rq, j) => {
    const p = `${path}.matchFields[${j}]`;
    const values = arr(rq.values);
    if (rq.operator === 'In' || rq.operator === 'NotIn') {
      if (values.length !== 1) errs.push(required(`${p}.values`, "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else errs.push(invalid(`${p}.operator`, rq.operator ?? '', 'not a valid selector operator'));
    if (str(rq.key) !== 'metadata.name') errs.push(invalid(`${p}.key`, str(rq.key), 'not a valid field selector key'));
    else values.forEach((v, k) => errs.push(...subdomain1123(str(v), `${p}.values[${k}]`)));
  });
  return errs;
}

/** ValidateNodeSelector (required node affinity, PV node affinity). */
export function validateNodeSelector(ns: unknown, path: string): FieldError[] {
  const terms = objs(obj(ns)?.nodeSelectorTerms);
  if (terms.length === 0) return [required(`${path}.nodeSelectorTerms`, 'must have at least one node selector term')];
  return terms.flatMap((t, i) => validateNodeSelectorTerm(t, `${path}.nodeSelectorTerms[${i}]`, false));
}

function validatePodAffinityTerm(term: Obj, path: string): FieldError[] {
  const errs = validateLabelSelector(term.labelSelector, `${path}.labelSelector`);
  errs.push(...validateLabelSelector(term.namespaceSelector, `${path}.namespaceSelector`));
  for (const ns of arr(term.namespaces)) errs.push(...label1123(str(ns), `${path}.namespace`));
  for (const k of ['matchLabelKeys', 'mismatchLabelKeys'] as const) {
    const keys = arr(term[k]);
    if (keys.length === 0) continue;
    if (!term.labelSelector) errs.push(forbidden(`${path}.${k}`, 'must not be specified when labelSelector is not set'));
    else keys.forEach((key, i) => errs.push(...qualifiedName(str(key), `${path}.${k}[${i}]`)));
  }
  const tk = str(term.topologyKey);
  if (!tk) errs.push(required(`${path}.topologyKey`, 'can not be empty'));
  return [...errs, ...qualifiedName(tk, `${path}.topologyKey`)];
}

function validateAffinity(aff: unknown, path: string): FieldError[] {
  const a = obj(aff);
  if (!a) return [];
  const errs: FieldError[] = [];
  const na = obj(a.nodeAffinity);
  if (na) {
    const np = `${path}.nodeAffinity`;
    if (na.requiredDuringSchedulingIgnoredDuringExecution)
      errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, `${np}.requiredDuringSchedulingIgnoredDuringExecution`));
    objs(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const p = `${np}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      const w = num(t.weight) ?? 0;
      if (w <= 0 || w > 100) errs.push(invalid(`${p}.weight`, w, 'must be in the range 1-100'));
      errs.push(...validateNodeSelectorTerm(obj(t.preference) ?? {}, `${p}.preference`, true));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const pa = obj(a[kind]);
    if (!pa) continue;
    const pp = `${path}.${kind}`;
    objs(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) =>
      errs.push(...validatePodAffinityTerm(t, `${pp}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`)),
    );
    objs(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const p = `${pp}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      const w = num(t.weight) ?? 0;
      if (w <= 0 || w > 100) errs.push(invalid(`${p}.weight`, w, 'must be in the range 1-100'));
      errs.push(...validatePodAffinityTerm(obj(t.podAffinityTerm) ?? {}, `${p}.podAffinityTerm`));
    });
  }
  return errs;
}

function validatePodSecurityContext(sc: unknown, path: string): FieldError[] {
  const s = obj(sc);
  if (!s) return [];
  const errs: FieldError[] = [];
  errs.push(...validateID(s.fsGroup, `${path}.fsGroup`));
  errs.push(...validateID(s.runAsUser, `${path}.runAsUser`));
  errs.push(...validateID(s.runAsGroup, `${path}.runAsGroup`));
  arr(s.supplementalGroups).forEach((g, i) => errs.push(...validateID(g, `${path}.supplementalGroups[${i}]`)));
  const sysctls = new Set<string>();
  objs(s.sysctls).forEach((sc2, i) => {
    const name = str(sc2.name);
    const p = `${path}.sysctls[${i}].name`;
    if (!name) errs.push(required(p));
    else if (name.length > 253 || !/^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/.test(name))
      errs.push(invalid(p, name, 'must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$'));
    else if (sysctls.has(name)) errs.push(duplicate(p, name));
    sysctls.add(name);
  });
  if (s.fsGroupChangePolicy !== undefined && s.fsGroupChangePolicy !== null && !['Always', 'OnRootMismatch'].includes(str(s.fsGroupChangePolicy)))
    errs.push(notSupported(`${path}.fsGroupChangePolicy`, s.fsGroupChangePolicy, ['Always', 'OnRootMismatch']));
  errs.push(...validateSeccompProfile(s.seccompProfile, `${path}.seccompProfile`));
  errs.push(...validateAppArmorProfile(s.appArmorProfile, `${path}.appArmorProfile`));
  if (s.supplementalGroupsPolicy !== undefined && s.supplementalGroupsPolicy !== null && !['Merge', 'Strict'].includes(str(s.supplementalGroupsPolicy)))
    errs.push(notSupported(`${path}.supplementalGroupsPolicy`, s.supplementalGroupsPolicy, ['Merge', 'Strict']));
  if (s.seLinuxChangePolicy !== undefined && s.seLinuxChangePolicy !== null && !['MountOption', 'Recursive'].includes(str(s.seLinuxChangePolicy)))
    errs.push(notSupported(`${path}.seLinuxChangePolicy`, s.seLinuxChangePolicy, ['MountOption', 'Recursive']));
  return errs;
}

function validateDNSConfig(dc: unknown, dnsPolicy: string, path: string): FieldError[] {
  const d = obj(dc);
  if (dnsPolicy === 'None') {
    if (!d) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (arr(d.nameservers).length === 0) return [required(`${path}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!d) return [];
  const errs: FieldError[] = [];
  const ns = arr(d.nameservers).map(str);
  if (ns.length > 3) errs.push(invalid(`${path}.nameservers`, ns, 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => errs.push(...validateIP(`${path}.nameservers[${i}]`, n)));
  const searches = arr(d.searches).map(str);
  if (searches.length > 32) errs.push(invalid(`${path}.searches`, searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) errs.push(invalid(`${path}.searches`, searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => {
    if (s === '.') return;
    const t = s.replace(/\.$/, '');
    if (!/^_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*$/.test(t) || t.length > 253)
      errs.push(
        invalid(
          `${path}.searches[${i}]`,
          t,
          regexError(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character",
            '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*',
            'example.com',
          ),
        ),
      );
  });
  objs(d.options).forEach((o, i) => {
    if (!str(o.name)) errs.push(required(`${path}.options[${i}]`, 'must not be empty'));
  });
  return errs;
}

function validateTopologySpread(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const cs = objs(list);
  cs.forEach((c, i) => {
    const p = `${path}[${i}]`;
    const skew = num(c.maxSkew) ?? 0;
    if (skew <= 0) errs.push(invalid(`${p}.maxSkew`, skew, NOT_POSITIVE));
    if (!str(c.topologyKey)) errs.push(required(`${p}.topologyKey`, 'can not be empty'));
    if (!['DoNotSchedule', 'ScheduleAnyway'].includes(str(c.whenUnsatisfiable)))
      errs.push(notSupported(`${p}.whenUnsatisfiable`, str(c.whenUnsatisfiable), ['DoNotSchedule', 'ScheduleAnyway']));
    for (const rest of cs.slice(i + 1))
      if (str(rest.topologyKey) === str(c.topologyKey) && str(rest.whenUnsatisfiable) === str(c.whenUnsatisfiable)) {
        errs.push(duplicate(`${p}.{topologyKey, whenUnsatisfiable}`, `{${str(c.topologyKey)}, ${str(c.whenUnsatisfiable)}}`));
        break;
      }
    if (c.minDomains !== undefined && c.minDomains !== null) {
      const md = num(c.minDomains) ?? 0;
      if (md <= 0) errs.push(invalid(`${p}.minDomains`, md, NOT_POSITIVE));
      if (str(c.whenUnsatisfiable) !== 'DoNotSchedule')
        errs.push(invalid(`${p}.minDomains`, md, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${str(c.whenUnsatisfiable)}`));
    }
    for (const pol of ['nodeAffinityPolicy', 'nodeTaintsPolicy'] as const)
      if (c[pol] !== undefined && c[pol] !== null && !['Honor', 'Ignore'].includes(str(c[pol]))) errs.push(notSupported(`${p}.${pol}`, c[pol], ['Honor', 'Ignore']));
    errs.push(...validateLabelSelector(c.labelSelector, `${p}.labelSelector`));
  });
  return errs;
}

/** ValidatePodSpecificAnnotations (mirror pod, deletion cost). */
export function validatePodSpecificAnnotations(annotations: unknown, spec: Obj, path: string, allowInvalidDeletionCost = false): FieldError[] {
  const a = obj(annotations) ?? {};
  const errs: FieldError[] = [];
  const mirror = a['kubernetes.io/config.mirror'];
  if (mirror !== undefined && !str(spec.nodeName)) errs.push(invalid(`${path}[kubernetes.io/config.mirror]`, mirror, 'must set spec.nodeName if mirror pod annotation is set'));
  const cost = a['controller.kubernetes.io/pod-deletion-cost'];
  if (cost !== undefined && !allowInvalidDeletionCost) {
    const ok = typeof cost === 'string' && /^[+-]?[0-9]+$/.test(cost) && Number(cost) >= -(2 ** 31) && Number(cost) <= 2 ** 31 - 1;
    if (!ok) errs.push(invalid(`${path}[controller.kubernetes.io/pod-deletion-cost]`, cost, 'must be a 32bit integer'));
  }
  return errs;
}

/**
 * ValidatePodSpec: `path` is the spec's path ("spec" for a Pod, "spec.template.spec" for a workload).
 * Expects a defaulted spec (terminationGracePeriodSeconds, policies and pull policies set).
 */
export function validatePodSpec(spec: unknown, path: string, opts: PodSpecValidationOptions = {}): FieldError[] {
  const s = obj(spec);
  if (!s) return [required(`${path}.containers`)];
  const errs: FieldError[] = [];
  if (s.terminationGracePeriodSeconds === undefined || s.terminationGracePeriodSeconds === null) errs.push(required(`${path}.terminationGracePeriodSeconds`));
  const gracePeriod = num(s.terminationGracePeriodSeconds);
  const sc = obj(s.securityContext);
  const hostUsers = sc?.hostUsers !== false;
  const restartPolicy = str(s.restartPolicy);

  const { vols, errs: verrs } = validateVolumes(s.volumes, `${path}.volumes`, opts);
  errs.push(...verrs);
  const claimNames = new Set<string>();
  objs(s.resourceClaims).forEach((c, i) => {
    const p = `${path}.resourceClaims[${i}]`;
    const name = str(c.name);
    if (!name) errs.push(required(`${p}.name`));
    else if (claimNames.has(name)) errs.push(duplicate(`${p}.name`, name));
    else {
      errs.push(...label1123(name, `${p}.name`));
      claimNames.add(name);
    }
  });
  errs.push(...validateContainers(s.containers, vols, gracePeriod, `${path}.containers`, restartPolicy, hostUsers));
  errs.push(...validateInitContainers(s.initContainers, s.containers, vols, gracePeriod, `${path}.initContainers`, restartPolicy, hostUsers));
  errs.push(...validateEphemeralContainers(s, vols, `${path}.ephemeralContainers`, hostUsers));

  if (s.hostNetwork === true)
    objs(s.containers).forEach((c, i) =>
      objs(c.ports).forEach((port, j) => {
        const hp = num(port.hostPort) ?? 0;
        const cp = num(port.containerPort) ?? 0;
        if ((opts.resourceIsPod || hp !== 0) && hp !== cp)
          errs.push(invalid(`${path}.containers[${i}].ports[${j}].hostPort`, hp, 'must match `containerPort` when `hostNetwork` is true'));
      }),
    );

  const rp = restartPolicy;
  if (!rp) errs.push(required(`${path}.restartPolicy`));
  else if (!['Always', 'OnFailure', 'Never'].includes(rp)) errs.push(notSupported(`${path}.restartPolicy`, rp, ['Always', 'OnFailure', 'Never']));
  const dp = str(s.dnsPolicy);
  if (!dp) errs.push(required(`${path}.dnsPolicy`));
  else if (!['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(dp))
    errs.push(notSupported(`${path}.dnsPolicy`, dp, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  errs.push(...validatePodSecurityContext(s.securityContext, `${path}.securityContext`));
  if (sc && s.shareProcessNamespace === true && s.hostPID === true)
    errs.push(invalid(`${path}.securityContext.shareProcessNamespace`, true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  objs(s.imagePullSecrets).forEach((ps, i) => {
    if (Object.keys(ps).some((k) => k !== 'name')) errs.push(invalid(`${path}.imagePullSecrets[${i}]`, ps, 'only name may be set'));
  });
  errs.push(...validateAffinity(s.affinity, `${path}.affinity`));
  errs.push(...validateDNSConfig(s.dnsConfig, dp, `${path}.dnsConfig`));
  objs(s.readinessGates).forEach((g, i) => errs.push(...qualifiedName(str(g.conditionType), `${path}.readinessGates[${i}].conditionType`)));
  const gates = new Set<string>();
  objs(s.schedulingGates).forEach((g, i) => {
    const name = str(g.name);
    errs.push(...qualifiedName(name, `${path}.schedulingGates[${i}]`));
    if (gates.has(name)) errs.push(duplicate(`${path}.schedulingGates[${i}]`, name));
    gates.add(name);
  });
  errs.push(...validateTopologySpread(s.topologySpreadConstraints, `${path}.topologySpreadConstraints`));
  if (!hostUsers) {
    if (s.hostNetwork === true) errs.push(forbidden(`${path}.hostNetwork`, 'when `pod.Spec.HostUsers` is false'));
    if (s.hostPID === true) errs.push(forbidden(`${path}.HostPID`, 'when `pod.Spec.HostUsers` is false'));
    if (s.hostIPC === true) errs.push(forbidden(`${path}.HostIPC`, 'when `pod.Spec.HostUsers` is false'));
  }
  const san = str(s.serviceAccountName);
  if (san) errs.push(...subdomain1123(san, `${path}.serviceAccountName`));
  const nodeName = str(s.nodeName);
  if (nodeName) errs.push(...subdomain1123(nodeName, `${path}.nodeName`));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null) {
    const v = s.activeDeadlineSeconds;
    if (typeof v !== 'number' || v < 1 || v > 2 ** 31 - 1) errs.push(invalid(`${path}.activeDeadlineSeconds`, v, inclusiveRange(1, 2 ** 31 - 1)));
  }
  if (str(s.hostname)) errs.push(...label1123(str(s.hostname), `${path}.hostname`));
  if (str(s.subdomain)) errs.push(...label1123(str(s.subdomain), `${path}.subdomain`));
  errs.push(...validateTolerations(s.tolerations, `${path}.tolerations`));
  objs(s.hostAliases).forEach((h, i) => {
    errs.push(...validateIP(`${path}.hostAliases[${i}].ip`, str(h.ip)));
    arr(h.hostnames).forEach((hn, j) => errs.push(...subdomain1123(str(hn), `${path}.hostAliases[${i}].hostnames[${j}]`)));
  });
  if (str(s.priorityClassName)) errs.push(...subdomain1123(str(s.priorityClassName), `${path}.priorityClassName`));
  if (s.runtimeClassName !== undefined && s.runtimeClassName !== null) errs.push(...subdomain1123(str(s.runtimeClassName), `${path}.runtimeClassName`));
  if (s.preemptionPolicy !== undefined && s.preemptionPolicy !== null) {
    const pp = str(s.preemptionPolicy);
    if (!pp) errs.push(required(`${path}.preemptionPolicy`));
    else if (pp !== 'PreemptLowerPriority' && pp !== 'Never') errs.push(notSupported(`${path}.preemptionPolicy`, pp, ['PreemptLowerPriority', 'Never']));
  }
  if (s.overhead !== undefined && s.overhead !== null) errs.push(...validateResourceRequirements({ limits: s.overhead }, `${path}.overhead`));
  const os = obj(s.os);
  if (os) {
    const name = str(os.name);
    if (!name) errs.push(required(`${path}.os.name`, 'cannot be empty'));
    else if (name !== 'linux' && name !== 'windows') errs.push(notSupported(`${path}.os`, name, ['linux', 'windows']));
  }
  return errs;
}

/**
 * ValidatePodTemplateSpec: `path` is the template's path (e.g. "spec.template"). Labels and annotations are
 * reported at `<path>.labels` / `<path>.annotations` as upstream does (ObjectMeta is embedded there).
 */
export function validatePodTemplateSpec(tpl: unknown, path: string, opts: PodSpecValidationOptions = {}): FieldError[] {
  const t = obj(tpl);
  if (!t) return [required(path)];
  const meta = obj(t.metadata) ?? {};
  const spec = obj(t.spec) ?? {};
  const errs: FieldError[] = [];
  errs.push(...validateLabels(meta.labels, `${path}.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  errs.push(...validatePodSpecificAnnotations(meta.annotations, spec, `${path}.annotations`));
  errs.push(...validatePodSpec(spec, `${path}.spec`, { ...opts, resourceIsPod: false }));
  if (arr(spec.ephemeralContainers).length > 0) errs.push(forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  return errs;
}

/** Pod-only container checks (validateContainersOnlyForPod): images without surrounding whitespace. */
export function validateContainersOnlyForPod(containers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(containers).forEach((c, i) => {
    const image = str(c.image);
    if (image.length !== image.trim().length) errs.push(invalid(`${path}[${i}].image`, image, 'must not have leading or trailing whitespace'));
  });
  return errs;
}

/** Quantity helpers re-exported for kinds that only need formatting. */
export function canonicalResourceQuantity(v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return formatQuantity(roundUp(parseQuantity(v), -3));
  } catch {
    return undefined;
  }
}

