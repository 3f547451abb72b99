/* VM.AttachDisk, AttachNIC, SetMemory and SetVCPUs: checked on the loop, made on a worker */
#include "vm-devices.h"

#include "bus-auth.h"
#include "bus-error.h"
#include "macro.h"
#include "vm-auth.h"
#include "vm-create-dbus.h"
#include "vm-spec-edit.h"

/* Refused before anything is asked of libvirt: a disk another VM (or this
 * one) has already, or a target taken. */
static int disk_check_free(Vm *vm, VmSpecDisk *d, sd_bus_error *error) {
        _cleanup_(freep) char **users = NULL;
        _cleanup_(freep) char *nfs = NULL;
        const char *location = d->path;

        /* An NFS volume QEMU reaches itself is known by its URI, as Disks spell it. */
        if (d->nfs_host && asprintf(&nfs, "nfs://%s%s", d->nfs_host, d->path) < 0)
                return -ENOMEM;
        if (nfs)
                location = nfs;
        if ((users = vm_paths_using_disk(vm->manager, location)) && users[0]) {
                Vm *user = vm_find_by_path(vm->manager, users[0]);
                int r = sd_bus_error_setf(error, HOSTAGENT_ERROR_IN_USE, "disk.%s: %s%s%s is attached to VM %s already",
                                          d->pool ? "volume" : "path", d->pool ? d->pool : "", d->pool ? "/" : "",
                                          d->pool ? d->volume : d->path, user ? strempty(user->info.name) : users[0]);
                for (char **u = users; *u; u++)
                        free(*u);
                return r;
        }
        for (char **u = users; u && *u; u++)
                free(*u);
        for (size_t i = 0; i < vm->info.n_disks; i++)
                if (d->target[0] && streq_ptr(vm->info.disks[i].target, d->target))
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_IN_USE, "disk.target: %s is in use by VM %s",
                                                 d->target, strempty(vm->info.name));
        return 0;
}

static int disk_pick_target(Vm *vm, VmSpecDisk *d, sd_bus_error *error) {
        char *used[vm->info.n_disks + 1];

        if (d->target[0])
                return 0;
        for (size_t i = 0; i < vm->info.n_disks; i++)
                used[i] = vm->info.disks[i].target;
        used[vm->info.n_disks] = NULL;
        if (vm_spec_next_target(d->bus, used, d->target) < 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "disk.bus: no target left on %s in VM %s",
                                         d->bus, strempty(vm->info.name));
        return 0;
}

static int attach_disk_prepare(VmChangeCall *c, Vm *vm, sd_bus_message *msg, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        VmChangeOptions o;
        const char *text;
        DomainChange *s;
        bool live, config;
        int r;

        r = sd_bus_message_read(msg, "s", &text);
        if (r >= 0)
                r = vm_change_options_read(msg, &o, error);
        if (r < 0)
                return r;
        r = vm_spec_disk_parse(text, "disk", &c->disk, &why);
        if (r == -EINVAL)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_SPEC, why);
        if (r >= 0)
                r = vm_change_scope(vm, &o, &live, &config, error);
        if (r >= 0)
                r = vm_resolve_pool_disk(vm->manager, &c->disk, "disk", error);
        if (r >= 0)
                r = disk_check_free(vm, &c->disk, error);
        if (r >= 0)
                r = disk_pick_target(vm, &c->disk, error);
        if (r < 0)
                return r;
        c->has_disk = true;   /* its XML is made on the worker: a block device is told by stat() */
        vm_change_call_step(c, DOMAIN_CHANGE_ATTACH, live, config);
        s = &c->undo[0];
        *s = (DomainChange) { .kind = DOMAIN_CHANGE_DETACH, .live = live, .config = config,
                              .key = strdup(c->disk.target) };
        c->answer = strdup(c->disk.target);
        if (!s->key || !c->answer)
                return -ENOMEM;
        if (config)
                r = vm_change_call_spec(c, vm, &(VmSpecEdit) { .kind = VM_SPEC_EDIT_ADD_DISK, .disk = &c->disk },
                                        vm_state_is_active(vm->info.state));
        return r;
}

/* AttachDisk and AttachNIC: the call prepared from the message, then
 * authorized (polkit's vm.create-raw when it reaches a host path or bridge),
 * then submitted. */
static int attach_method(sd_bus_message *msg, Vm *vm, const char *what,
                         int (*prepare)(VmChangeCall *c, Vm *vm, sd_bus_message *msg, sd_bus_error *error),
                         sd_bus_error *error) {
        VmChangeCall *c;
        int r;

        c = vm_change_call_new(vm, "%s", what);
        if (!c)
                return -ENOMEM;
        r = prepare(c, vm, msg, error);
        if (r < 0) {
                vm_change_call_free(c);
                return r;
        }
        BUS_AUTH_SCOPE(msg, error);
        r = bus_authorize(msg, c->reaches_host ? BUS_ACTION_VM_CREATE_RAW : BUS_ACTION_VM_MANAGE, VM_AUTH_DETAILS(vm),
                          error);
        if (r <= 0) {
                vm_change_call_free(c);
                return r < 0 ? r : 1;   /* 1: held until polkit answers */
        }
        return vm_change_call_submit(c, vm, msg, error);
}

