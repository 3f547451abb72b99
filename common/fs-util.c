/* Small file system helpers */
#include "fs-util.h"

#include <sys/stat.h>

#include "macro.h"

int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_(freep) char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *slash = p + 1; *slash; slash++) {
                if (*slash != '/')
                        continue;
                *slash = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *slash = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}
