/* nsvisor-init's side of adoption: a new supervisor connects to the instance's socket and takes it over. */
#ifndef NSV_INIT_ADOPT_H
#define NSV_INIT_ADOPT_H

#include "init_output.h"

/* Accepts one connection on listen_fd. When its peer is root or our own uid, sends the hand-over (the header, the
   output fds, what the buffers hold, kept until acknowledged) and returns the connection, to be the new status
   channel. Returns -1 when the connection was refused or failed (it is closed; errno says why, EACCES for the peer). */
int adopt_accept(int listen_fd, struct held_output out[2], int n_out, long orphaned_ms);

/* Reads the acknowledgements waiting on the (non-blocking) connection and forgets the held bytes they name.
   Returns how many bytes are still held over all streams. */
size_t adopt_take_acks(int conn, struct held_output out[2], int n_out);

#endif
