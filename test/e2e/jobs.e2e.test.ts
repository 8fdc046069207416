// End-to-end: the Job, TTL-after-finished and CronJob controllers run by `k8ts server --simulate-nodes 1`, driven
// by the real kubectl — pods ended by hand (status patches once the simulated kubelet runs them) or by the
// simulated node (pods bound to sim-node-0 with sim.k8ts.io/run-seconds / exit-code): `kubectl get jobs` columns,
// describe events, `kubectl wait`, Indexed jobs, backoffLimit and its backoff, activeDeadlineSeconds, suspend,
// TTL, deletion, and CronJobs (a scheduled run, --from=cronjob, completion, suspend).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, docs, eventually, parseTable, withNamespace, type Kubectl } from './harness.js';

let srv: Server;

before(async () => {
  srv = await Server.start({ extraArgs: ['--simulate-nodes', '1'] });
});

after(async () => {
  await srv?.stop();
});

interface JobOpts {
  completions?: number;
  parallelism?: number;
  backoffLimit?: number;
  completionMode?: 'Indexed' | 'NonIndexed';
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  /** Bind the pods to the simulated node with these sim.k8ts.io annotations. */
  sim?: Record<string, string>;
}

function jobObject(name: string, o: JobOpts = {}): Record<string, unknown> {
  const { sim, ...spec } = o;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: {
        metadata: sim ? { annotations: sim } : {},
        spec: { restartPolicy: 'Never', ...(sim ? { nodeName: 'sim-node-0' } : {}), containers: [{ name: 'main', image: 'busybox:1.36' }] },
      },
    },
  };
}

async function podsOf(k: Kubectl, job: string): Promise<Array<{ name: string; phase: string; finalizers: string; deleting: boolean }>> {
  const out = (
    await k.ok(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${job}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.metadata.finalizers} {.metadata.deletionTimestamp}{"\\n"}{end}'])
  ).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, phase, finalizers = '', deleting = ''] = l.split(' ');
      return { name, phase, finalizers, deleting: deleting !== '' };
    });
}

async function jsonpath(k: Kubectl, what: string, path: string): Promise<string> {
  return (await k.ok(['get', what, '-o', `jsonpath=${path}`])).stdout;
}

/**
 * Ends a pod by hand. The scheduler binds it to the simulated node, whose kubelet reports it Running; waiting for
 * that first means the kubelet's own write cannot land after ours (it leaves terminal pods alone).
 */
async function setPhase(k: Kubectl, pod: string, phase: string): Promise<void> {
  await eventually(async () => (await jsonpath(k, `pod/${pod}`, '{.status.phase}')) === 'Running', 20_000, `pod ${pod} Running on the simulated node`);
  await k.ok(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase } })]);
}

test('kubectl create job; a pod that succeeds completes it: Complete 1/1, events, finalizer gone, kubectl wait', async () => {
  const k = await withNamespace(srv, 'e2e-job-basic');
  assert.equal((await k.ok(['create', 'job', 'hello', '--image=busybox'])).stdout, 'job.batch/hello created\n');
  const [pod] = await eventually(async () => {
    const p = await podsOf(k, 'hello');
    return p.length === 1 && p;
  }, 15_000, 'the job pod');
  assert.match(pod.name, /^hello-[a-z0-9]{5}$/);
  assert.equal(pod.finalizers, '["batch.kubernetes.io/job-tracking"]');
  assert.equal(await jsonpath(k, `pod/${pod.name}`, '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}'), 'Job/hello/true');
  let t = parseTable((await k.ok(['get', 'jobs'])).stdout);
  assert.deepEqual(t.headers, ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
  assert.deepEqual([t.rows[0].NAME, t.rows[0].STATUS, t.rows[0].COMPLETIONS], ['hello', 'Running', '0/1']);

  const wait = k.spawn(['wait', '--for=condition=complete', 'job/hello', '--timeout=30s']);
  await setPhase(k, pod.name, 'Succeeded');
  const w = await wait.done;
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout, 'job.batch/hello condition met\n');
  t = parseTable((await k.ok(['get', 'jobs'])).stdout);
  assert.deepEqual([t.rows[0].STATUS, t.rows[0].COMPLETIONS], ['Complete', '1/1']);
  assert.match(t.rows[0].DURATION, /^\d+s$/);
  assert.equal(await jsonpath(k, 'job/hello', '{.status.succeeded} {.status.conditions[*].type}'), '1 SuccessCriteriaMet Complete');
  await eventually(async () => (await podsOf(k, 'hello'))[0]?.finalizers === '', 10_000, 'the tracking finalizer to go');
  const describe = (await k.ok(['describe', 'job', 'hello'])).stdout;
  assert.match(describe, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed/);
  await eventually(async () => {
    const d = (await k.ok(['describe', 'job', 'hello'])).stdout;
    return /Normal\s+SuccessfulCreate\s+.*job-controller\s+Created pod: hello-[a-z0-9]{5}/.test(d) && /Normal\s+Completed\s+.*job-controller\s+Job completed/.test(d);
  }, 10_000, 'SuccessfulCreate and Completed events in describe');
});

