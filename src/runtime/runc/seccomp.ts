// The runtime's default seccomp profile (securityContext.seccompProfile: RuntimeDefault) for the OCI spec. Ours is a
// deny list: everything is allowed except the syscalls that reach past the container (kernel modules, kexec, the
// clock, swap, reboot, mounts and namespaces, keyrings, bpf/perf, handle-based opens, other processes' memory …),
// which fail with EPERM. A syscall the container's capabilities already grant (CAP_SYS_ADMIN for mount, CAP_SYS_TIME
// for the clock …) stays allowed, as containerd's profile does for those capabilities. Privileged containers get none.

export interface OciSeccomp {
  defaultAction: string;
  architectures: string[];
  syscalls: Array<{ names: string[]; action: string; errnoRet?: number }>;
}

/** Denied syscalls, and the capability (if any) whose holder may still make them. */
const DENIED: ReadonlyArray<[string[], string | undefined]> = [
  [['init_module', 'finit_module', 'delete_module', 'create_module', 'query_module', 'get_kernel_syms'], 'CAP_SYS_MODULE'],
  [['kexec_load', 'kexec_file_load', 'reboot'], 'CAP_SYS_BOOT'],
  [['settimeofday', 'clock_settime', 'clock_adjtime', 'stime', 'adjtimex'], 'CAP_SYS_TIME'],
  [['acct'], 'CAP_SYS_PACCT'],
  [['iopl', 'ioperm'], 'CAP_SYS_RAWIO'],
  [['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp'], 'CAP_SYS_PTRACE'],
  [['mount', 'umount', 'umount2', 'pivot_root', 'unshare', 'setns', 'swapon', 'swapoff', 'quotactl', 'lookup_dcookie', 'bpf', 'perf_event_open', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'syslog', 'sethostname', 'setdomainname'], 'CAP_SYS_ADMIN'],
  [['open_by_handle_at'], 'CAP_DAC_READ_SEARCH'],
  [['mbind', 'set_mempolicy', 'move_pages', 'migrate_pages'], 'CAP_SYS_NICE'],
  [['add_key', 'request_key', 'keyctl', 'userfaultfd', 'uselib', 'ustat', 'sysfs', '_sysctl', 'nfsservctl', 'vm86', 'vm86old'], undefined],
];

const ARCHES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

/** The RuntimeDefault profile for a container holding `capabilities` (CAP_* names) on `arch` (process.arch). */
export function runtimeDefaultSeccomp(capabilities: readonly string[], arch: string = process.arch): OciSeccomp {
  const names = DENIED.filter(([, cap]) => !cap || !capabilities.includes(cap)).flatMap(([n]) => n);
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ARCHES[arch] ?? [],
    syscalls: [{ names, action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  };
}
