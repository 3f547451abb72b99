/* VM.Shutdown: a graceful shutdown as a Job, forced once its timeout passes.
 *
 * The deadline is a promise to the caller, so it outlives the agent: the
 * job is recorded (job-record.c) with the VM and the deadline on the
 * monotonic clock before the call is answered, and an agent started after a
 * crash or a restart carries it on from there (vm_shutdown_resume()): it asks
 * the guest again and forces it off at the deadline. */
#include "vm-shutdown.h"


#include "bus-auth.h"
#include "vm-auth.h"
#include "bus-error.h"
#include "job.h"
#include "log.h"
#include "macro.h"
#include "virt-cleanup.h"
#include "bus-work.h"
#include "domain-ops.h"
#include "vm.h"
#include "vm-migrate.h"

/* Shared by the job and the worker calls in flight, hence counted. */
typedef struct ShutdownJob {
        unsigned n_ref;
        Manager *manager;
        Job *job;                  /* NULL once the job has ended */
        virConnectPtr conn;        /* set once: workers may be using it */
        char uuid[VIR_UUID_STRING_BUFLEN];
        uint64_t deadline_usec;    /* CLOCK_MONOTONIC: the same across agents of one boot */
        sd_event_source *timer;
        bool forcing;
        bool force_pending;        /* the deadline passed before the VMs could be read */
        bool resumed;              /* carried on from the previous agent */
        bool ask_pending;          /* resumed: the guest is asked again once seen running */
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
        virConnectClosep(&s->conn);
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

/* A worker call cut short by the agent's stop: the job stays recorded, and
 * the next agent carries it on. */
static bool shutdown_left_to_next_agent(ShutdownJob *s, int result) {
        return (result == -ECANCELED || result == -ESHUTDOWN) && s->manager->stopping;
}

static int acpi_work(void *userdata) {
        ShutdownJob *s = userdata;

        return domain_action(s->conn, s->uuid, DOMAIN_ACTION_SHUTDOWN, &s->error);
}

static int destroy_work(void *userdata) {
        ShutdownJob *s = userdata;

        return domain_action(s->conn, s->uuid, DOMAIN_ACTION_DESTROY, &s->error);
}

static void destroy_done(int result, void *userdata) {
        ShutdownJob *s = userdata;

        if (s->job && !shutdown_left_to_next_agent(s, result)) {
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

static void shutdown_force(ShutdownJob *s) {
        Manager *m = s->manager;
        int r;

        if (!s->conn)
                s->conn = libvirt_conn_ref(m->libvirt);
        if (!m->vm_synced || !s->conn) {
                /* A job carried on from the previous agent, before the VMs are
                 * read (a VM off by now is "done", not "forced"), or libvirt
                 * is away: done at the next full read (job_objects_read()). */
                s->force_pending = true;
                return;
        }
        log_fields(LOG_NOTICE, LOG_FIELDS("OBJECT_PATH", s->job->object),
                   "Job %u: the guest did not shut down in time; forcing it off", s->job->id);
        s->force_pending = false;
        s->forcing = true;
        job_set_progress(s->job, 50);
        /* INTERNAL: a promise made to the caller is not refused for load. */
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, destroy_work, destroy_done, shutdown_ref(s));
        if (r < 0) {
                shutdown_unref(s);
                if (!shutdown_left_to_next_agent(s, r))
                        shutdown_fail(s, r, "Cannot force the VM off");
        }
}

static int on_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        ShutdownJob *s = userdata;

        if (s->job && !s->forcing)
                shutdown_force(s);
        return 0;
}

static void acpi_done(int result, void *userdata) {
        ShutdownJob *s = userdata;

        if (!s->job || shutdown_left_to_next_agent(s, result))
                goto out;
        if (result < 0) {
                if (vm_stopped(s))
                        shutdown_finish_stopped(s);
                else if (s->resumed)   /* the deadline was promised already: kept */
                        log_fields(LOG_WARNING, LOG_FIELDS("OBJECT_PATH", s->job->object),
                                   "Job %u: cannot ask the guest again to shut down (%s); forced off at the "
                                   "deadline", s->job->id, strempty(s->error));
                else
                        shutdown_fail(s, result, "Cannot ask the guest to shut down");
                goto out;
        }
        if (vm_stopped(s))
                shutdown_finish_stopped(s);
        else if (!s->forcing)
                job_set_progress(s->job, 10);
out:
        shutdown_unref(s);
}

/* Asks the guest to shut down (ACPI), off the loop; acpi_done() says how it went. */
static int shutdown_ask(ShutdownJob *s, WorkerPriority prio) {
        int r;

        r = worker_pool_submit(s->manager->pool, prio, acpi_work, acpi_done, shutdown_ref(s));
        if (r < 0)
                s->n_ref--;   /* the worker's, never taken */
        return r;
}

/* A job carried on from the previous agent, the VM seen running: whether that
 * agent asked the guest is not known (its request may have been queued
 * still, or it died before making it), and asking twice is harmless. */
static void shutdown_ask_again(ShutdownJob *s) {
        int r;

        if (!s->conn)
                s->conn = libvirt_conn_ref(s->manager->libvirt);
        if (!s->conn)
                return;   /* libvirt is away: at the next full read */
        s->ask_pending = false;
        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", s->job->object),
                   "Job %u: asking the guest again to shut down", s->job->id);
        r = shutdown_ask(s, WORKER_INTERNAL);   /* a promise made already is not refused for load */
        if (r < 0)
                log_warning_errno(r, "Job %u: cannot ask the guest to shut down, forced off at the deadline: %m",
                                  s->job->id);
}

