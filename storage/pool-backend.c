/* What each pool type does on the host: the blocking half of storage pools */
#include "pool-backend.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "command.h"
#include "fs-util.h"
#include "lvm.h"
#include "macro.h"
#include "nfs-client.h"
#include "pool-files.h"
#include "qemu-img.h"
#include "error-text.h"

static bool is_libnfs(const PoolSpec *spec) {
        return spec->type == POOL_NFS && spec->access == NFS_ACCESS_LIBNFS;
}

static bool is_mounted_nfs(const PoolSpec *spec) {
        return spec->type == POOL_NFS && spec->access == NFS_ACCESS_MOUNT;
}

static NfsExport nfs_export(const PoolSpec *spec, const PoolEnv *env) {
        return (NfsExport) {
                .server = spec->server,
                .export_path = spec->export_path,
                .version = spec->nfs_version,
                .timeout_ms = env->nfs_timeout_ms,
        };
}

static char *mount_point(const PoolSpec *spec, const PoolEnv *env) {
        char *p;

        if (asprintf(&p, "%s/storage/%s", env->run_dir, spec->name) < 0)
                return NULL;
        return p;
}

/* The directory the volumes of a file-based pool live in, or NULL (libnfs, lvm). */
static char *pool_directory(const PoolSpec *spec, const PoolEnv *env) {
        if (spec->type == POOL_DIR)
                return strdup(spec->path);
        if (is_mounted_nfs(spec))
                return mount_point(spec, env);
        return NULL;
}

/* Whether something is mounted on PATH: read the kernel's table, which
 * never touches the (possibly dead) file system itself. */
static bool is_mount_point(const char *path) {
        _cleanup_(freep) char *line = NULL;
        size_t size = 0;
        bool found = false;
        FILE *f = fopen("/proc/self/mountinfo", "re");

        if (!f)
                return false;
        while (!found && getline(&line, &size, f) > 0) {
                char where[4096];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", where) == 1 && streq(where, path))
                        found = true;
        }
        fclose(f);
        return found;
}

static int prepare_dir(const PoolSpec *spec, bool create, char **ret_message) {
        struct stat st;
        int r;

        if (stat(spec->path, &st) == 0) {
                if (!S_ISDIR(st.st_mode))
                        return error_textf(ret_message, -ENOTDIR, "path: %s exists and is not a directory", spec->path);
                return 0;
        }
        if (!create)
                return error_textf(ret_message, -EHOSTUNREACH, "%s: %s", spec->path, strerror(errno));
        r = mkdir_parents(spec->path, 0755);
        if (r < 0)
                return error_textf(ret_message, r, "path: cannot create %s: %s", spec->path, strerror(-r));
        return 0;
}

static int prepare_mount(const PoolSpec *spec, const PoolEnv *env, char **ret_message) {
        _cleanup_(freep) char *where = mount_point(spec, env), *what = NULL, *options = NULL, *message = NULL;
        int r;

        if (!where)
                return -ENOMEM;
        if (is_mount_point(where))
                return 0;
        /* QEMU runs as its own user and must reach the disks below it. */
        r = mkdir_parents(where, 0755);
        if (r < 0)
                return error_textf(ret_message, r, "cannot create the mount point %s: %s", where, strerror(-r));
        /* soft + timeo/retrans: a dead server fails calls after about 30 s instead of
         * hanging them for ever; retry=0: one attempt, the health check retries;
         * nosharecache: our options are not another mount's. */
        if (asprintf(&what, "%s:%s", spec->server, spec->export_path) < 0 ||
            asprintf(&options, "vers=%u,soft,timeo=100,retrans=3,retry=0,nosharecache,nodev,nosuid,noexec",
                     spec->nfs_version) < 0)
                return -ENOMEM;
        char *argv[] = { "mount", "-t", "nfs", "-o", options, "--", what, where, NULL };
        r = command_run_simple(argv, env->timeout_usec, NULL, &message);
        if (r < 0) {
                (void) rmdir(where);
                if (message && (strstr(message, "No such device") || strstr(message, "unknown filesystem type") ||
                                strstr(message, "helper program")))
                        return error_textf(ret_message, -EOPNOTSUPP,
                                     "access: this host cannot mount NFS with the kernel client (%s); use "
                                     "\"access\": \"libnfs\"", message);
                return error_textf(ret_message, r == -EIO ? -EHOSTUNREACH : r, "mounting %s: %s", what,
                             strempty(message));
        }
        return 0;
}

