// The result every plugin returns instead of throwing (framework.Status): a code and upstream's reason strings,
// which the scheduler counts into the FailedScheduling message and the PodScheduled=False condition.

export type Code = 'Success' | 'Error' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Skip';

export class Status {
  /** Set by the framework to the plugin that returned the status. */
  plugin = '';
  /** The underlying error of an Error status (e.g. the ApiError of a failed binding). */
  cause: unknown;

  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
  ) {}

  static readonly SUCCESS: Status = Object.freeze(new Status('Success')) as Status;
  static readonly SKIP: Status = Object.freeze(new Status('Skip')) as Status;

  static unschedulable(...reasons: string[]): Status {
    return new Status('Unschedulable', reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status('UnschedulableAndUnresolvable', reasons);
  }

  static error(err: unknown): Status {
    const s = new Status('Error', [err instanceof Error ? err.message : String(err)]);
    s.cause = err;
    return s;
  }

  isSuccess(): boolean {
    return this.code === 'Success';
  }

  /** Unschedulable or UnschedulableAndUnresolvable: the pod does not fit (as opposed to an internal error). */
  isRejected(): boolean {
    return this.code === 'Unschedulable' || this.code === 'UnschedulableAndUnresolvable';
  }

  message(): string {
    return this.reasons.join(', ');
  }

  withPlugin(name: string): Status {
    if (this === Status.SUCCESS || this === Status.SKIP || Object.isFrozen(this)) {
      const s = new Status(this.code, this.reasons);
      s.plugin = name;
      s.cause = this.cause;
      return s;
    }
    this.plugin = name;
    return this;
  }
}
