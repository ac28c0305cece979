#ifndef AUTHZD_CSYSTEMD_SHIM_H
#define AUTHZD_CSYSTEMD_SHIM_H

#include <stdint.h>
#include <time.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/* SD_LISTEN_FDS_START is a macro. */
static inline int authzd_sd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }

/* CLOCK_MONOTONIC in microseconds, the clock systemd expects in MONOTONIC_USEC= (sd_notify(3)).
   Returns 0 if the clock cannot be read. */
static inline uint64_t authzd_monotonic_usec(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
