/* org.hostagent1.VM: disks, NICs, memory and vCPUs of a VM, read and changed while it runs */
#include "vm-devices.h"

#include <stdarg.h>
#include <sys/stat.h>

#include "bus-auth.h"
#include "bus-error.h"
#include "bus-options.h"
#include "error-text.h"
#include "libvirt-error.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "network.h"
#include "storage.h"
#include "virt-cleanup.h"
#include "vm-create-dbus.h"
#include "vm-spec-edit.h"

/* Properties: from the model, as libvirt's XML and events keep it. */

/* "pool/volume" when an agent pool holds LOCATION, else LOCATION itself. */
static int append_disk_source(sd_bus_message *reply, Manager *m, const char *location) {
        for (Pool *p = m->pools; p && *location; p = p->next)
                for (size_t i = 0; i < p->n_volumes; i++)
                        if (streq_ptr(p->volumes[i]->location, location)) {
                                _cleanup_(freep) char *s = NULL;
                                if (asprintf(&s, "%s/%s", p->spec.name, p->volumes[i]->info.name) < 0)
                                        return -ENOMEM;
                                return sd_bus_message_append(reply, "s", s);
                        }
        return sd_bus_message_append(reply, "s", location);
}

static int property_get_disks(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssssb)");
        for (size_t i = 0; r >= 0 && i < vm->info.n_disks; i++) {
                const VmDiskInfo *d = &vm->info.disks[i];

                r = sd_bus_message_open_container(reply, 'r', "ssssb");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ss", strempty(d->target), strempty(d->bus));
                if (r >= 0)
                        r = append_disk_source(reply, vm->manager, strempty(d->source));
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sb", strempty(d->format), d->readonly);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* "network:NAME" on an agent network (whose bridge has its name), "bridge:NAME" otherwise. */
static const char *nic_source(Vm *vm, const VmNicInfo *n, char *buf, size_t size) {
        const char *kind = streq_ptr(n->type, "bridge") ? (network_find(vm->manager, n->source) ? "network" : "bridge")
                           : strempty(n->type);

        snprintf(buf, size, "%s:%s", kind, strempty(n->source));
        return buf;
}

static int property_get_nics(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        bool running = vm_state_is_active(vm->info.state);
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (size_t i = 0; r >= 0 && i < vm->info.n_nics; i++) {
                const VmNicInfo *n = &vm->info.nics[i];
                char source[128];

                r = sd_bus_message_append(reply, "(ssss)", strempty(n->mac), strempty(n->model),
                                          nic_source(vm, n, source, sizeof source), running ? strempty(n->tap) : "");
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_pending(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;

        return sd_bus_message_append_strv(reply, vm->info.pending);
}

static int property_get_current_memory(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;

        return sd_bus_message_append(reply, "t", vm->info.current_memory_mib);
}

static int property_get_max_memory(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;

        return sd_bus_message_append(reply, "t", vm->info.max_memory_mib);
}

static int property_get_max_vcpus(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;

        return sd_bus_message_append(reply, "u", vm->info.max_vcpus);
}

/* Options */

static int read_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        VmChangeOptions *o = userdata;
        int b, r;

        if (streq(key, "live") || streq(key, "persistent")) {
                r = sd_bus_message_read(msg, "v", "b", &b);
                if (r < 0)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s: must be a boolean",
                                                 key);
                *(streq(key, "live") ? &o->live : &o->persistent) = b;
                return 0;
        }
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s: unknown option (known: live, "
                                 "persistent)", TEXT_CUT(key));
}

int vm_change_options_read(sd_bus_message *msg, VmChangeOptions *ret, sd_bus_error *error) {
        VmChangeOptions o = { .live = -1, .persistent = -1 };
        int r;

        r = bus_options_read(msg, read_option, &o, error);
        if (r >= 0)
                *ret = o;
        return r;
}

int vm_change_scope(Vm *vm, const VmChangeOptions *o, bool *ret_live, bool *ret_config, sd_bus_error *error) {
        bool active = vm_state_is_active(vm->info.state);
        bool live = o->live >= 0 ? o->live : active;
        bool config = o->persistent >= 0 ? o->persistent : vm->info.persistent;

        if (live && !active)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "options.live: VM %s is not running",
                                         strempty(vm->info.name));
        if (config && !vm->info.persistent)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "options.persistent: VM %s is transient: it has no definition to change",
                                         strempty(vm->info.name));
        if (!live && !config)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                        "options: neither live nor persistent: nothing would change");
        *ret_live = live;
        *ret_config = config;
        return 0;
}

/* The change call: steps on a worker, all or nothing. */

