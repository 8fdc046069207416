// The sandbox's managed files (etcfiles.ts) as tables: /etc/hosts with and without a subdomain and hostAliases,
// and resolv.conf from a DNS config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFile, resolvConf } from './etcfiles.js';

test('hostsFile: the pod line, upstream-style with a domain; aliases after', () => {
  const own = (text: string) => text.split('\n').filter((l) => l.startsWith('10.42.0.9'));
  assert.deepEqual(own(hostsFile('10.42.0.9', 'kubia')), ['10.42.0.9\tkubia']);
  assert.deepEqual(own(hostsFile('10.42.0.9', 'web-0', [], 'web.db.svc.cluster.local')), ['10.42.0.9\tweb-0.web.db.svc.cluster.local\tweb-0']);
  const withAliases = hostsFile('10.42.0.9', 'p', [{ ip: '192.0.2.1', hostnames: ['a', 'b'] }]);
  assert.match(withAliases, /\n# Entries added by HostAliases\.\n192\.0\.2\.1\ta\tb\n$/);
  assert.doesNotMatch(hostsFile(undefined, 'p'), /\tp$/m);
});

test('resolvConf', () => {
  assert.equal(resolvConf({ servers: ['10.43.0.10'], searches: ['ns.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] }), 'search ns.svc.cluster.local svc.cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n');
  assert.equal(resolvConf({ servers: [], searches: [], options: [] }), '\n');
});