static int device_check_free(const PoolSpec *spec, size_t i, const PoolEnv *env, char **ret_message) {
        _cleanup_(freep) char *vg = NULL, *message = NULL;
        const char *dev = spec->devices[i];
        struct stat st;
        int fd, r;

        if (stat(dev, &st) < 0)
                return error_textf(ret_message, -ENOENT, "devices[%zu]: %s: %s", i, dev, strerror(errno));
        if (!S_ISBLK(st.st_mode))
                return error_textf(ret_message, -EINVAL, "devices[%zu]: %s is not a block device", i, dev);
        /* O_EXCL on a block device fails while it is mounted, a PV of an active VG, or held. */
        fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);
        if (fd < 0)
                return error_textf(ret_message, errno == EBUSY ? -EINVAL : -errno, "devices[%zu]: %s is in use: %s", i,
                             dev, strerror(errno));
        close(fd);
        r = lvm_pv_vg(dev, env->timeout_usec, &vg, &message);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_textf(ret_message, r, "devices[%zu]: %s: %s", i, dev, strempty(message));
        if (vg)
                return error_textf(ret_message, -EINVAL, "devices[%zu]: %s already belongs to volume group %s", i, dev, vg);
        return error_textf(ret_message, -EINVAL, "devices[%zu]: %s is already an LVM physical volume", i, dev);
}

static int prepare_lvm(const PoolSpec *spec, const PoolEnv *env, bool create, char **ret_message) {
        _cleanup_(freep) char *message = NULL;
        LvmVg vg;
        int r;

        r = lvm_vg_get(spec->name, env->timeout_usec, &vg, &message);
        if (r < 0)
                return error_textf(ret_message, -EHOSTUNREACH, "vgs: %s", strempty(message));
        if (vg.exists && !vg.ours)
                return error_textf(ret_message, create ? -EEXIST : -ERRNO_INVALID_STATE,
                             "name: a volume group %s exists and is not tagged %s: not the agent's", spec->name,
                             LVM_AGENT_TAG);
        if (!create)
                return vg.exists ? 0 : error_textf(ret_message, -EHOSTUNREACH, "volume group %s is not found; are its "
                                             "devices there?", spec->name);
        if (vg.exists)
                return error_textf(ret_message, -EEXIST, "name: volume group %s exists already", spec->name);
        for (size_t i = 0; i < spec->n_devices; i++) {
                r = device_check_free(spec, i, env, ret_message);
                if (r < 0)
                        return r;
        }
        r = lvm_vg_create(spec->name, spec->devices, spec->n_devices, env->timeout_usec, &message);
        if (r < 0)
                return error_textf(ret_message, r, "creating volume group %s: %s", spec->name, strempty(message));
        return 0;
}

int pool_backend_prepare(const PoolSpec *spec, const PoolEnv *env, bool create, char **ret_message) {
        NfsExport e;
        NfsSpace space;

        switch (spec->type) {
        case POOL_DIR:
                return prepare_dir(spec, create, ret_message);
        case POOL_NFS:
                if (is_mounted_nfs(spec))
                        return prepare_mount(spec, env, ret_message);
                if (spec->nfs_version != 3)
                        return error_textf(ret_message, -EOPNOTSUPP,
                                     "version: the user-space client (libnfs 4.0) cannot write over NFSv4; use 3");
                e = nfs_export(spec, env);
                return nfs_export_space(&e, &space, ret_message);
        case POOL_LVM:
                return prepare_lvm(spec, env, create, ret_message);
        default:
                return -EINVAL;
        }
}

