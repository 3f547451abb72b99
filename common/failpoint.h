/* Test failpoints: places where a test holds or breaks the daemon, carried only by test builds */
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A failpoint is an environment variable a test sets (HOSTAGENT_NET_FAILPOINT=
 * "pause:3"). Only a build configured with -DHOSTAGENT_FAILPOINTS=ON (what
 * tools/build makes, for the tests) reads it; a release build (plain cmake)
 * compiles every failpoint away, so nothing in the environment of a
 * production daemon can make it stall or fail on purpose. */
static inline const char *failpoint_get(const char *variable) {
#if HOSTAGENT_FAILPOINTS
        const char *v = getenv(variable);
        return v && *v ? v : NULL;
#else
        (void) variable;
        return NULL;
#endif
}

/* Holds the calling worker thread while the file that VARIABLE names does not
 * exist (at most a minute): a test acts while an operation is half-way and
 * then lets it go on, without guessing how long anything takes. */
static inline void failpoint_hold(const char *variable) {
#if HOSTAGENT_FAILPOINTS
        const char *path = failpoint_get(variable);

        for (unsigned i = 0; path && i < 600 && access(path, F_OK) < 0; i++)
                usleep(100 * 1000);
#else
        (void) variable;
#endif
}

/* failpoint_hold(), first making "PATH.held" so that the test knows the work
 * is under way (and starts other calls meanwhile). */
static inline void failpoint_hold_saying(const char *variable) {
#if HOSTAGENT_FAILPOINTS
        const char *path = failpoint_get(variable);
        char *held = NULL;
        int fd;

        if (!path || asprintf(&held, "%s.held", path) < 0)
                return;
        fd = open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
        free(held);
        failpoint_hold(variable);
#else
        (void) variable;
#endif
}