test('simulated nodes: completions 3 / parallelism 2 runs at most two pods at a time and completes 3/3', async () => {
  const k = await withNamespace(srv, 'e2e-job-par');
  const watch = k.spawn(['get', 'pods', '-w', '--no-headers', '-o', 'custom-columns=NAME:.metadata.name,PHASE:.status.phase']);
  await k.ok(['create', '-f', '-'], { stdin: docs(jobObject('par', { completions: 3, parallelism: 2, sim: { 'sim.k8ts.io/run-seconds': '1' } })) });
  await k.ok(['wait', '--for=condition=complete', 'job/par', '--timeout=40s'], { timeoutMs: 45_000 });
  const t = parseTable((await k.ok(['get', 'job', 'par'])).stdout);
  assert.deepEqual([t.rows[0].STATUS, t.rows[0].COMPLETIONS], ['Complete', '3/3']);
  const pods = await podsOf(k, 'par');
  assert.deepEqual(pods.map((p) => p.phase), ['Succeeded', 'Succeeded', 'Succeeded']);
  await watch.stop();
  // Replay the watch: at no point were more than two pods neither Succeeded nor Failed.
  const phase = new Map<string, string>();
  let most = 0;
  for (const line of watch.stdout.split('\n').filter(Boolean)) {
    const [name, ph] = line.trim().split(/\s+/);
    phase.set(name, ph);
    most = Math.max(most, [...phase.values()].filter((x) => x !== 'Succeeded' && x !== 'Failed').length);
  }
  assert.equal(phase.size, 3, watch.stdout);
  assert.ok(most <= 2, `at most parallelism pods ran at once:\n${watch.stdout}`);
});

test('Indexed job: pods <job>-<index>-xxxxx with the completion-index annotation, hostname; completedIndexes 0-2', async () => {
  const k = await withNamespace(srv, 'e2e-job-ix');
  await k.ok(['create', '-f', '-'], { stdin: docs(jobObject('ix', { completions: 3, parallelism: 3, completionMode: 'Indexed', sim: { 'sim.k8ts.io/run-seconds': '1' } })) });
  await k.ok(['wait', '--for=condition=complete', 'job/ix', '--timeout=30s'], { timeoutMs: 35_000 });
  assert.equal(await jsonpath(k, 'job/ix', '{.status.completedIndexes} {.status.succeeded}'), '0-2 3');
  const out = (await k.ok(['get', 'pods', '-o', `jsonpath={range .items[*]}{.metadata.name} {.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index} {.metadata.labels.batch\\.kubernetes\\.io/job-completion-index} {.spec.hostname}{"\\n"}{end}`])).stdout;
  const rows = out.split('\n').filter(Boolean).map((l) => l.split(' ')).sort((a, b) => a[1].localeCompare(b[1]));
  assert.equal(rows.length, 3, out);
  rows.forEach(([name, ann, label, host], i) => {
    assert.match(name, new RegExp(`^ix-${i}-[a-z0-9]{5}$`));
    assert.deepEqual([ann, label, host], [String(i), String(i), `ix-${i}`]);
  });
});

