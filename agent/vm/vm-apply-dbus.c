/* Manager.ApplyVM: a VM as a spec says it should be, created or changed to match.
 *
 * The plan (virt/vm-apply.c) says what differs; here it becomes libvirt
 * changes made on a worker in order: the running VM's devices, memory and
 * vCPUs (live only), then the whole new definition (which holds the spec in
 * its metadata, and what only a restart applies), the spec of the running
 * VM, autostart and, when asked, a restart. A failing step undoes the ones
 * before it (the old definition defined again) and the error names it. */
#include "vm-apply-dbus.h"

#include "bus-auth.h"
#include "bus-error.h"
#include "bus-options.h"
#include "error-text.h"
#include "libvirt-error.h"
#include "log.h"
#include "macro.h"
#include "vm-apply.h"
#include "vm-auth.h"
#include "vm-create-dbus.h"
#include "storage.h"
#include "vm-devices.h"

typedef struct ApplyOptions {
        bool dry_run;
        bool restart;
} ApplyOptions;

static int read_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        ApplyOptions *o = userdata;
        int b, r;

        if (!streq(key, "dry_run") && !streq(key, "restart"))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "options.%s: unknown option (known: dry_run, restart)", TEXT_CUT(key));
        r = sd_bus_message_read(msg, "v", "b", &b);
        if (r < 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s: must be a boolean", key);
        *(streq(key, "dry_run") ? &o->dry_run : &o->restart) = b;
        return 0;
}

static int read_options(sd_bus_message *msg, ApplyOptions *o, sd_bus_error *error) {
        return bus_options_read(msg, read_option, o, error);
}

static int reply_plan(sd_bus_message *msg, const char *path, const char *plan) {
        return sd_bus_reply_method_return(msg, "os", path, plan);
}

/* The final spec, parsed and resolved: what the definition is made from, on the worker. */
typedef struct ApplyData {
        VmSpec final;
} ApplyData;

static void apply_data_free(void *p) {
        ApplyData *d = p;

        if (!d)
                return;
        vm_spec_done(&d->final);
        free(d);
}

/* Worker: the XML of the disks to attach and of the new definition, and the
 * old definition to go back to. */
