// The lifecycle hook runner (HookRunner of ../types.ts): postStart/preStop handlers exec, httpGet and sleep, bounded
// by the caller's timeout (for preStop the grace period), rejecting with the message upstream's handler runner builds
// for the FailedPostStartHook / FailedPreStopHook events (upstream's FailedPreStopHook event itself only says
// "PreStop hook failed", so that secrets in the output do not leak into events).
import type { RuntimeService } from '../../runtime/interface.js';
import type { Container, HookRunner, Pod } from '../types.js';
import { execIn, ExecTimeoutError, expandCommand, goQuote, httpGet, httpGetSpec, type Dial } from './handlers.js';

export interface HookRunnerOptions {
  runtime: RuntimeService;
  dial: Dial;
}

/** The event message upstream records for a failed preStop hook. */
export const PRESTOP_FAILED_MESSAGE = 'PreStop hook failed';

/** upstream's format.Pod: `name_namespace(uid)`. */
function formatPod(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

export class LifecycleHookRunner implements HookRunner {
  constructor(private readonly opts: HookRunnerOptions) {}

  async run(pod: Pod, container: Container, containerId: string, handler: Record<string, any>, podIP: string, timeoutMs: number): Promise<void> {
    const who = `for Container ${goQuote(container.name)} in Pod ${goQuote(formatPod(pod))}`;
    if (handler.exec) {
      const cmd = expandCommand((handler.exec.command as string[] | undefined) ?? [], container);
      let error: string | undefined;
      let output = '';
      try {
        const r = await execIn(this.opts.runtime, containerId, cmd, Math.max(1, Math.ceil(timeoutMs / 1000)));
        output = r.stdout + r.stderr;
        if (r.code !== 0) error = `command '${cmd.join(' ')}' exited with ${r.code}: ${r.stderr}`;
      } catch (e) {
        error = e instanceof ExecTimeoutError ? e.message : (e as Error).message;
      }
      if (error !== undefined) throw new Error(`Exec lifecycle hook ([${cmd.join(' ')}]) ${who} failed - error: ${error}, message: ${goQuote(output)}`);
      return;
    }
    if (handler.httpGet) {
      const path = (handler.httpGet.path as string | undefined) ?? '';
      try {
        const host = (handler.httpGet.host as string | undefined) || podIP;
        if (!host) throw new Error('failed to find networking container: the pod has no IP');
        // As upstream, any response counts: the status code of a hook's response is not checked.
        await httpGet(this.opts.dial, httpGetSpec(handler.httpGet, container, host, 'lifecycle'), timeoutMs);
      } catch (e) {
        throw new Error(`HTTP lifecycle hook (${path}) ${who} failed - error: ${(e as Error).message}`);
      }
      return;
    }
    if (handler.sleep) {
      const seconds = Number(handler.sleep.seconds ?? 0);
      if (seconds * 1000 > timeoutMs) {
        await new Promise((r) => setTimeout(r, timeoutMs));
        throw new Error(`Sleep lifecycle hook (${seconds}) ${who} failed - error: container terminated before sleep hook finished`);
      }
      await new Promise((r) => setTimeout(r, seconds * 1000));
      return;
    }
    throw new Error(`Cannot run handler: invalid handler: ${JSON.stringify(handler)}`);
  }
}
