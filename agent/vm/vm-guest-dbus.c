/* org.hostagent1.VM's guest agent members: GuestAgent, GuestInfo, GuestAddresses, freeze and thaw */
#include "vm-guest-dbus.h"

#include "agent-errno.h"
#include "bus-auth.h"
#include "bus-error.h"
#include "bus-work.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "vm-auth.h"
#include "vm-guest.h"
#include "vm.h"

/* Properties: from the model, as the agent's events and reads keep it. */

static int property_get_guest_agent(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;

        return sd_bus_message_append(reply, "s", guest_agent_state_to_string(vm->info.guest_agent) ?: "none");
}

static int append_text(sd_bus_message *reply, const char *key, const char *value) {
        return value ? sd_bus_message_append(reply, "{sv}", key, "s", value) : 0;
}

static int append_users(sd_bus_message *reply, char **users) {
        int r;

        if (!users)
                return 0;
        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "users");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, users);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* Only what the agent said: a key is left out when it did not. */
static int property_get_guest_info(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const GuestInfo *g = &((Vm *) userdata)->guest;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = append_text(reply, "os_id", g->os_id);
        if (r >= 0)
                r = append_text(reply, "os_name", g->os_name);
        if (r >= 0)
                r = append_text(reply, "os_version", g->os_version);
        if (r >= 0)
                r = append_text(reply, "kernel_release", g->kernel_release);
        if (r >= 0)
                r = append_text(reply, "kernel_version", g->kernel_version);
        if (r >= 0)
                r = append_text(reply, "hostname", g->hostname);
        if (r >= 0)
                r = append_text(reply, "timezone", g->timezone);
        if (r >= 0 && g->has_timezone_offset)
                r = sd_bus_message_append(reply, "{sv}", "timezone_offset", "i", g->timezone_offset);
        if (r >= 0)
                r = append_users(reply, g->users);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_guest_addresses(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        const GuestInfo *g = &((Vm *) userdata)->guest;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < g->n_addresses; i++)
                r = sd_bus_message_append(reply, "(sss)", g->addresses[i].interface, g->addresses[i].mac,
                                          g->addresses[i].address);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* FreezeFilesystems and ThawFilesystems: on a worker, each agent command bounded. */

typedef struct FreezeCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *name;
        bool thaw;
        unsigned count;
} FreezeCall;

static void freeze_call_free(FreezeCall *c) {
        if (!c)
                return;
        libvirt_call_done(&c->base);
        free(c->name);
        free(c);
}

static int freeze_work(void *userdata) {
        FreezeCall *c = userdata;

        return guest_fs_freeze(c->base.conn, c->uuid, c->thaw, &c->count, &c->base.error);
}

static void freeze_done(int result, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        FreezeCall *c = userdata;
        int r = result;

        if (result == -ECANCELED)
                (void) bus_error_set_shutting_down(&error);
        else if (result < 0)
                (void) bus_error_set(&error, result, c->base.error, "Cannot %s the filesystems of VM %s",
                                     c->thaw ? "thaw" : "freeze", c->name);
        else {
                r = sd_bus_message_new_method_return(c->base.call.request, &reply);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "u", c->count);
                if (r < 0)
                        (void) bus_error_set(&error, r, NULL, "Cannot build the reply");
        }
        if (r >= 0 && reply) {
                log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", c->uuid), "VM %s: %u filesystems %s", c->name, c->count,
                           c->thaw ? "thawed" : "frozen");
                (void) bus_call_reply(&c->base.call, reply);
        } else
                (void) bus_call_reply_error(&c->base.call, &error);
        freeze_call_free(c);
}

/* 0 when VM's agent can be asked, else the named error (set in ERROR) to answer. */
static int freeze_refusal(Vm *vm, bool thaw, sd_bus_error *error) {
        const char *verb = thaw ? "thaw" : "freeze", *name = strempty(vm->info.name);

        /* A paused guest's agent cannot answer. */
        if (vm->info.state != VM_STATE_RUNNING && vm->info.state != VM_STATE_BLOCKED)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "Cannot %s the filesystems of VM %s: it is not running", verb, name);
        if (vm->info.guest_agent == GUEST_AGENT_NONE)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_GUEST_AGENT_UNAVAILABLE,
                                         "Cannot %s the filesystems of VM %s: it has no guest agent channel "
                                         "(spec guest_agent)", verb, name);
        if (vm->info.guest_agent != GUEST_AGENT_CONNECTED)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_GUEST_AGENT_UNAVAILABLE,
                                         "Cannot %s the filesystems of VM %s: its guest agent is not connected",
                                         verb, name);
        return 0;
}

static int freeze_start(sd_bus_message *msg, Vm *vm, bool thaw, sd_bus_error *error) {
        FreezeCall *c;
        int r;

        /* The same action as Pause and Resume: it stops and lets go of the guest's writes. */
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MANAGE, VM_AUTH_DETAILS(vm), error);
        r = freeze_refusal(vm, thaw, error);
        if (r < 0)
                return r;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->thaw = thaw;
        memcpy(c->uuid, vm->info.uuid, sizeof c->uuid);
        c->name = strdup(strempty(vm->info.name));
        libvirt_call_init(&c->base, vm->manager, msg);
        if (!c->name) {
                freeze_call_free(c);
                return -ENOMEM;
        }
        r = libvirt_call_submit(&c->base, freeze_work, freeze_done, error);
        if (r < 0) {
                freeze_call_free(c);
                return r;
        }
        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                   "Request to %s the filesystems of VM %s", thaw ? "thaw" : "freeze", c->name);
        return 1;
}

static int method_freeze_filesystems(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return freeze_start(msg, userdata, false, error);
}

static int method_thaw_filesystems(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return freeze_start(msg, userdata, true, error);
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable vm_guest_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("GuestAgent", "s", property_get_guest_agent, 0, CHANGES),
        SD_BUS_PROPERTY("GuestInfo", "a{sv}", property_get_guest_info, 0, CHANGES),
        SD_BUS_PROPERTY("GuestAddresses", "a(sss)", property_get_guest_addresses, 0, CHANGES),
        SD_BUS_METHOD_WITH_ARGS("FreezeFilesystems", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", frozen),
                                method_freeze_filesystems, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ThawFilesystems", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", thawed),
                                method_thaw_filesystems, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
