/* rtnetlink operations for bridges, veth pairs, addresses, routes and link moves; each fills `step` when it fails. */
#ifndef NSV_NETLINK_H
#define NSV_NETLINK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NSV_NL_STEP_MAX 160

/* Addresses are IPv4 in host byte order; every function returns 0 or -errno and, on failure, names the step. */

/* A NETLINK_ROUTE socket of the calling thread's network namespace, or of pid's (pid > 0: setns on this thread only). */
int nsv_nl_open(int pid, char *step);

/* A NETLINK_ROUTE socket of the network namespace that nsfd refers to (`what` names it in the step). */
int nsv_nl_open_ns(int nsfd, const char *what, char *step);

/* Creates bridge `name` unless present (*created says which), puts addr/prefix on it and sets it up. */
int nsv_nl_bridge_ensure(int fd, const char *name, uint32_t addr, int prefix, int *created, char *step);

/* A veth pair: `host` enslaved to bridge `master` and up; its peer made directly in pid's namespace as `peer`. */
int nsv_nl_veth_add(int fd, const char *host, const char *master, int pid, const char *peer, char *step);

/* Moves link `name` into pid's network namespace, renamed `new_name` (NULL keeps the name). */
int nsv_nl_link_move(int fd, const char *name, int pid, const char *new_name, char *step);

/* Inside one namespace: addr/prefix on `ifname` (0 = none), the link up, lo up, and a default route via gateway (0 = none). */
int nsv_nl_configure(int fd, const char *ifname, uint32_t addr, int prefix, uint32_t gateway, char *step);

/* Deletes link `name`; -ENODEV when there is none. */
int nsv_nl_link_del(int fd, const char *name, char *step);

/* Index of link `name` in the socket's namespace; -ENODEV when there is none. */
int nsv_nl_link_index(int fd, const char *name, int *index, char *step);

/* rx/tx byte counters of every link of the socket's namespace but lo: calls fn(name, rx, tx, arg) for each. */
int nsv_nl_link_stats(int fd, void (*fn)(const char *name, uint64_t rx, uint64_t tx, void *arg), void *arg, char *step);

#ifdef __cplusplus
}
#endif

#endif
