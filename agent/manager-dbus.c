/* org.hostagent1.Manager on the bus */
#include "manager-dbus.h"
#include "network-dbus.h"
#include "network-setup.h"
#include "storage-dbus.h"

#include <libvirt/virterror.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include "bus-auth.h"
#include "bus-collection.h"
#include "bus-fair.h"
#include "bus-wire.h"
#include "bus-work.h"
#include "host-stats.h"
#include "bus-error.h"
#include "bus-text.h"
#include "error-text.h"
#include "libvirt-error.h"
#include "log.h"
#include "macro.h"
#include "job-dbus.h"
#include "vm-apply-dbus.h"
#include "vm-create-dbus.h"
#include "vm-dbus.h"
#include "vm-stats-dbus.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PROJECT_VERSION);
}

static int property_get_hostname(sd_bus *bus, const char *path, const char *interface,
                                 const char *property, sd_bus_message *reply, void *userdata,
                                 sd_bus_error *error) {
        char name[HOST_NAME_MAX + 1] = "";

        /* Read each time: the host may be renamed under us, and this is cheap. */
        if (gethostname(name, sizeof name) < 0)
                return -errno;
        name[HOST_NAME_MAX] = '\0';
        bus_text_make_valid(name);   /* sethostname() takes any bytes */
        return sd_bus_message_append(reply, "s", name);
}

static int property_get_libvirt_uri(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", libvirt_conn_uri(m->libvirt));
}

static int property_get_libvirt_connected(sd_bus *bus, const char *path, const char *interface,
                                          const char *property, sd_bus_message *reply,
                                          void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "b", libvirt_conn_is_connected(m->libvirt));
}

static int property_get_ready(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "b", m->ready);
}

static int property_get_state_directory(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply,
                                        void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", m->options->state_dir);
}

static int property_get_max_operations(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply,
                                       void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "u", worker_pool_max_in_flight(m->pool));
}

static int property_get_operations_in_flight(sd_bus *bus, const char *path, const char *interface,
                                            const char *property, sd_bus_message *reply,
                                            void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "u", worker_pool_in_flight(m->pool));
}

static int property_get_log_level(sd_bus *bus, const char *path, const char *interface,
                                  const char *property, sd_bus_message *reply, void *userdata,
                                  sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", log_level_to_string(log_get_max_level()));
}

static int property_set_log_level(sd_bus *bus, const char *path, const char *interface,
                                  const char *property, sd_bus_message *value, void *userdata,
                                  sd_bus_error *error) {
        Manager *m = userdata;
        const char *level;
        int r, parsed;

        BUS_AUTH_SCOPE(sd_bus_get_current_message(bus), error);
        r = bus_authorize_property(sd_bus_get_current_message(bus), BUS_ACTION_HOST_CONFIGURE,
                                   BUS_DETAILS("property", "LogLevel"), error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(value, "s", &level);
        if (r < 0)
                return r;
        parsed = log_level_from_string(level);
        if (parsed < 0)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "LogLevel: must be one of emerg, alert, crit, err, warning, "
                                         "notice, info, debug; got '%s'", TEXT_CUT(level));
        if (parsed == log_get_max_level())
                return 0;
        log_set_max_level(parsed);
        log_notice("Log level set to %s", level);
        (void) manager_emit_changed(m, "LogLevel", NULL);
        return 0;
}

/* Host facts (host name, CPU model) are whatever the kernel and libvirt say. */
static int append_dict_string(sd_bus_message *reply, const char *key, const char *value) {
        _cleanup_(freep) char *safe = bus_text_dup(strempty(value));

        return safe ? sd_bus_message_append(reply, "{sv}", key, "s", safe) : -ENOMEM;
}

static int append_dict_u32(sd_bus_message *reply, const char *key, uint32_t value) {
        return sd_bus_message_append(reply, "{sv}", key, "u", value);
}

static int append_dict_u64(sd_bus_message *reply, const char *key, uint64_t value) {
        return sd_bus_message_append(reply, "{sv}", key, "t", value);
}

