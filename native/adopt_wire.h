/* The hand-over of an orphaned instance to a new supervisor over the instance's unix socket: what nsvisor-init sends first. */
#ifndef NSV_ADOPT_WIRE_H
#define NSV_ADOPT_WIRE_H

#include <stdint.h>

#define NSV_ADOPT_MAGIC 0x4e535641u /* "NSVA" */
#define NSV_ADOPT_VERSION 1u

/* Sent with the read ends of the output pipes (SCM_RIGHTS: stdout's, then stderr's, those whose bit is set in
   fd_mask; one at EOF is not sent). Then come
   held[0] bytes of stdout and held[1] of stderr that init read while orphaned (kept until acknowledged, below);
   then the connection carries the status records (steps.h's struct nsv_record) as the status pipe did, and closes when init exits. */
struct nsv_adopt_header {
  uint32_t magic, version;
  uint32_t fd_mask;     /* bit 0: stdout's pipe is in the message, bit 1: stderr's */
  uint32_t held[2];    /* bytes that follow, per stream */
  uint32_t dropped[2]; /* lines dropped from the front of each while orphaned */
  uint32_t orphaned_ms; /* how long no supervisor held the instance */
};

/* The adopter's word back on the same connection, once `bytes` more of the held output of `stream` (0 stdout, 1
   stderr) are in its log: nsvisor-init forgets them. What is not acknowledged when the connection closes is kept and
   handed to the next adopter, so a supervisor that dies before writing them loses none. */
#define NSV_ADOPT_ACK_MAGIC 0x4e53564bu /* "NSVK" */
struct nsv_adopt_ack {
  uint32_t magic, stream, bytes;
};

#endif
