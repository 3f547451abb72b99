/* ApplyVM's plan: what differs between a VM's spec and the one wanted, as steps */
#include "vm-apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-field.h"
#include "macro.h"
#include "vm-spec-private.h"

static const char *const action_table[_VM_APPLY_ACTION_MAX] = {
        [VM_APPLY_ATTACH_DISK] = "attach-disk",
        [VM_APPLY_DETACH_DISK] = "detach-disk",
        [VM_APPLY_ATTACH_NIC] = "attach-nic",
        [VM_APPLY_DETACH_NIC] = "detach-nic",
        [VM_APPLY_SET_MEMORY] = "set-memory",
        [VM_APPLY_SET_VCPUS] = "set-vcpus",
        [VM_APPLY_CHANGE] = "change",
        [VM_APPLY_SET_AUTOSTART] = "set-autostart",
        [VM_APPLY_SET_METADATA] = "set-metadata",
        [VM_APPLY_RESTART] = "restart",
};

const char *vm_apply_action_to_string(VmApplyAction a) {
        return a >= 0 && a < _VM_APPLY_ACTION_MAX ? action_table[a] : NULL;
}

void vm_apply_plan_done(VmApplyPlan *plan) {
        for (size_t i = 0; i < plan->n_steps; i++) {
                free(plan->steps[i].from);
                free(plan->steps[i].to);
        }
        json_object_put(plan->final);
        plan->final = NULL;
        plan->n_steps = 0;
}

static VmApplyStep *add_step(VmApplyPlan *p, VmApplyAction action, bool live) {
        VmApplyStep *s = &p->steps[p->n_steps++];   /* sized for every device twice and each field */

        *s = (VmApplyStep) { .action = action, .live = live };
        if (action != VM_APPLY_SET_AUTOSTART && action != VM_APPLY_RESTART)
                p->define = true;
        return s;
}

static bool disk_same_source(const VmSpecDisk *a, const VmSpecDisk *b) {
        if (a->pool || b->pool)
                return streq_ptr(a->pool, b->pool) && streq_ptr(a->volume, b->volume);
        return streq_ptr(a->path, b->path);
}

static bool disk_same_device(const VmSpecDisk *cur, const VmSpecDisk *want) {
        return streq(cur->bus, want->bus) && streq(cur->device, want->device) && cur->readonly == want->readonly &&
               (cur->pool || streq(cur->format, want->format)) &&
               (!want->target_given || streq(cur->target, want->target));
}

static json_object *final_list(VmApplyPlan *p, const char *name) {
        json_object *a = NULL;

        (void) json_object_object_get_ex(p->final, name, &a);
        return a;
}

static void set_string(json_object *list, size_t i, const char *key, const char *value) {
        json_object_object_add(json_object_array_get_idx(list, i), key, json_object_new_string(value));
}

/* Targets are kept for disks that stay, and picked for new ones among what
 * no disk holds (nor one being detached: the guest may still have it). */
static int plan_disks(const VmSpec *cur, const VmSpec *want, bool running, VmApplyPlan *p, char **ret_error) {
        bool kept[VM_SPEC_MAX_DISKS] = {}, matched[VM_SPEC_MAX_DISKS] = {};
        char *used[2 * VM_SPEC_MAX_DISKS + 1] = {};
        char targets[VM_SPEC_MAX_DISKS][8];
        size_t n_used = 0;

        for (size_t i = 0; i < want->n_disks; i++)
                for (size_t j = 0; j < cur->n_disks && !matched[i]; j++)
                        if (!kept[j] && disk_same_source(&cur->disks[j], &want->disks[i]) &&
                            disk_same_device(&cur->disks[j], &want->disks[i])) {
                                kept[j] = matched[i] = true;
                                memcpy(targets[i], cur->disks[j].target, 8);
                        }
        for (size_t j = 0; j < cur->n_disks; j++) {
                used[n_used++] = (char *) cur->disks[j].target;
                if (!kept[j])
                        memcpy(add_step(p, VM_APPLY_DETACH_DISK, running)->key, cur->disks[j].target, 8);
        }
        for (size_t i = 0; i < want->n_disks; i++) {
                VmApplyStep *s;
                char field[64];

                if (matched[i])
                        continue;
                snprintf(field, sizeof field, "disks[%zu].target", i);
                if (want->disks[i].target_given) {
                        if (vm_spec_target_taken(used, want->disks[i].target))
                                return json_field_fail(ret_error, field, "%s is the target of a disk the VM has",
                                                       want->disks[i].target);
                        memcpy(targets[i], want->disks[i].target, 8);
                } else if (vm_spec_next_target(want->disks[i].bus, used, targets[i]) < 0)
                        return json_field_fail(ret_error, field, "no target left on %s", want->disks[i].bus);
                used[n_used++] = targets[i];
                s = add_step(p, VM_APPLY_ATTACH_DISK, running);
                memcpy(s->key, targets[i], 8);
                s->index = i;
        }
        for (size_t i = 0; i < want->n_disks; i++)
                set_string(final_list(p, "disks"), i, "target", targets[i]);
        return 0;
}

