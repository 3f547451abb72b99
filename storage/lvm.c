/* LVM through the lvm2 commands and their JSON reports */
#include "lvm.h"

#include <json-c/json.h>
#include <stdio.h>
#include <sys/utsname.h>

#include "command.h"
#include "json-cleanup.h"
#include "macro.h"

/* Reports in bytes, as JSON: "--units b --nosuffix --reportformat json". */
#define REPORT_ARGS "--units", "b", "--nosuffix", "--reportformat", "json"

/* Whether NAME is a line of /proc/misc: a driver the kernel has now. */
static bool misc_driver_loaded(const char *name) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/misc", "re");
        char line[128], found[64];
        unsigned minor;

        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "%u %63s", &minor, found) == 2 && streq(found, name))
                        return true;
        return false;
}

/* The node /dev/mapper/control proves nothing (installing dmsetup makes it
 * on a kernel without the driver), and opening it could load a module: the
 * loop thread asks this, so it reads what the kernel has loaded, or could
 * load, without touching the device. */
bool lvm_have_device_mapper(void) {
        struct utsname u;
        char path[256];

        if (misc_driver_loaded("device-mapper"))
                return true;
        if (uname(&u) < 0)
                return false;
        /* A module not loaded yet: lvm2 has the kernel load it when it needs it. Distributions
         * compress modules differently. */
        static const char *const suffixes[] = { "", ".xz", ".zst", ".gz" };
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                snprintf(path, sizeof path, "/lib/modules/%s/kernel/drivers/md/dm-mod.ko%s", u.release, suffixes[i]);
                if (access(path, F_OK) == 0)
                        return true;
        }
        return false;
}

/* The rows of the report's first KIND ("pv", "vg", "lv") list. */
static int report_rows(const char *out, const char *kind, json_object **ret_root, json_object **ret_rows) {
        json_object *root = json_tokener_parse(out), *reports, *first, *rows;

        if (!root)
                return -EBADMSG;
        /* json-c aborts when an array function gets anything else: every type is checked. */
        if (!json_object_object_get_ex(root, "report", &reports) || !json_object_is_type(reports, json_type_array) ||
            json_object_array_length(reports) < 1 ||
            !(first = json_object_array_get_idx(reports, 0)) ||
            !json_object_object_get_ex(first, kind, &rows) || !json_object_is_type(rows, json_type_array)) {
                json_object_put(root);
                return -EBADMSG;
        }
        *ret_root = root;
        *ret_rows = rows;
        return 0;
}

static const char *field(json_object *row, const char *key) {
        json_object *v;

        /* What is not a string (null, a number) reads as missing. */
        return json_object_object_get_ex(row, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v) : "";
}

/* A byte count as "--units b --nosuffix" prints it: digits only. strtoull
 * alone would take "-1" and what overflows as 2^64-1, and "" as 0. */
static int field_u64(json_object *row, const char *key, uint64_t *ret) {
        const char *s = field(row, key);
        unsigned long long u;

        if (!*s || s[strspn(s, "0123456789")] != '\0')
                return -EBADMSG;
        errno = 0;
        u = strtoull(s, NULL, 10);
        if (errno == ERANGE)
                return -EBADMSG;
        *ret = u;
        return 0;
}

static bool tags_include(const char *tags, const char *tag) {
        size_t n = strlen(tag);

        for (const char *p = tags; *p;) {
                const char *end = strchrnul(p, ',');
                if ((size_t) (end - p) == n && strncmp(p, tag, n) == 0)
                        return true;
                p = *end ? end + 1 : end;
        }
        return false;
}

static bool tags_include_prefix(const char *tags, const char *prefix) {
        size_t n = strlen(prefix);

        for (const char *p = tags; *p;) {
                const char *end = strchrnul(p, ',');
                if ((size_t) (end - p) >= n && strncmp(p, prefix, n) == 0)
                        return true;
                p = *end ? end + 1 : end;
        }
        return false;
}

