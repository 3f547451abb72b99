/* The storage pool spec: JSON in, validated, normalized for keeping */
#include "pool-spec.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>

#include "json-cleanup.h"
#include "json-dispatch.h"
#include "json-field.h"
#include "macro.h"

static const char *const pool_type_table[_POOL_TYPE_MAX] = {
        [POOL_DIR] = "dir",
        [POOL_NFS] = "nfs",
        [POOL_LVM] = "lvm",
};
DEFINE_STRING_TABLE_LOOKUP(pool_type, PoolType);

static const char *const nfs_access_table[_NFS_ACCESS_MAX] = {
        [NFS_ACCESS_MOUNT] = "mount",
        [NFS_ACCESS_LIBNFS] = "libnfs",
};
DEFINE_STRING_TABLE_LOOKUP(nfs_access, NfsAccess);

static const char *const type_choices[] = { "dir", "nfs", "lvm", NULL };
static const char *const access_choices[] = { "mount", "libnfs", NULL };

void pool_spec_done(PoolSpec *spec) {
        free(spec->name);
        free(spec->path);
        free(spec->server);
        free(spec->export_path);
        for (size_t i = 0; i < spec->n_devices; i++)
                free(spec->devices[i]);
        json_object_put(spec->normalized);
        *spec = (PoolSpec) {};
}

/* Absolute, no "." or ".." components, no empty components, not "/". */
static bool clean_absolute_path(const char *s) {
        if (s[0] != '/' || streq(s, "/"))
                return false;
        for (const char *p = s; *p;) {
                const char *slash;
                size_t n;

                p++;   /* past '/' */
                slash = strchrnul(p, '/');
                n = (size_t) (slash - p);
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p = slash;
        }
        return true;
}

/* A host name or an IPv4/IPv6 address as text: nothing that could be taken
 * for an option or a path by mount(8) or a URL. */
static bool server_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 253 || !isalnum((unsigned char) s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr(".-:", *p))
                        return false;
        return true;
}

static int pool_dispatch_path(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                              char **ret_error) {
        char **path = ret;
        const char *s;
        int r;

        r = json_field_string(v, field, PATH_MAX - 1, &s, ret_error);
        if (r < 0)
                return r;
        if (!clean_absolute_path(s))
                return json_field_fail(ret_error, field,
                                       "must be an absolute path without '.' or '..' components, not /");
        *path = strdup(s);
        return *path ? 0 : -ENOMEM;
}

static int pool_dispatch_devices(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                 char **ret_error) {
        PoolSpec *spec = ret;
        char item[64];
        size_t n;
        int r;

        if (!json_object_is_type(v, json_type_array))
                return json_field_fail(ret_error, field, "must be an array of block device paths");
        n = json_object_array_length(v);
        if (n == 0 || n > POOL_SPEC_MAX_DEVICES)
                return json_field_fail(ret_error, field, "must name between 1 and %d devices", POOL_SPEC_MAX_DEVICES);
        for (size_t i = 0; i < n; i++) {
                snprintf(item, sizeof item, "devices[%zu]", i);
                r = pool_dispatch_path(json_object_array_get_idx(v, i), item, entry, &spec->devices[i], ret_error);
                if (r < 0)
                        return r;
                spec->n_devices = i + 1;
                if (strncmp(spec->devices[i], "/dev/", 5) != 0)
                        return json_field_fail(ret_error, item, "must be a device under /dev");
                for (size_t j = 0; j < i; j++)
                        if (streq(spec->devices[i], spec->devices[j]))
                                return json_field_fail(ret_error, item, "is listed twice (also devices[%zu])", j);
        }
        return 0;
}

static int pool_dispatch_server(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                char **ret_error) {
        char **server = ret;
        const char *s;
        int r;

        r = json_field_string(v, field, 253, &s, ret_error);
        if (r < 0)
                return r;
        if (!server_valid(s))
                return json_field_fail(ret_error, field, "must be a host name or an IP address");
        *server = strdup(s);
        return *server ? 0 : -ENOMEM;
}

static int pool_dispatch_access(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                char **ret_error) {
        const char *s;
        int r;

        r = json_field_enum(v, field, access_choices, &s, ret_error);
        if (r < 0)
                return r;
        *(NfsAccess *) ret = nfs_access_from_string(s);
        return 0;
}

/* Every type's table starts with these; the type was read first, as it chose the table. */
#define POOL_NAME_AND_TYPE                                                                  \
        { "name", json_type_string, json_dispatch_name, .offset = offsetof(PoolSpec, name), \
          .flags = JSON_DISPATCH_REQUIRED, .max = JSON_NAME_MAX_LEN },                      \
        { "type", JSON_DISPATCH_ANY, json_dispatch_skip, .offset = 0 }

static const JsonDispatch dir_fields[] = {
        POOL_NAME_AND_TYPE,
        { "path", json_type_string, pool_dispatch_path, .offset = offsetof(PoolSpec, path),
          .flags = JSON_DISPATCH_REQUIRED, .missing = "is required for a dir pool" },
        {}
};

