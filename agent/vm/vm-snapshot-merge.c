/* Snapshot.Delete: the snapshot's overlays merged into their bases, a Job of type "merge".
 *
 * A running VM's disks are merged live, one after the other, by libvirt's
 * block commit: an active commit (the overlay is the disk's active layer)
 * pivots to the base once libvirt says it is ready, an intermediate one
 * ends by itself. The job follows each commit once a second and at each
 * block job event, by virDomainGetBlockJobInfo and the live chain, so that a
 * missed event (or an agent restarted meanwhile: the job is recorded with
 * the disks left, and the next agent carries it on) loses nothing. A
 * shut-off VM's disks are committed by qemu-img. The snapshot's metadata and
 * its overlay files go at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-errno.h"
#include "block-job.h"
#include "bus-auth.h"
#include "bus-error.h"
#include "failpoint.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "strv.h"
#include "virt-cleanup.h"
#include "vm-auth.h"
#include "vm-busy.h"
#include "vm-snapshot.h"

#define MERGE_POLL_USEC (1000ULL * 1000)

typedef enum MergeCallKind {
        MERGE_CALL_READ,
        MERGE_CALL_COMMIT,
        MERGE_CALL_PIVOT,
        MERGE_CALL_OFFLINE,
        MERGE_CALL_FORGET,
} MergeCallKind;

typedef struct SnapshotMerge {
        unsigned n_ref;              /* the list, each worker call */
        struct SnapshotMerge *next;
        Manager *manager;
        Job *job;                    /* NULL once ended */
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *name;
        char *vm_name;
        char *memory_file;           /* the RAM state, removed with the snapshot; or NULL */
        SnapshotDisk *disks;
        size_t n_disks;
        size_t at;                   /* the disk being merged */
        bool live;
        bool started;                /* the commit of disk AT was asked for */
        bool pivoting;
        bool busy;                   /* a call in flight */
        bool poll_again;             /* an event came while it was */
        uint64_t bandwidth;
        sd_event_source *poll;
} SnapshotMerge;

typedef struct MergeCall {
        SnapshotMerge *merge;
        MergeCallKind kind;
        virConnectPtr conn;
        size_t at;
        BlockJobState state;
        int position;
        char *error;
        uint64_t list_started;   /* FORGET: the VM's snapshots, read once it is gone (vm_snapshots_read_begin()) */
        SnapshotInfo *list;
        size_t n_list;
        bool listed;
} MergeCall;

static SnapshotMerge *merge_ref(SnapshotMerge *x) {
        x->n_ref++;
        return x;
}

static void merge_unref(SnapshotMerge *x) {
        if (!x || --x->n_ref > 0)
                return;
        sd_event_source_disable_unref(x->poll);
        for (size_t i = 0; i < x->n_disks; i++)
                snapshot_disk_done(&x->disks[i]);
        free(x->disks);
        free(x->name);
        free(x->vm_name);
        free(x->memory_file);
        free(x);
}

static void merge_unlink(SnapshotMerge *x) {
        VmSnapshots *all = x->manager->snapshots;

        for (SnapshotMerge **p = all ? &all->merges : NULL; p && *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        merge_unref(x);
                        return;
                }
}

static int merge_call_work(void *userdata) {
        MergeCall *c = userdata;
        SnapshotMerge *x = c->merge;   /* its disks and names are constant once made */
        const SnapshotDisk *d = c->at < x->n_disks ? &x->disks[c->at] : NULL;
        int r = 0;

        switch (c->kind) {
        case MERGE_CALL_READ:
                if (!d)
                        return -EINVAL;
                return block_job_read(c->conn, x->uuid, d->target, d->overlay, &c->state, &c->position, &c->error);
        case MERGE_CALL_COMMIT:
                if (!d)
                        return -EINVAL;
                return block_commit_start(c->conn, x->uuid, d->target, d->overlay, c->position == 0, x->bandwidth,
                                          &c->error);
        case MERGE_CALL_PIVOT:
                if (!d)
                        return -EINVAL;
                return block_job_pivot(c->conn, x->uuid, d->target, &c->error);
        case MERGE_CALL_OFFLINE:
                for (size_t i = 0; r >= 0 && i < x->n_disks; i++) {
                        r = block_commit_offline(c->conn, x->uuid, x->disks[i].target, x->disks[i].overlay,
                                                 &c->error);
                        if (r == -ENOENT)
                                r = 0;   /* merged already */
                }
                return r;
        case MERGE_CALL_FORGET:
                r = snapshot_forget(c->conn, x->uuid, x->name, &c->error);
                for (size_t i = 0; r >= 0 && i < x->n_disks; i++)
                        if (unlink(x->disks[i].overlay) < 0 && errno != ENOENT)
                                r = -errno;
                if (r >= 0 && x->memory_file && unlink(x->memory_file) < 0 && errno != ENOENT)
                        r = -errno;
                /* The spec names the files the disks run on: the bases again. */
                if (r >= 0 && snapshot_spec_follow(c->conn, x->uuid, x->disks, x->n_disks, NULL) < 0)
                        log_warning("VM %s: snapshot %s is merged, but the spec still names its overlays", x->vm_name,
                                    x->name);
                if (r >= 0)
                        c->listed = snapshot_list(c->conn, x->uuid, &c->list, &c->n_list, NULL) >= 0;
                return r;
        }
        return -EINVAL;
}