test('backoffLimit 0: the failing pod fails the job (FailureTarget, then Failed BackoffLimitExceeded, warning event)', async () => {
  const k = await withNamespace(srv, 'e2e-job-fail');
  await k.ok(['create', '-f', '-'], { stdin: docs(jobObject('boom', { backoffLimit: 0, sim: { 'sim.k8ts.io/run-seconds': '0', 'sim.k8ts.io/exit-code': '3' } })) });
  await k.ok(['wait', '--for=condition=failed', 'job/boom', '--timeout=30s'], { timeoutMs: 35_000 });
  assert.equal(
    await jsonpath(k, 'job/boom', '{.status.failed} {range .status.conditions[*]}{.type}:{.reason};{end}'),
    '1 FailureTarget:BackoffLimitExceeded;Failed:BackoffLimitExceeded;',
  );
  const t = parseTable((await k.ok(['get', 'job', 'boom'])).stdout);
  assert.deepEqual([t.rows[0].STATUS, t.rows[0].COMPLETIONS], ['Failed', '0/1']);
  assert.equal((await podsOf(k, 'boom')).length, 1, 'no retry beyond the limit');
  await eventually(async () => /Warning\s+BackoffLimitExceeded\s+.*job-controller\s+Job has reached the specified backoff limit/.test((await k.ok(['describe', 'job', 'boom'])).stdout), 10_000, 'the BackoffLimitExceeded event');
});

