/* rtnetlink without `ip`: one request per step, each acknowledged and checked, failures named with the step. */
#define _GNU_SOURCE
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* One request being built: the header, a fixed body, then attributes. */
struct msg {
  union {
    struct nlmsghdr h;
    char buf[1024];
  } u;
  int overflow;
};

static void start(struct msg *m, int type, int flags, const void *body, size_t len) {
  memset(m, 0, sizeof *m);
  m->u.h.nlmsg_type = (uint16_t)type;
  m->u.h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
  memcpy(m->u.buf + NLMSG_HDRLEN, body, len);
  m->u.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(len);
}

static struct rtattr *put(struct msg *m, int type, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(m->u.h.nlmsg_len);
  struct rtattr *a = (struct rtattr *)(m->u.buf + at);
  if (at + RTA_SPACE(len) > sizeof m->u.buf) {
    m->overflow = 1;
    return (struct rtattr *)m->u.buf; /* harmless scratch; the request is refused before sending */
  }
  a->rta_type = (uint16_t)type;
  a->rta_len = (uint16_t)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  m->u.h.nlmsg_len = (uint32_t)(at + RTA_ALIGN(a->rta_len));
  return a;
}

static void put_str(struct msg *m, int type, const char *s) { put(m, type, s, strlen(s) + 1); }
static void put_u32(struct msg *m, int type, uint32_t v) { put(m, type, &v, sizeof v); }
static struct rtattr *nest(struct msg *m, int type) { return put(m, type, NULL, 0); }
static void unnest(struct msg *m, struct rtattr *a) {
  if (!m->overflow) a->rta_len = (uint16_t)(m->u.buf + m->u.h.nlmsg_len - (char *)a);
}

/* Sends m to the kernel: 0, or -errno. */
static int send_msg(int fd, const struct msg *m) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, m->u.buf, m->u.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -errno;
  return 0;
}

/* One batch of replies into buf: its length, or -errno. */
static ssize_t recv_replies(int fd, char *buf, size_t size) {
  for (;;) {
    ssize_t n = recv(fd, buf, size, 0);
    if (n >= 0 || errno != EINTR) return n < 0 ? -errno : n;
  }
}

/*
 * Sends the n requests of ms in one sendmsg (the kernel handles them in order, each on its own, and acknowledges
 * each) and reads replies until every acknowledgement is in. Returns 0, or the error of the first request that
 * failed, with its step copied to `step`.
 */
static int talk_all(int fd, struct msg *ms, char (*steps)[NSV_NL_STEP_MAX], int n, char *step) {
  static __thread uint32_t seq;
  char reply[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  struct iovec iov[8];
  struct msghdr mh = {.msg_name = &kernel, .msg_namelen = sizeof kernel, .msg_iov = iov, .msg_iovlen = (size_t)n};
  int first_error = 0, failed_at = -1, acked = 0;
  uint32_t base = seq + 1;
  if (n < 1 || n > (int)(sizeof iov / sizeof iov[0])) return -EINVAL;
  for (int i = 0; i < n; i++) {
    if (ms[i].overflow) {
      if (steps) memcpy(step, steps[i], NSV_NL_STEP_MAX);
      return -EMSGSIZE;
    }
    ms[i].u.h.nlmsg_seq = ++seq;
    iov[i].iov_base = ms[i].u.buf;
    iov[i].iov_len = NLMSG_ALIGN(ms[i].u.h.nlmsg_len);
  }
  if (sendmsg(fd, &mh, 0) < 0) return -errno;
  while (acked < n) {
    ssize_t len = recv_replies(fd, reply, sizeof reply);
    if (len < 0) return (int)len;
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
      int i = (int)(h->nlmsg_seq - base);
      if (i < 0 || i >= n) continue;
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      int error = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      acked++;
      if (error < 0 && (failed_at < 0 || i < failed_at)) {
        failed_at = i;
        first_error = error;
      }
    }
  }
  if (failed_at >= 0 && steps) memcpy(step, steps[failed_at], NSV_NL_STEP_MAX);
  return first_error;
}

/* One request, acknowledged: 0 or -errno (the step is the caller's). */
static int talk(int fd, struct msg *m) {
  return talk_all(fd, m, NULL, 1, NULL);
}

