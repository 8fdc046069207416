// DefaultBinder: POST pods/NAME/binding with a Binding whose target is the Node (the API server sets
// spec.nodeName and PodScheduled=True; 409 if the pod is already bound).

import type { Resource } from '../../../client/interface.js';
import type { BindPlugin, PluginFactory } from '../../framework/interface.js';
import { Status } from '../../framework/status.js';

export const NAME = 'DefaultBinder';

/** The pods/binding subresource, addressed as a collection so Client.create POSTs to it. */
export const bindingResource = (pod: string): Resource => ({ group: '', version: 'v1', resource: `pods/${encodeURIComponent(pod)}/binding`, namespaced: true });

export const defaultBinder: PluginFactory = (_args, h): BindPlugin => ({
  name: NAME,
  async bind(_state, pod, nodeName) {
    const m = pod.pod.metadata;
    try {
      await h.client.create(bindingResource(m.name ?? ''), m.namespace, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: m.name, namespace: m.namespace, uid: m.uid },
        target: { kind: 'Node', name: nodeName },
      });
      return Status.SUCCESS;
    } catch (e) {
      return Status.error(e);
    }
  },
});
