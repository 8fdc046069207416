// EndpointSlice: port defaults, address validation by type, and the columns.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { messages, obj } from '../meta/testutil.js';
import { endpointSliceKind } from './endpointslice.js';

const NOW = Date.parse('2024-01-01T00:05:00Z');
const eps = (extra: Record<string, unknown>) => obj('discovery.k8s.io/v1', 'EndpointSlice', 'web-abc', extra);

describe('EndpointSlice', () => {
  test('ports default to name "" and TCP; a valid slice passes; columns', () => {
    const e = eps({ addressType: 'IPv4', endpoints: [{ addresses: ['10.42.0.5'] }, { addresses: ['10.42.0.6'] }], ports: [{ port: 8080 }] });
    endpointSliceKind.defaults!(e);
    assert.deepEqual(e.ports, [{ port: 8080, name: '', protocol: 'TCP' }]);
    assert.deepEqual(endpointSliceKind.validate!(e), []);
    assert.deepEqual(endpointSliceKind.table!.cells(e, NOW), ['web-abc', 'IPv4', '8080', '10.42.0.5,10.42.0.6', '5m']);
  });
  test('address checks follow the address type', () => {
    const e = eps({ addressType: 'IPv4', endpoints: [{ addresses: ['fd00::1', '127.0.0.1'] }, { addresses: [] }], ports: [{ name: 'Http', protocol: 'ICMP' }] });
    assert.deepEqual(messages(endpointSliceKind.validate!(e)), [
      'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
      'endpoints[0].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      'endpoints[1].addresses: Required value: must contain at least 1 address',
      "ports[0].name: Invalid value: \"Http\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      'ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]);
  });
  test('addressType is required, supported and immutable', () => {
    assert.deepEqual(messages(endpointSliceKind.validate!(eps({}))), ['addressType: Required value']);
    assert.deepEqual(messages(endpointSliceKind.validateUpdate!(eps({ addressType: 'IPv6' }), eps({ addressType: 'IPv4' }))), ['addressType: Invalid value: "IPv6": field is immutable']);
  });
  test('more than three entries are summarised', () => {
    const e = eps({ addressType: 'FQDN', endpoints: [{ addresses: ['a.example.com', 'b.example.com'] }, { addresses: ['c.example.com', 'd.example.com'] }], ports: [] });
    assert.deepEqual(endpointSliceKind.table!.cells(e, NOW).slice(2, 4), ['<unset>', 'a.example.com,b.example.com,c.example.com + 1 more...']);
  });
});
