// Node IPAM: CidrSet arithmetic (lowest block first, occupy/release, exhaustion, foreign blocks) and the controller
// on the fake client (a new node gets a /24, a node that has one keeps it, a deleted node's block is reused).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClient } from '../../client/fake.js';
import { NODES } from '../../client/resources.js';
import { CidrSet } from './cidrs.js';
import { NodeIpamController } from './controller.js';

async function until(what: string, fn: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('CidrSet hands out blocks in order, skips occupied ones, reuses released ones and runs out', () => {
  const s = new CidrSet('10.42.0.0/22', 24);
  assert.equal(s.allocateNext(), '10.42.0.0/24');
  assert.equal(s.occupy('10.42.1.0/24'), true);
  assert.equal(s.occupy('10.244.0.0/24'), false, 'outside the range');
  assert.equal(s.occupy('10.42.2.0/25'), false, 'other mask size');
  assert.equal(s.allocateNext(), '10.42.2.0/24');
  assert.equal(s.allocateNext(), '10.42.3.0/24');
  assert.equal(s.allocateNext(), undefined, 'exhausted');
  s.release('10.42.1.0/24');
  assert.equal(s.allocateNext(), '10.42.1.0/24');
  assert.throws(() => new CidrSet('10.42.0.0/25', 24), /does not fit/);
  assert.throws(() => new CidrSet('nonsense'), /invalid cluster CIDR/);
});

const node = (name: string, podCIDR?: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });
const cidrOf = (c: FakeClient, name: string) => (c.peek('nodes', undefined, name) as any)?.spec?.podCIDR as string | undefined;

test('nodes without a pod CIDR get the next free block; existing blocks are kept and released on delete', async () => {
  const c = new FakeClient();
  c.seed('nodes', node('has', '10.42.0.0/24'));
  c.seed('nodes', node('a'));
  const ctl = new NodeIpamController(c, { clusterCIDR: '10.42.0.0/16' });
  const done = ctl.run();
  try {
    await until('a gets a CIDR', () => !!cidrOf(c, 'a'));
    assert.equal(cidrOf(c, 'a'), '10.42.1.0/24', 'the block "has" holds is not handed out again');
    assert.equal(cidrOf(c, 'has'), '10.42.0.0/24');
    assert.deepEqual((c.peek('nodes', undefined, 'a') as any).spec.podCIDRs, ['10.42.1.0/24']);
    await c.delete(NODES, undefined, 'has');
    await c.create(NODES, undefined, node('b'));
    await until('b gets a CIDR', () => !!cidrOf(c, 'b'));
    assert.ok(['10.42.0.0/24', '10.42.2.0/24'].includes(cidrOf(c, 'b')!), `b got ${cidrOf(c, 'b')}`);
  } finally {
    await ctl.stop();
    await done;
  }
});