int pool_backend_release(const PoolSpec *spec, const PoolEnv *env, char **ret_message) {
        _cleanup_(freep) char *where = NULL;
        int r;

        if (!is_mounted_nfs(spec))
                return 0;
        where = mount_point(spec, env);
        if (!where)
                return -ENOMEM;
        if (is_mount_point(where)) {
                /* -l: a dead server must not keep the agent waiting; the kernel finishes later. */
                char *argv[] = { "umount", "-l", "--", where, NULL };
                r = command_run_simple(argv, env->timeout_usec, NULL, ret_message);
                if (r < 0)
                        return r;
        }
        (void) rmdir(where);
        return 0;
}

int pool_backend_remove(const PoolSpec *spec, const PoolEnv *env, char **ret_message) {
        switch (spec->type) {
        case POOL_LVM:
                return lvm_vg_remove(spec->name, spec->devices, spec->n_devices, env->timeout_usec, ret_message);
        case POOL_NFS:
                return pool_backend_release(spec, env, ret_message);
        default:
                return 0;
        }
}

/* statvfs in a child with a deadline: on a dead mount the call itself can
 * block, and it must not block one of our threads for ever. */
static int mounted_space(const char *where, const PoolEnv *env, PoolStatus *ret, char **ret_message) {
        char *argv[] = { "stat", "-f", "--format=%S %b %f %a", "--", (char *) where, NULL };
        _cleanup_(freep) char *out = NULL;
        unsigned long long bsize, blocks, bfree, bavail;
        int r;

        r = command_run_simple(argv, env->check_timeout_usec, &out, ret_message);
        if (r < 0)
                return r == -EIO || r == -ETIME ? -EHOSTUNREACH : r;
        if (sscanf(out, "%llu %llu %llu %llu", &bsize, &blocks, &bfree, &bavail) != 4)
                return error_textf(ret_message, -EIO, "stat -f printed %s", out);
        *ret = (PoolStatus) { .capacity = blocks * bsize, .allocation = (blocks - bfree) * bsize,
                              .available = bavail * bsize };
        return 0;
}

int pool_backend_status(const PoolSpec *spec, const PoolEnv *env, PoolStatus *ret, char **ret_message) {
        _cleanup_(freep) char *where = NULL, *message = NULL;
        struct statvfs st;
        NfsSpace space;
        NfsExport e;
        LvmVg vg;
        int r;

        switch (spec->type) {
        case POOL_DIR:
                if (statvfs(spec->path, &st) < 0)
                        return error_textf(ret_message, -EHOSTUNREACH, "%s: %s", spec->path, strerror(errno));
                *ret = (PoolStatus) {
                        .capacity = (uint64_t) st.f_blocks * st.f_frsize,
                        .allocation = (uint64_t) (st.f_blocks - st.f_bfree) * st.f_frsize,
                        .available = (uint64_t) st.f_bavail * st.f_frsize,
                };
                return 0;
        case POOL_NFS:
                if (is_mounted_nfs(spec)) {
                        where = mount_point(spec, env);
                        if (!where)
                                return -ENOMEM;
                        if (!is_mount_point(where))
                                return error_textf(ret_message, -EHOSTUNREACH, "%s is not mounted", where);
                        return mounted_space(where, env, ret, ret_message);
                }
                e = nfs_export(spec, env);
                r = nfs_export_space(&e, &space, ret_message);
                if (r < 0)
                        return r;
                *ret = (PoolStatus) { .capacity = space.capacity, .allocation = space.used,
                                      .available = space.available };
                return 0;
        case POOL_LVM:
                r = lvm_vg_get(spec->name, env->timeout_usec, &vg, &message);
                if (r < 0)
                        return error_textf(ret_message, -EHOSTUNREACH, "vgs: %s", strempty(message));
                if (!vg.exists)
                        return error_textf(ret_message, -EHOSTUNREACH, "volume group %s is not found", spec->name);
                *ret = (PoolStatus) { .capacity = vg.size, .allocation = vg.size - vg.free, .available = vg.free,
                                      .degraded = vg.partial };
                return 0;
        default:
                return -EINVAL;
        }
}

