/* What polkit rules are told of a VM spec: its owner, and whether it reaches
 * host files or devices directly rather than through the agent's pools and
 * networks (vm.create against vm.create-raw). */
#include "vm-spec.h"

#include <string.h>

#include "json-cleanup.h"
#include "macro.h"

static const char *owner_of(json_object *spec) {
        json_object *metadata, *owner;

        if (!json_object_object_get_ex(spec, "metadata", &metadata) ||
            !json_object_object_get_ex(metadata, "owner", &owner) || !json_object_is_type(owner, json_type_string))
                return NULL;
        return json_object_get_string(owner);
}

const char *vm_spec_owner(const VmSpec *spec) {
        return spec->normalized ? owner_of(spec->normalized) : NULL;
}

bool vm_spec_reaches_host(const VmSpec *spec) {
        for (size_t i = 0; i < spec->n_disks; i++)
                if (!spec->disks[i].pool)
                        return true;
        for (size_t i = 0; i < spec->n_nics; i++)
                if (!spec->nics[i].network)
                        return true;
        return false;
}

const char *vm_spec_text_owner(const char *text, char *buf, size_t size) {
        _cleanup_(json_object_putp) json_object *root = text ? json_tokener_parse(text) : NULL;
        const char *owner = root ? owner_of(root) : NULL;

        if (!owner || strlen(owner) >= size)
                return NULL;
        memcpy(buf, owner, strlen(owner) + 1);
        return buf;
}