static void format_libvirt_version(unsigned long v, char buf[static 32]) {
        snprintf(buf, 32, "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

static int method_get_host_info(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const LibvirtHostInfo *info = libvirt_conn_host_info(m->libvirt);
        char hv[32], lv[32];
        int r;

        if (!info)
                return bus_work_error_libvirt_unavailable(m, error);
        format_libvirt_version(info->hypervisor_version, hv);
        format_libvirt_version(info->libvirt_version, lv);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = append_dict_string(reply, "hostname", info->hostname);
        if (r >= 0)
                r = append_dict_string(reply, "hypervisor", info->hypervisor);
        if (r >= 0)
                r = append_dict_string(reply, "hypervisor_version", hv);
        if (r >= 0)
                r = append_dict_string(reply, "libvirt_version", lv);
        if (r >= 0)
                r = append_dict_string(reply, "cpu_model", info->cpu_model);
        if (r >= 0)
                r = append_dict_u32(reply, "cpus", info->cpus);
        if (r >= 0)
                r = append_dict_u32(reply, "cpu_mhz", info->mhz);
        if (r >= 0)
                r = append_dict_u32(reply, "cpu_sockets", info->sockets);
        if (r >= 0)
                r = append_dict_u32(reply, "cpu_cores", info->cores);
        if (r >= 0)
                r = append_dict_u32(reply, "cpu_threads", info->threads);
        if (r >= 0)
                r = append_dict_u32(reply, "numa_nodes", info->numa_nodes);
        if (r >= 0)
                r = append_dict_u64(reply, "memory_bytes", info->memory_kib * 1024);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* GetHostStats: libvirt is asked on a worker thread; the reply leaves later. */
typedef struct HostStatsCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        HostStats stats;
        uint64_t memory_total;
} HostStatsCall;

static HostStatsCall *host_stats_call_free(HostStatsCall *c) {
        if (!c)
                return NULL;
        libvirt_call_done(&c->base);
        free(c);
        return NULL;
}

static int host_stats_work(void *userdata) {
        HostStatsCall *c = userdata;

        return host_stats_read(c->base.conn, &c->stats, &c->base.error);
}

static void host_stats_done(int result, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        HostStatsCall *c = userdata;
        int r = result;

        if (r == -ECANCELED) {
                (void) bus_error_set_shutting_down(&error);
                goto fail;
        }
        if (r < 0) {
                (void) bus_error_set(&error, r, c->base.error, "Cannot read host statistics from libvirt");
                goto fail;
        }
        r = sd_bus_message_new_method_return(c->base.call.request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0 && c->stats.have_cpu) {
                r = append_dict_u64(reply, "cpu_kernel_ns", c->stats.cpu_kernel_ns);
                if (r >= 0)
                        r = append_dict_u64(reply, "cpu_user_ns", c->stats.cpu_user_ns);
                if (r >= 0)
                        r = append_dict_u64(reply, "cpu_idle_ns", c->stats.cpu_idle_ns);
                if (r >= 0)
                        r = append_dict_u64(reply, "cpu_iowait_ns", c->stats.cpu_iowait_ns);
        }
        if (r >= 0 && c->stats.memory_free > 0)
                r = append_dict_u64(reply, "memory_free_bytes", c->stats.memory_free);
        if (r >= 0 && c->memory_total > 0)
                r = append_dict_u64(reply, "memory_total_bytes", c->memory_total);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0) {
                (void) bus_call_reply(&c->base.call, reply);
                host_stats_call_free(c);
                return;
        }
        (void) bus_error_set(&error, r, NULL, "Cannot build the GetHostStats reply");
fail:
        (void) bus_call_reply_error(&c->base.call, &error);
        host_stats_call_free(c);
}

static int method_get_host_stats(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const LibvirtHostInfo *info;
        HostStatsCall *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        libvirt_call_init_read(&c->base, m, msg);
        info = libvirt_conn_host_info(m->libvirt);
        c->memory_total = info ? info->memory_kib * 1024 : 0;

        r = libvirt_call_submit(&c->base, host_stats_work, host_stats_done, error);
        if (r < 0)
                host_stats_call_free(c);
        return r;   /* 1: the reply is sent later */
}

typedef struct ListReply {
        sd_bus_message *reply;
        int r;
} ListReply;

/* A string the agent already checked with bus_text_valid() (VM names are
 * made bus-safe where they are read from libvirt): copied in without
 * sd-bus checking its UTF-8 once more, which was a third of ListVMs' cost. */
static int append_checked_string(sd_bus_message *m, const char *s) {
        size_t len = strlen(s);
        char *space;
        int r;

        r = sd_bus_message_append_string_space(m, len, &space);
        if (r >= 0)
                memcpy(space, s, len);
        return r;
}

/* Field by field: the format-string path costs more than the data here,
 * and a 1000-VM list is the largest reply we send. */
static void append_vm_entry(Vm *vm, void *userdata) {
        ListReply *l = userdata;
        sd_bus_message *m = l->reply;
        int r = l->r;

        if (r >= 0)
                r = sd_bus_message_open_container(m, SD_BUS_TYPE_STRUCT, "osss");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, SD_BUS_TYPE_OBJECT_PATH, vm->path);
        if (r >= 0)
                r = append_checked_string(m, vm->info.uuid);
        if (r >= 0)
                r = append_checked_string(m, strempty(vm->info.name));
        if (r >= 0)
                r = append_checked_string(m, vm_state_to_string(vm->info.state) ?: "nostate");
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        l->r = r;
}

