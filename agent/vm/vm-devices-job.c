/* VM.DetachDisk and DetachNIC: a Job, since the guest has to let go of the device.
 *
 * The running VM is asked first (by the device's alias, which does not
 * wait); the job ends "done" once the device is gone from the VM (libvirt's
 * device-removed event re-reads it) and the definition and the spec have
 * lost it too, or "failed" after the daemon's --detach-timeout: then the
 * device stays, in the definition and in the spec. A VM that is not running loses the device
 * from its definition at once. */
#include "vm-devices.h"

#include "bus-auth.h"
#include "bus-error.h"
#include "job.h"
#include "log.h"
#include "error-text.h"
#include "macro.h"
#include "vm-auth.h"
#include "vm-busy.h"
#include "vm-spec-edit.h"

typedef struct DetachJob {
        unsigned n_ref;             /* the job's, and each worker call's */
        Manager *manager;
        Job *job;                   /* NULL once the job has ended */
        char uuid[VIR_UUID_STRING_BUFLEN];
        bool nic;
        char *key;                  /* the target or the MAC */
        bool live, config;
        uint32_t timeout_sec;
        sd_event_source *timer;
        bool waiting;               /* the guest was asked: the device's going ends the wait */
        bool finishing;             /* the definition's change is on its way */
} DetachJob;

static DetachJob *detach_ref(DetachJob *d) {
        d->n_ref++;
        return d;
}

static void detach_unref(DetachJob *d) {
        if (!d || --d->n_ref > 0)
                return;
        sd_event_source_disable_unref(d->timer);
        free(d->key);
        free(d);
}

static void detach_job_free(void *data) {
        DetachJob *d = data;

        d->job = NULL;
        d->timer = sd_event_source_disable_unref(d->timer);
        detach_unref(d);
}

static const char *detach_what(const DetachJob *d) {
        return d->nic ? "NIC" : "disk";
}

static bool vm_has_device(Vm *vm, const DetachJob *d) {
        if (d->nic) {
                for (size_t i = 0; i < vm->info.n_nics; i++)
                        if (strcasecmp(strempty(vm->info.nics[i].mac), d->key) == 0)
                                return true;
        } else
                for (size_t i = 0; i < vm->info.n_disks; i++)
                        if (streq_ptr(vm->info.disks[i].target, d->key))
                                return true;
        return false;
}

static void detach_fail(DetachJob *d, int r, const char *why, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        (void) bus_error_set(&e, r, why, "%s", what);
        job_finish(d->job, "failed", e.name, e.message);
}

static void on_config_done(VmChangeCall *c, int result) {
        DetachJob *d = c->userdata;

        if (d->job) {
                if (result >= 0)
                        job_finish(d->job, "done", NULL, NULL);
                else
                        detach_fail(d, result, c->base.error, "The guest let go, but the definition keeps it");
        }
        detach_unref(d);
}

/* A change call for this job, answered to FINISHED instead of a caller. */
static int detach_submit(DetachJob *d, Vm *vm, bool live, bool config, void (*finished)(VmChangeCall *, int),
                         sd_bus_error *error) {
        VmChangeCall *c = vm_change_call_new(vm, "detach %s %s from", detach_what(d), d->key);
        DomainChange *s;
        int r;

        if (!c)
                return -ENOMEM;
        s = vm_change_call_step(c, DOMAIN_CHANGE_DETACH, live, config);
        s->nic = d->nic;
        s->key = strdup(d->key);
        r = s->key ? 0 : -ENOMEM;
        if (r >= 0 && config)
                r = vm_change_call_spec(c, vm, &(VmSpecEdit) { .kind = d->nic ? VM_SPEC_EDIT_REMOVE_NIC
                                                                              : VM_SPEC_EDIT_REMOVE_DISK,
                                                               .key = d->key }, vm_state_is_active(vm->info.state));
        if (r < 0) {
                vm_change_call_free(c);
                return r;
        }
        c->finished = finished;
        c->userdata = detach_ref(d);
        r = vm_change_call_submit(c, vm, NULL, error);   /* frees C on failure */
        if (r < 0)
                d->n_ref--;
        return r;
}

/* The guest let go: now the definition and the spec. */
static void detach_config(DetachJob *d, Vm *vm) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        d->waiting = false;
        d->timer = sd_event_source_disable_unref(d->timer);
        if (!d->config) {
                job_finish(d->job, "done", NULL, NULL);
                return;
        }
        d->finishing = true;
        job_set_progress(d->job, 80);
        r = detach_submit(d, vm, false, true, on_config_done, &e);
        if (r < 0)
                detach_fail(d, r, e.message, "The guest let go, but the definition keeps it");
}

