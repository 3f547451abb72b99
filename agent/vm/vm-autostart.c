/* VM.Autostart writes: Properties.Set answered after libvirt, not before */
#include "vm-autostart.h"

#include "bus-auth.h"
#include "vm-auth.h"
#include "bus-error.h"
#include "error-text.h"
#include "log.h"
#include "macro.h"
#include "domain-ops.h"
#include "bus-work.h"
#include "vm.h"

typedef struct AutostartCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        char uuid[VIR_UUID_STRING_BUFLEN];
        bool value;
} AutostartCall;

static void autostart_call_free(AutostartCall *c) {
        libvirt_call_done(&c->base);
        free(c);
}

static int autostart_work(void *userdata) {
        AutostartCall *c = userdata;

        return domain_set_autostart(c->base.conn, c->uuid, c->value, &c->base.error);
}

static void autostart_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        AutostartCall *c = userdata;
        Vm *vm = vm_find(c->base.manager, c->uuid);

        if (result >= 0) {
                if (vm)
                        vm_set_autostart(vm, c->value);
                (void) bus_call_reply_empty(&c->base.call);
        } else {
                if (result == -ECANCELED)
                        (void) bus_error_set_shutting_down(&error);
                else
                        (void) bus_error_set(&error, result, c->base.error, "Cannot set Autostart");
                (void) bus_call_reply_error(&c->base.call, &error);
        }
        autostart_call_free(c);
}

static bool is_autostart_set(sd_bus_message *m) {
        const char *interface, *property;
        bool match;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Set") ||
            !sd_bus_message_get_path(m) || !strstr(sd_bus_message_get_path(m), VM_PATH_PREFIX "/"))
                return false;
        match = sd_bus_message_read(m, "ss", &interface, &property) >= 0 &&
                streq(interface, VM_INTERFACE) && streq(property, "Autostart");
        (void) sd_bus_message_rewind(m, true);
        return match;
}

static int autostart_set(sd_bus_message *m, Manager *mgr, sd_bus_error *error) {
        AutostartCall *c;
        Vm *vm;
        int value, r;

        vm = vm_find_by_path(mgr, sd_bus_message_get_path(m));
        if (!vm)
                return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_OBJECT, "No VM at %s",
                                         TEXT_CUT(sd_bus_message_get_path(m)));
        BUS_AUTHORIZE_OR_RETURN(m, BUS_ACTION_VM_MANAGE, VM_AUTH_DETAILS(vm), error);
        r = sd_bus_message_skip(m, "ss");
        if (r >= 0)
                r = sd_bus_message_read(m, "v", "b", &value);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Autostart: must be a boolean");
        if (!vm->info.persistent)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "Cannot set Autostart of VM %s: it is transient",
                                         strempty(vm->info.name));
        if (vm->info.autostart == !!value)
                return sd_bus_reply_method_return(m, NULL);

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->value = value;
        memcpy(c->uuid, vm->info.uuid, sizeof c->uuid);
        libvirt_call_init(&c->base, mgr, m);
        r = libvirt_call_submit(&c->base, autostart_work, autostart_done, error);
        if (r < 0)
                autostart_call_free(c);
        return r;
}

int vm_autostart_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!is_autostart_set(m))
                return 0;   /* not ours: normal dispatch */
        r = autostart_set(m, userdata, &error);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        (void) sd_bus_error_set_errno(&error, r);
                (void) sd_bus_reply_method_error(m, &error);
        }
        return 1;   /* answered, now or later */
}

int vm_autostart_set_refused(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *value, void *userdata, sd_bus_error *error) {
        return sd_bus_error_set(error, HOSTAGENT_ERROR_FAILED, "Autostart is set through its own path");
}
