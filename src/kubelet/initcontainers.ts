// What to do with a pod's init containers in one sync (upstream computeInitContainerActions, 1.32 with sidecars):
// regular init containers run one at a time, in order, each to a zero exit; sidecars (restartPolicy: Always) are
// started in order, let the next init container start once running and past their startup probe, and are restarted
// whenever they exit or fail a probe. Pure: the pod worker carries the plan out.

export interface InitState {
  /** restartPolicy: Always on the init container. */
  sidecar: boolean;
  /** The newest runtime instance, if any. */
  state?: 'created' | 'running' | 'exited';
  exitCode?: number;
  /** Running: past its startup probe (true without one). Not running: it has no startup probe (it will count as
   *  started as soon as it runs). */
  started: boolean;
  /** Its liveness or startup probe failed. */
  unhealthy: boolean;
  /** Its spec changed since it was created. */
  changed: boolean;
}

/** `start`: create a new instance (after back-off if one exited); `restart`: kill the running one first. */
export interface InitStep {
  index: number;
  action: 'start' | 'restart';
}

export interface InitPlan {
  /** In order; carried out until one cannot be (back-off, pull error), unless the pod was already initialized. */
  steps: InitStep[];
  /** Regular containers may run (once the steps succeed). */
  initialized: boolean;
  /** A regular init container failed under restartPolicy Never: the pod fails. */
  failed?: number;
}

export const isSidecar = (c: object): boolean => (c as { restartPolicy?: unknown }).restartPolicy === 'Always';

/**
 * `previouslyInitialized`: the pod's Initialized condition was True. Such a pod never goes back to initializing:
 * regular init containers whose records are gone are not rerun, and a sidecar in back-off holds nothing up.
 */
export function planInitContainers(inits: InitState[], restartPolicy: string, previouslyInitialized: boolean): InitPlan {
  const steps: InitStep[] = [];
  const blocked = (): InitPlan => ({ steps, initialized: previouslyInitialized });
  for (let i = 0; i < inits.length; i++) {
    const x = inits[i]!;
    if (!x.sidecar) {
      if (x.state === 'exited' && (x.exitCode ?? 0) === 0) continue;
      if (previouslyInitialized) continue;
      if (x.state === 'running' || x.state === 'created') return blocked();
      if (x.state === 'exited' && restartPolicy === 'Never') return { steps, initialized: false, failed: i };
      steps.push({ index: i, action: 'start' });
      return blocked();
    }
    if (x.state === 'running') {
      if (x.unhealthy || x.changed) {
        steps.push({ index: i, action: 'restart' });
        if (!previouslyInitialized) return blocked();
        continue;
      }
      if (!x.started && !previouslyInitialized) return blocked();
      continue;
    }
    if (x.state === 'created') {
      if (!previouslyInitialized) return blocked();
      continue;
    }
    // Exited or never started: (re)start it. Without a startup probe it counts as started once it runs, so the
    // next init container may follow in the same sync; with one, the probe's success brings the next sync.
    steps.push({ index: i, action: 'start' });
    if (!previouslyInitialized && !x.started) return blocked();
  }
  return { steps, initialized: true };
}
