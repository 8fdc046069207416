// core/v1 Pod strategy (pkg/registry/core/pod/strategy.go): Pod-only defaults, the admission defaults the server
// applies on create (ServiceAccount, Priority), status on create, update rules, the
// `kubectl get pods` Table (printers.go printPod) and field selectors.

import type { FieldError } from '../../errors.js';
import type { KubeObject } from '../../types.js';
import { age, ageColumn, ageOf, col, nameColumn } from '../table.js';
import type { KindDef } from '../types.js';
import {
  FIELD_IMMUTABLE,
  arr,
  clone,
  deepEqual,
  duplicate,
  ensureObj,
  forbidden,
  inclusiveRange,
  invalid,
  num,
  obj,
  objs,
  qualifiedName,
  required,
  semanticEqual,
  str,
  subdomain1123,
  validateIP,
  type Obj,
} from './common.js';
import { specDiff } from './persistentvolumeclaim.js';
import { defaultPodSpec, podQOSClass, validateContainersOnlyForPod, validatePodSpec, validatePodSpecificAnnotations, validateTolerations } from './podspec.js';

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** SetDefaults_Pod: the defaults that materialize only on Pods (not on pod templates). */
export function defaultPodOnly(pod: KubeObject): void {
  const spec = obj(pod.spec);
  if (!spec) return;
  for (const c of [...objs(spec.containers), ...objs(spec.initContainers)]) {
    const res = obj(c.resources);
    const limits = obj(res?.limits);
    if (!res || !limits) continue;
    const requests = ensureObj(res, 'requests');
    for (const [k, v] of Object.entries(limits)) if (!(k in requests)) requests[k] = v;
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true)
    for (const c of [...objs(spec.containers), ...objs(spec.initContainers)])
      for (const p of objs(c.ports)) if (!p.hostPort) p.hostPort = p.containerPort;
}

/**
 * What upstream's ServiceAccount admission adds to a new Pod: spec.serviceAccountName "default". Runs on create
 * only. Token volume projection, Priority (apiserver/admission/priority.ts: spec.priority and preemptionPolicy
 * from the PriorityClass) and DefaultTolerationSeconds are left to the admission chain.
 */
export function admissionDefaults(pod: KubeObject): void {
  const spec = obj(pod.spec);
  if (!spec) return;
  const mirror = pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined;
  if (!mirror && !str(spec.serviceAccountName)) {
    spec.serviceAccountName = 'default';
    spec.serviceAccount = 'default';
  }
}

// Objects currently inside a create request (prepareForCreate → validate of the same call), for create-only checks.
const creating = new WeakSet<object>();