static void merge_call_done(int result, void *userdata);

static int merge_call(SnapshotMerge *x, MergeCallKind kind, int position) {
        MergeCall *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        c->kind = kind;
        c->at = x->at;
        c->list_started = kind == MERGE_CALL_FORGET ? vm_snapshots_read_begin(x->manager) : 0;
        c->position = position;
        c->conn = libvirt_conn_ref(x->manager->libvirt);
        if (!c->conn) {
                free(c);
                return -ENOTCONN;
        }
        c->merge = merge_ref(x);
        r = worker_pool_submit(x->manager->pool, WORKER_INTERNAL, merge_call_work, merge_call_done, c);
        if (r < 0) {
                virConnectClosep(&c->conn);
                merge_unref(x);
                free(c);
                return r;
        }
        x->busy = true;
        return 0;
}

static void merge_fail(SnapshotMerge *x, int r, const char *detail, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        Manager *m = x->manager;

        (void) bus_error_set(&e, r, detail, "%s", what);
        job_finish(x->job, "failed", e.name, e.message);   /* X's job data goes: x->job is NULL */
        vm_snapshots_relist(m, x->uuid);
        (void) vm_refresh(m, x->uuid);
}

static void merge_finished(SnapshotMerge *x, MergeCall *c) {
        Manager *m = x->manager;
        _cleanup_(strv_freep) char **files = calloc(x->n_disks * 2 + 1, sizeof(char *));

        for (size_t i = 0, k = 0; files && i < x->n_disks; i++) {
                files[k++] = strdup(x->disks[i].overlay);
                files[k++] = strdup(x->disks[i].base);
        }
        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", x->uuid), "Job %u: snapshot %s of VM %s merged and deleted",
                   x->job->id, x->name, x->vm_name);
        job_set_progress(x->job, 100);
        if (c->listed) {   /* its object is gone when the job says done */
                vm_snapshots_read_apply(m, x->uuid, c->list_started, TAKE_PTR(c->list), c->n_list);
                c->n_list = 0;
        }
        job_finish(x->job, "done", NULL, NULL);
        vm_snapshots_relist(m, x->uuid);
        (void) vm_refresh(m, x->uuid);
        vm_snapshot_refresh_pools(m, files);
}

/* What a fresh look at disk AT's job says to do next. */
static void merge_step(SnapshotMerge *x, const MergeCall *c) {
        unsigned percent;
        int r = 0;

        if (c->position < 0 && !c->state.active) {
                /* This disk is merged: the next one, or the end. */
                x->at++;
                x->started = x->pivoting = false;
                job_record_changed(x->job);
                if (x->at >= x->n_disks)
                        r = merge_call(x, MERGE_CALL_FORGET, 0);
                else
                        r = merge_call(x, MERGE_CALL_READ, 0);
        } else if (!c->state.active && x->started) {
                merge_fail(x, -EIO, NULL, "The block commit ended without merging the overlay (cancelled or failed "
                           "in libvirt); the snapshot stays");
                return;
        } else if (!c->state.active) {
                x->started = true;
                r = merge_call(x, MERGE_CALL_COMMIT, c->position);
        } else {
                percent = block_job_percent(&c->state);
                job_set_progress(x->job, (unsigned) ((x->at * 100 + (percent < 100 ? percent : 99)) / x->n_disks));
                if (c->state.ready && !x->pivoting) {
                        x->pivoting = true;
                        r = merge_call(x, MERGE_CALL_PIVOT, 0);
                }
        }
        if (r < 0)
                merge_fail(x, r, NULL, "Cannot go on with the merge");
}