static char *ip4(uint32_t addr, char *out) {
  struct in_addr a = {htonl(addr)};
  return (char *)inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

int nsv_nl_open_ns(int nsfd, const char *what, char *step) {
  int self, fd, err;
  /* setns(CLONE_NEWNET) moves this thread only; the socket keeps the namespace it was made in. */
  snprintf(step, NSV_NL_STEP_MAX, "open(/proc/thread-self/ns/net)");
  if ((self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) return -errno;
  snprintf(step, NSV_NL_STEP_MAX, "setns(%s)", what);
  if (setns(nsfd, CLONE_NEWNET) < 0) {
    err = -errno;
    close(self);
    return err;
  }
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  err = errno;
  if (setns(self, CLONE_NEWNET) < 0) abort(); /* this thread would stay in the service's namespace: never go on */
  close(self);
  if (fd < 0) snprintf(step, NSV_NL_STEP_MAX, "socket(AF_NETLINK) in %s", what);
  return fd < 0 ? -err : fd;
}

int nsv_nl_open(int pid, char *step) {
  char path[64];
  int target, fd;
  if (pid <= 0) {
    snprintf(step, NSV_NL_STEP_MAX, "socket(AF_NETLINK)");
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    return fd < 0 ? -errno : fd;
  }
  snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
  snprintf(step, NSV_NL_STEP_MAX, "open(%s)", path);
  if ((target = open(path, O_RDONLY | O_CLOEXEC)) < 0) return -errno;
  fd = nsv_nl_open_ns(target, path, step);
  close(target);
  return fd;
}

int nsv_nl_link_index(int fd, const char *name, int *index, char *step) {
  /*
   * The interface ioctls work on any socket, in the socket's namespace: a name lookup, where RTM_GETLINK would
   * have the kernel write out the link's every attribute and statistic just for its index.
   */
  struct ifreq ifr = {0};
  snprintf(step, NSV_NL_STEP_MAX, "ioctl(SIOCGIFINDEX, %s)", name);
  *index = 0;
  if (strlen(name) >= sizeof ifr.ifr_name) return -ENODEV;
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) return -errno;
  *index = ifr.ifr_ifindex;
  return 0;
}

/* Up for the link of that index (0: the one named `name`). */
static void link_up_msg(struct msg *m, int index, const char *name) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  start(m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (!index) put_str(m, IFLA_IFNAME, name);
}

static void addr_msg(struct msg *m, int index, uint32_t addr, int prefix, int flags) {
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (uint8_t)prefix, .ifa_index = (uint32_t)index};
  uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
  start(m, RTM_NEWADDR, NLM_F_CREATE | flags, &ifa, sizeof ifa);
  put_u32(m, IFA_LOCAL, htonl(addr));
  put_u32(m, IFA_ADDRESS, htonl(addr));
  if (prefix < 31) put_u32(m, IFA_BROADCAST, htonl(addr | ~mask));
}

/* addr/prefix on the link `index` (its name for the step), then the link up: one sendmsg. */
static int addr_and_up(int fd, const char *name, int index, uint32_t addr, int prefix, int flags, char *step) {
  struct msg ms[2];
  char steps[2][NSV_NL_STEP_MAX], text[INET_ADDRSTRLEN];
  addr_msg(&ms[0], index, addr, prefix, flags);
  snprintf(steps[0], NSV_NL_STEP_MAX, "RTM_NEWADDR %s %s/%d", name, ip4(addr, text), prefix);
  link_up_msg(&ms[1], index, name);
  snprintf(steps[1], NSV_NL_STEP_MAX, "RTM_NEWLINK up %s", name);
  return talk_all(fd, ms, steps, 2, step);
}

int nsv_nl_bridge_ensure(int fd, const char *name, uint32_t addr, int prefix, int *created, char *step) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct msg m;
  struct rtattr *info;
  int r, index;
  snprintf(step, NSV_NL_STEP_MAX, "RTM_NEWLINK bridge %s", name);
  start(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  put_str(&m, IFLA_IFNAME, name);
  info = nest(&m, IFLA_LINKINFO);
  put_str(&m, IFLA_INFO_KIND, "bridge");
  unnest(&m, info);
  r = talk(fd, &m);
  if (r < 0 && r != -EEXIST) return r;
  *created = r == 0;
  if ((r = nsv_nl_link_index(fd, name, &index, step)) < 0) return r;
  /* REPLACE: a bridge we reuse may carry the gateway address already. */
  return addr_and_up(fd, name, index, addr, prefix, NLM_F_REPLACE, step);
}