const UPDATABLE_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function validatePod(o: KubeObject): FieldError[] {
  const spec = obj(o.spec) ?? {};
  const errs: FieldError[] = [];
  errs.push(...validatePodSpecificAnnotations(o.metadata.annotations, spec, 'metadata.annotations'));
  errs.push(...validatePodSpec(spec, 'spec', { resourceIsPod: true, podName: o.metadata.name }));
  if (!str(spec.serviceAccountName))
    objs(spec.volumes).forEach((v, vi) =>
      objs(obj(v.projected)?.sources).forEach((src, si) => {
        if (obj(src.serviceAccountToken))
          errs.push(forbidden(`spec.volumes[${vi}].projected.sources[${si}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'));
      }),
    );
  errs.push(...validateContainersOnlyForPod(spec.containers, 'spec.containers'));
  errs.push(...validateContainersOnlyForPod(spec.initContainers, 'spec.initContainers'));
  if (creating.has(o)) {
    if (arr(spec.ephemeralContainers).length > 0) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
    if (str(spec.nodeName) && arr(spec.schedulingGates).length > 0) errs.push(forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

function validateContainerUpdates(next: unknown, prev: unknown, path: string): { errs: FieldError[]; stop: boolean } {
  const a = objs(next);
  const b = objs(prev);
  if (a.length !== b.length) return { errs: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  a.forEach((c, i) => {
    const image = str(c.image);
    if (!image) errs.push(required(`${path}[${i}].image`));
    if (image.trim().length !== image.length) errs.push(invalid(`${path}[${i}].image`, image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

function validatePodUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const newAnn = o.metadata.annotations ?? {};
  const oldAnn = old.metadata.annotations ?? {};
  for (const [k, v] of Object.entries(oldAnn)) {
    if (newAnn[k] === v) continue;
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/')) errs.push(forbidden(`metadata.annotations[${k}]`, 'may not remove or update AppArmor annotations'));
    if (k === MIRROR_ANNOTATION) errs.push(forbidden(`metadata.annotations[${k}]`, 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(newAnn)) {
    if (k in oldAnn) continue;
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/')) errs.push(forbidden(`metadata.annotations[${k}]`, 'may not add AppArmor annotations'));
    if (k === MIRROR_ANNOTATION) errs.push(forbidden(`metadata.annotations[${k}]`, 'may not add mirror pod annotation'));
  }
  const spec = obj(o.spec) ?? {};
  const oldSpec = obj(old.spec) ?? {};
  for (const key of ['containers', 'initContainers']) {
    const r = validateContainerUpdates(spec[key], oldSpec[key], `spec.${key}`);
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = spec.activeDeadlineSeconds;
  const oldAds = oldSpec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (typeof ads !== 'number' || ads < 0 || ads > 2 ** 31 - 1) return [...errs, invalid('spec.activeDeadlineSeconds', ads, inclusiveRange(0, 2 ** 31 - 1))];
    if (typeof oldAds === 'number' && oldAds < ads) return [...errs, invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value')];
  } else if (oldAds !== undefined && oldAds !== null) {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  // Tolerations: existing ones may only change tolerationSeconds; new ones may be added.
  const newTols = objs(spec.tolerations);
  for (const t of objs(oldSpec.tolerations)) {
    const found = newTols.some((n) => semanticEqual({ ...t, tolerationSeconds: n.tolerationSeconds }, n));
    if (!found) {
      errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  if (!errs.some((e) => e.field === 'spec.tolerations')) errs.push(...validateTolerations(spec.tolerations, 'spec.tolerations'));
  // Scheduling gates: only deletions.
  const oldGates = new Set(objs(oldSpec.schedulingGates).map((g) => str(g.name)));
  objs(spec.schedulingGates).forEach((g, i) => {
    const name = str(g.name);
    if (!oldGates.has(name)) errs.push(forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${name}'`));
  });
  if (semanticEqual(spec, oldSpec)) return errs;
  const munged: Obj = clone(spec);
  for (const key of ['containers', 'initContainers']) {
    const oldList = objs(oldSpec[key]);
    munged[key] = objs(munged[key]).map((c, i) => ({ ...c, image: oldList[i]?.image }));
    if (spec[key] === undefined) delete munged[key];
  }
  if (oldAds === undefined) delete munged.activeDeadlineSeconds;
  else munged.activeDeadlineSeconds = oldAds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  const oldTgps = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldTgps === 'number' && oldTgps < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldTgps;
  if (objs(oldSpec.schedulingGates).length > 0) {
    // Gated pods: additions to nodeSelector and to required node affinity terms are allowed.
    const oldNS = obj(oldSpec.nodeSelector) ?? {};
    const newNS = obj(munged.nodeSelector) ?? {};
    if (!deepEqual(oldNS, newNS)) {
      if (Object.entries(oldNS).some(([k, v]) => newNS[k] !== v))
        errs.push(invalid('spec.nodeSelector', newNS, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
      munged.nodeSelector = oldSpec.nodeSelector;
    }
    const oldNA = obj(obj(oldSpec.affinity)?.nodeAffinity);
    const newNA = obj(obj(munged.affinity)?.nodeAffinity);
    if (!deepEqual(oldNA, newNA)) {
      const aff = obj(munged.affinity);
      if (aff) {
        if (oldNA === undefined) delete aff.nodeAffinity;
        else aff.nodeAffinity = oldNA;
        if (!oldSpec.affinity && Object.keys(aff).length === 0) delete munged.affinity;
      } else if (oldNA) munged.affinity = { nodeAffinity: oldNA };
    }
  }
  if (!semanticEqual(munged, oldSpec))
    errs.push(forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_FIELDS.join(',')}\n  core.PodSpec{\n${specDiff(oldSpec, munged)}\n  }\n`));
  return errs;
}

function validateContainerStateTransition(next: unknown, prev: unknown, path: string, restartPolicy: string, spec?: Obj): FieldError[] {
  if (restartPolicy === 'Always') return [];
  const errs: FieldError[] = [];
  const restartable = new Set(objs(spec?.initContainers).filter((c) => c.restartPolicy === 'Always').map((c) => str(c.name)));
  objs(prev).forEach((old, i) => {
    const term = obj(obj(old.state)?.terminated);
    if (!term) return;
    if ((num(term.exitCode) ?? 0) !== 0 && restartPolicy === 'OnFailure') return;
    if (spec && restartable.has(str(old.name))) return;
    for (const n of objs(next))
      if (str(n.name) === str(old.name) && !obj(obj(n.state)?.terminated)) errs.push(forbidden(`${path}[${i}].state`, 'may not be transitioned to non-terminated state'));
  });
  return errs;
}

function validatePodStatusUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const status = obj(o.status) ?? {};
  const oldStatus = obj(old.status) ?? {};
  const system = new Set(['PodScheduled', 'Ready', 'Initialized']);
  objs(status.conditions).forEach((c, i) => {
    if (!system.has(str(c.type))) errs.push(...qualifiedName(str(c.type), `metadata.conditions[${i}].Type`));
  });
  if (str(obj(o.spec)?.nodeName) !== str(obj(old.spec)?.nodeName)) errs.push(forbidden('status.nodeName', 'may not be changed directly'));
  const nnn = str(status.nominatedNodeName);
  if (nnn && nnn !== str(oldStatus.nominatedNodeName)) errs.push(...subdomain1123(nnn, 'status.nominatedNodeName'));
  if (str(status.qosClass) !== str(oldStatus.qosClass)) errs.push(invalid('status.qosClass', str(status.qosClass), FIELD_IMMUTABLE));
  const oldSpec = obj(old.spec) ?? {};
  const rp = str(oldSpec.restartPolicy);
  errs.push(...validateContainerStateTransition(status.containerStatuses, oldStatus.containerStatuses, 'status.containerStatuses', rp));
  errs.push(...validateContainerStateTransition(status.initContainerStatuses, oldStatus.initContainerStatuses, 'status.initContainerStatuses', rp, oldSpec));
  errs.push(...validateContainerStateTransition(status.ephemeralContainerStatuses, oldStatus.ephemeralContainerStatuses, 'status.ephemeralContainerStatuses', 'Never'));
  for (const key of ['podIPs', 'hostIPs'] as const) {
    const ips = objs(status[key]);
    ips.forEach((ip, i) => errs.push(...validateIP(`status.${key}[${i}]`, str(ip.ip))));
    if (key === 'hostIPs' && ips.length > 0 && str(status.hostIP) !== str(ips[0].ip)) errs.push(invalid('status.hostIPs[0].ip', str(ips[0].ip), 'must be equal to `hostIP`'));
    if (ips.length > 1) {
      const v6 = ips.map((ip) => str(ip.ip).includes(':'));
      if (ips.length > 2 || v6[0] === v6[1]) errs.push(invalid(`status.${key}`, ips, 'may specify no more than one IP for each IP family'));
      const seen = new Set<string>();
      ips.forEach((ip, i) => {
        if (seen.has(str(ip.ip))) errs.push(duplicate(`status.${key}[${i}]`, ip));
        seen.add(str(ip.ip));
      });
    }
  }
  return errs;
}

// ---- Table ------------------------------------------------------------------------------------------------------

const ts = (v: unknown): number => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? 0 : t;
};

/** printPod: Name, Ready, Status, Restarts, Age, IP, Node, Nominated Node, Readiness Gates. */
export function podCells(pod: KubeObject, now: number): unknown[] {
  const spec = obj(pod.spec) ?? {};
  const status = obj(pod.status) ?? {};
  let restarts = 0;
  let restartableRestarts = 0;
  let totalContainers = objs(spec.containers).length;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableRestart = 0;
  const phase = str(status.phase);
  let reason = str(status.reason) || phase;
  const conditions = objs(status.conditions);
  for (const c of conditions) if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  const restartableInit = new Set<string>();
  for (const c of objs(spec.initContainers))
    if (c.restartPolicy === 'Always') {
      restartableInit.add(str(c.name));
      totalContainers++;
    }
  const initCount = objs(spec.initContainers).length;
  let initializing = false;
  const initStatuses = objs(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    const state = obj(cs.state) ?? {};
    const lastTerm = obj(obj(cs.lastState)?.terminated);
    restarts += num(cs.restartCount) ?? 0;
    if (lastTerm && ts(lastTerm.finishedAt) > lastRestart) lastRestart = ts(lastTerm.finishedAt);
    const isRestartable = restartableInit.has(str(cs.name));
    if (isRestartable) {
      restartableRestarts += num(cs.restartCount) ?? 0;
      if (lastTerm && ts(lastTerm.finishedAt) > lastRestartableRestart) lastRestartableRestart = ts(lastTerm.finishedAt);
    }
    const term = obj(state.terminated);
    const waiting = obj(state.waiting);
    if (term && (num(term.exitCode) ?? 0) === 0) continue;
    if (isRestartable && cs.started === true) {
      if (cs.ready === true) readyContainers++;
      continue;
    }
    if (term) {
      if (!str(term.reason)) reason = num(term.signal) ? `Init:Signal:${num(term.signal)}` : `Init:ExitCode:${num(term.exitCode) ?? 0}`;
      else reason = `Init:${str(term.reason)}`;
    } else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }
  const initializedTrue = conditions.find((c) => c.type === 'Initialized')?.status === 'True';
  if (!initializing || initializedTrue) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const statuses = objs(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      const state = obj(cs.state) ?? {};
      restarts += num(cs.restartCount) ?? 0;
      const lastTerm = obj(obj(cs.lastState)?.terminated);
      if (lastTerm && ts(lastTerm.finishedAt) > lastRestart) lastRestart = ts(lastTerm.finishedAt);
      const waiting = obj(state.waiting);
      const term = obj(state.terminated);
      if (waiting && str(waiting.reason)) reason = str(waiting.reason);
      else if (term && str(term.reason)) reason = str(term.reason);
      else if (term) reason = num(term.signal) ? `Signal:${num(term.signal)}` : `ExitCode:${num(term.exitCode) ?? 0}`;
      else if (cs.ready === true && obj(state.running)) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Failed' && phase !== 'Succeeded') reason = 'Terminating';

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart !== 0) restartsStr = `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)`;

  const podIPs = objs(status.podIPs);
  const podIP = (podIPs.length > 0 ? str(podIPs[0].ip) : '') || '<none>';
  let gates = '<none>';
  const rg = objs(spec.readinessGates);
  if (rg.length > 0) {
    let ok = 0;
    for (const g of rg) {
      const c = conditions.find((x) => x.type === g.conditionType);
      if (c && c.status === 'True') ok++;
    }
    gates = `${ok}/${rg.length}`;
  }
  return [
    pod.metadata.name,
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsStr,
    ageOf(pod, now),
    podIP,
    str(spec.nodeName) || '<none>',
    str(status.nominatedNodeName) || '<none>',
    gates,
  ];
}

export const pods: KindDef = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  status: true,
  statusResetsMetadata: ['ownerReferences'],
  extraSubresources: [
    { name: 'attach', group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'binding', group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
    { name: 'ephemeralcontainers', group: '', version: 'v1', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
    { name: 'exec', group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'log', group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
    { name: 'portforward', group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'proxy', group: '', version: 'v1', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ],
  defaults(o) {
    const spec = ensureObj(o, 'spec');
    defaultPodSpec(spec);
    defaultPodOnly(o);
  },
  prepareForCreate(o) {
    creating.add(o);
    admissionDefaults(o);
    const spec = obj(o.spec) ?? {};
    const status: Obj = { phase: 'Pending', qosClass: podQOSClass(spec) };
    if (arr(spec.schedulingGates).length > 0)
      status.conditions = [
        { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: null, reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' },
      ];
    o.status = status;
  },
  validate: validatePod,
  validateUpdate: validatePodUpdate,
  validateStatusUpdate: validatePodStatusUpdate,
  table: {
    columns: [
      nameColumn(),
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      ageColumn(),
      col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
      col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
      col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    cells: podCells,
  },
  fieldLabels(o) {
    const spec = obj(o.spec) ?? {};
    const status = obj(o.status) ?? {};
    const ips = objs(status.podIPs);
    return {
      'spec.nodeName': str(spec.nodeName),
      'spec.restartPolicy': str(spec.restartPolicy),
      'spec.schedulerName': str(spec.schedulerName),
      'spec.serviceAccountName': str(spec.serviceAccountName),
      'spec.hostNetwork': String(spec.hostNetwork === true),
      'status.phase': str(status.phase),
      'status.podIP': ips.length > 0 ? str(ips[0].ip) : '',
      'status.nominatedNodeName': str(status.nominatedNodeName),
    };
  },
  gracePeriodSeconds(o, requested) {
    // CheckGracefulDeleteByPod: unscheduled or terminated pods go at once, whatever was requested; negative
    // periods become 1.
    const spec = obj(o.spec) ?? {};
    const phase = str(obj(o.status)?.phase);
    if (!str(spec.nodeName) || phase === 'Failed' || phase === 'Succeeded') return 0;
    const g = requested ?? num(spec.terminationGracePeriodSeconds) ?? 30;
    return g < 0 ? 1 : g;
  },
};

