// The API resources the components address, one constant each (group, version, plural, scope), shared so that
// every controller, the scheduler, the simulated nodes and DNS name them once.

import type { Resource } from './interface.js';

export const CONFIGMAPS: Resource = { group: '', version: 'v1', resource: 'configmaps', namespaced: true };
export const CONTROLLERREVISIONS: Resource = { group: 'apps', version: 'v1', resource: 'controllerrevisions', namespaced: true };
export const CRONJOBS: Resource = { group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true };
export const DAEMONSETS: Resource = { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true };
export const DEPLOYMENTS: Resource = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true };
export const ENDPOINTS: Resource = { group: '', version: 'v1', resource: 'endpoints', namespaced: true };
export const ENDPOINTSLICES: Resource = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true };
export const EVENTS: Resource = { group: '', version: 'v1', resource: 'events', namespaced: true };
export const INGRESSCLASSES: Resource = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', namespaced: false };
export const INGRESSES: Resource = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', namespaced: true };
export const JOBS: Resource = { group: 'batch', version: 'v1', resource: 'jobs', namespaced: true };
export const LEASES: Resource = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true };
export const NAMESPACES: Resource = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };
export const NODES: Resource = { group: '', version: 'v1', resource: 'nodes', namespaced: false };
export const PERSISTENTVOLUMES: Resource = { group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false };
export const PODS: Resource = { group: '', version: 'v1', resource: 'pods', namespaced: true };
export const PRIORITY_CLASSES: Resource = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', namespaced: false };
export const PVCS: Resource = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true };
export const REPLICASETS: Resource = { group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true };
export const REPLICATIONCONTROLLERS: Resource = { group: '', version: 'v1', resource: 'replicationcontrollers', namespaced: true };
export const RESOURCEQUOTAS: Resource = { group: '', version: 'v1', resource: 'resourcequotas', namespaced: true };
export const SECRETS: Resource = { group: '', version: 'v1', resource: 'secrets', namespaced: true };
export const SERVICEACCOUNTS: Resource = { group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true };
export const SERVICES: Resource = { group: '', version: 'v1', resource: 'services', namespaced: true };
export const STATEFULSETS: Resource = { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true };
export const STORAGECLASSES: Resource = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', namespaced: false };