int method_vm_attach_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return attach_method(msg, userdata, "attach a disk to", attach_disk_prepare, error);
}

static int attach_nic_prepare(VmChangeCall *c, Vm *vm, sd_bus_message *msg, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        VmSpecNic nic = {};
        VmChangeOptions o;
        const char *text;
        DomainChange *s;
        bool live, config;
        int r;

        r = sd_bus_message_read(msg, "s", &text);
        if (r >= 0)
                r = vm_change_options_read(msg, &o, error);
        if (r < 0)
                return r;
        r = vm_spec_nic_parse(text, "nic", &nic, &why);
        if (r == -EINVAL)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_SPEC, why);
        c->reaches_host = r >= 0 && !nic.network;
        if (r >= 0)
                r = vm_change_scope(vm, &o, &live, &config, error);
        if (r >= 0)
                r = vm_resolve_network_nic(vm->manager, &nic, "nic", error);
        for (size_t i = 0; r >= 0 && i < vm->info.n_nics; i++)
                if (strcasecmp(strempty(vm->info.nics[i].mac), nic.mac) == 0)
                        r = sd_bus_error_setf(error, HOSTAGENT_ERROR_IN_USE, "nic.mac: %s is in use by VM %s", nic.mac,
                                              strempty(vm->info.name));
        s = r >= 0 ? vm_change_call_step(c, DOMAIN_CHANGE_ATTACH, live, config) : NULL;
        if (s)
                r = vm_spec_nic_xml(&nic, &s->device_xml);
        if (r >= 0) {
                c->undo[0] = (DomainChange) { .kind = DOMAIN_CHANGE_DETACH, .live = live, .config = config, .nic = true,
                                              .key = strdup(nic.mac) };
                c->answer = strdup(nic.mac);
                r = c->undo[0].key && c->answer ? 0 : -ENOMEM;
        }
        if (r >= 0 && config)
                r = vm_change_call_spec(c, vm, &(VmSpecEdit) { .kind = VM_SPEC_EDIT_ADD_NIC, .nic = &nic },
                                        vm_state_is_active(vm->info.state));
        vm_spec_nic_done(&nic);
        return r;
}

int method_vm_attach_nic(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return attach_method(msg, userdata, "attach a NIC to", attach_nic_prepare, error);
}

/* SetMemory and SetVCPUs: the running VM and its definition, as far as it has each. */
static int set_value(Vm *vm, sd_bus_message *msg, DomainChangeKind kind, uint64_t value, uint64_t now,
                     sd_bus_error *error) {
        bool active = vm_state_is_active(vm->info.state);
        VmChangeCall *c;
        DomainChange *s;
        int r;

        c = vm_change_call_new(vm, kind == DOMAIN_CHANGE_MEMORY ? "set the memory of" : "set the vCPUs of");
        if (!c)
                return -ENOMEM;
        s = vm_change_call_step(c, kind, active, vm->info.persistent);
        s->value = value;
        c->undo[0] = (DomainChange) { .kind = kind, .live = active, .config = vm->info.persistent, .value = now };
        r = 0;
        if (vm->info.persistent)
                r = vm_change_call_spec(c, vm, &(VmSpecEdit) { .kind = kind == DOMAIN_CHANGE_MEMORY ? VM_SPEC_EDIT_MEMORY
                                                                                                  : VM_SPEC_EDIT_VCPUS,
                                                               .value = value }, active);
        if (r < 0) {
                vm_change_call_free(c);
                return r;
        }
        return vm_change_call_submit(c, vm, msg, error);
}

int method_vm_set_memory(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        uint64_t mib;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MANAGE, VM_AUTH_DETAILS(vm), error);
        r = sd_bus_message_read(msg, "t", &mib);
        if (r < 0)
                return r;
        if (mib < 16)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "mib: at least 16, got %llu",
                                         (unsigned long long) mib);
        if (mib > vm->info.max_memory_mib)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "mib: %llu is beyond VM %s's maximum of %llu MiB (max_memory_mib)",
                                         (unsigned long long) mib, strempty(vm->info.name),
                                         (unsigned long long) vm->info.max_memory_mib);
        return set_value(vm, msg, DOMAIN_CHANGE_MEMORY, mib, vm->info.current_memory_mib, error);
}

int method_vm_set_vcpus(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        uint32_t n;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MANAGE, VM_AUTH_DETAILS(vm), error);
        r = sd_bus_message_read(msg, "u", &n);
        if (r < 0)
                return r;
        if (n < 1 || n > vm->info.max_vcpus)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "n: must be from 1 to VM %s's maximum of %u (max_vcpus), got %u",
                                         strempty(vm->info.name), vm->info.max_vcpus, n);
        return set_value(vm, msg, DOMAIN_CHANGE_VCPUS, n, vm->info.vcpus, error);
}
