/* The user-space NFS client (libnfs): no mount, so no process can hang in D state */
#include "nfs-client.h"

#include <nfsc/libnfs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "bus-text.h"
#include "macro.h"

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

int nfs_export_list(const NfsExport *e, char ***ret_names, char **ret_message) {
        _cleanup_(nfs_destroy_contextp) struct nfs_context *nfs = NULL;
        struct nfsdir *dir = NULL;
        struct nfsdirent *ent;
        char **names = NULL;
        bool oom;
        size_t n = 0;
        int r;

        r = connect_export(e, &nfs, ret_message);
        if (r < 0)
                return r;
        if (nfs_opendir(nfs, "/", &dir) < 0)
                return fail(nfs, -EHOSTUNREACH, "listing the export", ret_message);
        names = calloc(1, sizeof(char *));
        oom = !names;
        while (!oom && (ent = nfs_readdir(nfs, dir))) {
                char **grown;

                /* Hidden files are qemu-img's and editors' temporaries, not volumes;
                 * a name no D-Bus string can carry could not be named in a call. */
                if (ent->name[0] == '.' || !bus_text_valid(ent->name) || !S_ISREG(ent->mode))
                        continue;
                grown = realloc(names, (n + 2) * sizeof(char *));
                if (!grown) {
                        oom = true;
                        break;
                }
                names = grown;
                names[n] = strdup(ent->name);
                if (!names[n]) {
                        oom = true;
                        break;
                }
                names[++n] = NULL;
        }
        nfs_closedir(nfs, dir);
        if (oom) {
                for (size_t i = 0; names && i < n; i++)
                        free(names[i]);
                free(names);
                return -ENOMEM;
        }
        *ret_names = names;
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
