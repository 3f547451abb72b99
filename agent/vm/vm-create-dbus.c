/* Manager.CreateVM and CreateVMFromXML: define (and start) a VM off the loop */
#include "vm-create-dbus.h"


#include "bus-auth.h"
#include "bus-error.h"
#include "log.h"
#include "macro.h"
#include "domain-ops.h"
#include "bus-work.h"
#include "network.h"
#include "storage.h"
#include "vm.h"
#include "vm-spec.h"

typedef struct CreateCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        bool from_spec;
        VmSpec spec;
        char *xml;
        VmClockRead read;
        VmInfo info;
        bool spec_error;   /* ERROR names a field of the caller's input */
        char *plan;        /* ApplyVM's: answered (o vm, s plan) */
} CreateCall;

static void create_call_free(CreateCall *c) {
        if (!c)
                return;
        if (c->base.manager)
                vm_read_end(c->base.manager, &c->read);
        libvirt_call_done(&c->base);
        vm_spec_done(&c->spec);
        vm_info_done(&c->info);
        free(c->xml);
        free(c->plan);
        free(c);
}

static void create_reply_path(CreateCall *c, const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        if (!c->plan) {
                (void) bus_call_reply_path(&c->base.call, path);
                return;
        }
        if (sd_bus_message_new_method_return(c->base.call.request, &reply) >= 0 &&
            sd_bus_message_append(reply, "os", path, c->plan) >= 0)
                (void) bus_call_reply(&c->base.call, reply);
}

/* All or nothing: a VM that cannot be set up as asked is undefined again. */
static int create_work(void *userdata) {
        CreateCall *c = userdata;
        int r;

        if (c->from_spec) {
                r = vm_spec_check_paths(&c->spec, &c->base.error);
                if (r < 0) {
                        c->spec_error = true;
                        return r;
                }
                r = vm_spec_to_xml(&c->spec, &c->xml);
                if (r < 0)
                        return r;
        }
        return domain_define(c->base.conn, c->xml, c->from_spec && c->spec.autostart, c->from_spec && c->spec.start,
                             &c->info, &c->spec_error, &c->base.error);
}

/* The domain is defined: publish it and answer with its path. */
static void create_reply_defined(CreateCall *c, sd_bus_error *error) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        _cleanup_(freep) char *path = NULL;
        Vm *vm;
        int r;

        memcpy(uuid, c->info.uuid, sizeof uuid);
        r = vm_apply_info(c->base.manager, &c->info, &c->read, &vm);
        if (r >= 0) {
                log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                           "Created VM %s", strempty(vm->info.name));
                create_reply_path(c, vm->path);
        } else if (r == -EAGAIN && vm_path_from_uuid(uuid, &path) >= 0)
                create_reply_path(c, path);   /* defined; published once read again */
        else if (r == -ENOENT) {
                (void) sd_bus_error_setf(error, HOSTAGENT_ERROR_NO_SUCH_VM,
                                         "VM %s was defined, then undefined by another client before it was published",
                                         uuid);
                (void) bus_call_reply_error(&c->base.call, error);
        } else {
                (void) sd_bus_error_set(error, SD_BUS_ERROR_NO_MEMORY, "Out of memory");
                (void) bus_call_reply_error(&c->base.call, error);
        }
}

static void create_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        CreateCall *c = userdata;

        if (result == -ECANCELED)
                (void) bus_error_set_shutting_down(&error);
        else if (result < 0 && c->spec_error)
                (void) sd_bus_error_setf(&error, HOSTAGENT_ERROR_INVALID_SPEC, "%s%s",
                                         c->from_spec ? "" : "domain_xml: ", strempty(c->base.error));
        else if (result < 0)
                (void) bus_error_set(&error, result, c->base.error, "Cannot create the VM");
        else {
                create_reply_defined(c, &error);
                create_call_free(c);
                return;
        }
        (void) bus_call_reply_error(&c->base.call, &error);
        create_call_free(c);
}

static int create_submit(Manager *m, CreateCall *c, sd_bus_message *msg, sd_bus_error *error) {
        int r;

        libvirt_call_init(&c->base, m, msg);
        vm_read_begin(m, &c->read);
        r = libvirt_call_submit(&c->base, create_work, create_done, error);
        if (r < 0)
                create_call_free(c);
        return r;
}

/* A disk named by pool and volume becomes what the volume is, from the
 * agent's own storage model: a file, a block device or an NFS network disk. */
