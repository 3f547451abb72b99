/* org.hostagent1.Job on the bus, and the Manager's JobNew/JobRemoved */
#include "job-dbus.h"

#include "bus-auth.h"
#include "bus-collection.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

void job_bus_announce(Job *job) {
        Manager *m = job->manager;
        int r;

        r = sd_bus_emit_object_added(m->bus, job->path);
        if (r >= 0)
                r = sd_bus_emit_signal(m->bus, HOSTAGENT_ROOT_PATH, MANAGER_INTERFACE, "JobNew", "o", job->path);
        if (r < 0)
                log_debug_errno(r, "Cannot announce %s: %m", job->path);
}

void job_bus_announce_ended(Job *job) {
        Manager *m = job->manager;
        int r;

        r = sd_bus_emit_object_added(m->bus, job->path);
        if (r < 0)
                log_debug_errno(r, "Cannot announce %s: %m", job->path);
        job_bus_emit_removed(job);
}

void job_bus_withdraw(Job *job) {
        int r = sd_bus_emit_object_removed(job->manager->bus, job->path);
        if (r < 0)
                log_debug_errno(r, "Cannot emit InterfacesRemoved for %s: %m", job->path);
}

void job_bus_emit_changed(Job *job, const char **names) {
        int r = sd_bus_emit_properties_changed_strv(job->manager->bus, job->path, JOB_INTERFACE, (char **) names);
        if (r < 0)
                log_debug_errno(r, "Cannot emit PropertiesChanged for %s: %m", job->path);
}

void job_bus_emit_removed(Job *job) {
        Manager *m = job->manager;
        int r = sd_bus_emit_signal(m->bus, HOSTAGENT_ROOT_PATH, MANAGER_INTERFACE, "JobRemoved", "os",
                                   job->path, job->result);
        if (r < 0)
                log_debug_errno(r, "Cannot emit JobRemoved for %s: %m", job->path);
}

static int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                           void **found, sd_bus_error *error) {
        Job *job = job_find_by_path(userdata, path);

        if (!job)
                return 0;
        *found = job;
        return 1;
}

static int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                               sd_bus_error *error) {
        Manager *m = userdata;
        size_t n = 0;
        char **l;

        for (Job *j = m->jobs; j; j = j->next)
                n++;
        l = calloc(n + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        n = 0;
        for (Job *j = m->jobs; j; j = j->next)
                if ((l[n] = strdup(j->path)))
                        n++;
        *nodes = l;
        return 0;
}

#define JOB_PROPERTY_GETTER(name, type, expr)                                                   \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,  \
                                       const char *property, sd_bus_message *reply,           \
                                       void *userdata, sd_bus_error *error) {                 \
                Job *job = userdata;                                                           \
                return sd_bus_message_append(reply, type, expr);                               \
        }

JOB_PROPERTY_GETTER(type, "s", job->type)
JOB_PROPERTY_GETTER(object, "o", job->object)
JOB_PROPERTY_GETTER(state, "s", job->finished ? "finished" : "running")
JOB_PROPERTY_GETTER(progress, "u", job->progress)
JOB_PROPERTY_GETTER(result, "s", job->result)
JOB_PROPERTY_GETTER(error, "s", job->error)

/* The polkit action of the capability a job belongs to. */
static const char *job_cancel_action(const Job *job) {
        if (streq(job->type, "clone"))
                return BUS_ACTION_STORAGE_MANAGE;
        if (streq(job->type, "migrate"))
                return BUS_ACTION_VM_MIGRATE;
        return BUS_ACTION_VM_MANAGE;
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *job = userdata;
        int r;

        BUS_AUTHORIZE_OR_RETURN(msg, job_cancel_action(job), BUS_DETAILS("job", job->path, "object", job->object),
                                error);
        if (job->finished)
                return sd_bus_error_setf(error, "org.hostagent1.Error.InvalidState",
                                         "Cannot cancel job %u: it has finished (%s)", job->id, job->result);
        if (!job->ops || !job->ops->cancel)
                return sd_bus_error_setf(error, "org.hostagent1.Error.NotSupported",
                                         "Job %u (%s) cannot be cancelled", job->id, job->type);
        r = job->ops->cancel(job, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Type", "s", property_get_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Object", "o", property_get_object, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, CHANGES),
        SD_BUS_PROPERTY("Progress", "u", property_get_progress, 0, CHANGES),
        SD_BUS_PROPERTY("Result", "s", property_get_result, 0, CHANGES),
        SD_BUS_PROPERTY("Error", "s", property_get_error, 0, CHANGES),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_cancel,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int job_bus_register(Manager *m) {
        return bus_add_collection(m->bus, JOB_PATH_PREFIX, JOB_INTERFACE, job_vtable, job_object_find,
                                  job_node_enumerator, m);
}