static bool nic_same_place(const VmSpecNic *cur, const VmSpecNic *want) {
        return streq_ptr(cur->network, want->network) && (want->network || streq_ptr(cur->bridge, want->bridge)) &&
               streq(cur->model, want->model);
}

/* A NIC named by MAC is that NIC; one without is any NIC left in the same place. */
static void plan_nics(const VmSpec *cur, const VmSpec *want, bool running, VmApplyPlan *p) {
        bool kept[VM_SPEC_MAX_NICS] = {}, matched[VM_SPEC_MAX_NICS] = {};

        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < want->n_nics; i++)
                        for (size_t j = 0; j < cur->n_nics && !matched[i]; j++) {
                                if (kept[j] || (pass == 0) == want->nics[i].mac_generated)
                                        continue;
                                if (!nic_same_place(&cur->nics[j], &want->nics[i]) ||
                                    (pass == 0 && !streq(cur->nics[j].mac, want->nics[i].mac)))
                                        continue;
                                kept[j] = matched[i] = true;
                                set_string(final_list(p, "nics"), i, "mac", cur->nics[j].mac);
                        }
        for (size_t j = 0; j < cur->n_nics; j++)
                if (!kept[j])
                        memcpy(add_step(p, VM_APPLY_DETACH_NIC, running)->key, cur->nics[j].mac, 18);
        for (size_t i = 0; i < want->n_nics; i++)
                if (!matched[i]) {
                        VmApplyStep *s = add_step(p, VM_APPLY_ATTACH_NIC, running);
                        memcpy(s->key, want->nics[i].mac, 18);
                        s->index = i;
                }
}

/* A field that only the definition takes: pending until the next start. */
static void plan_field(VmApplyPlan *p, json_object *cur, json_object *want, const char *field) {
        json_object *a = NULL, *b = NULL;
        VmApplyStep *s;

        (void) json_object_object_get_ex(cur, field, &a);
        (void) json_object_object_get_ex(want, field, &b);
        if (json_object_equal(a, b))
                return;
        s = add_step(p, VM_APPLY_CHANGE, false);
        s->field = field;
        s->from = strdup(a ? json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN) : "null");
        s->to = strdup(b ? json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN) : "null");
}

static int check_fixed(const VmSpec *cur, const VmSpec *want, char **ret_error) {
        if (!streq(cur->name, want->name))
                return json_field_fail(ret_error, "name", "cannot change (%s); define a new VM instead", cur->name);
        if (!streq(cur->type, want->type))
                return json_field_fail(ret_error, "type", "cannot change from %s to %s", cur->type, want->type);
        if (want->uuid && cur->uuid && strcasecmp(cur->uuid, want->uuid) != 0)
                return json_field_fail(ret_error, "uuid", "is %s for the VM named %s", cur->uuid, cur->name);
        return 0;
}

static void plan_amounts(const VmSpec *cur, const VmSpec *want, const VmApplyLive *live, VmApplyPlan *p) {
        if (cur->memory_mib != want->memory_mib)
                add_step(p, VM_APPLY_SET_MEMORY, live->running && want->memory_mib <= live->max_memory_mib)->value =
                        want->memory_mib;
        if (cur->vcpus != want->vcpus)
                add_step(p, VM_APPLY_SET_VCPUS, live->running && want->vcpus <= live->max_vcpus)->value = want->vcpus;
        if (cur->autostart != want->autostart)
                add_step(p, VM_APPLY_SET_AUTOSTART, true)->value = want->autostart;
}