int vm_resolve_pool_disk(Manager *m, VmSpecDisk *d, const char *field, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        Pool *p;
        Volume *v;
        int r;

        if (!d->pool)
                return 0;
        p = storage_pool_find(m, d->pool);
        if (!p)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s.pool: no storage pool named '%s'",
                                         field, d->pool);
        if (p->state != POOL_STATE_ACTIVE && p->state != POOL_STATE_DEGRADED)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s.pool: storage pool %s is %s", field,
                                         d->pool, pool_state_to_string(p->state));
        v = pool_volume_find(p, d->volume);
        if (!v || v->pending)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                         "%s.volume: no volume '%s' in storage pool %s", field, d->volume, d->pool);
        r = vm_spec_resolve_volume(d, field, v->location, v->info.format, &why);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s", strempty(why));
        return r;
}

static int resolve_pool_disks(Manager *m, VmSpec *spec, sd_bus_error *error) {
        for (size_t i = 0; i < spec->n_disks; i++) {
                char field[32];
                int r;

                snprintf(field, sizeof field, "disks[%zu]", i);
                r = vm_resolve_pool_disk(m, &spec->disks[i], field, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A NIC on an agent network plugs into the network's bridge (an OVS one as a port of its VLAN). */
int vm_resolve_network_nic(Manager *m, VmSpecNic *n, const char *field, sd_bus_error *error) {
        const NetConfig *c;

        if (!n->network)
                return 0;
        c = network_find(m, n->network);
        if (!c)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s.network: no network named '%s'",
                                         field, n->network);
        n->openvswitch = c->sw == NET_SWITCH_OVS;
        n->vlan = n->openvswitch ? c->vlan : 0;
        free(n->bridge);
        n->bridge = strdup(c->name);
        return n->bridge ? 0 : -ENOMEM;
}

static int resolve_networks(Manager *m, VmSpec *spec, sd_bus_error *error) {
        for (size_t i = 0; i < spec->n_nics; i++) {
                char field[32];
                int r;

                snprintf(field, sizeof field, "nics[%zu]", i);
                r = vm_resolve_network_nic(m, &spec->nics[i], field, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vm_create_from_spec(Manager *m, sd_bus_message *msg, VmSpec *spec, const char *plan, sd_bus_error *error) {
        CreateCall *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c) {
                vm_spec_done(spec);
                return -ENOMEM;
        }
        c->from_spec = true;
        c->spec = *spec;
        *spec = (VmSpec) {};
        c->plan = plan ? strdup(plan) : NULL;
        if (plan && !c->plan) {
                create_call_free(c);
                return -ENOMEM;
        }
        BUS_AUTH_SCOPE(msg, error);
        r = bus_authorize(msg, vm_spec_reaches_host(&c->spec) ? BUS_ACTION_VM_CREATE_RAW : BUS_ACTION_VM_CREATE,
                          BUS_DETAILS("vm", c->spec.name, "owner", vm_spec_owner(&c->spec)), error);
        if (r <= 0) {
                create_call_free(c);
                return r < 0 ? r : 1;   /* 1: held until polkit answers */
        }
        /* The names the agent knows now; libvirt has the last word on races. */
        if (vm_find_by_name(m, c->spec.name)) {
                r = sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                      "name: a VM named '%s' exists already", c->spec.name);
                create_call_free(c);
                return r;
        }
        if (c->spec.uuid && vm_find(m, c->spec.uuid)) {
                r = sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                      "uuid: a VM with UUID %s exists already", c->spec.uuid);
                create_call_free(c);
                return r;
        }
        r = resolve_pool_disks(m, &c->spec, error);
        if (r >= 0)
                r = resolve_networks(m, &c->spec, error);
        if (r < 0) {
                create_call_free(c);
                return r;
        }
        return create_submit(m, c, msg, error);
}

int method_create_vm(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *why = NULL;
        Manager *m = userdata;
        VmSpec spec = {};
        const char *text;
        int r;

        r = sd_bus_message_read(msg, "s", &text);
        if (r < 0)
                return r;
        r = vm_spec_parse(text, &spec, &why);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC, "%s", strempty(why));
        if (r < 0)
                return r;
        return vm_create_from_spec(m, msg, &spec, NULL, error);
}

int method_create_vm_from_xml(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *xml;
        CreateCall *c;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_CREATE_RAW, NULL, error);
        r = sd_bus_message_read(msg, "s", &xml);
        if (r < 0)
                return r;
        if (!*xml)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_INVALID_SPEC, "domain_xml: is empty");
        if (strlen(xml) > VM_CREATE_MAX_XML)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_SPEC,
                                         "domain_xml: larger than %d bytes", VM_CREATE_MAX_XML);
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->xml = strdup(xml);
        if (!c->xml) {
                free(c);
                return -ENOMEM;
        }
        return create_submit(m, c, msg, error);
}