int nsv_nl_veth_add(int fd, const char *host, const char *master, int pid, const char *peer, char *step) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
  struct rtattr *info, *data, *peer_attr;
  struct msg m;
  int r, master_index;
  if ((r = nsv_nl_link_index(fd, master, &master_index, step)) < 0) return r;
  /* One request: the host end enslaved and up, the peer born in the target namespace under its final name. */
  snprintf(step, NSV_NL_STEP_MAX, "RTM_NEWLINK veth %s", host);
  start(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  put_str(&m, IFLA_IFNAME, host);
  put_u32(&m, IFLA_MASTER, (uint32_t)master_index);
  /*
   * One queue each way, said outright: without these the kernel allocates a queue per possible CPU, then cuts the
   * real count to 1 on each end, and each cut waits for an expedited RCU grace period under the rtnl lock.
   */
  put_u32(&m, IFLA_NUM_TX_QUEUES, 1);
  put_u32(&m, IFLA_NUM_RX_QUEUES, 1);
  info = nest(&m, IFLA_LINKINFO);
  put_str(&m, IFLA_INFO_KIND, "veth");
  data = nest(&m, IFLA_INFO_DATA);
  peer_attr = put(&m, VETH_INFO_PEER, &peer_ifi, sizeof peer_ifi);
  put_str(&m, IFLA_IFNAME, peer);
  put_u32(&m, IFLA_NET_NS_PID, (uint32_t)pid);
  put_u32(&m, IFLA_NUM_TX_QUEUES, 1);
  put_u32(&m, IFLA_NUM_RX_QUEUES, 1);
  unnest(&m, peer_attr);
  unnest(&m, data);
  unnest(&m, info);
  return talk(fd, &m);
}

int nsv_nl_link_move(int fd, const char *name, int pid, const char *new_name, char *step) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct msg m;
  int r;
  if ((r = nsv_nl_link_index(fd, name, &ifi.ifi_index, step)) < 0) return r;
  snprintf(step, NSV_NL_STEP_MAX, "RTM_NEWLINK move %s to pid %d", name, pid);
  start(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  put_u32(&m, IFLA_NET_NS_PID, (uint32_t)pid);
  if (new_name) put_str(&m, IFLA_IFNAME, new_name);
  return talk(fd, &m);
}

int nsv_nl_configure(int fd, const char *ifname, uint32_t addr, int prefix, uint32_t gateway, char *step) {
  struct rtmsg rtm = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
                      .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
  struct msg ms[4];
  char steps[4][NSV_NL_STEP_MAX], text[INET_ADDRSTRLEN];
  int r, index, n = 0;
  if ((r = nsv_nl_link_index(fd, ifname, &index, step)) < 0) return r;
  /* The rest in one sendmsg, in this order: the route needs the link up with its address. */
  if (addr) {
    addr_msg(&ms[n], index, addr, prefix, NLM_F_EXCL);
    snprintf(steps[n++], NSV_NL_STEP_MAX, "RTM_NEWADDR %s %s/%d", ifname, ip4(addr, text), prefix);
  }
  link_up_msg(&ms[n], index, ifname);
  snprintf(steps[n++], NSV_NL_STEP_MAX, "RTM_NEWLINK up %s", ifname);
  if (strcmp(ifname, "lo") != 0) {
    link_up_msg(&ms[n], 0, "lo");
    snprintf(steps[n++], NSV_NL_STEP_MAX, "RTM_NEWLINK up lo");
  }
  if (gateway) {
    start(&ms[n], RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rtm, sizeof rtm);
    put_u32(&ms[n], RTA_GATEWAY, htonl(gateway));
    put_u32(&ms[n], RTA_OIF, (uint32_t)index);
    snprintf(steps[n++], NSV_NL_STEP_MAX, "RTM_NEWROUTE default via %s dev %s", ip4(gateway, text), ifname);
  }
  return talk_all(fd, ms, steps, n, step);
}

int nsv_nl_link_del(int fd, const char *name, char *step) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct msg m;
  snprintf(step, NSV_NL_STEP_MAX, "RTM_DELLINK %s", name);
  start(&m, RTM_DELLINK, 0, &ifi, sizeof ifi);
  put_str(&m, IFLA_IFNAME, name);
  return talk(fd, &m);
}

int nsv_nl_link_stats(int fd, void (*fn)(const char *, uint64_t, uint64_t, void *), void *arg, char *step) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  char reply[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
  struct msg m;
  int r;
  snprintf(step, NSV_NL_STEP_MAX, "RTM_GETLINK dump");
  start(&m, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
  m.u.h.nlmsg_flags &= (uint16_t)~NLM_F_ACK;
  m.u.h.nlmsg_seq = 1;
  if ((r = send_msg(fd, &m)) < 0) return r;
  for (;;) {
    ssize_t n = recv_replies(fd, reply, sizeof reply);
    if (n < 0) return (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (h->nlmsg_type != RTM_NEWLINK) continue;
      struct ifinfomsg *info = NLMSG_DATA(h);
      const char *name = NULL;
      struct rtnl_link_stats64 stats;
      int have = 0, len = (int)IFLA_PAYLOAD(h);
      for (struct rtattr *a = IFLA_RTA(info); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME) name = RTA_DATA(a);
        if (a->rta_type == IFLA_STATS64 && RTA_PAYLOAD(a) >= sizeof stats) {
          memcpy(&stats, RTA_DATA(a), sizeof stats);
          have = 1;
        }
      }
      if (name && have && !(info->ifi_flags & IFF_LOOPBACK)) fn(name, stats.rx_bytes, stats.tx_bytes, arg);
    }
  }
}
