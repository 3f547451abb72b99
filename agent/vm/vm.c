/* VMs: every libvirt domain as an object, kept current by events */
#include "vm.h"

#include <search.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "job.h"
#include "domain-events.h"
#include "log.h"
#include "macro.h"
#include "virt-cleanup.h"
#include "manager.h"

void vm_set_listener(Manager *m, const VmListener *listener) {
        m->vm_listener = listener;
}

/* Without a listener (unit tests of the model) changes are kept, not shown. */
static void vm_notify_added(Vm *vm) {
        const VmListener *l = vm->manager->vm_listener;

        if (l && l->added)
                l->added(vm);
}

static void vm_notify_removed(Vm *vm) {
        const VmListener *l = vm->manager->vm_listener;

        if (l && l->removed)
                l->removed(vm);
}

static void vm_notify_changed(Vm *vm, const char **names, size_t n) {
        const VmListener *l = vm->manager->vm_listener;

        if (l && l->changed)
                l->changed(vm, names, n);
}

static void vm_notify_state(Vm *vm) {
        const VmListener *l = vm->manager->vm_listener;

        if (l && l->state_changed)
                l->state_changed(vm);
}

static void vm_notify_follow(Vm *vm) {
        const VmListener *l = vm->manager->vm_listener;

        if (l && l->follow)
                l->follow(vm);
}

void vm_emit_changed(Vm *vm, const char **names, size_t n) {
        vm_notify_changed(vm, names, n);
}

int vm_path_from_uuid(const char *uuid, char **ret_path) {
        return sd_bus_path_encode(VM_PATH_PREFIX, uuid, ret_path);
}

int vm_uuid_from_path(const char *path, char **ret_uuid) {
        return sd_bus_path_decode(path, VM_PATH_PREFIX, ret_uuid);
}

void vm_set_autostart(Vm *vm, bool autostart) {
        if (vm->info.autostart == autostart)
                return;
        vm->info.autostart = autostart;
        vm_notify_changed(vm, (const char *[]) { "Autostart" }, 1);
}

static int vm_compare(const void *a, const void *b) {
        return strcmp(((const Vm *) a)->info.uuid, ((const Vm *) b)->info.uuid);
}

Vm *vm_find(Manager *m, const char *uuid) {
        Vm key = {};
        void *found;

        if (!uuid || strlen(uuid) >= sizeof key.info.uuid)
                return NULL;
        strcpy(key.info.uuid, uuid);
        found = tfind(&key, &m->vms, vm_compare);
        return found ? *(Vm **) found : NULL;
}

typedef struct Walk {
        void (*fn)(Vm *vm, void *userdata);
        void *userdata;
} Walk;

static void walk_action(const void *node, VISIT which, void *closure) {
        Walk *w = closure;

        if (which == postorder || which == leaf)
                w->fn(*(Vm *const *) node, w->userdata);
}

void vm_foreach(Manager *m, void (*fn)(Vm *vm, void *userdata), void *userdata) {
        Walk w = { fn, userdata };

        twalk_r(m->vms, walk_action, &w);
}

typedef struct DiskUsers {
        const char *location;
        char **paths;
        size_t n;
        bool oom;
} DiskUsers;

static void match_disk(Vm *vm, void *userdata) {
        DiskUsers *u = userdata;
        char **grown;

        for (char **s = vm->info.disk_sources; s && *s; s++) {
                if (!streq(*s, u->location))
                        continue;
                grown = realloc(u->paths, (u->n + 2) * sizeof(char *));
                if (!grown || !(grown[u->n] = strdup(vm->path))) {
                        u->oom = true;
                        u->paths = grown ?: u->paths;
                        return;
                }
                u->paths = grown;
                u->paths[++u->n] = NULL;
                return;
        }
}

char **vm_paths_using_disk(Manager *m, const char *location) {
        DiskUsers u = { .location = location, .paths = calloc(1, sizeof(char *)) };

        if (!u.paths)
                return NULL;
        vm_foreach(m, match_disk, &u);
        return u.paths;
}

typedef struct NameSearch {
        const char *name;
        Vm *found;
} NameSearch;

static void match_name(Vm *vm, void *userdata) {
        NameSearch *s = userdata;

        if (!s->found && streq_ptr(vm->info.name, s->name))
                s->found = vm;
}

