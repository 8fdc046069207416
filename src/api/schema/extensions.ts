// Our table of upstream struct-tag facts (k8s.io/api and apimachinery v0.32: `patchStrategy`/`patchMergeKey` tags,
// `+listType`, `+listMapKey`, `+mapType`, `+structType` markers) for the built-in types, and the code that merges
// them into the generated OpenAPI definitions as x-kubernetes-* extensions (run by scripts/gen-openapi.mjs).
//
// Table format: definition name → field → tag string; the field "." means the definition itself.
//   patch=merge | patch=retainKeys | patch=merge,retainKeys   → x-kubernetes-patch-strategy
//   key=<field>                                               → x-kubernetes-patch-merge-key
//   list=atomic|set|map  keys=<k1>,<k2>                       → x-kubernetes-list-type / -list-map-keys
//   map=atomic|granular                                       → x-kubernetes-map-type
//   preserve                                                  → x-kubernetes-preserve-unknown-fields: true
// A list without an entry is atomic for strategic merge patch (replaced as a whole).

export interface FieldTags {
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
  mapType?: 'atomic' | 'granular';
  preserveUnknownFields?: boolean;
}

/** Parse one tag string of the table (throws on anything it does not know, so typos fail the build). */
export function parseTags(tags: string): FieldTags {
  const out: FieldTags = {};
  for (const word of tags.trim().split(/\s+/)) {
    if (word === '') continue;
    if (word === 'preserve') {
      out.preserveUnknownFields = true;
      continue;
    }
    const eq = word.indexOf('=');
    const k = eq < 0 ? word : word.slice(0, eq);
    const v = eq < 0 ? '' : word.slice(eq + 1);
    switch (k) {
      case 'patch':
        if (!/^(merge|retainKeys|replace|merge,retainKeys)$/.test(v)) throw new Error(`bad patch strategy in "${tags}"`);
        out.patchStrategy = v;
        break;
      case 'key':
        if (v === '') throw new Error(`empty merge key in "${tags}"`);
        out.patchMergeKey = v;
        break;
      case 'list':
        if (v !== 'atomic' && v !== 'set' && v !== 'map') throw new Error(`bad list type in "${tags}"`);
        out.listType = v;
        break;
      case 'keys':
        out.listMapKeys = v.split(',').filter((x) => x !== '');
        if (out.listMapKeys.length === 0) throw new Error(`empty list map keys in "${tags}"`);
        break;
      case 'map':
        if (v !== 'atomic' && v !== 'granular') throw new Error(`bad map type in "${tags}"`);
        out.mapType = v;
        break;
      default:
        throw new Error(`unknown tag "${word}" in "${tags}"`);
    }
  }
  if (out.listType === 'map' && !out.listMapKeys) throw new Error(`list=map without keys in "${tags}"`);
  if (out.listMapKeys && out.listType !== 'map') throw new Error(`keys without list=map in "${tags}"`);
  if (out.patchMergeKey && !out.patchStrategy?.includes('merge')) throw new Error(`key without patch=merge in "${tags}"`);
  return out;
}

/** The x-kubernetes-* extension object for a tag string. */
export function extensionsOf(tags: FieldTags): Record<string, unknown> {
  const x: Record<string, unknown> = {};
  if (tags.patchStrategy) x['x-kubernetes-patch-strategy'] = tags.patchStrategy;
  if (tags.patchMergeKey) x['x-kubernetes-patch-merge-key'] = tags.patchMergeKey;
  if (tags.listType) x['x-kubernetes-list-type'] = tags.listType;
  if (tags.listMapKeys) x['x-kubernetes-list-map-keys'] = tags.listMapKeys;
  if (tags.mapType) x['x-kubernetes-map-type'] = tags.mapType;
  if (tags.preserveUnknownFields) x['x-kubernetes-preserve-unknown-fields'] = true;
  return x;
}

const core = 'io.k8s.api.core.v1.';
const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const apps = 'io.k8s.api.apps.v1.';
const batch = 'io.k8s.api.batch.v1.';
const hpa2 = 'io.k8s.api.autoscaling.v2.';
const net = 'io.k8s.api.networking.v1.';
const disc = 'io.k8s.api.discovery.v1.';
const rbac = 'io.k8s.api.rbac.v1.';
const storage = 'io.k8s.api.storage.v1.';
const policy = 'io.k8s.api.policy.v1.';

