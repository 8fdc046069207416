// The container runtime seam (CRI-shaped, after k8s.io/cri-api runtime/v1): what the kubelet asks of a node's
// runtime — pod sandboxes, containers, images, exec/attach/port-forward streams and stats. Implementations:
// runc (src/runtime/runc, default: runc + conmon + CNI), and later a `cri` one (containerd over gRPC). One
// contract suite (src/runtime/contract.test.ts) runs against each. Plain data in and out; no Kubernetes objects.

// ---- images (CRI ImageService) -----------------------------------------------------------------------------------

export interface AuthConfig {
  username?: string;
  password?: string;
  /** A registry token (identitytoken / registrytoken) used as a bearer. */
  token?: string;
}

/** The parts of an OCI image config the runtime needs to run it. */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  exposedPorts?: string[];
  labels?: Record<string, string>;
  stopSignal?: string;
}

export interface Image {
  /** The image ID: `sha256:<hex>` of the config blob. */
  id: string;
  /** Tags, normalised (`docker.io/library/busybox:1.36`). */
  repoTags: string[];
  /** `<repo>@sha256:<manifest digest>`. */
  repoDigests: string[];
  /** Bytes on disk (sum of layer blobs). */
  size: number;
  config: ImageConfig;
}

export interface PullProgress {
  ref: string;
  layer?: string;
  bytes: number;
  total?: number;
}

export interface ImageService {
  /** Pulls `ref` (registry API v2) unless present; resolves with the image. Errors are ImagePullError. */
  pullImage(ref: string, auth?: AuthConfig, onProgress?: (p: PullProgress) => void): Promise<Image>;
  /** The image `ref` names (tag, digest or ID), or undefined when not stored locally. */
  imageStatus(ref: string): Promise<Image | undefined>;
  listImages(): Promise<Image[]>;
  /** Removes the tag (or the image by ID); layers go when no image uses them. */
  removeImage(ref: string): Promise<void>;
  /** Imports an OCI-layout or docker-archive tar; resolves with the images it held. */
  importImage(tarPath: string): Promise<Image[]>;
  /** A fresh writable rootfs for a container: overlayfs of the image's layers plus an own upper dir. */
  mountRootfs(imageId: string, containerId: string): Promise<string>;
  /** Unmounts and deletes the container's writable layer (idempotent). */
  removeRootfs(containerId: string): Promise<void>;
  /** Disk usage of the image store (for node ephemeral-storage / ImageFsInfo). */
  fsInfo(): Promise<{ usedBytes: number; inodesUsed: number }>;
}

export class ImagePullError extends Error {
  constructor(
    message: string,
    /** CRI-style reason: ErrImagePull, or a more specific one upstream surfaces the same way. */
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName' = 'ErrImagePull',
  ) {
    super(message);
    this.name = 'ImagePullError';
  }
}

// ---- pod sandboxes (CRI RuntimeService) -----------------------------------------------------------------------------

export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

export interface DNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface PodSandboxConfig {
  /** Pod metadata: name, uid, namespace, attempt (restarts of the sandbox). */
  metadata: { name: string; uid: string; namespace: string; attempt: number };
  hostname: string;
  /** The pod's DNS domain when it has a subdomain (`<subdomain>.<ns>.svc.<cluster domain>`): /etc/hosts names it. */
  hostDomain?: string;
  /** Directory for the pod's container logs (`/var/log/pods/<ns>_<name>_<uid>`). */
  logDirectory: string;
  dnsConfig?: DNSConfig;
  /** Extra /etc/hosts entries (hostAliases) beyond localhost and the pod's own name. */
  hostAliases?: Array<{ ip: string; hostnames: string[] }>;
  portMappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Relative cgroup parent for the pod (e.g. `k8ts/kubepods/burstable/pod<uid>`); see environment.md quirk 1. */
  cgroupParent: string;
  hostNetwork: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  /** Sysctls to set in the sandbox (net.* namespaced ones). */
  sysctls?: Record<string, string>;
}

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandbox {
  id: string;
  metadata: PodSandboxConfig['metadata'];
  state: SandboxState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxStatus extends PodSandbox {
  /** Pod IP (first) and all IPs; empty for hostNetwork. */
  network: { ip: string; additionalIps: string[] };
  /** The sandbox's network namespace path (`/run/netns/…` or `/proc/<pid>/ns/net`). */
  netnsPath?: string;
}

// ---- containers ------------------------------------------------------------------------------------------------------

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  /** Mount propagation: private (default), rslave (HostToContainer), rshared (Bidirectional). */
  propagation?: 'private' | 'rslave' | 'rshared';
  /** Mount a tmpfs at containerPath instead of a bind mount (hostPath ignored); sizeBytes caps it. */
  tmpfs?: { sizeBytes?: number };
}