static void merge_call_done(int result, void *userdata) {
        MergeCall *c = userdata;
        SnapshotMerge *x = c->merge;

        x->busy = false;
        if (!x->job || result == -ECANCELED)
                goto out;
        if (result < 0 && c->kind == MERGE_CALL_PIVOT)
                x->pivoting = false;   /* tried again at the next look */
        if (result < 0 && c->kind != MERGE_CALL_READ && c->kind != MERGE_CALL_PIVOT) {
                merge_fail(x, result, c->error, c->kind == MERGE_CALL_FORGET ? "The overlays are merged, but the "
                           "snapshot cannot be deleted" : "Cannot merge the snapshot");
                goto out;
        }
        if (c->kind == MERGE_CALL_COMMIT)
                job_record_changed(x->job);   /* started: the next agent follows it */
        if (c->kind == MERGE_CALL_FORGET || c->kind == MERGE_CALL_OFFLINE) {
                if (c->kind == MERGE_CALL_OFFLINE && merge_call(x, MERGE_CALL_FORGET, 0) >= 0)
                        goto out;
                if (c->kind == MERGE_CALL_FORGET)
                        merge_finished(x, c);
                else
                        merge_fail(x, -ENOMEM, NULL, "Cannot delete the snapshot");
                goto out;
        }
        if (c->kind == MERGE_CALL_READ && result >= 0 && c->at == x->at)
                merge_step(x, c);
        else if (c->kind == MERGE_CALL_READ && (result == -ENOENT || result == -ENODEV ||
                                                  result == -ERRNO_INVALID_STATE))
                merge_fail(x, result, c->error, "The VM stopped, went or lost the disk during the merge");
        if (x->job && !x->busy && x->poll_again) {
                x->poll_again = false;
                (void) merge_call(x, MERGE_CALL_READ, 0);
        }
out:
        virConnectClosep(&c->conn);
        snapshot_info_list_free(c->list, c->n_list);
        free(c->error);
        free(c);
        merge_unref(x);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        SnapshotMerge *x = userdata;

        if (!x->job)
                return 0;
        if (!x->busy && merge_call(x, x->at < x->n_disks ? MERGE_CALL_READ : MERGE_CALL_FORGET, 0) < 0)
                log_debug("Job %u: cannot read the block job now", x->job->id);
        (void) sd_event_source_set_time(s, usec + MERGE_POLL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

Job *vm_snapshot_merge_job(Manager *m, const char *uuid, const char *name) {
        for (SnapshotMerge *x = m->snapshots ? m->snapshots->merges : NULL; x; x = x->next)
                if (x->job && streq(x->uuid, uuid) && (!name || streq(x->name, name)))
                        return x->job;
        return NULL;
}

void vm_snapshot_block_job_event(Manager *m, const char *uuid, const char *disk, int type, int status) {
        for (SnapshotMerge *x = m->snapshots ? m->snapshots->merges : NULL; x; x = x->next) {
                /* Every disk merged (a merge carried on from the previous agent
                 * may be there): the next poll deletes the snapshot, there is no
                 * disk left to read. */
                if (!x->job || !x->live || !streq(x->uuid, uuid) || x->at >= x->n_disks)
                        continue;
                if (x->busy)
                        x->poll_again = true;
                else
                        (void) merge_call(x, MERGE_CALL_READ, 0);
        }
}

/* {"uuid", "name", "vm_name", "live", "at", "started", "disks": [{target, overlay, base, base_format}]} */
static json_object *merge_resume_data(Job *job) {
        SnapshotMerge *x = job->data;
        json_object *data = json_object_new_object(), *disks = json_object_new_array();

        if (!data || !disks || !x->live) {
                json_object_put(data);
                json_object_put(disks);
                return NULL;   /* an offline commit is one qemu-img run: it cannot be followed */
        }
        json_object_object_add(data, "uuid", json_object_new_string(x->uuid));
        json_object_object_add(data, "name", json_object_new_string(x->name));
        json_object_object_add(data, "vm_name", json_object_new_string(x->vm_name));
        json_object_object_add(data, "at", json_object_new_int64(x->at));
        json_object_object_add(data, "started", json_object_new_boolean(x->started));
        if (x->memory_file)
                json_object_object_add(data, "memory_file", json_object_new_string(x->memory_file));
        for (size_t i = 0; i < x->n_disks; i++) {
                json_object *d = json_object_new_object();

                json_object_object_add(d, "target", json_object_new_string(x->disks[i].target));
                json_object_object_add(d, "overlay", json_object_new_string(x->disks[i].overlay));
                json_object_object_add(d, "base", json_object_new_string(x->disks[i].base));
                json_object_object_add(d, "base_format", json_object_new_string(x->disks[i].base_format));
                json_object_array_add(disks, d);
        }
        json_object_object_add(data, "disks", disks);
        return data;
}

static void merge_job_free(void *data) {
        SnapshotMerge *x = data;
        VmSnapshot *s = vm_snapshot_find(x->manager, x->uuid, x->name);

        x->job = NULL;
        x->poll = sd_event_source_disable_unref(x->poll);
        if (s)
                s->job = NULL;
        merge_unlink(x);
}

static int on_cancel(Job *job, sd_bus_error *error) {
        return sd_bus_error_setf(error, HOSTAGENT_ERROR_NOT_SUPPORTED, "Cannot cancel job %u: a merge runs to its "
                                 "end (the overlay is half-way in the base)", job->id);
}

static const JobOps merge_ops = {
        .cancel = on_cancel,
        .resume_data = merge_resume_data,
        .free = merge_job_free,
};

static SnapshotMerge *merge_new(Manager *m, const char *uuid, const char *name, const char *vm_name) {
        SnapshotMerge *x = calloc(1, sizeof *x);
        const char *bw = failpoint_get("HOSTAGENT_MERGE_BANDWIDTH_BYTES");

        if (!x)
                return NULL;
        x->n_ref = 1;   /* the list */
        x->manager = m;
        snprintf(x->uuid, sizeof x->uuid, "%s", uuid);
        x->name = strdup(name);
        x->vm_name = strdup(vm_name);
        x->bandwidth = bw ? strtoull(bw, NULL, 10) : 0;
        if (!x->name || !x->vm_name) {
                merge_unref(x);
                return NULL;
        }
        x->next = m->snapshots->merges;
        m->snapshots->merges = x;
        return x;
}

static int merge_copy_disks(SnapshotMerge *x, const SnapshotInfo *info) {
        x->disks = calloc(info->n_disks + 1, sizeof *x->disks);
        if (!x->disks)
                return -ENOMEM;
        for (size_t i = 0; i < info->n_disks; i++, x->n_disks++) {
                const SnapshotDisk *d = &info->disks[i];

                x->disks[i] = (SnapshotDisk) { strdup(d->target), strdup(d->overlay), strdup(d->base),
                                               strdup(*d->base_format ? d->base_format : "raw") };
                if (!x->disks[i].target || !x->disks[i].overlay || !x->disks[i].base || !x->disks[i].base_format) {
                        snapshot_disk_done(&x->disks[i]);   /* not counted yet: merge_unref() would miss it */
                        return -ENOMEM;
                }
        }
        return 0;
}

static int merge_poll_start(SnapshotMerge *x) {
        return sd_event_add_time_relative(x->manager->event, &x->poll, CLOCK_MONOTONIC, MERGE_POLL_USEC, 1000, on_poll,
                                          x);
}

/* The first step: live, a look at the first disk (and then each second); offline, qemu-img. */
static int merge_begin(SnapshotMerge *x) {
        int r;

        if (!x->live)
                return merge_call(x, MERGE_CALL_OFFLINE, 0);
        if (x->n_disks == 0)
                return merge_call(x, MERGE_CALL_FORGET, 0);
        r = merge_poll_start(x);
        if (r < 0)
                return r;
        return merge_call(x, MERGE_CALL_READ, 0);
}

static int merge_start(Job *job, sd_bus_error *error) {
        SnapshotMerge *x = job->data;
        int r = merge_begin(x);

        if (r == -ENOTCONN)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_LIBVIRT_UNAVAILABLE, "libvirt is not connected");
        if (r < 0)
                return bus_error_set(error, r, NULL, "Cannot start the merge of snapshot %s", x->name);
        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", job->path, "VM_UUID", x->uuid),
                   "Job %u: deleting snapshot %s of VM %s (%s merge of %zu disks)", job->id, x->name, x->vm_name,
                   x->live ? "live" : "offline", x->n_disks);
        return 0;
}