static int report_error(char **ret_message, const char *what) {
        if (ret_message)
                *ret_message = strdup(what);
        return -EIO;
}

int lvm_pv_vg(const char *device, uint64_t timeout_usec, char **ret_vg, char **ret_message) {
        char *argv[] = { "pvs", "-o", "pv_name,vg_name", REPORT_ARGS, "--", (char *) device, NULL };
        _cleanup_(freep) char *out = NULL, *message = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *rows;
        const char *vg;
        int r;

        r = command_run_simple(argv, timeout_usec, &out, &message);
        if (r == -EIO && message && strstr(message, "Failed to find physical volume"))
                return -ENOENT;
        if (r < 0) {
                if (ret_message)
                        *ret_message = TAKE_PTR(message);
                return r;
        }
        if (report_rows(out, "pv", &root, &rows) < 0 || json_object_array_length(rows) < 1)
                return report_error(ret_message, "pvs printed no report that can be read");
        vg = field(json_object_array_get_idx(rows, 0), "vg_name");
        *ret_vg = *vg ? strdup(vg) : NULL;
        return 0;
}

int lvm_vg_get(const char *vg, uint64_t timeout_usec, LvmVg *ret, char **ret_message) {
        char *argv[] = { "vgs", "-o", "vg_name,vg_tags,vg_attr,vg_size,vg_free", REPORT_ARGS, "--", (char *) vg, NULL };
        _cleanup_(freep) char *out = NULL, *message = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *rows, *row;
        const char *attr;
        uint64_t size, free_bytes;
        int r;

        r = command_run_simple(argv, timeout_usec, &out, &message);
        if (r == -EIO && message && strstr(message, "not found")) {
                *ret = (LvmVg) {};
                return 0;
        }
        if (r < 0) {
                if (ret_message)
                        *ret_message = TAKE_PTR(message);
                return r;
        }
        if (report_rows(out, "vg", &root, &rows) < 0)
                return report_error(ret_message, "vgs printed no report that can be read");
        if (json_object_array_length(rows) < 1) {
                *ret = (LvmVg) {};
                return 0;
        }
        row = json_object_array_get_idx(rows, 0);
        attr = field(row, "vg_attr");
        if (field_u64(row, "vg_size", &size) < 0 || field_u64(row, "vg_free", &free_bytes) < 0)
                return report_error(ret_message, "vgs printed no report that can be read");
        *ret = (LvmVg) {
                .exists = true,
                .ours = tags_include(field(row, "vg_tags"), LVM_AGENT_TAG),
                .partial = strlen(attr) > 3 && attr[3] == 'p',
                .size = size,
                .free = free_bytes,
        };
        return 0;
}

static int run_with_devices(const char *const *head, size_t n_head, char *const *devices, size_t n_devices,
                            uint64_t timeout_usec, char **ret_message) {
        _cleanup_(freep) char **argv = calloc(n_head + n_devices + 1, sizeof(char *));

        if (!argv)
                return -ENOMEM;
        for (size_t i = 0; i < n_head; i++)
                argv[i] = (char *) head[i];
        for (size_t i = 0; i < n_devices; i++)
                argv[n_head + i] = devices[i];
        return command_run_simple(argv, timeout_usec, NULL, ret_message);
}

int lvm_vg_create(const char *vg, char *const *devices, size_t n_devices, uint64_t timeout_usec,
                  char **ret_message) {
        const char *pvcreate[] = { "pvcreate", "--" };
        const char *vgcreate[] = { "vgcreate", "--addtag", LVM_AGENT_TAG, "--", vg };
        int r;

        r = run_with_devices(pvcreate, ELEMENTSOF(pvcreate), devices, n_devices, timeout_usec, ret_message);
        if (r < 0)
                return r;
        r = run_with_devices(vgcreate, ELEMENTSOF(vgcreate), devices, n_devices, timeout_usec, ret_message);
        if (r < 0) {
                /* Give the devices back as they were. */
                const char *pvremove[] = { "pvremove", "--" };
                (void) run_with_devices(pvremove, ELEMENTSOF(pvremove), devices, n_devices, timeout_usec, NULL);
        }
        return r;
}