export interface LinuxResources {
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitBytes?: number;
  pidsLimit?: number;
  /** Never lowered here (no CAP_SYS_RESOURCE, environment.md quirk 2); kept for the cri implementation. */
  oomScoreAdj?: number;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  /** When set and runAsUser is unset, the image's user must resolve to a non-zero UID (CreateContainerConfigError). */
  runAsNonRoot?: boolean;
  readonlyRootfs?: boolean;
  privileged?: boolean;
  capabilities?: { add: string[]; drop: string[] };
  noNewPrivs?: boolean;
  /** securityContext.seccompProfile: the runtime's default profile, none, or a profile file (not supported by runc here). */
  seccomp?: { type: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostProfile?: string };
}

export interface ContainerConfig {
  metadata: { name: string; attempt: number };
  /** Image ID (from ImageService) to run. */
  image: string;
  /** Already resolved by the kubelet from the pod spec and the image config (entrypoint/cmd rules). */
  command: string[];
  args: string[];
  workingDir?: string;
  envs: Array<{ key: string; value: string }>;
  mounts: Mount[];
  /** Relative to the sandbox's logDirectory: `<container>/<attempt>.log`, CRI log format. */
  logPath: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: { resources: LinuxResources; securityContext: SecurityContext };
  /** Signal to stop with (image STOPSIGNAL; default SIGTERM). */
  stopSignal?: string;
}

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerConfig['metadata'];
  image: string;
  state: ContainerState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerStatus extends Container {
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  /** CRI reasons: `OOMKilled`, `Completed`, `Error`, `ContainerCannotRun`. */
  reason?: string;
  message?: string;
  /** Absolute path of the CRI-format log file. */
  logPath: string;
}

export interface ContainerFilter {
  podSandboxId?: string;
  state?: ContainerState;
  labelSelector?: Record<string, string>;
}

// ---- streams ---------------------------------------------------------------------------------------------------------

/** Byte streams of an exec/attach session; resize only with a TTY. Resolves with the exit code. */
export interface StreamIO {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  tty: boolean;
  /** Terminal size changes (TTY only). */
  onResize?: (listener: (size: { width: number; height: number }) => void) => void;
  /** Aborted when the client has gone: an attach ends then instead of when the container exits. */
  signal?: AbortSignal;
}

// ---- stats -----------------------------------------------------------------------------------------------------------

export interface ContainerStats {
  containerId: string;
  timestamp: number;
  /** Cumulative CPU time in nanoseconds (cpuacct.usage). */
  cpuUsageCoreNanoSeconds: number;
  /** CPU rate over the last sampling interval, in nanocores (as metrics-server reports it); absent on the first sample. */
  cpuUsageNanoCores?: number;
  /** Working set bytes (memory.usage_in_bytes − total_inactive_file), as upstream. */
  memoryWorkingSetBytes: number;
  memoryUsageBytes: number;
  /** Bytes of the container's writable layer. */
  writableLayerBytes: number;
}

// ---- the seam ------------------------------------------------------------------------------------------------------

export interface RuntimeVersion {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

/** Errors a runtime reports in CRI terms (the gRPC status codes upstream's runtimes return). */
export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly code: 'NotFound' | 'DeadlineExceeded' | 'FailedPrecondition' | 'Unknown' = 'Unknown',
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

export interface RuntimeService {
  version(): Promise<RuntimeVersion>;
  /** CRI UpdateRuntimeConfig: the node's pod CIDR once the Node object has one (network-less runtimes omit it). */
  updateRuntimeConfig?(config: { podCidr: string }): Promise<void>;

  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops every container of the sandbox (forcibly) and tears its network down; idempotent. */
  stopPodSandbox(id: string): Promise<void>;
  /** Removes a stopped sandbox and its containers; idempotent. */
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandboxes(filter?: { state?: SandboxState; labelSelector?: Record<string, string> }): Promise<PodSandbox[]>;

  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Sends the stop signal, waits up to timeoutSeconds, then SIGKILL; idempotent on an exited container. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  /** Resolves when the container exits (for the kubelet's event loop instead of polling). */
  waitContainer(id: string): Promise<ContainerStatus>;

  /**
   * Runs cmd in the container and streams it; resolves with its exit code (probes use it without streams).
   * Past timeoutSeconds the process is killed and the call rejects with RuntimeError code DeadlineExceeded.
   */
  exec(id: string, cmd: string[], io: StreamIO, timeoutSeconds?: number): Promise<number>;
  /** Attaches to the container's main process streams. */
  attach(id: string, io: StreamIO): Promise<void>;
  /** A bidirectional TCP connection to `port` inside the sandbox's network namespace. */
  portForward(podSandboxId: string, port: number): Promise<import('node:stream').Duplex>;
  /** Reopens the container's log file (after rotation). */
  reopenContainerLog(id: string): Promise<void>;

  containerStats(id: string): Promise<ContainerStats>;
  listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]>;
}

/** A whole node runtime as the kubelet gets it. */
export interface Runtime {
  runtime: RuntimeService;
  images: ImageService;
  /** Releases processes and watchers the implementation holds (containers keep running). */
  close(): Promise<void>;
}