// Shorthands for the common tag combinations.
const MERGE = (key: string): string => `patch=merge key=${key} list=map keys=${key}`;
const ATOMIC = 'list=atomic';
const SET = 'list=set';
const ATOMIC_STRUCT = { '.': 'map=atomic' };

export const structTags: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // ---- meta/v1 ----
  [`${meta}ObjectMeta`]: { ownerReferences: MERGE('uid'), finalizers: `patch=merge ${SET}`, managedFields: ATOMIC },
  [`${meta}OwnerReference`]: ATOMIC_STRUCT,
  [`${meta}LabelSelector`]: { '.': 'map=atomic', matchExpressions: ATOMIC },
  [`${meta}LabelSelectorRequirement`]: { values: ATOMIC },
  [`${meta}StatusDetails`]: { causes: ATOMIC },
  [`${meta}DeleteOptions`]: { dryRun: ATOMIC },

  // ---- core/v1: volumes ----
  [`${core}PersistentVolumeSpec`]: { accessModes: ATOMIC, mountOptions: ATOMIC, claimRef: 'map=granular' },
  [`${core}PersistentVolumeClaimSpec`]: { accessModes: ATOMIC },
  [`${core}PersistentVolumeClaimStatus`]: { accessModes: ATOMIC, conditions: MERGE('type'), allocatedResourceStatuses: 'map=granular' },
  [`${core}RBDVolumeSource`]: { monitors: ATOMIC },
  [`${core}RBDPersistentVolumeSource`]: { monitors: ATOMIC },
  [`${core}CephFSVolumeSource`]: { monitors: ATOMIC },
  [`${core}CephFSPersistentVolumeSource`]: { monitors: ATOMIC },
  [`${core}SecretReference`]: ATOMIC_STRUCT,
  [`${core}SecretVolumeSource`]: { items: ATOMIC },
  [`${core}SecretProjection`]: { items: ATOMIC },
  [`${core}ConfigMapVolumeSource`]: { items: ATOMIC },
  [`${core}ConfigMapProjection`]: { items: ATOMIC },
  [`${core}DownwardAPIVolumeSource`]: { items: ATOMIC },
  [`${core}DownwardAPIProjection`]: { items: ATOMIC },
  [`${core}ISCSIVolumeSource`]: { portals: ATOMIC },
  [`${core}ISCSIPersistentVolumeSource`]: { portals: ATOMIC },
  [`${core}FCVolumeSource`]: { targetWWNs: ATOMIC, wwids: ATOMIC },
  [`${core}ProjectedVolumeSource`]: { sources: ATOMIC },

  // ---- core/v1: containers ----
  [`${core}Container`]: {
    command: ATOMIC,
    args: ATOMIC,
    ports: 'patch=merge key=containerPort list=map keys=containerPort,protocol',
    envFrom: ATOMIC,
    env: MERGE('name'),
    resizePolicy: ATOMIC,
    volumeMounts: MERGE('mountPath'),
    volumeDevices: MERGE('devicePath'),
  },
  [`${core}EphemeralContainer`]: {
    command: ATOMIC,
    args: ATOMIC,
    ports: 'patch=merge key=containerPort list=map keys=containerPort,protocol',
    envFrom: ATOMIC,
    env: MERGE('name'),
    resizePolicy: ATOMIC,
    volumeMounts: MERGE('mountPath'),
    volumeDevices: MERGE('devicePath'),
  },
  [`${core}ResourceRequirements`]: { claims: 'list=map keys=name' },
  [`${core}ObjectFieldSelector`]: ATOMIC_STRUCT,
  [`${core}ResourceFieldSelector`]: ATOMIC_STRUCT,
  [`${core}ConfigMapKeySelector`]: ATOMIC_STRUCT,
  [`${core}SecretKeySelector`]: ATOMIC_STRUCT,
  [`${core}HTTPGetAction`]: { httpHeaders: ATOMIC },
  [`${core}ExecAction`]: { command: ATOMIC },
  [`${core}Capabilities`]: { add: ATOMIC, drop: ATOMIC },
  [`${core}ContainerStatus`]: { volumeMounts: MERGE('mountPath'), allocatedResourcesStatus: MERGE('name') },
  [`${core}ResourceStatus`]: { resources: 'list=map keys=resourceID' },
  [`${core}LinuxContainerUser`]: { supplementalGroups: ATOMIC },

  // ---- core/v1: scheduling ----
  [`${core}NodeSelector`]: { '.': 'map=atomic', nodeSelectorTerms: ATOMIC },
  [`${core}NodeSelectorTerm`]: { '.': 'map=atomic', matchExpressions: ATOMIC, matchFields: ATOMIC },
  [`${core}NodeSelectorRequirement`]: { values: ATOMIC },
  [`${core}TopologySelectorTerm`]: { '.': 'map=atomic', matchLabelExpressions: ATOMIC },
  [`${core}TopologySelectorLabelRequirement`]: { values: ATOMIC },
  [`${core}PodAffinity`]: { requiredDuringSchedulingIgnoredDuringExecution: ATOMIC, preferredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  [`${core}PodAntiAffinity`]: { requiredDuringSchedulingIgnoredDuringExecution: ATOMIC, preferredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  [`${core}PodAffinityTerm`]: { namespaces: ATOMIC, matchLabelKeys: ATOMIC, mismatchLabelKeys: ATOMIC },
  [`${core}NodeAffinity`]: { preferredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  [`${core}TopologySpreadConstraint`]: { matchLabelKeys: ATOMIC },

  // ---- core/v1: pods ----
  [`${core}PodSpec`]: {
    volumes: 'patch=merge,retainKeys key=name list=map keys=name',
    initContainers: MERGE('name'),
    containers: MERGE('name'),
    ephemeralContainers: MERGE('name'),
    nodeSelector: 'map=atomic',
    imagePullSecrets: MERGE('name'),
    tolerations: ATOMIC,
    hostAliases: MERGE('ip'),
    readinessGates: ATOMIC,
    topologySpreadConstraints: 'patch=merge key=topologyKey list=map keys=topologyKey,whenUnsatisfiable',
    schedulingGates: MERGE('name'),
    resourceClaims: 'patch=merge,retainKeys key=name list=map keys=name',
  },
  [`${core}HostAlias`]: { hostnames: ATOMIC },
  [`${core}PodSecurityContext`]: { supplementalGroups: ATOMIC, sysctls: ATOMIC },
  [`${core}PodDNSConfig`]: { nameservers: ATOMIC, searches: ATOMIC, options: ATOMIC },
  [`${core}PodStatus`]: {
    conditions: MERGE('type'),
    hostIPs: `patch=merge key=ip ${ATOMIC}`,
    podIPs: MERGE('ip'),
    initContainerStatuses: ATOMIC,
    containerStatuses: ATOMIC,
    ephemeralContainerStatuses: ATOMIC,
    resourceClaimStatuses: 'patch=merge,retainKeys key=name list=map keys=name',
  },

  // ---- core/v1: other kinds ----
  [`${core}ReplicationControllerSpec`]: { selector: 'map=atomic' },
  [`${core}ReplicationControllerStatus`]: { conditions: MERGE('type') },
  [`${core}ServiceSpec`]: {
    ports: 'patch=merge key=port list=map keys=port,protocol',
    selector: 'map=atomic',
    clusterIPs: ATOMIC,
    externalIPs: ATOMIC,
    loadBalancerSourceRanges: ATOMIC,
    ipFamilies: ATOMIC,
  },
  [`${core}ServiceStatus`]: { conditions: MERGE('type') },
  [`${core}LoadBalancerStatus`]: { ingress: ATOMIC },
  [`${core}LoadBalancerIngress`]: { ports: ATOMIC },
  [`${core}ServiceAccount`]: { secrets: MERGE('name'), imagePullSecrets: ATOMIC },
  [`${core}Endpoints`]: { subsets: ATOMIC },
  [`${core}EndpointSubset`]: { addresses: ATOMIC, notReadyAddresses: ATOMIC, ports: ATOMIC },
  [`${core}EndpointAddress`]: ATOMIC_STRUCT,
  [`${core}EndpointPort`]: ATOMIC_STRUCT,
  [`${core}NodeSpec`]: { podCIDRs: `patch=merge ${SET}`, taints: ATOMIC },
  [`${core}NodeStatus`]: {
    conditions: MERGE('type'),
    addresses: MERGE('type'),
    images: ATOMIC,
    volumesInUse: ATOMIC,
    volumesAttached: ATOMIC,
    runtimeHandlers: ATOMIC,
  },
  [`${core}ContainerImage`]: { names: ATOMIC },
  [`${core}NamespaceSpec`]: { finalizers: ATOMIC },
  [`${core}NamespaceStatus`]: { conditions: MERGE('type') },
  [`${core}ObjectReference`]: ATOMIC_STRUCT,
  [`${core}LocalObjectReference`]: ATOMIC_STRUCT,
  [`${core}TypedLocalObjectReference`]: ATOMIC_STRUCT,
  [`${core}LimitRangeSpec`]: { limits: ATOMIC },
  [`${core}ResourceQuotaSpec`]: { scopes: ATOMIC },
  [`${core}ScopeSelector`]: { '.': 'map=atomic', matchExpressions: ATOMIC },
  [`${core}ScopedResourceSelectorRequirement`]: { values: ATOMIC },
  [`${core}ComponentStatus`]: { conditions: MERGE('type') },

  // ---- apps/v1 ----
  [`${apps}DeploymentSpec`]: { strategy: 'patch=retainKeys' },
  [`${apps}DeploymentStatus`]: { conditions: MERGE('type') },
  [`${apps}ReplicaSetStatus`]: { conditions: MERGE('type') },
  [`${apps}StatefulSetSpec`]: { volumeClaimTemplates: ATOMIC },
  [`${apps}StatefulSetStatus`]: { conditions: MERGE('type') },
  [`${apps}DaemonSetStatus`]: { conditions: MERGE('type') },

  // ---- batch/v1 ----
  [`${batch}JobStatus`]: { conditions: `patch=merge key=type ${ATOMIC}` },
  [`${batch}UncountedTerminatedPods`]: { succeeded: SET, failed: SET },
  [`${batch}PodFailurePolicy`]: { rules: ATOMIC },
  [`${batch}PodFailurePolicyRule`]: { onPodConditions: ATOMIC },
  [`${batch}PodFailurePolicyOnExitCodesRequirement`]: { values: SET },
  [`${batch}SuccessPolicy`]: { rules: ATOMIC },
  [`${batch}CronJobStatus`]: { active: ATOMIC },

  // ---- autoscaling/v2 (v1 has no list tags) ----
  [`${hpa2}HorizontalPodAutoscalerSpec`]: { metrics: ATOMIC },
  [`${hpa2}HorizontalPodAutoscalerStatus`]: { currentMetrics: ATOMIC, conditions: MERGE('type') },
  [`${hpa2}HPAScalingRules`]: { policies: ATOMIC },

  // ---- networking.k8s.io/v1 ----
  [`${net}IngressSpec`]: { tls: ATOMIC, rules: ATOMIC },
  [`${net}IngressTLS`]: { hosts: ATOMIC },
  [`${net}HTTPIngressRuleValue`]: { paths: ATOMIC },
  [`${net}IngressLoadBalancerStatus`]: { ingress: ATOMIC },
  [`${net}IngressLoadBalancerIngress`]: { ports: ATOMIC },
  [`${net}NetworkPolicySpec`]: { ingress: ATOMIC, egress: ATOMIC, policyTypes: ATOMIC },
  [`${net}NetworkPolicyIngressRule`]: { ports: ATOMIC, from: ATOMIC },
  [`${net}NetworkPolicyEgressRule`]: { ports: ATOMIC, to: ATOMIC },
  [`${net}IPBlock`]: { except: ATOMIC },

  // ---- discovery.k8s.io/v1 ----
  [`${disc}EndpointSlice`]: { endpoints: ATOMIC, ports: ATOMIC },
  [`${disc}Endpoint`]: { addresses: SET },
  [`${disc}EndpointHints`]: { forZones: ATOMIC },
  [`${disc}EndpointPort`]: ATOMIC_STRUCT,

  // ---- rbac.authorization.k8s.io/v1 ----
  [`${rbac}PolicyRule`]: { verbs: ATOMIC, apiGroups: ATOMIC, resources: ATOMIC, resourceNames: ATOMIC, nonResourceURLs: ATOMIC },
  [`${rbac}Role`]: { rules: ATOMIC },
  [`${rbac}ClusterRole`]: { rules: ATOMIC },
  [`${rbac}AggregationRule`]: { clusterRoleSelectors: ATOMIC },
  [`${rbac}RoleBinding`]: { subjects: ATOMIC },
  [`${rbac}ClusterRoleBinding`]: { subjects: ATOMIC },
  [`${rbac}RoleRef`]: ATOMIC_STRUCT,
  [`${rbac}Subject`]: ATOMIC_STRUCT,

  // ---- storage.k8s.io/v1 ----
  [`${storage}StorageClass`]: { mountOptions: ATOMIC, allowedTopologies: ATOMIC },
  [`${storage}CSIDriverSpec`]: { volumeLifecycleModes: SET, tokenRequests: ATOMIC },
  [`${storage}CSINodeSpec`]: { drivers: MERGE('name') },
  [`${storage}CSINodeDriver`]: { topologyKeys: ATOMIC },

  // ---- policy/v1 ----
  [`${policy}PodDisruptionBudgetSpec`]: { selector: 'patch=replace' },
  [`${policy}PodDisruptionBudgetStatus`]: { conditions: MERGE('type') },

  // coordination.k8s.io/v1, scheduling.k8s.io/v1 and events.k8s.io/v1 declare no patch or list tags.
};

/**
 * Fields that kubernetes-models (Kubernetes 1.33 schemas) has but Kubernetes 1.32 does not: dropped from the
 * generated definitions so that validation and `kubectl explain` match 1.32.
 */
export const fieldsAddedAfter132: Readonly<Record<string, readonly string[]>> = {
  [`${core}Lifecycle`]: ['stopSignal'],
  [`${core}ContainerStatus`]: ['stopSignal'],
  [`${core}PodStatus`]: ['observedGeneration'],
  [`${core}PodCondition`]: ['observedGeneration'],
  'io.k8s.api.discovery.v1.EndpointHints': ['forNodes'],
  'io.k8s.api.autoscaling.v2.HPAScalingRules': ['tolerance'],
  'io.k8s.api.storage.v1.CSIDriverSpec': ['nodeAllocatableUpdatePeriodSeconds'],
  'io.k8s.api.apps.v1.DeploymentStatus': ['terminatingReplicas'],
  'io.k8s.api.apps.v1.ReplicaSetStatus': ['terminatingReplicas'],
  // Found by comparing with kubectl 1.32's own protobuf descriptors.
  [`${core}NodeSystemInfo`]: ['swap'],
  'io.k8s.api.storage.v1.VolumeError': ['errorCode'],
};

/** Definitions that only 1.33 has (dropped with the fields above). */
export const definitionsAddedAfter132: readonly string[] = [
  'io.k8s.api.discovery.v1.ForNode',
  // networking.k8s.io/v1 IPAddress and ServiceCIDR became GA in 1.33 (v1beta1 in 1.32)
  'io.k8s.api.networking.v1.IPAddress',
  'io.k8s.api.networking.v1.IPAddressList',
  'io.k8s.api.networking.v1.IPAddressSpec',
  'io.k8s.api.networking.v1.ParentReference',
  'io.k8s.api.networking.v1.ServiceCIDR',
  'io.k8s.api.networking.v1.ServiceCIDRList',
  'io.k8s.api.networking.v1.ServiceCIDRSpec',
  'io.k8s.api.networking.v1.ServiceCIDRStatus',
];

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  required?: string[];
  [k: string]: unknown;
}

/**
 * Merge the table into generated definitions (mutates), after dropping post-1.32 fields. Returns problems: table
 * entries naming a definition or field the schemas do not have, or post-1.32 fields already gone.
 */
export function applyExtensions(defs: Record<string, JsonSchema>): string[] {
  const problems: string[] = [];
  for (const [name, fields] of Object.entries(fieldsAddedAfter132)) {
    const d = defs[name];
    for (const f of fields) {
      if (!d?.properties?.[f]) {
        problems.push(`${name}.${f}: post-1.32 field not in the schemas`);
        continue;
      }
      delete d.properties[f];
      if (d.required) d.required = d.required.filter((r) => r !== f);
    }
  }
  for (const name of definitionsAddedAfter132) {
    if (!defs[name]) problems.push(`${name}: post-1.32 definition not in the schemas`);
    delete defs[name];
  }
  for (const [name, fields] of Object.entries(structTags)) {
    const d = defs[name];
    if (!d) {
      problems.push(`${name}: no such definition`);
      continue;
    }
    for (const [field, tagText] of Object.entries(fields)) {
      let tags: FieldTags;
      try {
        tags = parseTags(tagText);
      } catch (err) {
        problems.push(`${name}.${field}: ${(err as Error).message}`);
        continue;
      }
      const target = field === '.' ? d : d.properties?.[field];
      if (!target) {
        problems.push(`${name}.${field}: no such field`);
        continue;
      }
      if (tags.listType && field !== '.' && target.type !== 'array') problems.push(`${name}.${field}: list tags on a non-list`);
      if (typeof target.$ref === 'string') {
        // extensions beside a bare $ref would be ignored by OpenAPI 3.0 tools: wrap it, as upstream does
        target.allOf = [{ $ref: target.$ref }];
        delete target.$ref;
      }
      Object.assign(target, extensionsOf(tags));
    }
  }
  return problems;
}
