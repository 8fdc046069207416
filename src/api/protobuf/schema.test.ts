// Checks the generated descriptor table against independent facts: the OpenAPI definitions' field names (so JSON
// names and inlined embeds are right), Go pointer-ness of well-known fields, and coverage of the kinds typed clients send.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definitions } from '../schema/registry.js';
import { kindMessage, messageDesc, messageNames, supportedKinds } from './schema.js';

const defName = (n: string): string => (n.startsWith('meta.') ? `io.k8s.apimachinery.pkg.apis.${n}` : `io.k8s.api.${n}`);

/** JSON field names of a message with inlined embeds flattened, as Go's encoding/json shows them. */
function jsonNames(message: string): string[] {
  return messageDesc(message).fields.flatMap((f) => (f.inline && 'message' in f.value ? jsonNames(f.value.message) : [f.json]));
}

/** Fields that Kubernetes 1.33 added (present in the OpenAPI source, absent from kubectl 1.32's descriptors). */
const ADDED_AFTER_132: Record<string, string[]> = {
  'core.v1.NodeSystemInfo': ['swap'],
  'storage.v1.VolumeError': ['errorCode'],
};

test('every message has the JSON field names of its OpenAPI definition', () => {
  const defs = definitions();
  const kindMessages = new Set(supportedKinds().map((k) => k.message));
  const problems: string[] = [];
  let checked = 0;
  for (const m of messageNames()) {
    const def = defs[defName(m)];
    if (!def) continue; // embedded-only types: checked through their parents
    checked++;
    const ours = new Set(jsonNames(m));
    const theirs = new Set(Object.keys(def.properties ?? {}));
    if (kindMessages.has(m) || m === 'meta.v1.DeleteOptions') for (const typeMeta of ['apiVersion', 'kind']) theirs.delete(typeMeta);
    for (const f of ADDED_AFTER_132[m] ?? []) theirs.delete(f);
    const onlyOurs = [...ours].filter((x) => !theirs.has(x));
    const onlyTheirs = [...theirs].filter((x) => !ours.has(x));
    if (onlyOurs.length || onlyTheirs.length) problems.push(`${m}: table-only ${onlyOurs.join(',')} definition-only ${onlyTheirs.join(',')}`);
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 300, `checked ${checked} messages`);
});

test('Go pointer fields are marked, value fields are not', () => {
  // [message, field, is a pointer in k8s.io/api types.go]
  const cases: [string, string, boolean][] = [
    ['apps.v1.DeploymentSpec', 'replicas', true],
    ['apps.v1.DeploymentSpec', 'revisionHistoryLimit', true],
    ['apps.v1.DeploymentSpec', 'progressDeadlineSeconds', true],
    ['apps.v1.DeploymentSpec', 'minReadySeconds', false],
    ['apps.v1.DeploymentSpec', 'paused', false],
    ['apps.v1.DeploymentSpec', 'selector', true],
    ['apps.v1.DeploymentSpec', 'strategy', false],
    ['apps.v1.RollingUpdateDeployment', 'maxUnavailable', true],
    ['core.v1.PodSpec', 'terminationGracePeriodSeconds', true],
    ['core.v1.PodSpec', 'activeDeadlineSeconds', true],
    ['core.v1.PodSpec', 'automountServiceAccountToken', true],
    ['core.v1.PodSpec', 'enableServiceLinks', true],
    ['core.v1.PodSpec', 'hostNetwork', false],
    ['core.v1.PodSpec', 'securityContext', true],
    ['core.v1.Container', 'resources', false],
    ['core.v1.Container', 'securityContext', true],
    ['core.v1.SecurityContext', 'runAsUser', true],
    ['core.v1.SecurityContext', 'runAsNonRoot', true],
    ['core.v1.SecurityContext', 'privileged', true],
    ['core.v1.SecurityContext', 'readOnlyRootFilesystem', true],
    ['core.v1.SecurityContext', 'allowPrivilegeEscalation', true],
    ['core.v1.PodSecurityContext', 'fsGroup', true],
    ['core.v1.PodSecurityContext', 'runAsGroup', true],
    ['core.v1.ConfigMapVolumeSource', 'defaultMode', true],
    ['core.v1.ConfigMapVolumeSource', 'optional', true],
    ['core.v1.ConfigMap', 'immutable', true],
    ['core.v1.Secret', 'immutable', true],
    ['core.v1.Probe', 'initialDelaySeconds', false],
    ['core.v1.Probe', 'terminationGracePeriodSeconds', true],
    ['core.v1.ServicePort', 'port', false],
    ['core.v1.ServicePort', 'appProtocol', true],
    ['core.v1.ServiceSpec', 'allocateLoadBalancerNodePorts', true],
    ['core.v1.Toleration', 'tolerationSeconds', true],
    ['batch.v1.JobSpec', 'backoffLimit', true],
    ['batch.v1.JobSpec', 'completions', true],
    ['batch.v1.JobSpec', 'parallelism', true],
    ['batch.v1.JobSpec', 'ttlSecondsAfterFinished', true],
    ['batch.v1.JobSpec', 'suspend', true],
    ['batch.v1.CronJobSpec', 'startingDeadlineSeconds', true],
    ['batch.v1.CronJobSpec', 'successfulJobsHistoryLimit', true],
    ['batch.v1.CronJobSpec', 'failedJobsHistoryLimit', true],
    ['batch.v1.CronJobSpec', 'schedule', false],
    ['autoscaling.v1.HorizontalPodAutoscalerSpec', 'minReplicas', true],
    ['autoscaling.v1.HorizontalPodAutoscalerSpec', 'maxReplicas', false],
    ['autoscaling.v2.HorizontalPodAutoscalerSpec', 'minReplicas', true],
    ['meta.v1.ObjectMeta', 'generation', false],
    ['meta.v1.ObjectMeta', 'deletionGracePeriodSeconds', true],
    ['meta.v1.ObjectMeta', 'deletionTimestamp', true],
    ['meta.v1.ObjectMeta', 'creationTimestamp', false],
    ['meta.v1.DeleteOptions', 'gracePeriodSeconds', true],
    ['meta.v1.DeleteOptions', 'orphanDependents', true],
    ['meta.v1.DeleteOptions', 'propagationPolicy', true],
    ['authentication.v1.TokenRequestSpec', 'expirationSeconds', true],
    ['policy.v1.PodDisruptionBudgetSpec', 'minAvailable', true],
  ];
  const wrong = cases.filter(([m, f, ptr]) => messageDesc(m).byJson.get(f)?.pointer !== ptr).map(([m, f, ptr]) => `${m}.${f} should${ptr ? '' : ' not'} be a pointer`);
  assert.deepEqual(wrong, []);
});

