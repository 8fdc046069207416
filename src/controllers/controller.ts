// The contract between the controller manager and its controllers, and the logger they share.

export interface Controller {
  readonly name: string;
  /** Starts informers, waits for their caches, then runs workers until stop(). Resolves once stopped. */
  run(): Promise<void>;
  /** Shuts the queue and informers down; resolves when in-flight syncs have finished. */
  stop(): Promise<void>;
}

export type Logger = (msg: string) => void;

export const consoleLogger =
  (component: string): Logger =>
  (msg) =>
    console.error(`${new Date().toISOString()} ${component}: ${msg}`);

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
