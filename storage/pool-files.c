/* The files of file-based pools (dir, NFS): which are volumes, what they take, and volumes half-made */
#include "pool-files.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bus-text.h"
#include "lvm.h"
#include "macro.h"

#define PARTIAL_PREFIX ".hostagent-partial."

static pthread_once_t partial_once = PTHREAD_ONCE_INIT;
static char partial_prefix[128];
static char partial_tag[128];

/* This host among those that share an export: its machine ID, or its name
 * where there is none; only characters safe in a file name and an LVM tag. */
static void partial_init(void) {
        char id[65] = "";
        FILE *f = fopen("/etc/machine-id", "re");
        size_t n = 0;

        if (f) {
                if (!fgets(id, sizeof id, f))
                        id[0] = 0;
                fclose(f);
        }
        if (!id[0] && gethostname(id, sizeof id - 1) < 0)
                id[0] = 0;
        for (char *p = id; *p; p++)
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                    *p == '_')
                        id[n++] = *p;
        id[n] = 0;
        snprintf(partial_prefix, sizeof partial_prefix, PARTIAL_PREFIX "%s.", n > 0 ? id : "unknown");
        snprintf(partial_tag, sizeof partial_tag, LVM_PARTIAL_TAG_PREFIX "%s", n > 0 ? id : "unknown");
}

const char *pool_partial_prefix(void) {
        (void) pthread_once(&partial_once, partial_init);
        return partial_prefix;
}

const char *pool_partial_tag(void) {
        (void) pthread_once(&partial_once, partial_init);
        return partial_tag;
}

char *pool_partial_name(const char *name) {
        char *p;

        return asprintf(&p, "%s%s", pool_partial_prefix(), name) < 0 ? NULL : p;
}

bool pool_file_wanted(const char *name, const char *prefix) {
        if (prefix)
                return strncmp(name, prefix, strlen(prefix)) == 0;
        /* Hidden files are temporaries (ours, qemu-img's, editors'), not volumes; a name
         * no D-Bus string can carry could not be named in a call. */
        return name[0] != '.' && bus_text_valid(name);
}

void volume_usage_array_free(VolumeUsage *v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i].name);
        free(v);
}

int volume_usage_append(VolumeUsage **v, size_t *n, const char *name, uint64_t size, uint64_t allocation) {
        VolumeUsage *grown = realloc(*v, (*n + 1) * sizeof *grown);
        char *copy;

        if (!grown)
                return -ENOMEM;
        *v = grown;
        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        grown[(*n)++] = (VolumeUsage) { .name = copy, .size = size, .allocation = allocation };
        return 0;
}

int dir_files(const char *dir, const char *prefix, VolumeUsage **ret, size_t *ret_n, char **ret_message) {
        VolumeUsage *v = NULL;
        struct dirent *de;
        size_t n = 0;
        int r = 0;
        DIR *d;

        d = opendir(dir);
        if (!d) {
                if (ret_message)
                        (void) asprintf(ret_message, "%s: %s", dir, strerror(errno));
                return -EHOSTUNREACH;
        }
        while (r >= 0 && (de = readdir(d))) {
                struct stat st;

                if (!pool_file_wanted(de->d_name, prefix) ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                /* What qemu-img reports as a file's actual size. */
                r = volume_usage_append(&v, &n, de->d_name, (uint64_t) st.st_size, (uint64_t) st.st_blocks * 512);
        }
        closedir(d);
        if (r < 0) {
                volume_usage_array_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int dir_publish(const char *dir, const char *from, const char *to, char **ret_message) {
        _cleanup_(closep) int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0)
                goto fail;
        if (renameat2(fd, from, fd, to, RENAME_NOREPLACE) < 0) {
                if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                        goto fail;
                /* NFS cannot rename without replacing; a hard link is only made where nothing is. */
                if (linkat(fd, from, fd, to, 0) < 0)
                        goto fail;
                (void) unlinkat(fd, from, 0);   /* a leftover link is removed at the next start */
        }
        /* The new name must survive a power loss once the caller is told. */
        (void) fsync(fd);
        return 0;
fail:
        r = -errno;
        if (r != -EEXIST && ret_message)
                (void) asprintf(ret_message, "renaming %s to %s in %s: %s", from, to, dir, strerror(-r));
        return r;
}