test('embedded json:",inline" structs are flagged', () => {
  assert.equal(messageDesc('core.v1.Volume').byJson.get('volumeSource')?.inline, true);
  assert.equal(messageDesc('core.v1.Probe').byJson.get('handler')?.inline, true);
  assert.equal(messageDesc('core.v1.SecretKeySelector').byJson.get('localObjectReference')?.inline, true);
  assert.equal(messageDesc('core.v1.PodSpec').byJson.get('imagePullSecrets')?.inline, false);
});

test('every kind typed clients of kubectl 1.32 and controllers send has a descriptor', () => {
  const required: [string, string][] = [
    ['apps/v1', 'Deployment'],
    ['v1', 'ConfigMap'],
    ['v1', 'Secret'],
    ['v1', 'Namespace'],
    ['v1', 'Service'],
    ['v1', 'ServiceAccount'],
    ['v1', 'Pod'],
    ['v1', 'Binding'],
    ['v1', 'Event'],
    ['v1', 'ResourceQuota'],
    ['batch/v1', 'Job'],
    ['batch/v1', 'CronJob'],
    ['autoscaling/v1', 'HorizontalPodAutoscaler'],
    ['autoscaling/v2', 'HorizontalPodAutoscaler'],
    ['autoscaling/v1', 'Scale'],
    ['authorization.k8s.io/v1', 'SelfSubjectAccessReview'],
    ['authorization.k8s.io/v1', 'SelfSubjectRulesReview'],
    ['authentication.k8s.io/v1', 'SelfSubjectReview'],
    ['authentication.k8s.io/v1', 'TokenRequest'],
    ['policy/v1', 'Eviction'],
    ['policy/v1', 'PodDisruptionBudget'],
    ['rbac.authorization.k8s.io/v1', 'Role'],
    ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
    ['scheduling.k8s.io/v1', 'PriorityClass'],
    ['networking.k8s.io/v1', 'Ingress'],
    ['events.k8s.io/v1', 'Event'],
    ['coordination.k8s.io/v1', 'Lease'],
    ['apps/v1', 'DeleteOptions'],
    ['v1', 'DeleteOptions'],
  ];
  assert.deepEqual(
    required.filter(([v, k]) => !kindMessage(v, k)).map(([v, k]) => `${v} ${k}`),
    [],
  );
});

test('the table parses: every referenced message exists and field numbers are unique', () => {
  for (const m of messageNames()) {
    const d = messageDesc(m);
    assert.equal(d.byNumber.size, d.fields.length, `${m}: duplicate field numbers`);
    assert.equal(d.byJson.size, d.fields.length, `${m}: duplicate JSON names`);
    for (const f of d.fields) if ('message' in f.value) messageDesc(f.value.message);
  }
});