Vm *vm_find_by_name(Manager *m, const char *name) {
        NameSearch s = { .name = name };

        vm_foreach(m, match_name, &s);
        return s.found;
}

Vm *vm_find_by_path(Manager *m, const char *path) {
        _cleanup_(freep) char *uuid = NULL;

        if (vm_uuid_from_path(path, &uuid) <= 0)
                return NULL;
        return vm_find(m, uuid);
}

size_t vm_count(Manager *m) {
        return m->n_vms;
}

static Vm *vm_free(Vm *vm) {
        if (!vm)
                return NULL;
        vm_info_done(&vm->info);
        guest_info_done(&vm->guest);
        free(vm->path);
        free(vm);
        return NULL;
}

/* A new object for INFO, found by READ; -ENOENT when the VM was removed
 * after READ began, -EAGAIN when that cannot be known and it is read again. */
static int vm_new(Manager *m, VmInfo *info, const VmClockRead *read, Vm **ret) {
        VmClockNews news;
        Vm *vm;

        switch (vm_clock_judge_new(&m->vm_clock, info->uuid, read, &news)) {
        case VM_CLOCK_GONE:
                log_fields(LOG_DEBUG, LOG_FIELDS("VM_UUID", info->uuid),
                           "VM %s was read before it was removed: not published", strempty(info->name));
                return -ENOENT;
        case VM_CLOCK_UNSURE:
                (void) vm_refresh(m, info->uuid);
                return -EAGAIN;
        default:
                break;
        }
        vm = calloc(1, sizeof *vm);
        if (!vm)
                return -ENOMEM;
        vm->manager = m;
        vm->event_clock = news.clock;
        vm->define_clock = read->started;
        if (news.has_state) {
                /* Events came after this read began: they know better. */
                info->state = news.state;
                info->reason = news.reason;
        }
        vm_info_move(&vm->info, info);
        if (vm_path_from_uuid(vm->info.uuid, &vm->path) < 0 || !tsearch(vm, &m->vms, vm_compare)) {
                vm_free(vm);
                return -ENOMEM;
        }
        m->n_vms++;
        *ret = vm;
        return 0;
}

void vm_remove(Vm *vm) {
        Manager *m = vm->manager;

        log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                   "VM %s is gone", strempty(vm->info.name));
        vm_notify_removed(vm);
        /* A read begun before now must not bring it back. */
        vm_clock_note_removed(&m->vm_clock, vm->info.uuid);
        tdelete(vm, &m->vms, vm_compare);
        m->n_vms--;
        vm_free(vm);
}

void vm_set_state(Vm *vm, VmState state, const char *reason) {
        if (state == VM_STATE_PAUSED && streq(reason, "io-error") && vm->enospc_pending)
                reason = "enospc";
        if (state != VM_STATE_PAUSED)
                vm->enospc_pending = false;
        if (vm->info.state == state && streq_ptr(vm->info.reason, reason))
                return;
        vm->info.state = state;
        vm->info.reason = reason;
        log_fields(LOG_DEBUG, LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                   "VM %s is %s (%s)", strempty(vm->info.name), vm_state_to_string(state), reason);
        vm_notify_state(vm);
        job_object_changed(vm->manager, vm->path, vm);
        vm_notify_follow(vm);
}

/* Disks, NICs, the machine and what is pending: swapped in whole when they differ. */
static size_t vm_merge_devices(VmInfo *cur, VmInfo *info, const char **changed, size_t max) {
        size_t n = 0;

#define SWAP(a, b) do { typeof(a) t_ = (a); (a) = (b); (b) = t_; } while (0)
        if (!vm_disks_equal(cur->disks, cur->n_disks, info->disks, info->n_disks)) {
                SWAP(cur->disks, info->disks);
                SWAP(cur->n_disks, info->n_disks);
                if (n < max)
                        changed[n++] = "Disks";
        }
        if (!vm_nics_equal(cur->nics, cur->n_nics, info->nics, info->n_nics)) {
                SWAP(cur->nics, info->nics);
                SWAP(cur->n_nics, info->n_nics);
                if (n < max)
                        changed[n++] = "NICs";
        }
        if (!vm_strv_equal(cur->pending, info->pending)) {
                SWAP(cur->pending, info->pending);
                if (n < max)
                        changed[n++] = "PendingChanges";
        }
        SWAP(cur->machine, info->machine);
#undef SWAP
        return n;
}

