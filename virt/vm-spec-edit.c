/* Edits of a stored VM spec (JSON text), so that Spec says what the VM is after each change */
#include "vm-spec-edit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

/* The position in ARRAY of the object whose KEY is VALUE, or -1. */
static ssize_t find_by(json_object *array, const char *key, const char *value) {
        for (size_t i = 0; i < json_object_array_length(array); i++) {
                json_object *v;

                if (json_object_object_get_ex(json_object_array_get_idx(array, i), key, &v) &&
                    strcasecmp(json_object_get_string(v), value) == 0)
                        return (ssize_t) i;
        }
        return -1;
}

static int edit_list(json_object *spec, const char *list, const char *key, const char *value,
                     json_object *add) {
        json_object *array;
        ssize_t at;

        if (!json_object_object_get_ex(spec, list, &array) || !json_object_is_type(array, json_type_array)) {
                json_object_put(add);
                return -EINVAL;
        }
        if (add)
                return json_object_array_add(array, add) < 0 ? -ENOMEM : 0;
        at = find_by(array, key, value);
        if (at < 0)
                return -ENOENT;
        return json_object_array_del_idx(array, (size_t) at, 1) < 0 ? -ENOMEM : 0;
}

/* The domain's own maximum allowed VALUE: the spec's must not say less. */
static void raise_max(json_object *o, const char *key, uint64_t value) {
        json_object *max;

        if (json_object_object_get_ex(o, key, &max) && (uint64_t) json_object_get_int64(max) < value)
                json_object_object_add(o, key, json_object_new_int64((int64_t) value));
}

/* A snapshot or a merge moved the disk TARGET onto another file of the same directory (pool). */
static int set_disk_file(json_object *o, const char *target, const VmSpecDisk *disk) {
        json_object *array, *d, *v;
        const char *name = strrchr(disk->path, '/');
        ssize_t at;

        if (!json_object_object_get_ex(o, "disks", &array) || !json_object_is_type(array, json_type_array))
                return -ENOENT;
        at = find_by(array, "target", target);
        if (at < 0)
                return -ENOENT;
        d = json_object_array_get_idx(array, at);
        if (json_object_object_get_ex(d, "volume", &v))
                json_object_object_add(d, "volume", json_object_new_string(name ? name + 1 : disk->path));
        else {
                json_object_object_add(d, "path", json_object_new_string(disk->path));
                json_object_object_add(d, "format", json_object_new_string(disk->format));
        }
        return 0;
}

static int apply(json_object *o, const VmSpecEdit *e) {
        switch (e->kind) {
        case VM_SPEC_EDIT_ADD_DISK:
                return edit_list(o, "disks", NULL, NULL, vm_spec_disk_json(e->disk));
        case VM_SPEC_EDIT_REMOVE_DISK:
                return edit_list(o, "disks", "target", e->key, NULL);
        case VM_SPEC_EDIT_ADD_NIC:
                return edit_list(o, "nics", NULL, NULL, vm_spec_nic_json(e->nic));
        case VM_SPEC_EDIT_REMOVE_NIC:
                return edit_list(o, "nics", "mac", e->key, NULL);
        case VM_SPEC_EDIT_MEMORY:
                json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t) e->value));
                raise_max(o, "max_memory_mib", e->value);
                return 0;
        case VM_SPEC_EDIT_VCPUS:
                json_object_object_add(o, "vcpus", json_object_new_int((int) e->value));
                raise_max(o, "max_vcpus", e->value);
                return 0;
        case VM_SPEC_EDIT_DISK_FILE:
                return set_disk_file(o, e->key, e->disk);
        }
        return -EINVAL;
}

int vm_spec_edit(const char *spec, const VmSpecEdit *edit, char **ret) {
        _cleanup_(freep) char *why = NULL;
        VmSpec parsed = {};
        int r;

        /* Parsed again, so that every disk has its target written out. */
        r = vm_spec_parse(spec, &parsed, &why);
        if (r < 0)
                return r;
        r = apply(parsed.normalized, edit);
        if (r >= 0) {
                *ret = strdup(json_object_to_json_string_ext(parsed.normalized, JSON_C_TO_STRING_PLAIN));
                if (!*ret)
                        r = -ENOMEM;
        }
        vm_spec_done(&parsed);
        return r;
}