int vm_apply_plan(const VmSpec *current, const VmSpec *desired, const VmApplyLive *live, bool restart,
                  VmApplyPlan *ret, char **ret_error) {
        static const char *const definition_only[] = { "machine", "firmware", "max_memory_mib", "max_vcpus",
                                                       "graphics", "guest_agent", NULL };
        VmApplyPlan *p = ret;
        int r;

        *p = (VmApplyPlan) {};
        r = check_fixed(current, desired, ret_error);
        if (r < 0)
                return r;
        if (json_object_deep_copy(desired->normalized, &p->final, NULL) < 0)
                return -ENOMEM;
        r = plan_disks(current, desired, live->running, p, ret_error);
        if (r < 0) {
                vm_apply_plan_done(p);
                return r;
        }
        plan_nics(current, desired, live->running, p);
        plan_amounts(current, desired, live, p);
        for (size_t i = 0; definition_only[i]; i++)
                plan_field(p, current->normalized, p->final, definition_only[i]);
        if (!p->define && !json_object_equal(current->normalized, p->final))
                add_step(p, VM_APPLY_SET_METADATA, live->running);
        for (size_t i = 0; restart && live->running && i < p->n_steps; i++)
                if (!p->steps[i].live) {
                        add_step(p, VM_APPLY_RESTART, true);
                        break;
                }
        return 0;
}

int vm_apply_step_label(const VmApplyStep *s, char *buf, size_t size) {
        const char *a = vm_apply_action_to_string(s->action);

        switch (s->action) {
        case VM_APPLY_ATTACH_DISK: case VM_APPLY_DETACH_DISK: case VM_APPLY_ATTACH_NIC: case VM_APPLY_DETACH_NIC:
                return snprintf(buf, size, "%s %s", a, s->key);
        case VM_APPLY_CHANGE:
                return snprintf(buf, size, "change %s", s->field);
        case VM_APPLY_SET_MEMORY: case VM_APPLY_SET_VCPUS: case VM_APPLY_SET_AUTOSTART:
                return snprintf(buf, size, "%s %llu", a, (unsigned long long) s->value);
        default:
                return snprintf(buf, size, "%s", a);
        }
}

static json_object *step_json(const VmApplyStep *s) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "action", json_object_new_string(vm_apply_action_to_string(s->action)));
        switch (s->action) {
        case VM_APPLY_ATTACH_DISK: case VM_APPLY_DETACH_DISK:
                json_object_object_add(o, "target", json_object_new_string(s->key));
                break;
        case VM_APPLY_ATTACH_NIC: case VM_APPLY_DETACH_NIC:
                json_object_object_add(o, "mac", json_object_new_string(s->key));
                break;
        case VM_APPLY_SET_MEMORY:
                json_object_object_add(o, "mib", json_object_new_int64((int64_t) s->value));
                break;
        case VM_APPLY_SET_VCPUS:
                json_object_object_add(o, "vcpus", json_object_new_int64((int64_t) s->value));
                break;
        case VM_APPLY_SET_AUTOSTART:
                json_object_object_add(o, "autostart", json_object_new_boolean(s->value));
                break;
        case VM_APPLY_CHANGE:
                json_object_object_add(o, "field", json_object_new_string(s->field));
                json_object_object_add(o, "from", json_tokener_parse(strempty(s->from)));
                json_object_object_add(o, "to", json_tokener_parse(strempty(s->to)));
                break;
        default:
                break;
        }
        json_object_object_add(o, "live", json_object_new_boolean(s->live));
        return o;
}

char *vm_apply_plan_json(const VmApplyPlan *plan) {
        json_object *o = json_object_new_object(), *steps = json_object_new_array();
        char *s;

        for (size_t i = 0; i < plan->n_steps; i++)
                json_object_array_add(steps, step_json(&plan->steps[i]));
        json_object_object_add(o, "steps", steps);
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return s;
}
