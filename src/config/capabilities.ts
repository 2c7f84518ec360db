// Linux capabilities by name (capabilities(7)): the `capabilities` key's schema and the bit mask nsvisor-init keeps.
import { z } from 'zod';

/** Index = the capability's number in the kernel (include/uapi/linux/capability.h), up to 6.x's last. */
export const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** "CAP_NET_BIND_SERVICE", "NET_BIND_SERVICE" or "net_bind_service" -> "CAP_NET_BIND_SERVICE"; null when unknown. */
export function capabilityName(text: string): `CAP_${Capability}` | null {
  const bare = text.toUpperCase().replace(/^CAP_/, '');
  return (CAPABILITIES as readonly string[]).includes(bare) ? (`CAP_${bare}` as `CAP_${Capability}`) : null;
}

/** One capability name, normalized to CAP_*. */
export const capabilitySchema = z.string().transform((text, ctx) => {
  const name = capabilityName(text);
  if (name) return name;
  ctx.addIssue({ code: 'custom', message: `unknown capability "${text}" (expected a name of capabilities(7), e.g. CAP_NET_BIND_SERVICE)` });
  return z.NEVER;
});

/** The set as nsvisor-init's --caps takes it: a hexadecimal mask, bit N for capability N. */
export function capabilityMask(names: readonly string[]): string {
  let mask = 0n;
  for (const n of names) {
    const bit = CAPABILITIES.indexOf(n.replace(/^CAP_/, '') as Capability);
    if (bit < 0) throw new Error(`unknown capability "${n}"`);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16);
}