int method_snapshot_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        VmSnapshot *s = userdata;
        Manager *m = s->manager;
        Vm *vm = vm_find(m, s->uuid);
        char busy[VM_BUSY_TEXT_MAX];
        const char *why;
        SnapshotMerge *x;
        Job *job;
        int r;

        if (!vm)
                return sd_bus_error_set(error, HOSTAGENT_ERROR_NO_SUCH_VM, "The snapshot's VM is gone");
        BUS_AUTHORIZE_OR_RETURN(msg, BUS_ACTION_VM_SNAPSHOT, VM_AUTH_DETAILS(vm), error);
        if (s->info.internal)
                return vm_snapshot_internal_refusal(s, "delete", error);
        if (s->job)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot delete snapshot %s: job %u "
                                         "works on it", s->info.name, s->job->id);
        job = vm_snapshot_merge_job(m, s->uuid, NULL);
        if (job)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot delete snapshot %s: job %u "
                                         "merges another snapshot of VM %s (one merge at a time)", s->info.name,
                                         job->id, strempty(vm->info.name));
        why = vm_busy_with(m, s->uuid, VM_BUSY_BACKUP | VM_BUSY_MIGRATION, NULL, busy, sizeof busy);
        if (why)
                return sd_bus_error_setf(error, HOSTAGENT_ERROR_INVALID_STATE, "Cannot delete snapshot %s: %s",
                                         s->info.name, why);
        x = merge_new(m, s->uuid, s->info.name, strempty(vm->info.name));
        if (!x)
                return -ENOMEM;
        x->live = vm_state_is_active(vm->info.state);
        r = merge_copy_disks(x, &s->info);
        if (r >= 0 && s->info.memory_file && !(x->memory_file = strdup(s->info.memory_file)))
                r = -ENOMEM;
        if (r >= 0)
                r = job_new(m, "merge", vm->path, &merge_ops, x, &job);
        if (r < 0) {
                merge_unlink(x);
                if (r == -EBUSY)
                        return sd_bus_error_setf(error, HOSTAGENT_ERROR_BUSY,
                                                 "Too many jobs running (limit %d); retry later", JOBS_MAX);
                return r;
        }
        x->job = job;
        s->job = job;
        return job_start(job, msg, merge_start);
}

