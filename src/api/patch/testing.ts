// Test fixtures: small hand-made schemas for Pod, Deployment, Service and Node whose patch strategies and merge keys
// mirror the k8s.io/api v0.32 struct tags (patchStrategy / patchMergeKey), so patch tests do not need the registry.

import type { SchemaNode } from '../schema/types.js';

const str: SchemaNode = { type: 'string' };
const int: SchemaNode = { type: 'integer' };
const bool: SchemaNode = { type: 'boolean' };
const strMap: SchemaNode = { type: 'object', additionalProperties: str };
const obj = (properties: Record<string, SchemaNode>, ref?: string): SchemaNode => ({ type: 'object', properties, ...(ref ? { 'x-k8ts-ref': ref } : {}) });
const atomic = (items: SchemaNode): SchemaNode => ({ type: 'array', items });
const mergeList = (items: SchemaNode, key?: string, extra = ''): SchemaNode => ({
  type: 'array',
  items,
  'x-kubernetes-patch-strategy': `merge${extra}`,
  ...(key ? { 'x-kubernetes-patch-merge-key': key } : {}),
});

export const ownerReference = obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool });

export const objectMeta = obj(
  {
    name: str,
    namespace: str,
    uid: str,
    resourceVersion: str,
    generation: int,
    creationTimestamp: str,
    labels: strMap,
    annotations: strMap,
    finalizers: mergeList(str),
    ownerReferences: mergeList(ownerReference, 'uid'),
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
);

const envVar = obj({ name: str, value: str, valueFrom: obj({ fieldRef: obj({ fieldPath: str }) }) });
const containerPort = obj({ name: str, containerPort: int, hostPort: int, protocol: str });
const volumeMount = obj({ name: str, mountPath: str, readOnly: bool, subPath: str });
const resources = obj({ limits: strMap, requests: strMap });

export const container = obj(
  {
    name: str,
    image: str,
    command: atomic(str),
    args: atomic(str),
    workingDir: str,
    ports: mergeList(containerPort, 'containerPort'),
    env: mergeList(envVar, 'name'),
    resources,
    volumeMounts: mergeList(volumeMount, 'mountPath'),
    imagePullPolicy: str,
    terminationMessagePath: str,
  },
  'io.k8s.api.core.v1.Container',
);

const volume = obj(
  {
    name: str,
    emptyDir: obj({ medium: str, sizeLimit: str }),
    configMap: obj({ name: str, defaultMode: int, items: atomic(obj({ key: str, path: str })) }),
    secret: obj({ secretName: str }),
    hostPath: obj({ path: str, type: str }),
    persistentVolumeClaim: obj({ claimName: str, readOnly: bool }),
  },
  'io.k8s.api.core.v1.Volume',
);

const toleration = obj({ key: str, operator: str, value: str, effect: str, tolerationSeconds: int });

export const podSpec = obj(
  {
    containers: mergeList(container, 'name'),
    initContainers: mergeList(container, 'name'),
    volumes: mergeList(volume, 'name', ',retainKeys'),
    tolerations: atomic(toleration),
    imagePullSecrets: mergeList(obj({ name: str }), 'name'),
    nodeSelector: strMap,
    nodeName: str,
    restartPolicy: str,
    serviceAccountName: str,
    terminationGracePeriodSeconds: int,
  },
  'io.k8s.api.core.v1.PodSpec',
);

const podCondition = obj({ type: str, status: str, reason: str, message: str, lastTransitionTime: str });

export const podStatus = obj(
  {
    phase: str,
    conditions: mergeList(podCondition, 'type'),
    podIP: str,
    podIPs: mergeList(obj({ ip: str }), 'ip'),
    hostIP: str,
  },
  'io.k8s.api.core.v1.PodStatus',
);

export const pod: SchemaNode = obj({ apiVersion: str, kind: str, metadata: objectMeta, spec: podSpec, status: podStatus }, 'io.k8s.api.core.v1.Pod');

const podTemplateSpec = obj({ metadata: objectMeta, spec: podSpec });

const deploymentStrategy: SchemaNode = {
  ...obj({ type: str, rollingUpdate: obj({ maxSurge: { 'x-kubernetes-int-or-string': true }, maxUnavailable: { 'x-kubernetes-int-or-string': true } }) }),
  'x-kubernetes-patch-strategy': 'retainKeys',
};

export const deployment: SchemaNode = obj(
  {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    spec: obj({
      replicas: int,
      paused: bool,
      selector: obj({ matchLabels: strMap }),
      template: podTemplateSpec,
      strategy: deploymentStrategy,
      revisionHistoryLimit: int,
    }),
    status: obj({ replicas: int, conditions: mergeList(obj({ type: str, status: str, reason: str }), 'type') }),
  },
  'io.k8s.api.apps.v1.Deployment',
);

const servicePort = obj({ name: str, protocol: str, port: int, targetPort: { 'x-kubernetes-int-or-string': true }, nodePort: int });

export const service: SchemaNode = obj(
  {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    spec: obj({ ports: mergeList(servicePort, 'port'), selector: strMap, type: str, clusterIP: str }),
    status: obj({ conditions: mergeList(obj({ type: str, status: str }), 'type') }),
  },
  'io.k8s.api.core.v1.Service',
);

export const node: SchemaNode = obj(
  {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    spec: obj({ unschedulable: bool, podCIDRs: mergeList(str), taints: atomic(obj({ key: str, value: str, effect: str })) }),
  },
  'io.k8s.api.core.v1.Node',
);