static void on_vm_changed(Job *job, void *object) {
        DetachJob *d = job->data;
        Vm *vm = object;

        if (d->waiting && !vm_has_device(vm, d))
                detach_config(d, vm);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        DetachJob *d = userdata;
        char message[256];

        if (!d->job || !d->waiting)
                return 0;
        d->waiting = false;
        snprintf(message, sizeof message, "The guest did not let go of %s %s within %u s; it stays attached%s",
                 detach_what(d), d->key, d->timeout_sec, d->config ? ", in the definition and in the spec" : "");
        job_finish(d->job, "failed", HOSTAGENT_ERROR_TIMEOUT, message);
        return 0;
}

static void on_asked(VmChangeCall *c, int result) {
        DetachJob *d = c->userdata;
        Vm *vm = vm_find(d->manager, d->uuid);

        if (d->job && !d->live)
                on_config_done(c, result);   /* a definition-only detach: that was all */
        else {
                if (d->job && result < 0)
                        detach_fail(d, result, c->base.error, "Cannot ask the guest to let go of the device");
                else if (d->job) {
                        job_set_progress(d->job, 10);
                        d->waiting = true;
                        if (!vm || !vm_has_device(vm, d))
                                detach_config(d, vm);   /* gone already (or the VM is) */
                }
                detach_unref(d);
        }
}

static int on_cancel(Job *job, sd_bus_error *error) {
        DetachJob *d = job->data;

        if (d->finishing)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "Cannot cancel job %u: the guest let go, the definition is being changed",
                                         job->id);
        /* The guest may still let go; the definition then keeps the device. */
        d->waiting = false;
        job_finish(job, "cancelled", NULL, NULL);
        return 0;
}

static const JobOps detach_ops = {
        .cancel = on_cancel,
        .object_changed = on_vm_changed,
        .free = detach_job_free,
};

static int detach_start(Job *job, sd_bus_error *error) {
        DetachJob *d = job->data;
        Vm *vm = vm_find(d->manager, d->uuid);
        int r;

        if (!vm)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_NO_SUCH_VM, "The VM is gone");
        if (d->live) {
                r = sd_event_add_time_relative(d->manager->event, &d->timer, CLOCK_MONOTONIC,
                                               (uint64_t) d->timeout_sec * 1000 * 1000, 0, on_timeout, d);
                if (r < 0)
                        return bus_error_set(error, r, NULL, "Cannot arm the detach timeout");
        }
        /* Live: the guest is asked, and the definition waits for it. Not live: the definition now. */
        return detach_submit(d, vm, d->live, !d->live && d->config, on_asked, error);
}

static int detach_method(sd_bus_message *msg, Vm *vm, bool nic, sd_bus_error *error) {
        Manager *m = vm->manager;
        char busy[VM_BUSY_TEXT_MAX];
        const char *key, *why;
        DetachJob *d;
        Job *job;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MANAGE, VM_AUTH_DETAILS(vm), error);
        r = sd_bus_message_read(msg, "s", &key);
        if (r < 0)
                return r;
        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->n_ref = 1;
        d->manager = m;
        d->nic = nic;
        memcpy(d->uuid, vm->info.uuid, sizeof d->uuid);
        d->timeout_sec = m->options->detach_timeout_sec;
        d->key = strdup(key);
        if (!d->key) {
                detach_unref(d);
                return -ENOMEM;
        }
        /* No options: the running VM if it runs, and the definition if it has one. */
        r = vm_change_scope(vm, &(VmChangeOptions) { .live = -1, .persistent = -1 }, &d->live, &d->config, error);
        if (r >= 0 && !vm_has_device(vm, d))
                r = sd_bus_error_setf(error, HOSTAGENT_ERROR_NO_SUCH_OBJECT, "%s: VM %s has no %s %s",
                                      nic ? "mac" : "target", strempty(vm->info.name), detach_what(d), TEXT_CUT(key));
        if (r >= 0 && !nic && (why = vm_busy_with(m, vm->info.uuid, VM_BUSY_ALL, key, busy, sizeof busy)))
                r = sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "target: cannot detach disk %s of VM %s: %s",
                                      TEXT_CUT(key), strempty(vm->info.name), why);
        if (r >= 0)
                r = job_new(m, nic ? "detach-nic" : "detach-disk", vm->path, &detach_ops, d, &job);
        if (r < 0) {
                detach_unref(d);
                if (r == -EBUSY)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                                 "Too many jobs running (limit %d); retry later", JOBS_MAX);
                return r;
        }
        d->job = job;
        return job_start(job, msg, detach_start);
}

int method_vm_detach_disk(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return detach_method(msg, userdata, false, error);
}

int method_vm_detach_nic(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return detach_method(msg, userdata, true, error);
}
