// Pieces every owner-of-pods controller (ReplicaSet, DaemonSet, StatefulSet) repeats: the informer handler for the
// owner kind (enqueue its key; forget its expectations when it is deleted or replaced by a new uid) and deleting a
// batch of pods with upstream's SuccessfulDelete / FailedDelete events, settling expectations for failures.

import type { KubeObject } from '../../api/types.js';
import type { EventRecorder } from '../../client/events.js';
import type { EventHandler } from '../../client/informer.js';
import { isNotFound, objectKey, type Client } from '../../client/interface.js';
import { errorMessage } from '../controller.js';
import type { Expectations } from './expectations.js';
import { PODS } from '../../client/resources.js';

/** Owner informer handler: every change enqueues the owner; deletion or a new uid drops its expectations. */
export function ownerEventHandler(enqueue: (key: string) => void, expectations: Expectations): EventHandler {
  return {
    add: (o) => enqueue(objectKey(o)),
    update: (old, o) => {
      if (old.metadata.uid !== o.metadata.uid) expectations.delete(objectKey(old));
      enqueue(objectKey(o));
    },
    delete: (o) => {
      expectations.delete(objectKey(o));
      enqueue(objectKey(o));
    },
  };
}

/**
 * Deletes `pods` of `owner` in parallel, recording SuccessfulDelete or FailedDelete on the owner. A failed or
 * already-gone deletion is marked observed in `expectations` under `key` (the caller announced them all). Throws
 * the first failure other than NotFound, after every deletion has been tried.
 */
export async function deletePods(client: Client, recorder: EventRecorder, owner: KubeObject, key: string, expectations: Expectations, pods: KubeObject[]): Promise<void> {
  const errors: unknown[] = [];
  await Promise.all(
    pods.map(async (p) => {
      try {
        await client.delete(PODS, p.metadata.namespace, p.metadata.name ?? '');
        recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (e) {
        expectations.deletionObserved(key, objectKey(p));
        if (isNotFound(e)) return;
        recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
        errors.push(e);
      }
    }),
  );
  if (errors.length) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
}