VmChangeCall *vm_change_call_new(Vm *vm, const char *what_format, ...) {
        VmChangeCall *c = calloc(1, sizeof *c);
        va_list ap;
        int r;

        if (!c)
                return NULL;
        memcpy(c->uuid, vm->info.uuid, sizeof c->uuid);
        c->name = strdup(strempty(vm->info.name));
        va_start(ap, what_format);
        r = vasprintf(&c->what, what_format, ap);
        va_end(ap);
        c->info.graphics_port = -1;
        if (r < 0 || !c->name) {
                c->what = r < 0 ? NULL : c->what;
                vm_change_call_free(c);
                return NULL;
        }
        return c;
}

void vm_change_call_free(VmChangeCall *c) {
        if (!c)
                return;
        if (c->base.manager) {
                vm_read_end(c->base.manager, &c->read);
                libvirt_call_done(&c->base);
        }
        for (size_t i = 0; i < c->n_steps; i++) {
                domain_change_done(&c->steps[i]);
                domain_change_done(&c->undo[i]);
        }
        for (size_t i = 0; i < VM_CHANGE_STEPS_MAX; i++)
                free(c->labels[i]);
        if (c->free_data)
                c->free_data(c->data);
        free(c->answer_path);
        vm_spec_disk_done(&c->disk);
        vm_info_done(&c->info);
        free(c->name);
        free(c->what);
        free(c->answer);
        free(c);
}

DomainChange *vm_change_call_step(VmChangeCall *c, DomainChangeKind kind, bool live, bool config) {
        DomainChange *s;

        if (c->n_steps >= VM_CHANGE_STEPS_MAX)
                abort();   /* the methods' own steps: a bug, not input */
        s = &c->steps[c->n_steps];
        c->undo[c->n_steps] = (DomainChange) { .kind = _DOMAIN_CHANGE_INVALID };
        c->n_steps++;
        *s = (DomainChange) { .kind = kind, .live = live, .config = config };
        return s;
}

int vm_change_call_spec(VmChangeCall *c, Vm *vm, const void *edit, bool live) {
        _cleanup_(freep) char *spec = NULL;
        DomainChange *s, *u;
        int r;

        if (!vm->info.spec || !*vm->info.spec)
                return 0;   /* defined by other means: no spec to keep */
        r = vm_spec_edit(vm->info.spec, edit, &spec);
        if (r == -ENOENT || r == -EINVAL) {
                /* A device added by another tool, or a spec this agent cannot read: kept as it is. */
                log_fields(LOG_DEBUG, LOG_FIELDS("VM_UUID", vm->info.uuid), "VM %s: its spec is left as it is (%s)",
                           strempty(vm->info.name), strerror(-r));
                return 0;
        }
        if (r < 0)
                return r;
        s = vm_change_call_step(c, DOMAIN_CHANGE_SPEC, live, true);
        u = &c->undo[c->n_steps - 1];
        *u = (DomainChange) { .kind = DOMAIN_CHANGE_SPEC, .live = live, .config = true, .spec = strdup(vm->info.spec) };
        s->spec = TAKE_PTR(spec);
        return u->spec ? 0 : -ENOMEM;
}

/* A disk's file is checked here, off the loop: a dead mount must not block it. */
static int change_disk_prepare(VmChangeCall *c) {
        struct stat st;

        if (!c->has_disk)
                return 0;
        if (!c->disk.nfs_host && stat(c->disk.path, &st) < 0) {
                c->input_error = true;
                (void) asprintf(&c->base.error, "disk.%s: %s: %s", c->disk.pool ? "volume" : "path",
                                TEXT_CUT(c->disk.path), strerror(errno));
                return -EINVAL;
        }
        return vm_spec_disk_xml(&c->disk, &c->steps[0].device_xml);
}

static void change_undo(virDomainPtr dom, VmChangeCall *c, size_t done) {
        while (done-- > 0) {
                _cleanup_(freep) char *why = NULL;

                if (c->undo[done].kind >= 0 && domain_change_apply(dom, &c->undo[done], &why) < 0)
                        log_warning("VM %s: cannot undo step %zu of '%s': %s", c->name, done + 1, c->what,
                                    strempty(why));
        }
}

static int change_work(void *userdata) {
        VmChangeCall *c = userdata;
        _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
        int r;

        r = change_disk_prepare(c);
        if (r < 0)
                return r;
        dom = virDomainLookupByUUIDString(c->base.conn, c->uuid);
        if (!dom)
                return libvirt_error_take(&c->base.error);
        if (c->prepare) {
                r = c->prepare(c, dom);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_steps; i++) {
                r = domain_change_apply(dom, &c->steps[i], &c->base.error);
                if (r < 0) {
                        c->failed_step = i + 1;
                        change_undo(dom, c, i);
                        return r;
                }
        }
        /* What the properties show once answered; a failed read leaves it to the events. */
        (void) vm_info_read(dom, &c->info, NULL);
        return 0;
}

static int reread_work(void *userdata) {
        VmChangeCall *c = userdata;

        return vm_info_read_uuid(c->base.conn, c->uuid, &c->info, NULL);
}

static void change_done(int result, void *userdata);

