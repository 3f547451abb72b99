/* Test failpoints: places where a test holds or breaks the daemon, carried only by test builds */
#pragma once

#include <stdlib.h>

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