char *pool_backend_volume_location(const PoolSpec *spec, const PoolEnv *env, const char *name) {
        _cleanup_(freep) char *dir = NULL;
        NfsExport e;
        char *p;

        switch (spec->type) {
        case POOL_LVM:
                return asprintf(&p, "/dev/%s/%s", spec->name, name) < 0 ? NULL : p;
        case POOL_NFS:
                if (is_libnfs(spec)) {
                        e = nfs_export(spec, env);
                        return nfs_export_uri(&e, name);
                }
                __attribute__((fallthrough));
        default:
                dir = pool_directory(spec, env);
                if (!dir)
                        return NULL;
                return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
        }
}

/* The files of a file-based pool that pool_file_wanted(PREFIX), with their sizes. */
static int pool_files(const PoolSpec *spec, const PoolEnv *env, const char *prefix, VolumeUsage **ret,
                      size_t *ret_n, char **ret_message) {
        _cleanup_(freep) char *dir = NULL;
        NfsExport e;

        if (is_libnfs(spec)) {
                e = nfs_export(spec, env);
                return nfs_export_files(&e, prefix, ret, ret_n, ret_message);
        }
        dir = pool_directory(spec, env);
        if (!dir)
                return -ENOMEM;
        return dir_files(dir, prefix, ret, ret_n, ret_message);
}

int pool_backend_list(const PoolSpec *spec, const PoolEnv *env, VolumeInfo **ret, size_t *ret_n,
                      char **ret_message) {
        VolumeUsage *files = NULL;
        VolumeInfo *v;
        size_t n = 0, count = 0;
        int r;

        if (spec->type == POOL_LVM) {
                r = lvm_lv_list(spec->name, env->timeout_usec, ret, ret_n, ret_message);
                return r == -EIO ? -EHOSTUNREACH : r;
        }
        r = pool_files(spec, env, NULL, &files, &count, ret_message);
        if (r < 0)
                return r;
        v = calloc(count ?: 1, sizeof *v);
        if (!v) {
                volume_usage_array_free(files, count);
                return -ENOMEM;
        }
        for (size_t i = 0; i < count; i++) {
                _cleanup_(freep) char *location = pool_backend_volume_location(spec, env, files[i].name);

                /* A file qemu-img cannot read is not a volume: leave it out. */
                if (!location || qemu_img_info(location, env->timeout_usec, &v[n], NULL) < 0) {
                        volume_info_done(&v[n]);
                        continue;
                }
                v[n++].name = TAKE_PTR(files[i].name);
        }
        volume_usage_array_free(files, count);
        *ret = v;
        *ret_n = n;
        return 0;
}