static void on_vm_state_changed(Job *job, void *object) {
        ShutdownJob *s = job->data;
        Vm *vm = object;

        if (!vm_state_is_active(vm->info.state))
                shutdown_finish_stopped(s);
}

static void on_vms_read(Job *job) {
        ShutdownJob *s = job->data;

        if (vm_stopped(s))
                shutdown_finish_stopped(s);   /* off, or gone, meanwhile */
        else if (s->force_pending)
                shutdown_force(s);
        else if (s->ask_pending && !s->forcing)
                shutdown_ask_again(s);
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

/* {"uuid": "...", "deadline_usec": N}: N on CLOCK_MONOTONIC. */
static json_object *shutdown_resume_data(Job *job) {
        ShutdownJob *s = job->data;
        json_object *data = json_object_new_object();

        if (!data)
                return NULL;
        json_object_object_add(data, "uuid", json_object_new_string(s->uuid));
        json_object_object_add(data, "deadline_usec", json_object_new_int64((int64_t) s->deadline_usec));
        return data;
}

static const JobOps shutdown_ops = {
        .cancel = on_cancel,
        .object_changed = on_vm_state_changed,
        .objects_read = on_vms_read,
        .resume_data = shutdown_resume_data,
        .free = shutdown_job_free,
};

static int shutdown_arm(ShutdownJob *s) {
        return sd_event_add_time(s->manager->event, &s->timer, CLOCK_MONOTONIC, s->deadline_usec, 0, on_timeout, s);
}

/* The job is on disk: ask the guest, and force it off at the deadline. */
static int shutdown_start(Job *job, sd_bus_error *error) {
        ShutdownJob *s = job->data;
        Manager *m = s->manager;
        int r;

        r = shutdown_arm(s);
        if (r < 0)
                return bus_error_set(error, r, NULL, "Cannot arm the shutdown timeout");
        r = shutdown_ask(s, WORKER_NORMAL);
        if (r < 0)
                return bus_work_error_submit(m, r, error);
        return 0;
}

static ShutdownJob *shutdown_new(Manager *m, const char *uuid, uint64_t deadline_usec) {
        ShutdownJob *s = calloc(1, sizeof *s);

        if (!s)
                return NULL;
        s->n_ref = 1;   /* the job's */
        s->manager = m;
        s->deadline_usec = deadline_usec;
        snprintf(s->uuid, sizeof s->uuid, "%s", uuid);
        return s;
}

int method_vm_shutdown(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        Manager *m = vm->manager;
        ShutdownJob *s;
        uint32_t timeout;
        uint64_t now;
        Job *job;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_MANAGE, VM_AUTH_DETAILS(vm), error);
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
        if (vm_migration_find_by_vm(m, vm->info.uuid))
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot shut down VM %s: it is "
                                         "migrating (cancel the migration job first)", strempty(vm->info.name));
        /* Refused before a job is made, like any call past the cap or during
         * a stop; one that fills the cap while the job is recorded ends the
         * job "failed" with the same error. */
        if (m->stopping)
                return bus_work_error_submit(m, -ESHUTDOWN, error);
        if (worker_pool_in_flight(m->pool) >= worker_pool_max_in_flight(m->pool))
                return bus_work_error_submit(m, -EBUSY, error);
        r = sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        s = shutdown_new(m, vm->info.uuid, now + (uint64_t) timeout * 1000 * 1000);
        if (!s)
                return -ENOMEM;
        s->conn = libvirt_conn_ref(m->libvirt);
        if (!s->conn) {
                shutdown_unref(s);
                return bus_work_error_libvirt_unavailable(m, error);
        }
        r = job_new(m, "shutdown", vm->path, &shutdown_ops, s, &job);
        if (r < 0) {
                shutdown_unref(s);
                if (r == -EBUSY)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                                 "Too many jobs running (limit %d); retry later", JOBS_MAX);
                return r;
        }
        s->job = job;
        /* Answered once the job is on disk and the guest is being asked. */
        return job_start(job, msg, shutdown_start);
}

int vm_shutdown_resume(Job *job, json_object *data) {
        json_object *uuid, *deadline;
        ShutdownJob *s;
        int r;

        if (!json_object_object_get_ex(data, "uuid", &uuid) || !json_object_is_type(uuid, json_type_string) ||
            json_object_get_string_len(uuid) != VIR_UUID_STRING_BUFLEN - 1 ||
            !json_object_object_get_ex(data, "deadline_usec", &deadline) ||
            !json_object_is_type(deadline, json_type_int) || json_object_get_int64(deadline) < 0)
                return -EINVAL;
        s = shutdown_new(job->manager, json_object_get_string(uuid), (uint64_t) json_object_get_int64(deadline));
        if (!s)
                return -ENOMEM;
        s->job = job;
        /* Past already: forced as soon as the VMs are read, unless it is off by then. */
        r = shutdown_arm(s);
        if (r < 0) {
                shutdown_unref(s);
                return r;
        }
        s->resumed = s->ask_pending = true;
        job->ops = &shutdown_ops;
        job->data = s;
        return 0;
}
