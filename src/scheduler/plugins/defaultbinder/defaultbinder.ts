// DefaultBinder: POST pods/NAME/binding with a Binding whose target is the Node (the API server sets
// spec.nodeName and PodScheduled=True; 409 if the pod is already bound).

import { PODS } from '../../../client/resources.js';
import type { BindPlugin, PluginFactory } from '../../framework/interface.js';
import { Status } from '../../framework/status.js';

export const NAME = 'DefaultBinder';

export const defaultBinder: PluginFactory = (_args, h): BindPlugin => ({
  name: NAME,
  async bind(_state, pod, nodeName) {
    const m = pod.pod.metadata;
    try {
      const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: m.name, namespace: m.namespace, uid: m.uid }, target: { kind: 'Node', name: nodeName } };
      await h.client.create(PODS, m.namespace, binding, 'binding');
      return Status.SUCCESS;
    } catch (e) {
      return Status.error(e);
    }
  },
});
