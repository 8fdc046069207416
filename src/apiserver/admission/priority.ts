// Priority admission (upstream plugin/pkg/admission/priority) plus the PriorityClass delete guard of upstream's
// priorityclass REST storage: a new pod's spec.priorityClassName (or the globalDefault class when it names none)
// becomes spec.priority and spec.preemptionPolicy; an unknown class or a contradicting value is refused; updates
// keep what creation resolved; at most one class may be globalDefault; the built-in system classes (created by
// the API server's bootstrap) cannot be deleted.

import { forbiddenError, qualified } from '../../api/errors.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/kinds/scheduling/priorityclass.js';
import type { KindDef } from '../../api/kinds/types.js';
import type { KubeObject } from '../../api/types.js';
import type { AdmissionPlugin, Attributes } from '../admission.js';
import { ObjectCache } from './cache.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/** Upstream DefaultPriorityWhenNoDefaultClassExists. */
const DEFAULT_PRIORITY = 0;
const DEFAULT_POLICY = 'PreemptLowerPriority';

/** Upstream getDefaultPriorityClass: the globalDefault class; the lowest value if a race left several. */
export function defaultPriorityClass(classes: KubeObject[]): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const pc of classes) if (pc.globalDefault === true && (!best || Number(pc.value) < Number(best.value))) best = pc;
  return best;
}

/**
 * The name a mutating plugin's refusal shows. Upstream's mutating admission runs before generateName is applied,
 * so a generated pod is refused under its generateName; here the name is already generated, so undo that.
 */
function mutatingName(o: KubeObject): string {
  const { name = '', generateName } = o.metadata;
  if (generateName && name.length === generateName.length + 5 && name.startsWith(generateName)) return generateName;
  return name || generateName || 'Unknown';
}

export function priorityAdmission(kind: (group: string, plural: string) => KindDef | undefined): AdmissionPlugin {
  const classesDef = (): KindDef | undefined => kind('scheduling.k8s.io', 'priorityclasses');
  // Pods read classes from a watch-fed cache (upstream: a lister); a class it lacks is looked up live.
  const cache = new ObjectCache(classesDef);
  const isPods = (a: Attributes): boolean => a.def.group === '' && a.def.plural === 'pods';
  const isClasses = (a: Attributes): boolean => a.def === classesDef();
  const refuse = (a: Attributes, name: string, why: string): Error =>
    forbiddenError(`${qualified(a.def.plural, a.def.group)} "${name}" is forbidden: ${why}`, { name, group: a.def.group, kind: a.def.plural });

  async function admitPod(a: Attributes): Promise<void> {
    const pod = a.object!;
    const spec = obj(pod.spec);
    if (a.operation === 'UPDATE') {
      // Creation set these; an update that leaves them out keeps them (validation forbids changing them).
      const old = obj(a.oldObject?.spec);
      if (!isSet(spec.priority) && isSet(old.priority)) spec.priority = old.priority;
      if (!isSet(spec.preemptionPolicy) && isSet(old.preemptionPolicy)) spec.preemptionPolicy = old.preemptionPolicy;
      return;
    }
    const def = classesDef();
    if (!def) return;
    let className = str(spec.priorityClassName);
    let priority: number;
    let policy: string | undefined;
    if (!className) {
      const dpc = defaultPriorityClass(cache.list(a.store, undefined) ?? (await a.store.list(def, undefined)).items);
      if (dpc) {
        className = dpc.metadata.name ?? '';
        priority = Number(dpc.value);
        policy = str(dpc.preemptionPolicy) || undefined;
      } else {
        priority = DEFAULT_PRIORITY;
        policy = DEFAULT_POLICY;
      }
    } else {
      const pc = cache.get(a.store, undefined, className) ?? (await a.store.tryGet(def, undefined, className));
      if (!pc) throw refuse(a, mutatingName(pod), `no PriorityClass with name ${className} was found`);
      priority = Number(pc.value);
      policy = str(pc.preemptionPolicy) || undefined;
    }
    if (className) spec.priorityClassName = className;
    const givenPriority = spec.priority;
    if (isSet(givenPriority) && givenPriority !== priority)
      throw refuse(a, mutatingName(pod), `the integer value of priority (${String(givenPriority)}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
    spec.priority = priority;
    if (policy) {
      const given = spec.preemptionPolicy;
      if (isSet(given) && given !== policy)
        throw refuse(a, mutatingName(pod), `the string value of PreemptionPolicy (${String(given)}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
      spec.preemptionPolicy = policy;
    }
  }

  return {
    name: 'Priority',
    async mutate(a) {
      if (a.subresource || !a.object || !isPods(a)) return;
      if (a.operation === 'CREATE' || a.operation === 'UPDATE') await admitPod(a);
    },
    async validate(a) {
      if (a.subresource || !isClasses(a)) return;
      if (a.operation === 'DELETE') {
        if (SYSTEM_PRIORITY_CLASSES.some((c) => c.name === a.name)) throw refuse(a, a.name, 'this is a system priority class and cannot be deleted');
        return;
      }
      if ((a.operation !== 'CREATE' && a.operation !== 'UPDATE') || a.object?.globalDefault !== true) return;
      const dpc = defaultPriorityClass((await a.store.list(a.def, undefined)).items);
      if (dpc && (a.operation === 'CREATE' || dpc.metadata.name !== a.name))
        throw refuse(a, a.name, `PriorityClass ${dpc.metadata.name ?? ''} is already marked as default. Only one default can exist`);
    },
  };
}
