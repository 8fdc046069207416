// The kubelet's inner seams: what the pod workers (kubelet core) ask of the volume manager, the prober and the
// lifecycle-hook runner, and the CRI labels by which the kubelet's HTTPS server (logs, exec, attach, port-forward,
// stats) finds a pod's containers in the runtime. Each seam has one implementation in its own folder
// (volume/, prober/, server/); the core depends only on these interfaces.

import type { KubeObject } from '../api/types.js';
import type { Mount, RuntimeService } from '../runtime/interface.js';

// ---- core/v1 as the kubelet reads it (loose: objects from the API may omit any field) ------------------------------

/** A core/v1 Pod as the kubelet reads it; spec and status are the wire format (see src/api/kinds/core/podspec.ts). */
export interface Pod extends KubeObject {
  spec?: Record<string, any>;
  status?: Record<string, any>;
}

/** A core/v1 Container (or init container) of a pod spec. */
export type Container = Record<string, any> & { name: string };

// ---- CRI labels and annotations (as upstream's kubelet sets them on sandboxes and containers) -----------------------

export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
/** Container annotation: the restart count this container instance stands for (also its metadata.attempt). */
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
/** Container annotation: the pod's terminationGracePeriodSeconds, so a restarted kubelet can stop it correctly. */
export const ANNOTATION_TERMINATION_GRACE = 'io.kubernetes.pod.terminationGracePeriod';

// ---- volumes (src/kubelet/volume) ------------------------------------------------------------------------------------

/** A volume the pod cannot get (missing ConfigMap/Secret/key, unbound PVC, bad hostPath type …). */
export class VolumeError extends Error {
  constructor(
    message: string,
    /** Event reason as upstream: FailedMount, FailedAttachVolume … */
    readonly reason = 'FailedMount',
  ) {
    super(message);
    this.name = 'VolumeError';
  }
}

/** A container's volumeMounts that cannot be honoured (subPath escaping the volume, unknown volume …). */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

export interface VolumeManager {
  /**
   * Makes every volume of the pod ready on the host under the pod's directory. Idempotent: the pod worker calls it
   * on every sync, which is how ConfigMap/Secret/downwardAPI/projected contents follow their sources (atomically,
   * through the `..data` symlink swap upstream uses). Rejects with VolumeError naming the volume.
   */
  setUpPod(pod: Pod): Promise<void>;
  /** The runtime mounts for one container's volumeMounts (subPath, subPathExpr, readOnly, mountPropagation). */
  containerMounts(pod: Pod, container: Container): Promise<Mount[]>;
  /** Unmounts and deletes the pod's volume directories once its containers are gone (idempotent). */
  tearDownPod(podUid: string): Promise<void>;
  /** Pod uids that still have a directory on disk (orphans are torn down after a kubelet restart). */
  podsOnDisk(): Promise<string[]>;
}

// ---- probes and lifecycle hooks (src/kubelet/prober) -----------------------------------------------------------------

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeResult {
  podUid: string;
  containerName: string;
  /** The container instance the result is about (results for an older instance are stale). */
  containerId: string;
  kind: ProbeKind;
  /** After the probe's success/failure thresholds: the state changed to this. */
  success: boolean;
  /** Upstream's event message on failure, e.g. `Liveness probe failed: HTTP probe failed with statuscode: 500`. */
  message?: string;
}

export interface ProbeManager {
  /** Starts the container's startup/liveness/readiness probes (initialDelaySeconds counted from now). */
  addContainer(pod: Pod, container: Container, containerId: string, podIP: string): void;
  /** Stops the probes of one container instance (it exited or is being restarted). */
  removeContainer(podUid: string, containerName: string): void;
  removePod(podUid: string): void;
  /** Readiness as the Ready condition needs it: false until a readiness probe succeeds; true without a probe once started. */
  isReady(podUid: string, containerName: string): boolean;
  /** The startup probe has succeeded (true without one). */
  isStarted(podUid: string, containerName: string): boolean;
  /** Called on every state change; a liveness/startup failure means: kill the container and apply restartPolicy. */
  onResult(listener: (r: ProbeResult) => void): void;
  stop(): Promise<void>;
}

/** Runs a container's postStart/preStop handler (exec, httpGet, tcpSocket, sleep). */
export interface HookRunner {
  /** Resolves when the handler finished; rejects with the message upstream puts into FailedPostStartHook/FailedPreStopHook. */
  run(pod: Pod, container: Container, containerId: string, handler: Record<string, any>, podIP: string, timeoutMs: number): Promise<void>;
}

// ---- what the kubelet's HTTPS server needs from the kubelet -----------------------------------------------------------

/** The node-side view the streaming and stats server (src/kubelet/server) is built on. */
export interface KubeletBackend {
  nodeName: string;
  runtime: RuntimeService;
  /** The pods the kubelet currently runs (from its informer), for /pods and stats. */
  pods(): Pod[];
}
