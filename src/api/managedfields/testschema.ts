// Test fixtures: small hand-made schema nodes mirroring upstream's list and map types for the fields the
// managed-fields tests touch (the real ones come from api/schema/registry.ts). Not used outside tests.

import type { SchemaNode } from '../schema/types.js';

const str: SchemaNode = { type: 'string' };
const int: SchemaNode = { type: 'integer' };
const bool: SchemaNode = { type: 'boolean' };
const strMap: SchemaNode = { type: 'object', additionalProperties: str };
const atomicStrings: SchemaNode = { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' };

const ownerReference: SchemaNode = {
  type: 'object',
  'x-kubernetes-map-type': 'atomic',
  properties: { apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool },
};

export const objectMeta: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    generateName: str,
    namespace: str,
    uid: str,
    resourceVersion: str,
    generation: int,
    creationTimestamp: str,
    labels: strMap,
    annotations: strMap,
    finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
    ownerReferences: { type: 'array', items: ownerReference, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'] },
    managedFields: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
  },
};

const containerPort: SchemaNode = {
  type: 'object',
  'x-k8ts-ref': 'io.k8s.api.core.v1.ContainerPort',
  properties: { name: str, containerPort: int, protocol: { type: 'string', default: 'TCP' }, hostPort: int },
};

const envVar: SchemaNode = { type: 'object', properties: { name: str, value: str } };

export const container: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    image: str,
    imagePullPolicy: str,
    args: atomicStrings,
    command: atomicStrings,
    ports: { type: 'array', items: containerPort, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'] },
    env: { type: 'array', items: envVar, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    resources: { type: 'object', properties: { limits: strMap, requests: strMap } },
  },
};

const toleration: SchemaNode = { type: 'object', properties: { key: str, operator: str, value: str, effect: str } };

export const podSpec: SchemaNode = {
  type: 'object',
  properties: {
    containers: { type: 'array', items: container, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    tolerations: { type: 'array', items: toleration, 'x-kubernetes-list-type': 'atomic' },
    nodeSelector: { type: 'object', additionalProperties: str, 'x-kubernetes-map-type': 'atomic' },
    restartPolicy: str,
    dnsPolicy: str,
  },
};

const podTemplate: SchemaNode = { type: 'object', properties: { metadata: objectMeta, spec: podSpec } };

const labelSelector: SchemaNode = {
  type: 'object',
  'x-kubernetes-map-type': 'atomic',
  properties: {
    matchLabels: strMap,
    matchExpressions: { type: 'array', items: { type: 'object', properties: { key: str, operator: str, values: atomicStrings } }, 'x-kubernetes-list-type': 'atomic' },
  },
};

const top = (spec: SchemaNode): SchemaNode => ({
  type: 'object',
  properties: { apiVersion: str, kind: str, metadata: objectMeta, spec, status: { type: 'object', properties: { replicas: int, phase: str } } },
});

export const podSchema: SchemaNode = top(podSpec);

export const deploymentSchema: SchemaNode = top({
  type: 'object',
  properties: {
    replicas: int,
    selector: labelSelector,
    template: podTemplate,
    strategy: { type: 'object', properties: { type: str, rollingUpdate: { type: 'object', properties: { maxSurge: { 'x-kubernetes-int-or-string': true }, maxUnavailable: { 'x-kubernetes-int-or-string': true } } } } },
    paused: bool,
  },
});

export const serviceSchema: SchemaNode = top({
  type: 'object',
  properties: {
    type: str,
    selector: { type: 'object', additionalProperties: str, 'x-kubernetes-map-type': 'atomic' },
    ports: {
      type: 'array',
      items: { type: 'object', 'x-k8ts-ref': 'io.k8s.api.core.v1.ServicePort', properties: { name: str, port: int, protocol: str, targetPort: { 'x-kubernetes-int-or-string': true } } },
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['port', 'protocol'],
    },
  },
});
