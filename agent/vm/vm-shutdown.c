/* VM.Shutdown: a graceful shutdown as a Job, forced once its timeout passes */
#include "vm-shutdown.h"

#include <libvirt/virterror.h>

#include "bus-auth.h"
#include "bus-error.h"
#include "job.h"
#include "libvirt-error.h"
#include "log.h"
#include "macro.h"
#include "bus-work.h"
#include "vm.h"

/* Shared by the job and the worker calls in flight, hence counted. */
typedef struct ShutdownJob {
        unsigned n_ref;
        Manager *manager;
        Job *job;                  /* NULL once the job has ended */
        virConnectPtr conn;
        char uuid[VIR_UUID_STRING_BUFLEN];
        uint64_t timeout_usec;
        sd_event_source *timer;
        bool forcing;
        char *error;               /* from the last worker call */
} ShutdownJob;

static ShutdownJob *shutdown_ref(ShutdownJob *s) {
        s->n_ref++;
        return s;
}

static void shutdown_unref(ShutdownJob *s) {
        if (!s || --s->n_ref > 0)
                return;
        sd_event_source_disable_unref(s->timer);
        if (s->conn)
                virConnectClose(s->conn);
        free(s->error);
        free(s);
}

/* The job ends (finished or cancelled): stop what is pending. */
static void shutdown_job_free(void *data) {
        ShutdownJob *s = data;

        s->job = NULL;
        s->timer = sd_event_source_disable_unref(s->timer);
        shutdown_unref(s);
}

static bool vm_stopped(ShutdownJob *s) {
        Vm *vm = vm_find(s->manager, s->uuid);

        return !vm || !vm_state_is_active(vm->info.state);
}

static void shutdown_finish_stopped(ShutdownJob *s) {
        job_finish(s->job, s->forcing ? "forced" : "done", NULL, NULL);
}

static void shutdown_fail(ShutdownJob *s, int r, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        (void) bus_error_set(&e, r, s->error, "%s", what);
        job_finish(s->job, "failed", e.name, e.message);
}

static int domain_call(ShutdownJob *s, int (*call)(virDomainPtr)) {
        virDomainPtr dom = virDomainLookupByUUIDString(s->conn, s->uuid);
        int r;

        if (!dom)
                return libvirt_error_take(&s->error);
        r = call(dom) < 0 ? libvirt_error_take(&s->error) : 0;
        virDomainFree(dom);
        return r;
}

static int acpi_work(void *userdata) {
        return domain_call(userdata, virDomainShutdown);
}

static int destroy_work(void *userdata) {
        return domain_call(userdata, virDomainDestroy);
}

static void destroy_done(int result, void *userdata) {
        ShutdownJob *s = userdata;

        if (s->job) {
                if (result >= 0) {
                        Vm *vm = vm_find(s->manager, s->uuid);
                        if (vm)
                                vm_set_state(vm, VM_STATE_SHUTOFF, "destroyed");  /* may finish the job */
                }
                if (s->job && (result >= 0 || vm_stopped(s)))
                        shutdown_finish_stopped(s);
                else if (s->job)
                        shutdown_fail(s, result, "Cannot force the VM off");
        }
        shutdown_unref(s);
}

static int on_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        ShutdownJob *s = userdata;
        int r;

        if (!s->job)
                return 0;
        log_fields(LOG_NOTICE, LOG_FIELDS("OBJECT_PATH", s->job->object),
                   "Job %u: the guest did not shut down in time; forcing it off", s->job->id);
        s->forcing = true;
        job_set_progress(s->job, 50);
        /* INTERNAL: a promise made to the caller is not refused for load. */
        r = worker_pool_submit(s->manager->pool, WORKER_INTERNAL, destroy_work, destroy_done, shutdown_ref(s));
        if (r < 0) {
                shutdown_unref(s);
                shutdown_fail(s, r, "Cannot force the VM off");
        }
        return 0;
}

static void acpi_done(int result, void *userdata) {
        ShutdownJob *s = userdata;
        int r;

        if (!s->job)
                goto out;
        if (result < 0) {
                if (vm_stopped(s))
                        shutdown_finish_stopped(s);
                else
                        shutdown_fail(s, result, "Cannot ask the guest to shut down");
                goto out;
        }
        if (vm_stopped(s)) {
                shutdown_finish_stopped(s);
                goto out;
        }
        job_set_progress(s->job, 10);
        r = sd_event_add_time_relative(s->manager->event, &s->timer, CLOCK_MONOTONIC, s->timeout_usec, 0,
                                       on_timeout, s);
        if (r < 0)
                shutdown_fail(s, r, "Cannot arm the shutdown timeout");
out:
        shutdown_unref(s);
}

static void on_vm_state_changed(Job *job, Vm *vm) {
        ShutdownJob *s = job->data;

        if (!vm_state_is_active(vm->info.state))
                shutdown_finish_stopped(s);
}

static int on_cancel(Job *job, sd_bus_error *error) {
        ShutdownJob *s = job->data;

        if (s->forcing)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "Cannot cancel job %u: the VM is being forced off already", job->id);
        /* The guest may still finish shutting down by itself; we stop waiting. */
        job_finish(job, "cancelled", NULL, NULL);
        return 0;
}

static const JobOps shutdown_ops = {
        .cancel = on_cancel,
        .vm_state_changed = on_vm_state_changed,
        .free = shutdown_job_free,
};

int method_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        Manager *m = vm->manager;
        ShutdownJob *s;
        uint32_t timeout;
        Job *job;
        int r;

        r = bus_authorize(msg, "shut down VMs", error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "u", &timeout);
        if (r < 0)
                return r;
        if (timeout < 1 || timeout > VM_SHUTDOWN_TIMEOUT_MAX_SEC)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_ARGS,
                                         "timeout_sec: must be between 1 and %u, got %u",
                                         VM_SHUTDOWN_TIMEOUT_MAX_SEC, timeout);
        if (!vm_state_is_active(vm->info.state))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE,
                                         "Cannot shut down VM %s: it is not running", strempty(vm->info.name));

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->n_ref = 1;   /* the job's */
        s->manager = m;
        s->timeout_usec = (uint64_t) timeout * 1000 * 1000;
        memcpy(s->uuid, vm->info.uuid, sizeof s->uuid);
        s->conn = libvirt_conn_ref(m->libvirt);
        if (!s->conn) {
                shutdown_unref(s);
                return bus_work_error_libvirt_unavailable(m, error);
        }
        r = worker_pool_submit(m->pool, WORKER_NORMAL, acpi_work, acpi_done, shutdown_ref(s));
        if (r < 0) {
                s->n_ref--;
                shutdown_unref(s);
                return bus_work_error_submit(m, r, error);
        }
        r = job_new(m, "shutdown", vm->path, &shutdown_ops, s, &job);
        if (r < 0) {
                shutdown_unref(s);   /* the job's reference; the worker's stays */
                if (r == -EBUSY)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                                 "Too many jobs running (limit %d); retry later", JOBS_MAX);
                return r;
        }
        s->job = job;
        return sd_bus_reply_method_return(msg, "o", job->path);
}