/* Collects the names of properties whose values differ, moving the new ones in. */
static size_t vm_merge_fields(Vm *vm, VmInfo *info, const char **changed, size_t max) {
        VmInfo *cur = &vm->info;
        size_t n = 0;

#define MOVE_STRING(field, prop)                                        \
        if (!streq_ptr(cur->field, info->field) && n < max) {          \
                free(cur->field);                                       \
                cur->field = TAKE_PTR(info->field);                     \
                changed[n++] = prop;                                    \
        }
#define MOVE_VALUE(field, prop)                                         \
        if (cur->field != info->field && n < max) {                     \
                cur->field = info->field;                               \
                changed[n++] = prop;                                    \
        }
        MOVE_STRING(name, "Name");
        MOVE_VALUE(vcpus, "VCPUs");
        MOVE_VALUE(memory_mib, "MemoryMiB");
        MOVE_VALUE(autostart, "Autostart");
        MOVE_VALUE(persistent, "Persistent");
        MOVE_STRING(spec, "Spec");
        if (!streq_ptr(cur->graphics_type, info->graphics_type) ||
            !streq_ptr(cur->graphics_listen, info->graphics_listen) ||
            cur->graphics_port != info->graphics_port) {
                free(cur->graphics_type);
                free(cur->graphics_listen);
                cur->graphics_type = TAKE_PTR(info->graphics_type);
                cur->graphics_listen = TAKE_PTR(info->graphics_listen);
                cur->graphics_port = info->graphics_port;
                if (n < max)
                        changed[n++] = "Graphics";
        }
        MOVE_VALUE(current_memory_mib, "CurrentMemoryMiB");
        MOVE_VALUE(max_memory_mib, "MaxMemoryMiB");
        MOVE_VALUE(max_vcpus, "MaxVCPUs");
        n += vm_merge_devices(cur, info, changed + n, max - n);
        /* No property of its own: the Volume objects' InUseBy is computed from it. */
        char **swap = cur->disk_sources;
        cur->disk_sources = info->disk_sources;
        info->disk_sources = swap;
#undef MOVE_STRING
#undef MOVE_VALUE
        return n;
}

static int vm_publish(Manager *m, VmInfo *info, const VmClockRead *read, Vm **ret) {
        Vm *vm = NULL;
        int r;

        r = vm_new(m, info, read, &vm);
        if (r == -ENOMEM)
                log_error("Out of memory publishing VM %s", info->uuid);
        if (r < 0) {
                vm_info_done(info);
                return r;
        }
        /* The first full read finds every VM there is: one line says how many
         * (10,000 lines would cost the start more than publishing them). */
        log_fields(m->vm_synced ? LOG_INFO : LOG_DEBUG,
                   LOG_FIELDS("VM_UUID", vm->info.uuid, "OBJECT_PATH", vm->path),
                   "VM %s appeared (%s)", strempty(vm->info.name), vm_state_to_string(vm->info.state));
        vm_notify_added(vm);
        vm_notify_follow(vm);
        if (ret)
                *ret = vm;
        return 0;
}

int vm_apply_info(Manager *m, VmInfo *info, const VmClockRead *read, Vm **ret) {
        const char *changed[24];
        Vm *vm = vm_find(m, info->uuid);
        bool guest_changed = false;
        size_t n;

        if (!vm)
                return vm_publish(m, info, read, ret);

        /* A read begun before the definition changed (a rename) has the old
         * one: the re-read that the change started brings the new one. */
        if (vm->define_clock <= read->started) {
                n = vm_merge_fields(vm, info, changed, ELEMENTSOF(changed));
                /* An agent event since the read began knows better. */
                if (vm->agent_clock <= read->started && vm->info.guest_agent != info->guest_agent &&
                    n < ELEMENTSOF(changed)) {
                        vm->info.guest_agent = info->guest_agent;
                        changed[n++] = "GuestAgent";
                        guest_changed = true;
                }
                if (n > 0)
                        vm_notify_changed(vm, changed, n);
                /* Jobs waiting for a device to go see it gone. */
                for (size_t i = 0; i < n; i++)
                        if (streq(changed[i], "Disks") || streq(changed[i], "NICs")) {
                                job_object_changed(m, vm->path, vm);
                                break;
                        }
        }
        /* Events that arrived while this was read are newer than it. */
        if (vm->event_clock <= read->started)
                vm_set_state(vm, info->state, info->reason);
        if (guest_changed)
                vm_notify_follow(vm);
        vm_info_done(info);
        if (ret)
                *ret = vm;
        return 0;
}

