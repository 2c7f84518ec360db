/* The license text `nsvisor-init -l` prints. */
#ifndef NSV_INIT_LICENSE_H
#define NSV_INIT_LICENSE_H

extern const char init_license[];

#endif
