#ifndef AUTHZD_CSYSTEMD_SHIM_H
#define AUTHZD_CSYSTEMD_SHIM_H

#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/* SD_LISTEN_FDS_START is a macro. */
static inline int authzd_sd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }

#endif
