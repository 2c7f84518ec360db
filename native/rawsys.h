/* Raw Linux system calls that never touch errno or any other libc state: the only calls a CLONE_VM child may make. */
#ifndef NSV_RAWSYS_H
#define NSV_RAWSYS_H

#include <sys/syscall.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* Each returns the kernel's answer: a value >= 0, or -errno. */
#if defined(__x86_64__)
static inline long nsv_sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
static inline long nsv_sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc #0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
}
#else
#error "nsvisor's spawn path supports x86_64 and aarch64"
#endif

#define nsv_sys0(n) nsv_sys6((n), 0, 0, 0, 0, 0, 0)
#define nsv_sys1(n, a) nsv_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define nsv_sys2(n, a, b) nsv_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define nsv_sys3(n, a, b, c) nsv_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define nsv_sys4(n, a, b, c, d) nsv_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define nsv_sys5(n, a, b, c, d, e) nsv_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif
