/* The files of file-based pools (dir, NFS): which are volumes, what they take, and volumes half-made */
#include "pool-files.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bus-text.h"
#include "command.h"
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

/* find's records: "<size> <512-byte blocks> <name>\0" each. */
static int parse_find_output(const char *out, size_t size, VolumeUsage **ret, size_t *ret_n) {
        VolumeUsage *v = NULL;
        size_t n = 0;
        int r = 0;

        for (const char *p = out; r >= 0 && p < out + size; p += strlen(p) + 1) {
                unsigned long long bytes, blocks;
                int name_at = 0;

                if (sscanf(p, "%llu %llu %n", &bytes, &blocks, &name_at) != 2 || name_at == 0 ||
                    !pool_file_wanted(p + name_at, NULL))
                        continue;
                r = volume_usage_append(&v, &n, p + name_at, bytes, blocks * 512);
        }
        if (r < 0) {
                volume_usage_array_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int dir_files_in_child(const char *dir, uint64_t timeout_usec, VolumeUsage **ret, size_t *ret_n,
                       char **ret_message) {
        char *argv[] = { "find", (char *) dir, "-mindepth", "1", "-maxdepth", "1", "-type", "f", "!", "-name", ".*",
                         "-printf", "%s %b %f\\0", NULL };
        CommandResult res = {};
        int r;

        /* A directory name find would take for an option or an expression. */
        if (dir[0] != '/')
                return -EINVAL;
        r = command_run(argv, timeout_usec, NULL, NULL, &res);
        if (r < 0) {
                if (ret_message)
                        (void) asprintf(ret_message, "reading %s: %s", dir,
                                        r == -ETIME ? "no answer in time" : strerror(-r));
                return r == -ETIME ? -EHOSTUNREACH : r;
        }
        /* 1: a file went away while find looked at it; what it printed holds. */
        if (res.exit_status != 0 && res.exit_status != 1) {
                if (ret_message)
                        *ret_message = TAKE_PTR(res.err);
                command_result_done(&res);
                return -EHOSTUNREACH;
        }
        r = parse_find_output(res.out, res.out_size, ret, ret_n);
        command_result_done(&res);
        return r;
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
