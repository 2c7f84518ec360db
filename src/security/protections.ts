// What a service or sandbox is protected by (SPEC 2, 3): its capabilities, no_new_privs, seccomp profile and hardened mounts, from its keys. Pure.
import { CAPABILITIES } from '../config/capabilities';

/** The 14 capabilities of Docker's and containerd's default set: what a root service keeps unless told otherwise. */
export const DEFAULT_CAPABILITIES = [
  'CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
] as const;

export const ALL_CAPABILITIES = CAPABILITIES.map((c) => `CAP_${c}`);

/** The keys protections come from (a service's or `nsvisor sandbox`'s). */
export interface ProtectionKeys {
  user?: string;
  capabilities: 'all' | 'default' | readonly string[];
  noNewPrivileges: boolean;
  seccomp: string;
  privileged: boolean;
  devices: readonly string[];
}

export type SeccompChoice = { kind: 'default' } | { kind: 'file'; path: string } | null;

export interface Protections {
  /** The capabilities kept (CAP_* names), or null for every one. */
  capabilities: string[] | null;
  /** Raise them as ambient too: a list given for a user that is not root (whose others are lost at exec). */
  ambient: boolean;
  noNewPrivileges: boolean;
  /** The filter installed before the command runs; null: none. */
  seccomp: SeccompChoice;
  /** /proc's sensitive files masked, /sys read-only, only its own cgroup (read-only), a /dev of its own. */
  hardened: boolean;
  /** Host devices passed into its own /dev. */
  devices: string[];
}

/** `privileged: true` is all of today's openness at once: every capability, no filter, the host's /dev, nothing masked. */
export function protectionsOf(k: ProtectionKeys): Protections {
  if (k.privileged) return { capabilities: null, ambient: false, noNewPrivileges: k.noNewPrivileges, seccomp: null, hardened: false, devices: [] };
  const root = !k.user || k.user.split(':')[0] === '0';
  const capabilities = k.capabilities === 'all' ? null : k.capabilities === 'default' ? [...DEFAULT_CAPABILITIES] : [...k.capabilities];
  const seccomp: SeccompChoice = k.seccomp === 'unconfined' ? null : k.seccomp === 'default' ? { kind: 'default' } : { kind: 'file', path: k.seccomp };
  return {
    capabilities,
    // Docker's way: the default set bounds what a user that is not root may get back (setuid), but gives it none;
    // a set named for it is what it keeps.
    ambient: !root && Array.isArray(k.capabilities),
    noNewPrivileges: k.noNewPrivileges,
    seccomp,
    hardened: true,
    devices: [...k.devices],
  };
}
