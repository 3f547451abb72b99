/* hostagentctl's jobs: jobs, cancel, wait, and following a job started by another command */
#include "ctl-job.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl-bus.h"
#include "ctl-error.h"
#include "ctl-object.h"
#include "ctl-output.h"
#include "ctl.h"
#include "json-cleanup.h"

typedef struct JobInfo {
        char *type, *object, *state, *result, *error;
        uint32_t progress;
} JobInfo;

static const CtlProperty job_map[] = {
        { "Type",     's', offsetof(JobInfo, type) },
        { "Object",   'o', offsetof(JobInfo, object) },
        { "State",    's', offsetof(JobInfo, state) },
        { "Result",   's', offsetof(JobInfo, result) },
        { "Error",    's', offsetof(JobInfo, error) },
        { "Progress", 'u', offsetof(JobInfo, progress) },
        {}
};

typedef struct JobFollow {
        const char *path;
        char label[64];
        JobInfo info;
        int shown;               /* the Progress last shown, -1 before the first */
        bool removed;            /* JobRemoved came: the result is in info.result */
} JobFollow;

static bool job_ended(const JobFollow *j) {
        return j->removed || streq_ptr(j->info.state, "finished");
}

static void job_show(JobFollow *j) {
        if (arg.quiet || (int) j->info.progress == j->shown)
                return;
        j->shown = j->info.progress;
        ctl_progress(j->label, j->info.progress);
}

static int on_job_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobFollow *j = userdata;
        const char *interface;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || !streq(interface, CTL_JOB))
                return 0;
        r = ctl_map_properties(m, job_map, &j->info);
        if (r >= 0)
                job_show(j);
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobFollow *j = userdata;
        const char *path, *result;
        char *copy;

        if (sd_bus_message_read(m, "os", &path, &result) < 0 || !streq(path, j->path))
                return 0;
        copy = strdup(result);
        if (copy) {
                free(j->info.result);
                j->info.result = copy;
        }
        j->removed = true;
        return 0;
}

/* The job's end as the command's: done and forced (a shutdown that had to force) succeed. */
static int job_outcome(JobFollow *j, const char *object, const char *action) {
        const char *result = strempty(j->info.result);

        if (streq(result, "done") || streq(result, "forced")) {
                if (!arg.quiet)
                        printf("%s: %s\n", j->label, result);
                return 0;
        }
        if (!isempty(j->info.error))
                return ctl_fail(object, "cannot %s: %s (job %s)", action, j->info.error, result);
        return ctl_fail(object, "cannot %s: the job ended %s", action, result);
}

int ctl_job_follow(sd_bus *bus, const char *job, const char *object, const char *action) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *changed = NULL, *removed = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *number = ctl_path_name(job);
        JobFollow j = { .path = job, .shown = -1 };
        int r;

        if (!arg.wait) {
                puts(job);
                return 0;
        }
        snprintf(j.label, sizeof j.label, "job %s", number ?: job);
        /* Listening first, then reading: a change after the read is heard, one before it is read. */
        r = sd_bus_match_signal(bus, &changed, CTL_SERVICE, job, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_job_changed, &j);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &removed, CTL_SERVICE, CTL_ROOT, CTL_MANAGER, "JobRemoved",
                                        on_job_removed, &j);
        if (r < 0)
                return ctl_fail(job, "cannot follow the job: %s", strerror(-r));
        r = ctl_get_all(bus, job, CTL_JOB, job_map, &j.info, &error);
        if (r < 0) {
                ctl_properties_clear(job_map, &j.info);
                return ctl_error_report("job", job, "follow it", &error);
        }
        job_show(&j);
        while (!job_ended(&j)) {
                r = sd_bus_process(bus, NULL);
                if (r == 0)
                        r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0) {
                        ctl_progress_done();
                        ctl_properties_clear(job_map, &j.info);
                        return ctl_fail(job, "lost the agent while waiting: %s", strerror(-r));
                }
        }
        if (streq_ptr(j.info.result, "done") && j.info.progress < 100 && !arg.quiet && j.shown >= 0) {
                j.info.progress = 100;
                job_show(&j);
        }
        ctl_progress_done();
        r = job_outcome(&j, object, action);
        ctl_properties_clear(job_map, &j.info);
        return r;
}

int ctl_job_follow_reply(sd_bus *bus, sd_bus_message *reply, const char *object, const char *action) {
        const char *job;
        int r;

        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        return ctl_job_follow(bus, job, object, action);
}

static int job_number(const char *path, const void *object, void *userdata, CtlValue *ret) {
        char *id = ctl_path_name(path);

        if (!id)
                return -ENOMEM;
        *ret = (CtlValue) { .string = id, .owned_string = id };
        return 0;
}

/* People read a job's object by name ("VM web1"); JSON has its path. */
static int job_object_label(const char *path, const void *object, void *userdata, CtlValue *ret) {
        const JobInfo *info = object;
        char *label = info->object ? ctl_object_label(info->object, userdata) : NULL;

        *ret = (CtlValue) { .string = label, .owned_string = label };
        return 0;
}

static const CtlColumn job_columns[] = {
        CTL_FORMATTED("JOB", "job", CTL_STRING, job_number),
        CTL_PROPERTY("TYPE", "type", CTL_STRING, "Type"),
        CTL_PROPERTY("STATE", "state", CTL_STATE, "State"),
        CTL_PROPERTY("PROGRESS", "progress", CTL_NUMBER, "Progress"),
        CTL_PROPERTY("RESULT", "result", CTL_STRING, "Result"),
        CTL_FORMATTED("OBJECT", "object", CTL_STRING, job_object_label, .people_only = true),
        CTL_PROPERTY("OBJECT", "object", CTL_STRING, "Object", .json_only = true),
        CTL_PROPERTY("ERROR", "error", CTL_STRING, "Error"),
        CTL_PATH_COLUMN,
        {}
};

static const CtlObjectType job_type = {
        .interface = CTL_JOB,
        .kind = "job",
        .map = job_map,
        .size = sizeof(JobInfo),
        .table = "jobs",
        .columns = job_columns,
};

int verb_jobs(int argc, char **argv, sd_bus *bus) {
        _cleanup_(json_object_putp) json_object *names = NULL;

        names = arg.json == JSON_OFF ? ctl_vm_names(bus) : json_object_new_object();
        if (!names)
                return -ENOMEM;
        return ctl_list_objects(bus, &job_type, names);
}

int verb_cancel(int argc, char **argv, sd_bus *bus) {
        int ret = 0;

        for (int i = 1; i < argc; i++) {
                _cleanup_(freep) char *path = NULL;
                int r;

                r = ctl_job_path(argv[i], &path);
                if (r >= 0)
                        r = ctl_call(bus, path, CTL_JOB, "Cancel", CTL_ABOUT("job", argv[i], "cancel"), NULL, NULL);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

int verb_wait(int argc, char **argv, sd_bus *bus) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = ctl_job_path(argv[1], &path);
        if (r < 0)
                return r;
        arg.wait = true;
        return ctl_job_follow(bus, path, argv[1], "wait");
}
