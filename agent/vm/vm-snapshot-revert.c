/* Snapshot.Revert: the disks back to the snapshot (fresh overlays on its bases), and its RAM state when it has one */
#include <stdlib.h>
#include <string.h>

#include "bus-auth.h"
#include "bus-error.h"
#include "bus-options.h"
#include "bus-work.h"
#include "error-text.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "vm-auth.h"
#include "vm-busy.h"
#include "vm-snapshot.h"

typedef struct RevertCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *name;
        char *vm_name;
        char **files;       /* the overlays made afresh: their pools list them again */
} RevertCall;

static void revert_call_free(RevertCall *c) {
        libvirt_call_done(&c->base);
        free(c->name);
        free(c->vm_name);
        for (char **f = c->files; f && *f; f++)
                free(*f);
        free(c->files);
        free(c);
}

static int revert_work(void *userdata) {
        RevertCall *c = userdata;

        return snapshot_revert(c->base.conn, c->uuid, c->name, &c->base.error);
}

static void revert_done(int result, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        RevertCall *c = userdata;
        Manager *m = c->base.manager;

        if (result == -ECANCELED)
                (void) bus_error_set_shutting_down(&e);
        else if (result < 0)
                (void) bus_error_set(&e, result, c->base.error, "Cannot revert VM %s to snapshot %s", c->vm_name,
                                     c->name);
        if (result >= 0)
                log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", c->uuid), "VM %s reverted to snapshot %s", c->vm_name,
                           c->name);
        if (!m->stopping) {
                (void) vm_refresh(m, c->uuid);
                vm_snapshots_relist(m, c->uuid);
                vm_snapshot_refresh_pools(m, c->files);
        }
        if (sd_bus_error_is_set(&e))
                (void) bus_call_reply_error(&c->base.call, &e);
        else
                (void) bus_call_reply_empty(&c->base.call);
        revert_call_free(c);
}

static int read_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS, "options.%s: unknown option (Revert takes "
                                 "none yet)", TEXT_CUT(key));
}

int method_snapshot_revert(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        VmSnapshot *s = userdata;
        Manager *m = s->manager;
        Vm *vm = vm_find(m, s->uuid);
        char busy[VM_BUSY_TEXT_MAX];
        const char *why;
        RevertCall *c;
        int r;

        if (!vm)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_NO_SUCH_VM, "The snapshot's VM is gone");
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_SNAPSHOT, VM_AUTH_DETAILS(vm), error);
        r = bus_options_read(msg, read_option, NULL, error);
        if (r < 0)
                return r;
        if (s->info.internal)
                return vm_snapshot_internal_refusal(s, "revert to", error);
        if (vm_snapshot_merge_job(m, s->uuid, NULL))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot revert to snapshot %s: job %u "
                                         "merges a snapshot of VM %s", s->info.name,
                                         vm_snapshot_merge_job(m, s->uuid, NULL)->id, strempty(vm->info.name));
        why = vm_busy_with(m, s->uuid, VM_BUSY_BACKUP | VM_BUSY_MIGRATION, NULL, busy, sizeof busy);
        if (why)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot revert to snapshot %s: %s",
                                         s->info.name, why);
        if (vm_state_is_active(vm->info.state) && !s->info.memory_file)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot revert VM %s to snapshot %s: "
                                         "it runs; shut it off first (the snapshot has no RAM state)",
                                         strempty(vm->info.name), s->info.name);
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        libvirt_call_init(&c->base, m, msg);
        memcpy(c->uuid, s->uuid, sizeof c->uuid);
        c->name = strdup(s->info.name);
        c->vm_name = strdup(strempty(vm->info.name));
        c->files = calloc(s->info.n_disks + 1, sizeof *c->files);
        for (size_t i = 0; c->files && i < s->info.n_disks; i++)
                c->files[i] = strdup(s->info.disks[i].overlay);
        if (!c->name || !c->vm_name || !c->files) {
                revert_call_free(c);
                return -ENOMEM;
        }
        r = libvirt_call_submit(&c->base, revert_work, revert_done, error);
        if (r < 0) {
                revert_call_free(c);
                return r;
        }
        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", s->path),
                   "Request to revert VM %s to snapshot %s", strempty(vm->info.name), s->info.name);
        return 1;
}