static int apply_prepare(VmChangeCall *c, virDomainPtr dom) {
        ApplyData *d = c->data;
        int r;

        r = vm_spec_check_paths(&d->final, &c->base.error);
        if (r < 0) {
                c->input_error = true;
                return r;
        }
        for (size_t i = 0; i < c->n_steps; i++) {
                DomainChange *s = &c->steps[i], *u = &c->undo[i];

                if (s->kind == DOMAIN_CHANGE_ATTACH && !s->nic)
                        r = vm_spec_disk_xml(&d->final.disks[s->value], &s->device_xml);
                else if (s->kind == DOMAIN_CHANGE_DEFINE) {
                        r = vm_spec_to_xml(&d->final, &s->device_xml);
                        if (r >= 0 && !(u->device_xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE |
                                                                                         VIR_DOMAIN_XML_SECURE)))
                                return libvirt_error_take(&c->base.error);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_label(VmChangeCall *c, const VmApplyStep *s) {
        char label[96];

        vm_apply_step_label(s, label, sizeof label);
        return (c->labels[c->n_steps - 1] = strdup(label)) ? 0 : -ENOMEM;
}

/* A live step of the plan as a libvirt change, with its undo. */
static int add_live_step(VmChangeCall *c, Vm *vm, const VmApplyStep *s, ApplyData *d) {
        DomainChange *x, *u;
        int r = 0;

        switch (s->action) {
        case VM_APPLY_ATTACH_DISK: case VM_APPLY_ATTACH_NIC:
                x = vm_change_call_step(c, DOMAIN_CHANGE_ATTACH, true, false);
                x->nic = s->action == VM_APPLY_ATTACH_NIC;
                x->value = s->index;
                if (x->nic)
                        r = vm_spec_nic_xml(&d->final.nics[s->index], &x->device_xml);
                u = &c->undo[c->n_steps - 1];
                *u = (DomainChange) { .kind = DOMAIN_CHANGE_DETACH, .live = true, .nic = x->nic, .key = strdup(s->key) };
                return r < 0 ? r : u->key ? 0 : -ENOMEM;
        case VM_APPLY_DETACH_DISK: case VM_APPLY_DETACH_NIC:
                x = vm_change_call_step(c, DOMAIN_CHANGE_DETACH, true, false);
                x->nic = s->action == VM_APPLY_DETACH_NIC;
                x->key = strdup(s->key);
                return x->key ? 0 : -ENOMEM;
        case VM_APPLY_SET_MEMORY: case VM_APPLY_SET_VCPUS:
                x = vm_change_call_step(c, s->action == VM_APPLY_SET_MEMORY ? DOMAIN_CHANGE_MEMORY : DOMAIN_CHANGE_VCPUS,
                                        true, false);
                x->value = s->value;
                c->undo[c->n_steps - 1] = (DomainChange) {
                        .kind = x->kind, .live = true,
                        .value = s->action == VM_APPLY_SET_MEMORY ? vm->info.current_memory_mib : vm->info.vcpus };
                return 0;
        default:
                return 1;   /* not a live change of its own */
        }
}

static int build_steps(VmChangeCall *c, Vm *vm, const VmApplyPlan *plan, ApplyData *d) {
        bool running = vm_state_is_active(vm->info.state);
        DomainChange *x;
        int r;

        for (size_t i = 0; i < plan->n_steps; i++) {
                if (!plan->steps[i].live || plan->steps[i].action == VM_APPLY_SET_AUTOSTART)
                        continue;
                r = add_live_step(c, vm, &plan->steps[i], d);
                if (r == 0)
                        r = add_label(c, &plan->steps[i]);
                if (r < 0)
                        return r;
        }
        if (plan->define) {
                vm_change_call_step(c, DOMAIN_CHANGE_DEFINE, false, true);
                c->undo[c->n_steps - 1] = (DomainChange) { .kind = DOMAIN_CHANGE_DEFINE };
                if (!(c->labels[c->n_steps - 1] = strdup("the new definition")))
                        return -ENOMEM;
        }
        if (plan->define && running) {
                /* The running VM's own copy of the spec, which Spec shows. */
                x = vm_change_call_step(c, DOMAIN_CHANGE_SPEC, true, false);
                x->spec = strdup(json_object_to_json_string_ext(plan->final, JSON_C_TO_STRING_PLAIN));
                c->undo[c->n_steps - 1] = (DomainChange) { .kind = DOMAIN_CHANGE_SPEC, .live = true,
                                                           .spec = strdup(vm->info.spec) };
                if (!x->spec || !c->undo[c->n_steps - 1].spec || !(c->labels[c->n_steps - 1] = strdup("the spec")))
                        return -ENOMEM;
        }
        for (size_t i = 0; i < plan->n_steps; i++) {
                const VmApplyStep *s = &plan->steps[i];

                if (s->action != VM_APPLY_SET_AUTOSTART && s->action != VM_APPLY_RESTART)
                        continue;
                x = vm_change_call_step(c, s->action == VM_APPLY_RESTART ? DOMAIN_CHANGE_RESTART : DOMAIN_CHANGE_AUTOSTART,
                                        true, false);
                x->value = s->value;
                if (s->action == VM_APPLY_SET_AUTOSTART)
                        c->undo[c->n_steps - 1] = (DomainChange) { .kind = DOMAIN_CHANGE_AUTOSTART, .value = !s->value };
                r = add_label(c, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The final spec as the definition is made from it: parsed, pools and networks resolved, the VM's UUID. */
static int apply_data_new(Manager *m, Vm *vm, const VmApplyPlan *plan, ApplyData **ret, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        ApplyData *d = calloc(1, sizeof *d);
        int r;

        if (!d)
                return -ENOMEM;
        r = vm_spec_parse(json_object_to_json_string_ext(plan->final, JSON_C_TO_STRING_PLAIN), &d->final, &why);
        if (r == -EINVAL)
                r = sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s", strempty(why));
        for (size_t i = 0; r >= 0 && i < d->final.n_disks; i++) {
                char field[32];
                snprintf(field, sizeof field, "disks[%zu]", i);
                r = vm_resolve_pool_disk(m, &d->final.disks[i], field, error);
        }
        for (size_t i = 0; r >= 0 && i < d->final.n_nics; i++) {
                char field[32];
                snprintf(field, sizeof field, "nics[%zu]", i);
                r = vm_resolve_network_nic(m, &d->final.nics[i], field, error);
        }
        if (r >= 0 && !d->final.uuid && !(d->final.uuid = strdup(vm->info.uuid)))
                r = -ENOMEM;
        if (r < 0) {
                apply_data_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

/* Where the spec disk D's data is, as the VM's Disks have it. */
static const char *spec_disk_location(Manager *m, const VmSpecDisk *d) {
        Pool *p;
        Volume *v;

        if (!d->pool)
                return d->path;
        p = storage_pool_find(m, d->pool);
        v = p ? pool_volume_find(p, d->volume) : NULL;
        return v ? v->location : NULL;
}

static void spec_disk_drop(VmSpec *spec, size_t i) {
        vm_spec_disk_done(&spec->disks[i]);
        memmove(&spec->disks[i], &spec->disks[i + 1], (spec->n_disks - i - 1) * sizeof spec->disks[0]);
        spec->n_disks--;
}

static void spec_nic_drop(VmSpec *spec, size_t i) {
        vm_spec_nic_done(&spec->nics[i]);
        memmove(&spec->nics[i], &spec->nics[i + 1], (spec->n_nics - i - 1) * sizeof spec->nics[0]);
        spec->n_nics--;
}

/* The stored spec made to say what the VM has now: another tool (virsh) may
 * have changed it, and the plan then undoes that. Disks by target and
 * source, NICs by MAC; what the spec does not know comes in as a path disk
 * or a bridge NIC. */
static int spec_reconcile(Vm *vm, VmSpec *cur) {
        const VmInfo *info = &vm->info;
        bool known[64] = {};

        for (size_t i = cur->n_disks; i-- > 0;) {
                const char *loc = spec_disk_location(vm->manager, &cur->disks[i]);
                bool found = false;
                for (size_t j = 0; j < info->n_disks && j < ELEMENTSOF(known); j++)
                        if (streq_ptr(info->disks[j].target, cur->disks[i].target) && streq_ptr(info->disks[j].source, loc))
                                found = known[j] = true;
                if (!found)
                        spec_disk_drop(cur, i);
        }
        for (size_t j = 0; j < info->n_disks && j < ELEMENTSOF(known) && cur->n_disks < VM_SPEC_MAX_DISKS; j++) {
                VmSpecDisk *d = &cur->disks[cur->n_disks];
                if (known[j] || !info->disks[j].source || !*info->disks[j].source)
                        continue;
                *d = (VmSpecDisk) { .bus = "virtio", .device = "disk", .format = "raw",
                                    .readonly = info->disks[j].readonly, .path = strdup(info->disks[j].source) };
                snprintf(d->target, sizeof d->target, "%s", strempty(info->disks[j].target));
                cur->n_disks++;
                if (!d->path)
                        return -ENOMEM;
        }
        memset(known, 0, sizeof known);
        for (size_t i = cur->n_nics; i-- > 0;) {
                bool found = false;
                for (size_t j = 0; j < info->n_nics && j < ELEMENTSOF(known); j++)
                        if (strcasecmp(strempty(info->nics[j].mac), cur->nics[i].mac) == 0)
                                found = known[j] = true;
                if (!found)
                        spec_nic_drop(cur, i);
        }
        for (size_t j = 0; j < info->n_nics && j < ELEMENTSOF(known) && cur->n_nics < VM_SPEC_MAX_NICS; j++) {
                VmSpecNic *n = &cur->nics[cur->n_nics];
                if (known[j])
                        continue;
                *n = (VmSpecNic) { .model = "virtio", .bridge = strdup(strempty(info->nics[j].source)) };
                snprintf(n->mac, sizeof n->mac, "%s", strempty(info->nics[j].mac));
                cur->n_nics++;
                if (!n->bridge)
                        return -ENOMEM;
        }
        /* Not the memory: the balloon of a guest without its driver never
         * reaches the target, and each apply would ask again. */
        cur->vcpus = info->vcpus ?: cur->vcpus;
        cur->autostart = info->autostart;
        return 0;
}

static int apply_existing(sd_bus_message *msg, Vm *vm, VmSpec *desired, const ApplyOptions *o, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL, *json = NULL;
        VmApplyLive live = { .running = vm_state_is_active(vm->info.state), .max_memory_mib = vm->info.max_memory_mib,
                             .max_vcpus = vm->info.max_vcpus };
        VmSpec current = {};
        VmApplyPlan *plan = NULL;
        ApplyData *data = NULL;
        VmChangeCall *c = NULL;
        int r;

        if (!vm->info.spec || !*vm->info.spec)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "VM %s was not defined from a spec: there is nothing to compare with",
                                         strempty(vm->info.name));
        r = vm_spec_parse(vm->info.spec, &current, &why);
        if (r < 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_FAILED, "VM %s's stored spec cannot be read: %s",
                                         strempty(vm->info.name), strempty(why));
        r = spec_reconcile(vm, &current);
        plan = r >= 0 ? calloc(1, sizeof *plan) : NULL;
        r = plan ? vm_apply_plan(&current, desired, &live, o->restart, plan, &why) : -ENOMEM;
        vm_spec_done(&current);
        if (r == -EINVAL)
                r = sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s", strempty(why));
        if (r >= 0 && !(json = vm_apply_plan_json(plan)))
                r = -ENOMEM;
        if (r >= 0 && (o->dry_run || plan->n_steps == 0)) {
                r = reply_plan(msg, vm->path, json);   /* nothing asked of libvirt */
                goto out;
        }
        if (r >= 0)
                r = apply_data_new(vm->manager, vm, plan, &data, error);
        if (r >= 0 && !(c = vm_change_call_new(vm, "apply the spec to")))
                r = -ENOMEM;
        if (r >= 0) {
                c->data = data, c->free_data = apply_data_free, data = NULL;
                c->prepare = apply_prepare;
                c->answer = TAKE_PTR(json);
                r = (c->answer_path = strdup(vm->path)) ? build_steps(c, vm, plan, c->data) : -ENOMEM;
        }
        if (r >= 0) {
                r = vm_change_call_submit(c, vm, msg, error);   /* frees C on failure */
                c = NULL;
        }
out:
        vm_change_call_free(c);
        apply_data_free(data);
        if (plan)
                vm_apply_plan_done(plan);
        free(plan);
        return r;
}

int method_apply_vm(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        Manager *m = userdata;
        ApplyOptions o = {};
        VmSpec desired = {};
        const char *text, *plan;
        Vm *vm;
        int r;

        r = sd_bus_message_read(msg, "s", &text);
        if (r >= 0)
                r = read_options(msg, &o, error);
        if (r < 0)
                return r;
        r = vm_spec_parse(text, &desired, &why);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s", strempty(why));
        if (r < 0)
                return r;
        vm = desired.uuid ? vm_find(m, desired.uuid) : NULL;
        if (!vm)
                vm = vm_find_by_name(m, desired.name);
        if (vm) {
                /* A new VM is authorized as CreateVM's is, in vm_create_from_spec(). */
                BUS_AUTH_SCOPE(msg, error);
                r = bus_authorize(msg, vm_spec_reaches_host(&desired) ? BUS_ACTION_VM_CREATE_RAW : BUS_ACTION_VM_CREATE,
                                  VM_AUTH_DETAILS(vm), error);
                if (r <= 0) {
                        vm_spec_done(&desired);
                        return r < 0 ? r : 1;   /* 1: held until polkit answers */
                }
                r = apply_existing(msg, vm, &desired, &o, error);
                vm_spec_done(&desired);
                return r;
        }
        /* Created as CreateVM would; "live": it starts. */
        plan = desired.start ? "{\"steps\":[{\"action\":\"create\",\"live\":true}]}"
                             : "{\"steps\":[{\"action\":\"create\",\"live\":false}]}";
        if (o.dry_run) {
                vm_spec_done(&desired);
                return reply_plan(msg, "/", plan);
        }
        return vm_create_from_spec(m, msg, &desired, plan, error);
}
