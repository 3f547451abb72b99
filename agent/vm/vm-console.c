/* VM.SetConsoleTicket: a console password that expires, as vdsm's setTicket */
#include "vm-console.h"

#include <time.h>

#include "bus-auth.h"
#include "bus-error.h"
#include "log.h"
#include "macro.h"
#include "bus-work.h"
#include "domain-ops.h"
#include "vm.h"

typedef struct TicketCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *name;
        char *password;
        char valid_to[32];
} TicketCall;

static void ticket_call_free(TicketCall *c) {
        libvirt_call_done(&c->base);
        erase_and_freep(&c->password);
        free(c->name);
        free(c);
}

static int ticket_work(void *userdata) {
        TicketCall *c = userdata;

        return domain_set_console_ticket(c->base.conn, c->uuid, c->password, c->valid_to, VM_TICKET_VNC_MAX, &c->base.error);
}

static void ticket_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        TicketCall *c = userdata;

        if (result >= 0) {
                log_notice("Console ticket set on VM %s, valid until %s UTC", c->name, c->valid_to);
                (void) bus_call_reply_empty(&c->base.call);
                ticket_call_free(c);
                return;
        }
        if (result == -ECANCELED)
                (void) bus_error_set_shutting_down(&error);
        else if (result == -ENODEV)
                (void) sd_bus_error_setf(&error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "VM %s has no graphics console", c->name);
        else if (c->base.error && strstr(c->base.error, "set_password"))
                /* QEMU started the console without password support. */
                (void) sd_bus_error_setf(&error, HOSTAGENT_ERROR_NOT_SUPPORTED,
                                         "VM %s's console was started without password support; give its "
                                         "<graphics> a passwd attribute (VMs created from a spec have one)",
                                         c->name);
        else if (result == -E2BIG)
                (void) sd_bus_error_setf(&error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "password: a VNC console takes at most %d characters", VM_TICKET_VNC_MAX);
        else
                (void) bus_error_set(&error, result, c->base.error, "Cannot set the console ticket of VM %s", c->name);
        (void) bus_call_reply_error(&c->base.call, &error);
        ticket_call_free(c);
}

static bool password_valid(const char *s) {
        if (!*s || strlen(s) > VM_TICKET_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return false;
        return true;
}

int method_vm_set_console_ticket(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        Manager *m = vm->manager;
        const char *password;
        TicketCall *c;
        uint32_t ttl;
        time_t until;
        struct tm tm;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_CONSOLE, BUS_DETAILS("vm", vm->info.name, "uuid", vm->info.uuid), error);
        r = sd_bus_message_read(msg, "su", &password, &ttl);
        if (r < 0)
                return r;
        if (!password_valid(password))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "password: must be 1 to %d printable characters", VM_TICKET_MAX);
        if (ttl < 1 || ttl > VM_TICKET_TTL_MAX_SEC)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "ttl_sec: must be between 1 and %u, got %u", VM_TICKET_TTL_MAX_SEC, ttl);
        if (!vm_state_is_active(vm->info.state))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "Cannot set a console ticket on VM %s: it is not running",
                                         strempty(vm->info.name));

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        memcpy(c->uuid, vm->info.uuid, sizeof c->uuid);
        libvirt_call_init(&c->base, m, msg);
        c->name = strdup(strempty(vm->info.name));
        c->password = strdup(password);
        until = time(NULL) + ttl;
        if (!c->name || !c->password || !gmtime_r(&until, &tm) ||
            strftime(c->valid_to, sizeof c->valid_to, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
                ticket_call_free(c);
                return -ENOMEM;
        }
        r = libvirt_call_submit(&c->base, ticket_work, ticket_done, error);
        if (r < 0)
                ticket_call_free(c);
        return r;
}