static int list_vms_build(Manager *m, sd_bus_message *msg, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ListReply l;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(osss)");
        if (r < 0)
                return r;
        l = (ListReply) { .reply = reply };
        vm_foreach(m, append_vm_entry, &l);
        if (l.r < 0)
                return l.r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(reply);
        return 0;
}

/* The reply's body, kept in wire form until a VM comes, goes or changes:
 * 1000 VMs are a 140 KB reply of 4000 fields, built once and sent as bytes. */
static BusWire vm_list;
static bool vm_list_ready;

/* A VM came, went or changed: the ListVMs reply kept ready is out of date. */
static void manager_bus_vm_list_changed(void) {
        bus_wire_done(&vm_list);
        vm_list_ready = false;
}

static void vm_list_free(void *userdata) {
        manager_bus_vm_list_changed();
}

static int vm_list_refresh(Manager *m, sd_bus_message *msg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        manager_bus_vm_list_changed();
        r = list_vms_build(m, msg, &reply);
        if (r >= 0)
                r = sd_bus_message_seal(reply, 1, 0);
        if (r >= 0)
                r = sd_bus_message_rewind(reply, 1);
        if (r >= 0)
                r = bus_wire_copy(&vm_list, reply);
        if (r < 0) {
                manager_bus_vm_list_changed();
                return r;
        }
        bus_wire_shrink(&vm_list);
        vm_list_ready = true;
        return 0;
}