void vm_read_begin(Manager *m, VmClockRead *read) {
        vm_clock_read_begin(&m->vm_clock, read);
}

void vm_read_end(Manager *m, VmClockRead *read) {
        vm_clock_read_end(&m->vm_clock, read);
}

/* Event callbacks: libvirt runs them on the loop thread (our event impl). */

/* An event for a domain without an object: the read that will publish it
 * may have begun before the event, which then knows better. */
static void on_lifecycle_unpublished(Manager *m, const char *uuid, int event, int detail) {
        const char *reason = NULL;
        VmState state = VM_STATE_NOSTATE;
        bool has_state;

        if (event == VIR_DOMAIN_EVENT_UNDEFINED) {
                if (detail == VIR_DOMAIN_EVENT_UNDEFINED_RENAMED)
                        vm_clock_note_event(&m->vm_clock, uuid, false, state, reason);   /* DEFINED follows */
                else
                        vm_clock_note_removed(&m->vm_clock, uuid);
                return;
        }
        has_state = vm_state_from_event(event, detail, &state, &reason);
        vm_clock_note_event(&m->vm_clock, uuid, has_state, state, reason);
        (void) vm_refresh(m, uuid);
}

void vm_lifecycle_event(Manager *m, const char *uuid, int event, int detail) {
        const char *reason = NULL;
        VmState state = VM_STATE_NOSTATE;
        Vm *vm = vm_find(m, uuid);

        if (!vm) {
                on_lifecycle_unpublished(m, uuid, event, detail);
                return;
        }
        vm->event_clock = vm_clock_tick(&m->vm_clock);

        if (event == VIR_DOMAIN_EVENT_DEFINED || event == VIR_DOMAIN_EVENT_UNDEFINED) {
                vm->define_clock = vm->event_clock;
                /* A rename is an undefine and a define of the same UUID: the
                 * object stays, and the re-read brings its new name. A running
                 * domain that loses its definition becomes transient. */
                if (event == VIR_DOMAIN_EVENT_UNDEFINED && detail != VIR_DOMAIN_EVENT_UNDEFINED_RENAMED &&
                    !vm_state_is_active(vm->info.state))
                        vm_remove(vm);
                else
                        (void) vm_refresh(m, uuid);
                return;
        }
        if (!vm_state_from_event(event, detail, &state, &reason))
                return;
        vm_set_state(vm, state, reason);
        if (event == VIR_DOMAIN_EVENT_STOPPED && !vm->info.persistent) {
                vm_remove(vm);   /* a transient domain ends with its process */
                return;
        }
        /* The graphics port is allocated at start and released at stop. */
        if (event == VIR_DOMAIN_EVENT_STARTED || event == VIR_DOMAIN_EVENT_STOPPED)
                (void) vm_refresh(m, uuid);
}

static void on_lifecycle(const char *uuid, int event, int detail, void *userdata) {
        vm_lifecycle_event(userdata, uuid, event, detail);
}

static void on_io_error(const char *uuid, const char *src_path, const char *dev_alias, const char *reason,
                        void *userdata) {
        Vm *vm = vm_find(userdata, uuid);

        if (!vm)
                return;
        log_fields(LOG_WARNING, LOG_FIELDS("VM_UUID", uuid, "OBJECT_PATH", vm->path),
                   "VM %s: I/O error on %s (%s): %s", strempty(vm->info.name), strempty(dev_alias),
                   strempty(src_path), strempty(reason));
        if (!streq_ptr(reason, "enospc"))
                return;
        vm->enospc_pending = true;
        if (vm->info.state == VM_STATE_PAUSED && streq_ptr(vm->info.reason, "io-error"))
                vm_set_state(vm, VM_STATE_PAUSED, "enospc");
}

