// Tests of the pure stats parts: host CPU and memory from /proc text, and the /metrics/resource exposition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricsResource, nodeCpuNanos, nodeMemory, type Summary } from './stats.js';

test('nodeCpuNanos counts user+nice+system+irq+softirq+steal, not idle/iowait', () => {
  assert.equal(nodeCpuNanos('cpu  100 10 50 9999 888 5 5 30 0 0\ncpu0 1 2 3 4\n'), 200 * 1e7);
  assert.equal(nodeCpuNanos('nothing'), 0);
});

test('nodeMemory', () => {
  const m = nodeMemory('MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    600 kB\nInactive(file):  200 kB\n');
  assert.deepEqual(m, { total: 1000 * 1024, available: 600 * 1024, workingSet: 700 * 1024 });
});

test('metricsResource: the series metrics-server reads, with labels and millisecond timestamps', () => {
  const t = '2026-01-01T00:00:00.000Z';
  const s: Summary = {
    node: { nodeName: 'n', cpu: { time: t, usageCoreNanoSeconds: 2.5e9 }, memory: { time: t, usageBytes: 10, workingSetBytes: 2048 } },
    pods: [
      {
        podRef: { name: 'p', namespace: 'ns', uid: 'u' },
        containers: [{ name: 'c"1', cpu: { time: t, usageCoreNanoSeconds: 1e9 }, memory: { time: t, usageBytes: 5, workingSetBytes: 1024 }, rootfs: { time: t, usedBytes: 0 } }],
        cpu: { time: t, usageCoreNanoSeconds: 1e9 },
        memory: { time: t, usageBytes: 5, workingSetBytes: 1024 },
        'ephemeral-storage': { time: t, usedBytes: 0 },
      },
    ],
  };
  const text = metricsResource(s);
  const ms = Date.parse(t);
  assert.match(text, new RegExp(`^node_cpu_usage_seconds_total 2\\.5 ${ms}$`, 'm'));
  assert.match(text, new RegExp(`^node_memory_working_set_bytes 2048 ${ms}$`, 'm'));
  assert.match(text, new RegExp(`^container_cpu_usage_seconds_total\\{container="c\\\\"1",namespace="ns",pod="p"\\} 1 ${ms}$`, 'm'));
  assert.match(text, /^# TYPE container_memory_working_set_bytes gauge$/m);
  assert.match(text, new RegExp(`^pod_memory_working_set_bytes\\{namespace="ns",pod="p"\\} 1024 ${ms}$`, 'm'));
  assert.match(text, /^resource_scrape_error 0$/m);
});
