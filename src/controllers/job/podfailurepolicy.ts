// spec.podFailurePolicy matching (upstream pkg/controller/job/pod_failure_policy.go): the first rule whose
// onExitCodes or onPodConditions requirement matches a failed pod decides its action — FailJob (with upstream's
// message), Ignore (not counted towards backoffLimit) or Count. FailIndex needs backoffLimitPerIndex, not
// implemented here, and is treated as Count.

import type { KubeObject } from '../../api/types.js';

export interface PodFailurePolicyRule {
  action: 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';
  onExitCodes?: { containerName?: string; operator: 'In' | 'NotIn'; values: number[] };
  onPodConditions?: Array<{ type: string; status?: string }>;
}

export interface PodFailurePolicy {
  rules: PodFailurePolicyRule[];
}

export interface PolicyMatch {
  /** Set when a FailJob rule matched: the FailureTarget/Failed condition message. */
  failJobMessage?: string;
  /** Whether the failure counts towards backoffLimit. */
  countFailed: boolean;
  action?: PodFailurePolicyRule['action'];
}

interface ContainerStatus {
  name: string;
  state?: { terminated?: { exitCode?: number } };
}

function matchingContainer(statuses: ContainerStatus[] | undefined, req: NonNullable<PodFailurePolicyRule['onExitCodes']>): ContainerStatus | undefined {
  for (const cs of statuses ?? []) {
    const code = cs.state?.terminated?.exitCode;
    if (code === undefined || code === 0) continue;
    if (req.containerName && req.containerName !== cs.name) continue;
    const listed = req.values.includes(code);
    if (req.operator === 'In' ? listed : !listed) return cs;
  }
  return undefined;
}

export function matchPodFailurePolicy(policy: PodFailurePolicy, pod: KubeObject): PolicyMatch {
  const status = (pod.status ?? {}) as { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[]; conditions?: Array<{ type: string; status: string }> };
  const who = `${pod.metadata.namespace}/${pod.metadata.name}`;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let message: string | undefined;
    if (rule.onExitCodes) {
      const cs = matchingContainer(status.containerStatuses, rule.onExitCodes) ?? matchingContainer(status.initContainerStatuses, rule.onExitCodes);
      if (cs) message = `Container ${cs.name} for pod ${who} failed with exit code ${cs.state!.terminated!.exitCode} matching ${rule.action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const c = rule.onPodConditions.find((req) => (status.conditions ?? []).some((pc) => pc.type === req.type && pc.status === (req.status ?? 'True')));
      if (c) message = `Pod ${who} has condition ${c.type} matching ${rule.action} rule at index ${index}`;
    }
    if (message === undefined) continue;
    switch (rule.action) {
      case 'FailJob':
        return { failJobMessage: message, countFailed: true, action: rule.action };
      case 'Ignore':
        return { countFailed: false, action: rule.action };
      default:
        return { countFailed: true, action: rule.action };
    }
  }
  return { countFailed: true };
}