int pool_backend_usage(const PoolSpec *spec, const PoolEnv *env, VolumeUsage **ret, size_t *ret_n,
                       char **ret_message) {
        _cleanup_(freep) char *where = NULL;
        VolumeInfo *lvs = NULL;
        VolumeUsage *v;
        size_t n = 0;
        int r;

        if (is_mounted_nfs(spec)) {
                where = mount_point(spec, env);
                if (!where)
                        return -ENOMEM;
                return dir_files_in_child(where, env->check_timeout_usec, ret, ret_n, ret_message);
        }
        if (spec->type != POOL_LVM)
                return pool_files(spec, env, NULL, ret, ret_n, ret_message);
        r = lvm_lv_list(spec->name, env->timeout_usec, &lvs, &n, ret_message);
        if (r < 0)
                return r;
        v = calloc(n ?: 1, sizeof *v);
        if (!v) {
                volume_info_array_free(lvs, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                v[i] = (VolumeUsage) { .name = TAKE_PTR(lvs[i].name), .size = lvs[i].capacity,
                                       .allocation = lvs[i].allocation };
        volume_info_array_free(lvs, n);
        *ret = v;
        *ret_n = n;
        return 0;
}

int pool_backend_volume_info(const PoolSpec *spec, const PoolEnv *env, const char *name, VolumeInfo *ret,
                             char **ret_message) {
        _cleanup_(freep) char *location = NULL;
        VolumeInfo *all = NULL;
        size_t n = 0;
        int r;

        if (spec->type == POOL_LVM) {
                r = lvm_lv_list(spec->name, env->timeout_usec, &all, &n, ret_message);
                if (r < 0)
                        return r;
                r = error_textf(ret_message, -ENOENT, "no volume %s", name);
                for (size_t i = 0; i < n; i++)
                        if (streq(all[i].name, name)) {
                                *ret = all[i];
                                all[i] = (VolumeInfo) {};
                                r = 0;
                        }
                volume_info_array_free(all, n);
                return r;
        }
        location = pool_backend_volume_location(spec, env, name);
        if (!location)
                return -ENOMEM;
        *ret = (VolumeInfo) { .name = strdup(name) };
        if (!ret->name)
                return -ENOMEM;
        r = qemu_img_info(location, env->timeout_usec, ret, ret_message);
        if (r < 0)
                volume_info_done(ret);
        return r;
}

/* 1 when the file-based volume NAME exists, 0 when not, or -errno. */
static int file_volume_exists(const PoolSpec *spec, const PoolEnv *env, const char *name, char **ret_message) {
        _cleanup_(freep) char *location = NULL;
        struct stat st;
        NfsExport e;

        if (is_libnfs(spec)) {
                e = nfs_export(spec, env);
                return nfs_export_exists(&e, name, ret_message);
        }
        location = pool_backend_volume_location(spec, env, name);
        if (!location)
                return -ENOMEM;
        if (lstat(location, &st) == 0)
                return 1;
        return errno == ENOENT ? 0 : error_textf(ret_message, -EHOSTUNREACH, "%s: %s", location, strerror(errno));
}

static int file_volume_remove(const PoolSpec *spec, const PoolEnv *env, const char *name, char **ret_message) {
        _cleanup_(freep) char *location = NULL;
        NfsExport e;

        if (is_libnfs(spec)) {
                e = nfs_export(spec, env);
                return nfs_export_unlink(&e, name, ret_message);
        }
        location = pool_backend_volume_location(spec, env, name);
        if (!location)
                return -ENOMEM;
        if (unlink(location) < 0)
                return error_textf(ret_message, -errno, "removing %s: %s", location, strerror(errno));
        return 0;
}

/* Gives the whole file PARTIAL its name NAME, or removes it. FIELD names
 * the argument that asked for NAME. */
static int file_volume_publish(const PoolSpec *spec, const PoolEnv *env, const char *partial, const char *name,
                               const char *field, char **ret_message) {
        _cleanup_(freep) char *dir = NULL, *message = NULL;
        NfsExport e;
        int r;

        if (is_libnfs(spec)) {
                e = nfs_export(spec, env);
                r = nfs_export_publish(&e, partial, name, &message);
        } else {
                dir = pool_directory(spec, env);
                if (!dir)
                        return -ENOMEM;
                r = dir_publish(dir, partial, name, &message);
        }
        if (r >= 0)
                return 0;
        (void) file_volume_remove(spec, env, partial, NULL);
        if (r == -EEXIST)
                return error_textf(ret_message, r, "%s: a file %s exists in the pool already", field, name);
        return error_textf(ret_message, r, "%s", strempty(message));
}

static int lv_volume_create(const PoolSpec *spec, const PoolEnv *env, const char *name, uint64_t size,
                            const char *format, const char *backing, const char *preallocation, VolumeInfo *ret,
                            char **ret_message) {
        _cleanup_(freep) char *message = NULL;
        int r;

        if (!streq(format, "raw"))
                return error_textf(ret_message, -EOPNOTSUPP, "format: volumes of an lvm pool are raw");
        if (backing)
                return error_textf(ret_message, -EOPNOTSUPP, "backing_volume: needs a qcow2 volume; lvm pools are raw");
        if (preallocation && !streq(preallocation, "full"))
                return error_textf(ret_message, -EOPNOTSUPP, "preallocation: a logical volume is always fully allocated");
        /* One metadata commit: the LV is whole, or not there. */
        r = lvm_lv_create(spec->name, name, size, lvm_have_device_mapper(), env->timeout_usec, &message);
        if (r < 0)
                return error_textf(ret_message, r, "lvcreate: %s", strempty(message));
        return pool_backend_volume_info(spec, env, name, ret, ret_message);
}

int pool_backend_volume_create(const PoolSpec *spec, const PoolEnv *env, const char *name, uint64_t size,
                               const char *format, const char *backing, const char *preallocation,
                               VolumeInfo *ret, char **ret_message) {
        _cleanup_(freep) char *partial = NULL, *location = NULL, *backing_location = NULL, *message = NULL;
        _cleanup_(volume_info_done) VolumeInfo backing_info = {};
        int r;

        if (spec->type == POOL_LVM)
                return lv_volume_create(spec, env, name, size, format, backing, preallocation, ret, ret_message);
        r = file_volume_exists(spec, env, name, ret_message);
        if (r < 0)
                return r;
        if (r > 0)
                return error_textf(ret_message, -EEXIST, "name: a file %s exists in the pool already", name);
        if (backing) {
                r = pool_backend_volume_info(spec, env, backing, &backing_info, &message);
                if (r < 0)
                        return error_textf(ret_message, r == -EIO ? -ENOENT : r, "backing_volume: %s: %s", backing,
                                     strempty(message));
                backing_location = pool_backend_volume_location(spec, env, backing);
                if (!backing_location)
                        return -ENOMEM;
        }
        /* Preallocation writes for as long as the size takes: under another name meanwhile. */
        partial = pool_partial_name(name);
        location = partial ? pool_backend_volume_location(spec, env, partial) : NULL;
        if (!location)
                return -ENOMEM;
        r = qemu_img_create(location, format, size, backing_location, backing_info.format, preallocation,
                            env->timeout_usec, &message);
        if (r < 0) {
                (void) file_volume_remove(spec, env, partial, NULL);   /* what qemu-img may have left */
                return error_textf(ret_message, r, "qemu-img create: %s", strempty(message));
        }
        r = file_volume_publish(spec, env, partial, name, "name", ret_message);
        if (r < 0)
                return r;
        return pool_backend_volume_info(spec, env, name, ret, ret_message);
}

int pool_backend_volume_resize(const PoolSpec *spec, const PoolEnv *env, const char *name, const char *format,
                               uint64_t size, char **ret_message) {
        _cleanup_(freep) char *location = NULL, *message = NULL;
        int r;

        if (spec->type == POOL_LVM)
                r = lvm_lv_extend(spec->name, name, size, env->timeout_usec, &message);
        else {
                location = pool_backend_volume_location(spec, env, name);
                if (!location)
                        return -ENOMEM;
                r = qemu_img_resize(location, format, size, env->timeout_usec, &message);
        }
        if (r < 0)
                return error_textf(ret_message, r, "resizing %s: %s", name, strempty(message));
        return 0;
}

int pool_backend_volume_delete(const PoolSpec *spec, const PoolEnv *env, const char *name, char **ret_message) {
        if (spec->type == POOL_LVM)
                return lvm_lv_remove(spec->name, name, env->timeout_usec, ret_message);
        return file_volume_remove(spec, env, name, ret_message);
}

/* A copy is a Job: it may take hours, the command deadline does not apply. */
#define CLONE_TIMEOUT_USEC (UINT64_MAX / 2)

/* An LV is copied into a new LV marked as being made, and the mark goes once it is whole. */
static int lv_volume_clone(const PoolSpec *spec, const PoolEnv *env, const char *name, const char *new_name,
                           volume_progress_fn progress, void *userdata, const atomic_bool *cancel,
                           char **ret_message) {
        _cleanup_(freep) char *source = NULL, *dest = NULL, *message = NULL;
        _cleanup_(volume_info_done) VolumeInfo info = {};
        int r;

        if (!lvm_have_device_mapper())
                return error_textf(ret_message, -EOPNOTSUPP,
                             "copying a logical volume needs device-mapper, which this kernel lacks");
        r = pool_backend_volume_info(spec, env, name, &info, ret_message);
        if (r < 0)
                return r;
        source = pool_backend_volume_location(spec, env, name);
        dest = pool_backend_volume_location(spec, env, new_name);
        if (!source || !dest)
                return -ENOMEM;
        r = lvm_lv_create_partial(spec->name, new_name, info.capacity, pool_partial_tag(), env->timeout_usec,
                                  &message);
        if (r < 0)
                return error_textf(ret_message, r, "lvcreate: %s", strempty(message));
        r = qemu_img_convert(source, "raw", dest, "raw", true, CLONE_TIMEOUT_USEC, progress, userdata, cancel,
                             &message);
        if (r >= 0)
                r = lvm_lv_finish_partial(spec->name, new_name, pool_partial_tag(), env->timeout_usec, &message);
        if (r < 0) {
                (void) lvm_lv_remove_partials(spec->name, pool_partial_tag(), new_name, env->timeout_usec, NULL);
                return error_textf(ret_message, r, "copying %s to %s: %s", name, new_name, strempty(message));
        }
        return 0;
}

int pool_backend_volume_clone(const PoolSpec *spec, const PoolEnv *env, const char *name, const char *format,
                              const char *new_name, volume_progress_fn progress, void *userdata,
                              const atomic_bool *cancel, char **ret_message) {
        _cleanup_(freep) char *partial = NULL, *source = NULL, *dest = NULL, *message = NULL;
        int r;

        if (spec->type == POOL_LVM)
                return lv_volume_clone(spec, env, name, new_name, progress, userdata, cancel, ret_message);
        r = file_volume_exists(spec, env, new_name, ret_message);
        if (r < 0)
                return r;
        if (r > 0)
                return error_textf(ret_message, -EEXIST, "new_name: a file %s exists in the pool already", new_name);
        partial = pool_partial_name(new_name);
        source = pool_backend_volume_location(spec, env, name);
        dest = partial ? pool_backend_volume_location(spec, env, partial) : NULL;
        if (!source || !dest)
                return -ENOMEM;
        r = qemu_img_convert(source, format, dest, format, false, CLONE_TIMEOUT_USEC, progress, userdata, cancel,
                             &message);
        if (r < 0) {
                (void) file_volume_remove(spec, env, partial, NULL);
                return error_textf(ret_message, r, "copying %s to %s: %s", name, new_name, strempty(message));
        }
        return file_volume_publish(spec, env, partial, new_name, "new_name", ret_message);
}

int pool_backend_remove_partials(const PoolSpec *spec, const PoolEnv *env, char **ret_message) {
        VolumeUsage *files = NULL;
        size_t n = 0;
        int r;

        if (spec->type == POOL_LVM)
                return lvm_lv_remove_partials(spec->name, pool_partial_tag(), NULL, env->timeout_usec, ret_message);
        r = pool_files(spec, env, pool_partial_prefix(), &files, &n, ret_message);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = file_volume_remove(spec, env, files[i].name, ret_message);
        volume_usage_array_free(files, n);
        return r;
}

int pool_backend_create(const PoolSpec *spec, const PoolEnv *env, PoolStatus *ret_status, VolumeInfo **ret_volumes,
                        size_t *ret_n, char **ret_message) {
        int r;

        r = pool_backend_prepare(spec, env, true, ret_message);
        if (r < 0)
                return r;
        r = pool_backend_status(spec, env, ret_status, ret_message);
        if (r >= 0)
                r = pool_backend_list(spec, env, ret_volumes, ret_n, ret_message);
        if (r < 0)
                (void) pool_backend_remove(spec, env, NULL);
        return r;
}