static void on_balloon(const char *uuid, unsigned long long actual_kib, void *userdata) {
        Vm *vm = vm_find(userdata, uuid);

        if (!vm || (vm->info.memory_mib == actual_kib / 1024 && vm->info.current_memory_mib == actual_kib / 1024))
                return;
        vm->info.memory_mib = actual_kib / 1024;
        vm->info.current_memory_mib = actual_kib / 1024;
        vm_notify_changed(vm, (const char *[]) { "MemoryMiB", "CurrentMemoryMiB" }, 2);
}

static void on_reboot(const char *uuid, void *userdata) {
        Vm *vm = vm_find(userdata, uuid);

        if (vm)
                log_fields(LOG_INFO, LOG_FIELDS("VM_UUID", uuid, "OBJECT_PATH", vm->path), "VM %s rebooted",
                           strempty(vm->info.name));
}

/* A device came or went (hot-plug, a vCPU or memory change), or the metadata changed: re-read. */
static void on_changed(const char *uuid, void *userdata) {
        (void) vm_refresh(userdata, uuid);
}

static void on_agent(const char *uuid, bool connected, void *userdata) {
        const VmListener *l = ((Manager *) userdata)->vm_listener;

        if (l && l->agent_event)
                l->agent_event(userdata, uuid, connected);
}

/* Block jobs are the snapshots' merges (vm-snapshot-merge.c). */
static void on_block_job(const char *uuid, const char *disk, int type, int status, void *userdata) {
        const VmListener *l = ((Manager *) userdata)->vm_listener;

        if (l && l->block_job)
                l->block_job(userdata, uuid, disk, type, status);
}

/* A backup's end is its job's (vm-backup.c). */
static void on_job_completed(const char *uuid, void *userdata) {
        const VmListener *l = ((Manager *) userdata)->vm_listener;

        if (l && l->job_completed)
                l->job_completed(userdata, uuid);
}

static const DomainEventOps vm_event_ops = {
        .agent = on_agent,
        .lifecycle = on_lifecycle,
        .io_error = on_io_error,
        .balloon = on_balloon,
        .reboot = on_reboot,
        .changed = on_changed,
        .block_job = on_block_job,
        .job_completed = on_job_completed,
};

/* Refresh of one domain. */

typedef struct RefreshJob {
        Manager *manager;
        virConnectPtr conn;
        char uuid[VIR_UUID_STRING_BUFLEN];
        VmClockRead read;
        VmInfo info;
        char *error;
} RefreshJob;

static int refresh_work(void *userdata) {
        RefreshJob *j = userdata;

        return vm_info_read_uuid(j->conn, j->uuid, &j->info, &j->error);
}

static void refresh_done(int result, void *userdata) {
        RefreshJob *j = userdata;
        Manager *m = j->manager;
        Vm *vm = vm_find(m, j->uuid);

        if (result >= 0)
                (void) vm_apply_info(m, &j->info, &j->read, NULL);
        else if (result == -ENOENT && vm && vm->event_clock <= j->read.started)
                vm_remove(vm);   /* unless an event since says otherwise: its own re-read follows */
        else if (result != -ECANCELED && result != -ENOENT)
                log_debug_errno(result, "Cannot re-read VM %s: %s", j->uuid, strempty(j->error));
        vm_read_end(m, &j->read);
        vm_info_done(&j->info);
        virConnectClosep(&j->conn);
        free(j->error);
        free(j);
}

int vm_refresh(Manager *m, const char *uuid) {
        RefreshJob *j;
        int r;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->conn = libvirt_conn_ref(m->libvirt);
        if (!j->conn) {
                free(j);
                return -ENOTCONN;
        }
        j->manager = m;
        snprintf(j->uuid, sizeof j->uuid, "%s", uuid);
        j->info.graphics_port = -1;
        vm_read_begin(m, &j->read);
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, refresh_work, refresh_done, j);
        if (r < 0) {
                vm_read_end(m, &j->read);
                virConnectClosep(&j->conn);
                free(j);
        }
        return r;
}

/* Full sync: every domain, read off the loop, merged in one go. */

typedef struct SyncJob {
        Manager *manager;
        virConnectPtr conn;
        unsigned generation;
        VmClockRead read;
        bool register_events;
        bool events_registered;
        VmInfo *infos;
        size_t n_infos;
        char *error;
} SyncJob;