static int list_vms_answer(sd_bus_message *msg, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = 0;

        if (!vm_list_ready)
                r = vm_list_refresh(userdata, msg);
        if (r >= 0)
                r = bus_wire_reply(msg, "a(osss)", &(struct iovec) { vm_list.data, vm_list.size }, 1);
        if (r >= 0)
                return vm_list.size > INT_MAX ? INT_MAX : (int) vm_list.size;   /* what the caller's rate counts */
        /* Built as before, should the kept reply fail. */
        r = list_vms_build(userdata, msg, &reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* 1000 VMs are a 140 KB reply: it takes its turn (bus-fair.h). */
static int method_list_vms(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return bus_fair_reply(msg, list_vms_answer, userdata);
}

static int method_get_vm(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *key;
        Vm *vm;
        int r;

        r = sd_bus_message_read(msg, "s", &key);
        if (r < 0)
                return r;
        vm = vm_find(m, key);
        if (!vm)
                vm = vm_find_by_name(m, key);
        if (!vm)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_NO_SUCH_VM,
                                         "uuid_or_name: no VM has the UUID or name '%s'", TEXT_CUT(key));
        return sd_bus_reply_method_return(msg, "o", vm->path);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Hostname", "s", property_get_hostname, 0, 0),
        SD_BUS_PROPERTY("LibvirtURI", "s", property_get_libvirt_uri, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LibvirtConnected", "b", property_get_libvirt_connected, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Ready", "b", property_get_ready, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StateDirectory", "s", property_get_state_directory, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxOperations", "u", property_get_max_operations, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        /* Changes with every call: read it, no signal (it would double the traffic). */
        SD_BUS_PROPERTY("OperationsInFlight", "u", property_get_operations_in_flight, 0, 0),
        /* UNPRIVILEGED everywhere: sd-bus's own check would refuse non-root
         * callers before bus_authorize() decides, and reads are for everyone. */
        SD_BUS_WRITABLE_PROPERTY("LogLevel", "s", property_get_log_level, property_set_log_level,
                                 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHostInfo", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", info),
                                method_get_host_info, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHostStats", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", stats),
                                method_get_host_stats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateVM", SD_BUS_ARGS("s", spec), SD_BUS_RESULT("o", vm),
                                method_create_vm, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateVMFromXML", SD_BUS_ARGS("s", domain_xml), SD_BUS_RESULT("o", vm),
                                method_create_vm_from_xml, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ApplyVM", SD_BUS_ARGS("s", spec, "a{sv}", options), SD_BUS_RESULT("o", vm, "s", plan),
                                method_apply_vm, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListVMs", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(osss)", vms),
                                method_list_vms, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetVM", SD_BUS_ARGS("s", uuid_or_name), SD_BUS_RESULT("o", vm),
                                method_get_vm, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("JobNew", SD_BUS_ARGS("o", job), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved", SD_BUS_ARGS("o", job, "s", result), 0),
        SD_BUS_METHOD_WITH_ARGS("GetAllVMStats", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(oa{sv})", stats),
                                method_get_all_vm_stats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateStoragePool", SD_BUS_ARGS("s", spec), SD_BUS_RESULT("o", pool),
                                method_create_storage_pool, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListStoragePools", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(osss)", pools),
                                method_list_storage_pools, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStoragePool", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", pool),
                                method_get_storage_pool, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetupNetworks", SD_BUS_ARGS("s", desired, "a{sv}", options), SD_BUS_RESULT("s", plan),
                                method_setup_networks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ConfirmNetworks", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_confirm_networks,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetNetworkCapabilities", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", capabilities),
                                method_get_network_capabilities, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int manager_bus_register(Manager *m) {
        sd_bus_slot *slot = NULL;
        int r;

        r = sd_bus_add_object_vtable(m->bus, &slot, HOSTAGENT_ROOT_PATH, MANAGER_INTERFACE,
                                     manager_vtable, m);
        /* The kept ListVMs reply goes with the bus. */
        if (r >= 0)
                r = sd_bus_slot_set_destroy_callback(slot, vm_list_free);
        if (r >= 0)
                r = sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        if (r < 0)
                return log_error_errno(r, "Cannot publish %s: %m", MANAGER_INTERFACE);
        /* One ObjectManager at the root of our tree: VMs, networks, pools and
         * jobs below it are announced with InterfacesAdded/Removed. */
        r = bus_add_object_manager(m->bus, HOSTAGENT_ROOT_PATH);
        if (r < 0)
                return r;
        r = job_bus_register(m);
        if (r < 0)
                return r;
        r = storage_bus_register(m);
        if (r < 0)
                return r;
        r = network_bus_register(m);
        if (r < 0)
                return r;
        return vm_bus_register(m, manager_bus_vm_list_changed);
}

int manager_emit_changed(Manager *m, const char *name, ...) {
        const char *names[16];
        size_t n = 0;
        va_list ap;
        int r;

        if (!m->bus)
                return 0;
        va_start(ap, name);
        for (const char *p = name; p && n < ELEMENTSOF(names) - 1; p = va_arg(ap, const char *))
                names[n++] = p;
        va_end(ap);
        names[n] = NULL;

        r = sd_bus_emit_properties_changed_strv(m->bus, HOSTAGENT_ROOT_PATH, MANAGER_INTERFACE,
                                                (char **) names);
        if (r < 0)
                log_debug_errno(r, "Cannot emit PropertiesChanged for %s: %m", name);
        return r;
}