int lvm_vg_remove(const char *vg, char *const *devices, size_t n_devices, uint64_t timeout_usec,
                  char **ret_message) {
        char *argv[] = { "vgremove", "--", (char *) vg, NULL };
        const char *pvremove[] = { "pvremove", "--" };
        LvmVg info;
        int r;

        r = lvm_vg_get(vg, timeout_usec, &info, ret_message);
        if (r < 0)
                return r;
        if (!info.exists)
                return 0;
        if (!info.ours) {
                if (ret_message)
                        (void) asprintf(ret_message, "volume group %s is not tagged %s: not the agent's to remove",
                                        vg, LVM_AGENT_TAG);
                return -ERRNO_INVALID_STATE;
        }
        r = command_run_simple(argv, timeout_usec, NULL, ret_message);
        if (r < 0)
                return r;
        return run_with_devices(pvremove, ELEMENTSOF(pvremove), devices, n_devices, timeout_usec, ret_message);
}

int lvm_lv_list(const char *vg, uint64_t timeout_usec, VolumeInfo **ret, size_t *ret_n, char **ret_message) {
        char *argv[] = { "lvs", "-o", "lv_name,lv_size,lv_tags", REPORT_ARGS, "--", (char *) vg, NULL };
        _cleanup_(freep) char *out = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *rows;
        VolumeInfo *v;
        size_t n = 0, total;
        int r;

        r = command_run_simple(argv, timeout_usec, &out, ret_message);
        if (r < 0)
                return r;
        if (report_rows(out, "lv", &root, &rows) < 0)
                return report_error(ret_message, "lvs printed no report that can be read");
        total = json_object_array_length(rows);
        v = calloc(total ?: 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < total; i++) {
                json_object *row = json_object_array_get_idx(rows, i);
                uint64_t size;

                if (!tags_include(field(row, "lv_tags"), LVM_AGENT_TAG) ||
                    tags_include_prefix(field(row, "lv_tags"), LVM_PARTIAL_TAG_PREFIX))
                        continue;
                if (field_u64(row, "lv_size", &size) < 0) {
                        volume_info_array_free(v, n);
                        return report_error(ret_message, "lvs printed no report that can be read");
                }
                v[n] = (VolumeInfo) {
                        .name = strdup(field(row, "lv_name")),
                        .format = strdup("raw"),
                        .capacity = size,
                        .allocation = size,
                };
                if (!v[n++].name) {
                        volume_info_array_free(v, n);
                        return -ENOMEM;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int lvm_lv_create(const char *vg, const char *lv, uint64_t size, bool activate, uint64_t timeout_usec,
                  char **ret_message) {
        char size_arg[32];
        char *with_dm[] = { "lvcreate", "--yes", "--addtag", LVM_AGENT_TAG, "-n", (char *) lv, "-L", size_arg,
                            "--", (char *) vg, NULL };
        char *metadata_only[] = { "lvcreate", "--addtag", LVM_AGENT_TAG, "-an", "-Zn", "-n", (char *) lv, "-L",
                                  size_arg, "--", (char *) vg, NULL };

        snprintf(size_arg, sizeof size_arg, "%llub", (unsigned long long) size);
        return command_run_simple(activate ? with_dm : metadata_only, timeout_usec, NULL, ret_message);
}

/* Refuses LVs without the agent's tag: someone else's data. */
static int lv_check_ours(const char *vg, const char *lv, uint64_t timeout_usec, char **ret_message) {
        VolumeInfo *v = NULL;
        size_t n = 0;
        bool found = false;
        int r;

        r = lvm_lv_list(vg, timeout_usec, &v, &n, ret_message);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                found = found || streq(v[i].name, lv);
        volume_info_array_free(v, n);
        if (!found) {
                if (ret_message)
                        (void) asprintf(ret_message, "no logical volume %s/%s tagged %s", vg, lv, LVM_AGENT_TAG);
                return -ENOENT;
        }
        return 0;
}

/* "VG/LV" for the lvm2 commands, once the LV is known to be the agent's. */
static int our_lv_target(const char *vg, const char *lv, uint64_t timeout_usec, char **ret, char **ret_message) {
        int r = lv_check_ours(vg, lv, timeout_usec, ret_message);

        if (r < 0)
                return r;
        return asprintf(ret, "%s/%s", vg, lv) < 0 ? -ENOMEM : 0;
}

int lvm_lv_extend(const char *vg, const char *lv, uint64_t size, uint64_t timeout_usec, char **ret_message) {
        _cleanup_(freep) char *target = NULL;
        char size_arg[32];
        int r;

        r = our_lv_target(vg, lv, timeout_usec, &target, ret_message);
        if (r < 0)
                return r;
        snprintf(size_arg, sizeof size_arg, "%llub", (unsigned long long) size);
        char *argv[] = { "lvextend", "-L", size_arg, "--", target, NULL };
        return command_run_simple(argv, timeout_usec, NULL, ret_message);
}

int lvm_lv_remove(const char *vg, const char *lv, uint64_t timeout_usec, char **ret_message) {
        _cleanup_(freep) char *target = NULL;
        int r;

        r = our_lv_target(vg, lv, timeout_usec, &target, ret_message);
        if (r < 0)
                return r;
        char *argv[] = { "lvremove", "--yes", "--", target, NULL };
        return command_run_simple(argv, timeout_usec, NULL, ret_message);
}

int lvm_lv_create_partial(const char *vg, const char *lv, uint64_t size, const char *partial_tag,
                          uint64_t timeout_usec, char **ret_message) {
        char size_arg[32];
        char *argv[] = { "lvcreate", "--yes", "--addtag", LVM_AGENT_TAG, "--addtag", (char *) partial_tag, "-n",
                         (char *) lv, "-L", size_arg, "--", (char *) vg, NULL };

        snprintf(size_arg, sizeof size_arg, "%llub", (unsigned long long) size);
        return command_run_simple(argv, timeout_usec, NULL, ret_message);
}

int lvm_lv_finish_partial(const char *vg, const char *lv, const char *partial_tag, uint64_t timeout_usec,
                          char **ret_message) {
        _cleanup_(freep) char *target = NULL;

        if (asprintf(&target, "%s/%s", vg, lv) < 0)
                return -ENOMEM;
        char *argv[] = { "lvchange", "--deltag", (char *) partial_tag, "--", target, NULL };
        return command_run_simple(argv, timeout_usec, NULL, ret_message);
}

int lvm_lv_remove_partials(const char *vg, const char *partial_tag, const char *lv, uint64_t timeout_usec,
                           char **ret_message) {
        char *argv[] = { "lvs", "-o", "lv_name,lv_tags", REPORT_ARGS, "--", (char *) vg, NULL };
        _cleanup_(freep) char *out = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *rows;
        int r;

        r = command_run_simple(argv, timeout_usec, &out, ret_message);
        if (r < 0)
                return r;
        if (report_rows(out, "lv", &root, &rows) < 0)
                return report_error(ret_message, "lvs printed no report that can be read");
        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                json_object *row = json_object_array_get_idx(rows, i);
                _cleanup_(freep) char *target = NULL;

                if (!tags_include(field(row, "lv_tags"), partial_tag) || (lv && !streq(field(row, "lv_name"), lv)))
                        continue;
                if (asprintf(&target, "%s/%s", vg, field(row, "lv_name")) < 0)
                        return -ENOMEM;
                char *remove[] = { "lvremove", "--yes", "--", target, NULL };
                r = command_run_simple(remove, timeout_usec, NULL, ret_message);
                if (r < 0)
                        return r;
        }
        return 0;
}