static const char *json_string_of(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int merge_resume_disks(SnapshotMerge *x, json_object *disks) {
        size_t n = json_object_is_type(disks, json_type_array) ? json_object_array_length(disks) : 0;

        x->disks = calloc(n + 1, sizeof *x->disks);
        if (!x->disks)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++, x->n_disks++) {
                json_object *d = json_object_array_get_idx(disks, i);
                const char *t = json_string_of(d, "target"), *o = json_string_of(d, "overlay");
                const char *b = json_string_of(d, "base"), *f = json_string_of(d, "base_format");

                if (!t || !o || !b || !f)
                        return -EINVAL;
                x->disks[i] = (SnapshotDisk) { strdup(t), strdup(o), strdup(b), strdup(f) };
                if (!x->disks[i].target || !x->disks[i].overlay || !x->disks[i].base || !x->disks[i].base_format) {
                        snapshot_disk_done(&x->disks[i]);
                        return -ENOMEM;
                }
        }
        return 0;
}

int vm_snapshot_merge_resume(Job *job, json_object *data) {
        const char *uuid = json_string_of(data, "uuid"), *name = json_string_of(data, "name");
        const char *vm_name = json_string_of(data, "vm_name");
        json_object *v, *disks = NULL;
        SnapshotMerge *x;
        int r;

        if (!uuid || strlen(uuid) != VIR_UUID_STRING_BUFLEN - 1 || !name || !job->manager->snapshots)
                return -EINVAL;
        x = merge_new(job->manager, uuid, name, vm_name ?: uuid);
        if (!x)
                return -ENOMEM;
        x->live = true;
        if (json_object_object_get_ex(data, "at", &v))
                x->at = json_object_get_int64(v);
        if (json_object_object_get_ex(data, "started", &v))
                x->started = json_object_get_boolean(v);
        (void) json_object_object_get_ex(data, "disks", &disks);
        if (json_string_of(data, "memory_file") && !(x->memory_file = strdup(json_string_of(data, "memory_file")))) {
                merge_unlink(x);
                return -ENOMEM;
        }
        r = merge_resume_disks(x, disks);
        if (r >= 0 && x->at > x->n_disks)
                r = -EINVAL;
        if (r >= 0) {
                job->ops = &merge_ops;
                job->data = x;
                x->job = job;
                /* libvirt may not be connected yet: the first look comes with the first poll. */
                r = merge_poll_start(x);
        }
        if (r < 0) {
                job->ops = NULL;
                job->data = NULL;
                x->job = NULL;
                x->poll = sd_event_source_disable_unref(x->poll);
                merge_unlink(x);
                return r;
        }
        log_fields(LOG_INFO, LOG_FIELDS("OBJECT_PATH", job->path, "VM_UUID", uuid),
                   "Job %u: following the merge of snapshot %s again (disk %zu of %zu)", job->id, name, x->at + 1,
                   x->n_disks);
        return 0;
}