/* A new definition (ApplyVM) makes libvirt send a DEFINED event: when the
 * loop heard it before this answer, the model takes no definition read
 * begun before it, so the VM is read once more (the event has its own
 * re-read, but the answer must not come before the properties are in
 * place). True when that read is on its way. */
static bool change_reread(VmChangeCall *c, int result) {
        Manager *m = c->base.manager;
        Vm *vm = vm_find(m, c->uuid);

        if (c->reread || result < 0 || !vm || vm->define_clock <= c->read.started)
                return false;
        c->reread = true;
        vm_read_end(m, &c->read);
        vm_read_begin(m, &c->read);
        vm_info_done(&c->info);
        if (worker_pool_submit(m->pool, WORKER_INTERNAL, reread_work, change_done, c) >= 0)
                return true;
        return false;
}

static void change_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        VmChangeCall *c = userdata;
        Manager *m = c->base.manager;

        if (c->reread)
                result = 0;   /* the change was made; a failed re-read leaves it to the events */
        else if (change_reread(c, result))
                return;
        if (result >= 0 && c->info.name)
                (void) vm_apply_info(m, &c->info, &c->read, NULL);
        if (c->finished) {
                c->finished(c, result);
                vm_change_call_free(c);
                return;
        }
        if (result == -ECANCELED)
                (void) bus_error_set_shutting_down(&error);
        else if (result < 0 && c->input_error)
                (void) sd_bus_error_set(&error, HOSTAGENT_ERROR_INVALID_SPEC, c->base.error);
        else if (result < 0 && c->failed_step > 0 && c->labels[c->failed_step - 1])
                (void) bus_error_set(&error, result, c->base.error, "Cannot %s VM %s: step %zu (%s) failed%s", c->what,
                                     c->name, c->failed_step, c->labels[c->failed_step - 1],
                                     c->failed_step > 1 ? ", the steps before it were undone" : "");
        else if (result < 0)
                (void) bus_error_set(&error, result, c->base.error, "Cannot %s VM %s", c->what, c->name);
        if (result < 0)
                (void) bus_call_reply_error(&c->base.call, &error);
        else if (c->answer_path) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                if (sd_bus_message_new_method_return(c->base.call.request, &reply) >= 0 &&
                    sd_bus_message_append(reply, "os", c->answer_path, strempty(c->answer)) >= 0)
                        (void) bus_call_reply(&c->base.call, reply);
        } else if (c->answer) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                if (sd_bus_message_new_method_return(c->base.call.request, &reply) >= 0 &&
                    sd_bus_message_append(reply, "s", c->answer) >= 0)
                        (void) bus_call_reply(&c->base.call, reply);
        } else
                (void) bus_call_reply_empty(&c->base.call);
        vm_change_call_free(c);
}

int vm_change_call_submit(VmChangeCall *c, Vm *vm, sd_bus_message *msg, sd_bus_error *error) {
        Manager *m = vm->manager;
        int r;

        libvirt_call_init(&c->base, m, msg);
        vm_read_begin(m, &c->read);
        r = libvirt_call_submit(&c->base, change_work, change_done, error);
        if (r < 0) {
                vm_change_call_free(c);
                return r;
        }
        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path), "Request to %s VM %s",
                   c->what, strempty(vm->info.name));
        return 1;
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

/* Beside vm_vtable (vm-dbus.c), on the same objects and interface. */
const sd_bus_vtable vm_devices_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Disks", "a(ssssb)", property_get_disks, 0, CHANGES),
        SD_BUS_PROPERTY("NICs", "a(ssss)", property_get_nics, 0, CHANGES),
        SD_BUS_PROPERTY("CurrentMemoryMiB", "t", property_get_current_memory, 0, CHANGES),
        SD_BUS_PROPERTY("MaxMemoryMiB", "t", property_get_max_memory, 0, CHANGES),
        SD_BUS_PROPERTY("MaxVCPUs", "u", property_get_max_vcpus, 0, CHANGES),
        SD_BUS_PROPERTY("PendingChanges", "as", property_get_pending, 0, CHANGES),
        SD_BUS_METHOD_WITH_ARGS("AttachDisk", SD_BUS_ARGS("s", disk, "a{sv}", options), SD_BUS_RESULT("s", target),
                                method_vm_attach_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachDisk", SD_BUS_ARGS("s", target), SD_BUS_RESULT("o", job),
                                method_vm_detach_disk, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachNIC", SD_BUS_ARGS("s", nic, "a{sv}", options), SD_BUS_RESULT("s", mac),
                                method_vm_attach_nic, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachNIC", SD_BUS_ARGS("s", mac), SD_BUS_RESULT("o", job),
                                method_vm_detach_nic, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetMemory", SD_BUS_ARGS("t", mib), SD_BUS_NO_RESULT, method_vm_set_memory,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetVCPUs", SD_BUS_ARGS("u", n), SD_BUS_NO_RESULT, method_vm_set_vcpus,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
