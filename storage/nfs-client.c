/* The user-space NFS client (libnfs): no mount, so no process can hang in D state */
#include "nfs-client.h"

#include <nfsc/libnfs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "macro.h"
#include "pool-files.h"

static void nfs_destroy_contextp(struct nfs_context **p) {
        if (*p)
                nfs_destroy_context(*p);
}

static int fail(struct nfs_context *nfs, int r, const char *what, char **ret_message) {
        if (ret_message)
                (void) asprintf(ret_message, "%s: %s", what, nfs ? nfs_get_error(nfs) : strerror(-r));
        return r;
}

static int connect_export(const NfsExport *e, struct nfs_context **ret, char **ret_message) {
        _cleanup_(nfs_destroy_contextp) struct nfs_context *nfs = nfs_init_context();
        _cleanup_(freep) char *what = NULL;

        if (!nfs)
                return -ENOMEM;
        nfs_set_timeout(nfs, (int) e->timeout_ms);
        /* A dead server must fail the call, not be retried behind our back. */
        nfs_set_autoreconnect(nfs, 0);
        if (nfs_set_version(nfs, (int) e->version) < 0)
                return fail(nfs, -EPROTONOSUPPORT, "NFS version", ret_message);
        if (nfs_mount(nfs, e->server, e->export_path) < 0) {
                if (asprintf(&what, "cannot reach %s:%s", e->server, e->export_path) < 0)
                        return -ENOMEM;
                return fail(nfs, -EHOSTUNREACH, what, ret_message);
        }
        *ret = TAKE_PTR(nfs);
        return 0;
}

int nfs_export_space(const NfsExport *e, NfsSpace *ret, char **ret_message) {
        _cleanup_(nfs_destroy_contextp) struct nfs_context *nfs = NULL;
        struct statvfs st;
        int r;

        r = connect_export(e, &nfs, ret_message);
        if (r < 0)
                return r;
        r = nfs_statvfs(nfs, "/", &st);
        if (r < 0)
                return fail(nfs, -EHOSTUNREACH, "statvfs on the export", ret_message);
        *ret = (NfsSpace) {
                .capacity = (uint64_t) st.f_blocks * st.f_frsize,
                .used = (uint64_t) (st.f_blocks - st.f_bfree) * st.f_frsize,
                .available = (uint64_t) st.f_bavail * st.f_frsize,
        };
        return 0;
}

/* READDIRPLUS brings each file's attributes with its name: no call per file. */
int nfs_export_files(const NfsExport *e, const char *prefix, VolumeUsage **ret, size_t *ret_n,
                     char **ret_message) {
        _cleanup_(nfs_destroy_contextp) struct nfs_context *nfs = NULL;
        struct nfsdir *dir = NULL;
        struct nfsdirent *ent;
        VolumeUsage *v = NULL;
        size_t n = 0;
        int r;

        r = connect_export(e, &nfs, ret_message);
        if (r < 0)
                return r;
        if (nfs_opendir(nfs, "/", &dir) < 0)
                return fail(nfs, -EHOSTUNREACH, "listing the export", ret_message);
        while (r >= 0 && (ent = nfs_readdir(nfs, dir)))
                if (pool_file_wanted(ent->name, prefix) && S_ISREG(ent->mode))
                        /* blocks: 512-byte units, what QEMU's NFS driver reports as the actual size */
                        r = volume_usage_append(&v, &n, ent->name, ent->size, ent->blocks * 512);
        nfs_closedir(nfs, dir);
        if (r < 0) {
                volume_usage_array_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int nfs_export_publish(const NfsExport *e, const char *from, const char *to, char **ret_message) {
        _cleanup_(nfs_destroy_contextp) struct nfs_context *nfs = NULL;
        _cleanup_(freep) char *from_path = NULL, *to_path = NULL;
        int r;

        r = connect_export(e, &nfs, ret_message);
        if (r < 0)
                return r;
        if (asprintf(&from_path, "/%s", from) < 0 || asprintf(&to_path, "/%s", to) < 0)
                return -ENOMEM;
        /* NFS has no rename that refuses to replace; a hard link is only made where nothing is. */
        r = nfs_link(nfs, from_path, to_path);
        if (r == -EEXIST)
                return r;
        if (r < 0)
                return fail(nfs, -EIO, "giving the volume its name", ret_message);
        (void) nfs_unlink(nfs, from_path);   /* a leftover link is removed at the next start */
        return 0;
}

int nfs_export_unlink(const NfsExport *e, const char *name, char **ret_message) {
        _cleanup_(nfs_destroy_contextp) struct nfs_context *nfs = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = connect_export(e, &nfs, ret_message);
        if (r < 0)
                return r;
        if (asprintf(&path, "/%s", name) < 0)
                return -ENOMEM;
        r = nfs_unlink(nfs, path);
        if (r < 0)
                return fail(nfs, r == -ENOENT ? -ENOENT : -EIO, "removing the volume", ret_message);
        return 0;
}

char *nfs_export_uri(const NfsExport *e, const char *name) {
        char *uri;

        if (asprintf(&uri, "nfs://%s%s/%s", e->server, e->export_path, name) < 0)
                return NULL;
        return uri;
}

int nfs_export_exists(const NfsExport *e, const char *name, char **ret_message) {
        _cleanup_(nfs_destroy_contextp) struct nfs_context *nfs = NULL;
        _cleanup_(freep) char *path = NULL;
        struct nfs_stat_64 st;
        int r;

        r = connect_export(e, &nfs, ret_message);
        if (r < 0)
                return r;
        if (asprintf(&path, "/%s", name) < 0)
                return -ENOMEM;
        r = nfs_stat64(nfs, path, &st);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return fail(nfs, -EIO, "looking up the volume", ret_message);
        return 1;
}