static int sync_work(void *userdata) {
        SyncJob *j = userdata;
        int r;

        if (j->register_events) {
                r = domain_events_register(j->conn, &j->manager->vm_events, &j->error);
                if (r < 0)
                        return r;
                j->events_registered = true;
        }
        return vm_info_read_all(j->conn, &j->infos, &j->n_infos, &j->error);
}

typedef struct Sweep {
        Vm **end;
        uint64_t clock_at_read;
} Sweep;

/* Gone: not in the list, and nothing heard of it since the list was read. */
static void sweep_unseen(Vm *vm, void *userdata) {
        Sweep *s = userdata;

        if (vm->sync_mark != vm->manager->vm_sync_mark && vm->event_clock <= s->clock_at_read)
                *s->end++ = vm;
}

static void sync_merge(Manager *m, SyncJob *j) {
        Vm **gone;
        Sweep sweep;

        m->vm_sync_mark++;
        for (size_t i = 0; i < j->n_infos; i++) {
                Vm *vm;

                if (vm_apply_info(m, &j->infos[i], &j->read, &vm) >= 0)
                        vm->sync_mark = m->vm_sync_mark;
        }
        gone = calloc(m->n_vms + 1, sizeof *gone);
        if (!gone)
                return;
        sweep = (Sweep) { .end = gone, .clock_at_read = j->read.started };
        vm_foreach(m, sweep_unseen, &sweep);
        for (Vm **p = gone; p < sweep.end; p++)
                vm_remove(*p);
        free(gone);
}

static void sync_done(int result, void *userdata) {
        SyncJob *j = userdata;
        Manager *m = j->manager;
        bool current = result >= 0 && j->generation == libvirt_conn_generation(m->libvirt);

        m->vm_sync_running = false;
        if (current)
                sync_merge(m, j);
        vm_read_end(m, &j->read);
        if (current)
                job_objects_read(m);   /* jobs that waited for the VMs' states go on */
        if (j->register_events && !j->events_registered)
                m->vm_events_conn = 0;   /* register on the next sync instead */
        if (result < 0 && result != -ECANCELED) {
                log_warning_errno(result, "Cannot read the VMs from libvirt: %s", strempty(j->error));
        }
        if (result != -ECANCELED && !m->vm_synced) {
                log_info("%zu VMs read from libvirt", m->n_vms);
                m->vm_synced = true;
                manager_set_ready(m);
        }
        for (size_t i = 0; i < j->n_infos; i++)
                vm_info_done(&j->infos[i]);
        free(j->infos);
        free(j->error);
        virConnectClosep(&j->conn);
        free(j);
}

static int vm_sync_start(Manager *m) {
        unsigned generation = libvirt_conn_generation(m->libvirt);
        SyncJob *j;
        int r;

        if (m->vm_sync_running)
                return 0;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->conn = libvirt_conn_ref(m->libvirt);
        if (!j->conn) {
                free(j);
                return -ENOTCONN;
        }
        j->manager = m;
        j->generation = generation;
        j->register_events = m->vm_events_conn != generation;
        vm_read_begin(m, &j->read);
        r = worker_pool_submit(m->pool, WORKER_INTERNAL, sync_work, sync_done, j);
        if (r < 0) {
                vm_read_end(m, &j->read);
                virConnectClosep(&j->conn);
                free(j);
                return r;
        }
        m->vm_events_conn = generation;
        m->vm_sync_running = true;
        return 0;
}

static int on_reconcile(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (libvirt_conn_is_connected(m->libvirt))
                (void) vm_sync_start(m);
        (void) sd_event_source_set_time_relative(s, VM_RECONCILE_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

int vm_registry_connected(Manager *m) {
        int r;

        m->vm_events = (DomainEventSubscriber) { .ops = &vm_event_ops, .userdata = m };
        if (!m->vm_reconcile) {
                r = sd_event_add_time_relative(m->event, &m->vm_reconcile, CLOCK_MONOTONIC,
                                               VM_RECONCILE_USEC, 0, on_reconcile, m);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(m->vm_reconcile, "vm-reconcile");
        }
        return vm_sync_start(m);
}

static void vm_free_node(void *node) {
        vm_free(node);
}

void vm_registry_free(Manager *m) {
        m->vm_reconcile = sd_event_source_disable_unref(m->vm_reconcile);
        vm_clock_done(&m->vm_clock);
        tdestroy(m->vms, vm_free_node);
        m->vms = NULL;
        m->n_vms = 0;
}
