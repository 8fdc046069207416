// Table tests of the WebSocket channel protocol pieces: frames, resize messages, exit Status, stream options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitStatus, frame, parseResize, streamOptions } from './channels.js';

test('frame prefixes the stream id', () => {
  assert.deepEqual([...frame(1, 'hi')], [1, 0x68, 0x69]);
  assert.deepEqual([...frame(3, Buffer.alloc(0))], [3]);
});

test('parseResize', () => {
  assert.deepEqual(parseResize(Buffer.from('{"Width":80,"Height":24}')), { width: 80, height: 24 });
  assert.equal(parseResize(Buffer.from('{"Width":"80"}')), undefined);
  assert.equal(parseResize(Buffer.from('nope')), undefined);
});

test('exitStatus: Success for 0, NonZeroExitCode with the code as ExitCode cause otherwise', () => {
  assert.deepEqual(exitStatus(0), { metadata: {}, status: 'Success' });
  const s = exitStatus(3) as { status: string; reason: string; details: { causes: Array<{ reason: string; message: string }> } };
  assert.equal(s.status, 'Failure');
  assert.equal(s.reason, 'NonZeroExitCode');
  assert.deepEqual(s.details.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('streamOptions: tty drops stderr', () => {
  assert.deepEqual(streamOptions(new URLSearchParams('stdin=true&stdout=true&stderr=true')), { stdin: true, stdout: true, stderr: true, tty: false });
  assert.deepEqual(streamOptions(new URLSearchParams('stdin=true&stdout=true&tty=true&stderr=true')), { stdin: true, stdout: true, stderr: false, tty: true });
});
