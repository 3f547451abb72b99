/* Small file system helpers */
#include "fs-util.h"

#include <sys/stat.h>

#include "macro.h"

/* EEXIST says something is there, not that it is a directory (mkdir -p checks). */
static int mkdir_one(const char *path, mode_t mode) {
        struct stat st;

        if (mkdir(path, mode) == 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        if (stat(path, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_(freep) char *p = strdup(path);
        int r;

        if (!p)
                return -ENOMEM;
        /* From the second byte: "/" needs no making; "" has no second byte. */
        for (char *slash = *p ? p + 1 : p; *slash; slash++) {
                if (*slash != '/')
                        continue;
                *slash = '\0';
                r = mkdir_one(p, mode);
                if (r < 0)
                        return r;
                *slash = '/';
        }
        return mkdir_one(p, mode);
}