static const JsonDispatch nfs_fields[] = {
        POOL_NAME_AND_TYPE,
        { "server", json_type_string, pool_dispatch_server, .offset = offsetof(PoolSpec, server),
          .flags = JSON_DISPATCH_REQUIRED, .missing = "is required for an nfs pool" },
        { "export", json_type_string, pool_dispatch_path, .offset = offsetof(PoolSpec, export_path),
          .flags = JSON_DISPATCH_REQUIRED, .missing = "is required for an nfs pool" },
        { "version", json_type_int, json_dispatch_unsigned, .offset = offsetof(PoolSpec, nfs_version),
          .min = 3, .max = 4 },
        { "access", json_type_string, pool_dispatch_access, .offset = offsetof(PoolSpec, access) },
        {}
};

static const JsonDispatch lvm_fields[] = {
        POOL_NAME_AND_TYPE,
        { "devices", JSON_DISPATCH_ANY, pool_dispatch_devices, .offset = 0,
          .flags = JSON_DISPATCH_REQUIRED, .missing = "is required for an lvm pool" },
        {}
};

static const struct {
        const JsonDispatch *fields;
        const char *unknown;
} pool_tables[_POOL_TYPE_MAX] = {
        [POOL_DIR] = { dir_fields, "unknown key for a dir pool" },
        [POOL_NFS] = { nfs_fields, "unknown key for a nfs pool" },
        [POOL_LVM] = { lvm_fields, "unknown key for a lvm pool" },
};

static int normalize(PoolSpec *spec) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "name", json_object_new_string(spec->name));
        json_object_object_add(o, "type", json_object_new_string(pool_type_to_string(spec->type)));
        switch (spec->type) {
        case POOL_DIR:
                json_object_object_add(o, "path", json_object_new_string(spec->path));
                break;
        case POOL_NFS:
                json_object_object_add(o, "server", json_object_new_string(spec->server));
                json_object_object_add(o, "export", json_object_new_string(spec->export_path));
                json_object_object_add(o, "version", json_object_new_int((int) spec->nfs_version));
                json_object_object_add(o, "access", json_object_new_string(nfs_access_to_string(spec->access)));
                break;
        case POOL_LVM: {
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < spec->n_devices; i++)
                        json_object_array_add(a, json_object_new_string(spec->devices[i]));
                json_object_object_add(o, "devices", a);
                break;
        }
        default:
                return -EINVAL;
        }
        spec->normalized = TAKE_PTR(o);
        return 0;
}

int pool_spec_from_json(json_object *o, PoolSpec *ret, char **ret_error) {
        _cleanup_(pool_spec_done) PoolSpec spec = { .type = _POOL_TYPE_INVALID, .nfs_version = 0 };
        json_object *v;
        const char *s;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return json_field_fail(ret_error, "spec", "must be a JSON object");

        /* The type decides which other keys are allowed: read it first. */
        if (!json_object_object_get_ex(o, "type", &v))
                return json_field_fail(ret_error, "type", "is required (dir, nfs or lvm)");
        r = json_field_enum(v, "type", type_choices, &s, ret_error);
        if (r < 0)
                return r;
        spec.type = pool_type_from_string(s);

        r = json_dispatch_full(o, NULL, pool_tables[spec.type].fields, pool_tables[spec.type].unknown, &spec,
                               ret_error);
        if (r < 0)
                return r;
        if (spec.type == POOL_NFS && spec.nfs_version == 0)
                /* libnfs 4.0 cannot write over NFSv4; the kernel client prefers it. */
                spec.nfs_version = spec.access == NFS_ACCESS_LIBNFS ? 3 : 4;
        r = normalize(&spec);
        if (r < 0)
                return r;
        *ret = spec;
        spec = (PoolSpec) {};
        return 0;
}

char *pool_spec_text_name(const char *text) {
        _cleanup_(json_object_putp) json_object *root =
                strlen(text) <= POOL_SPEC_MAX_BYTES ? json_tokener_parse(text) : NULL;
        json_object *name;

        if (!json_object_object_get_ex(root, "name", &name) || !json_object_is_type(name, json_type_string))
                return NULL;
        return strdup(json_object_get_string(name));
}

int pool_spec_parse(const char *text, PoolSpec *ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        enum json_tokener_error jerr;

        if (strlen(text) > POOL_SPEC_MAX_BYTES)
                return json_field_fail(ret_error, "spec", "must be at most %d bytes", POOL_SPEC_MAX_BYTES);
        o = json_tokener_parse_verbose(text, &jerr);
        if (!o)
                return json_field_fail(ret_error, "spec", "not valid JSON: %s", json_tokener_error_desc(jerr));
        return pool_spec_from_json(o, ret, ret_error);
}

char *pool_spec_source(const PoolSpec *spec) {
        char *s = NULL;

        switch (spec->type) {
        case POOL_DIR:
                return strdup(spec->path);
        case POOL_NFS:
                if (asprintf(&s, "%s:%s", spec->server, spec->export_path) < 0)
                        return NULL;
                return s;
        case POOL_LVM: {
                size_t n = 1;
                for (size_t i = 0; i < spec->n_devices; i++)
                        n += strlen(spec->devices[i]) + 1;
                s = calloc(1, n);
                for (size_t i = 0; s && i < spec->n_devices; i++) {
                        if (i)
                                strcat(s, ",");
                        strcat(s, spec->devices[i]);
                }
                return s;
        }
        default:
                return NULL;
        }
}