test('backoffLimit 1: the replacement of a failed pod waits the 10 s backoff; the second failure fails the job', async () => {
  const k = await withNamespace(srv, 'e2e-job-backoff');
  await k.ok(['create', '-f', '-'], { stdin: docs(jobObject('retry', { backoffLimit: 1, sim: { 'sim.k8ts.io/run-seconds': '0', 'sim.k8ts.io/exit-code': '1' } })) });
  await k.ok(['wait', '--for=condition=failed', 'job/retry', '--timeout=40s'], { timeoutMs: 45_000 });
  const out = (await k.ok(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.creationTimestamp} {.status.containerStatuses[0].state.terminated.finishedAt}{"\\n"}{end}'])).stdout;
  const pods = out.split('\n').filter(Boolean).map((l) => l.split(' ').map(Date.parse)).sort((a, b) => a[0] - b[0]);
  assert.equal(pods.length, 2, out);
  const gap = pods[1][0] - pods[0][1];
  assert.ok(gap >= 9_000 && gap < 20_000, `replacement created ${gap} ms after the first failure (backoff 10 s):\n${out}`);
  assert.equal(await jsonpath(k, 'job/retry', '{.status.failed} {.status.conditions[-1:].reason}'), '2 BackoffLimitExceeded');
});

test('kubectl delete job: its pods are collected and lose the tracking finalizer (not left Terminating)', async () => {
  const k = await withNamespace(srv, 'e2e-job-delete');
  await k.ok(['create', 'job', 'doomed', '--image=busybox']);
  await eventually(async () => (await podsOf(k, 'doomed')).length === 1, 15_000, 'the pod');
  assert.equal((await k.ok(['delete', 'job', 'doomed'])).stdout, 'job.batch "doomed" deleted\n');
  await eventually(async () => (await podsOf(k, 'doomed')).length === 0, 15_000, 'the pod to be gone');
});

test('activeDeadlineSeconds: a pod running past the deadline is terminated and the job Failed DeadlineExceeded', async () => {
  const k = await withNamespace(srv, 'e2e-job-deadline');
  await k.ok(['create', '-f', '-'], { stdin: docs(jobObject('slow', { activeDeadlineSeconds: 2, sim: {} })) });
  await k.ok(['wait', '--for=condition=failed', 'job/slow', '--timeout=30s'], { timeoutMs: 35_000 });
  assert.equal(await jsonpath(k, 'job/slow', '{.status.conditions[-1:].reason}: {.status.conditions[-1:].message}'), 'DeadlineExceeded: Job was active longer than specified deadline');
  await eventually(async () => (await podsOf(k, 'slow')).length === 0, 15_000, 'the running pod to be deleted');
  await eventually(async () => /Warning\s+DeadlineExceeded\s+.*job-controller\s+Job was active longer than specified deadline/.test((await k.ok(['describe', 'job', 'slow'])).stdout), 10_000, 'the DeadlineExceeded event');
});

test('suspend deletes the active pods (STATUS Suspended); resume creates a new one', async () => {
  const k = await withNamespace(srv, 'e2e-job-suspend');
  await k.ok(['create', 'job', 'nap', '--image=busybox']);
  const [first] = await eventually(async () => {
    const p = await podsOf(k, 'nap');
    return p.length === 1 && p;
  }, 15_000, 'the first pod');
  await k.ok(['patch', 'job', 'nap', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  await eventually(async () => (await podsOf(k, 'nap')).length === 0, 15_000, 'pods of the suspended job to go');
  await eventually(async () => parseTable((await k.ok(['get', 'job', 'nap'])).stdout).rows[0].STATUS === 'Suspended', 10_000, 'STATUS Suspended');
  await k.ok(['patch', 'job', 'nap', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
  const [second] = await eventually(async () => {
    const p = await podsOf(k, 'nap');
    return p.length === 1 && p;
  }, 15_000, 'a new pod after resume');
  assert.notEqual(second.name, first.name);
  assert.equal(await jsonpath(k, 'job/nap', '{.status.failed}'), '', 'suspension is not a failure');
});

test('ttlSecondsAfterFinished 1: the finished job and its pods are deleted', async () => {
  const k = await withNamespace(srv, 'e2e-job-ttl');
  await k.ok(['create', '-f', '-'], { stdin: docs(jobObject('brief', { ttlSecondsAfterFinished: 1, sim: { 'sim.k8ts.io/run-seconds': '0' } })) });
  await eventually(async () => {
    const r = await k.run(['get', 'job', 'brief', '-o', 'name']);
    return r.code !== 0 && /NotFound/.test(r.stderr);
  }, 30_000, 'the job to be deleted after its TTL');
  await eventually(async () => (await podsOf(k, 'brief')).length === 0, 15_000, 'its pods to be collected');
});

test('CronJob: a scheduled run creates <cronjob>-<minutes> (annotation, owner, ACTIVE, LAST SCHEDULE); --from=cronjob; suspend', async () => {
  const k = await withNamespace(srv, 'e2e-cronjob');
  // @every 3s fires within seconds; job names are per minute, so at most one run per minute appears.
  await k.ok(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=@every 3s']);
  const job = await eventually(async () => {
    const out = (await k.ok(['get', 'jobs', '-o', 'name'])).stdout.trim();
    return out !== '' && out;
  }, 20_000, 'a job from the schedule');
  assert.match(job, /^job\.batch\/tick-\d{8}$/);
  const minutes = Number(job.split('-').pop());
  const annotation = await jsonpath(k, job, '{.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}');
  assert.equal(Math.floor(Date.parse(annotation) / 60_000), minutes, annotation);
  assert.equal(await jsonpath(k, job, '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}'), 'CronJob/tick/true');
  const cj = await eventually(async () => {
    const t = parseTable((await k.ok(['get', 'cronjob', 'tick'])).stdout);
    return t.rows[0]?.ACTIVE === '1' && t;
  }, 10_000, 'ACTIVE 1');
  assert.deepEqual(cj.headers, ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
  assert.deepEqual([cj.rows[0].SCHEDULE, cj.rows[0].TIMEZONE, cj.rows[0].SUSPEND], ['@every 3s', '<none>', 'False']);
  assert.match(cj.rows[0]['LAST SCHEDULE'], /^\d+s$/);
  await eventually(async () => /Normal\s+SuccessfulCreate\s+.*cronjob-controller\s+Created job tick-\d{8}/.test((await k.ok(['describe', 'cronjob', 'tick'])).stdout), 10_000, 'the SuccessfulCreate event');

  // A manual run from the template: the job controller runs it like any other.
  assert.equal((await k.ok(['create', 'job', '--from=cronjob/tick', 'manual'])).stdout, 'job.batch/manual created\n');
  const [pod] = await eventually(async () => {
    const p = await podsOf(k, 'manual');
    return p.length === 1 && p;
  }, 15_000, 'the manual job pod');
  await setPhase(k, pod.name, 'Succeeded');
  await k.ok(['wait', '--for=condition=complete', 'job/manual', '--timeout=20s']);

  // The scheduled job completes: it leaves status.active and sets lastSuccessfulTime.
  const [spod] = await eventually(async () => {
    const p = await podsOf(k, job.split('/')[1]);
    return p.length === 1 && p;
  }, 15_000, 'the scheduled job pod');
  await setPhase(k, spod.name, 'Succeeded');
  await eventually(async () => (await jsonpath(k, 'cronjob/tick', '{.status.lastSuccessfulTime}')) !== '', 15_000, 'lastSuccessfulTime');
  let described = '';
  await eventually(async () => {
    described = (await k.ok(['describe', 'cronjob', 'tick'])).stdout;
    return /Normal\s+SawCompletedJob\s+.*cronjob-controller\s+Saw completed job: tick-\d{8}, condition: Complete/.test(described);
  }, 10_000, 'SawCompletedJob').catch((e: Error) => assert.fail(`${e.message}\n${described}${srv.logTail()}`));

  await k.ok(['patch', 'cronjob', 'tick', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  assert.equal(parseTable((await k.ok(['get', 'cronjob', 'tick'])).stdout).rows[0].SUSPEND, 'True');
});
