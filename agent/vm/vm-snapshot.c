/* A VM's snapshots as objects, kept current by re-reading libvirt's list.
 *
 * libvirt tells no event when a snapshot is made or deleted (virsh's
 * included), so the list of a VM is read again, off the loop, after each of
 * its events and each of the agent's own snapshot jobs, and every VM's at a
 * slow pace (SNAPSHOT_RELIST_USEC) for what other clients did meanwhile. */
#include "vm-snapshot.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failpoint.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "storage.h"
#include "strv.h"
#include "virt-cleanup.h"

typedef struct SnapshotRelist {
        struct SnapshotRelist *next;
        char uuid[VIR_UUID_STRING_BUFLEN];
        bool again;
} SnapshotRelist;

/* One read on a worker: one VM's list, or (ALL) every VM's. */
typedef struct RelistCall {
        Manager *manager;
        virConnectPtr conn;
        char **uuids;
        SnapshotInfo **lists;
        size_t *counts;
        int *results;
        size_t n;
        uint64_t started;    /* VmSnapshots.reads when it was asked for */
        bool all;
} RelistCall;

static VmSnapshots *snapshots(Manager *m) {
        return m->snapshots;
}

static VmSnapshot *snapshot_free(VmSnapshot *s) {
        if (!s)
                return NULL;
        snapshot_info_done(&s->info);
        free(s->path);
        free(s->vm_path);
        free(s);
        return NULL;
}

VmSnapshot *vm_snapshot_find(Manager *m, const char *uuid, const char *name) {
        for (VmSnapshot *s = snapshots(m) ? snapshots(m)->list : NULL; s; s = s->next)
                if (streq(s->uuid, uuid) && streq(s->info.name, name))
                        return s;
        return NULL;
}

VmSnapshot *vm_snapshot_find_by_path(Manager *m, const char *path) {
        for (VmSnapshot *s = snapshots(m) ? snapshots(m)->list : NULL; s; s = s->next)
                if (streq(s->path, path))
                        return s;
        return NULL;
}

size_t vm_snapshot_count(Manager *m, const char *uuid) {
        size_t n = 0;

        for (VmSnapshot *s = snapshots(m) ? snapshots(m)->list : NULL; s; s = s->next)
                n += streq(s->uuid, uuid);
        return n;
}

static int snapshot_path(const char *uuid, const char *name, char **ret_vm_path, char **ret) {
        _cleanup_(freep) char *vm_path = NULL, *prefix = NULL;
        int r;

        r = vm_path_from_uuid(uuid, &vm_path);
        if (r < 0)
                return r;
        if (asprintf(&prefix, "%s/snapshot", vm_path) < 0)
                return -ENOMEM;
        r = sd_bus_path_encode(prefix, name, ret);
        if (r < 0)
                return r;
        *ret_vm_path = TAKE_PTR(vm_path);
        return 0;
}

static bool disks_equal(const SnapshotInfo *a, const SnapshotInfo *b) {
        if (a->n_disks != b->n_disks)
                return false;
        for (size_t i = 0; i < a->n_disks; i++)
                if (!streq(a->disks[i].target, b->disks[i].target) ||
                    !streq(a->disks[i].overlay, b->disks[i].overlay) || !streq(a->disks[i].base, b->disks[i].base))
                        return false;
        return true;
}

/* S takes INFO (consumed); what changed is announced. */
static void snapshot_update(VmSnapshot *s, SnapshotInfo *info) {
        const char *names[8];
        size_t n = 0;

        if (s->info.current != info->current)
                names[n++] = "Current";
        if (!streq_ptr(s->info.parent, info->parent))
                names[n++] = "Parent";
        if (!disks_equal(&s->info, info))
                names[n++] = "Disks";
        if (s->info.creation_usec != info->creation_usec)
                names[n++] = "CreationTime";
        names[n] = NULL;
        snapshot_info_done(&s->info);
        s->info = *info;
        *info = (SnapshotInfo) {};
        if (n > 0)
                vm_snapshot_bus_changed(s, names);
}

static int snapshot_add(Manager *m, const char *uuid, SnapshotInfo *info) {
        VmSnapshot *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->manager = m;
        snprintf(s->uuid, sizeof s->uuid, "%s", uuid);
        if (snapshot_path(uuid, info->name, &s->vm_path, &s->path) < 0) {
                snapshot_free(s);
                return -ENOMEM;
        }
        s->info = *info;
        *info = (SnapshotInfo) {};
        s->job = vm_snapshot_merge_job(m, uuid, s->info.name);   /* one the previous agent began */
        s->next = snapshots(m)->list;
        snapshots(m)->list = s;
        return 1;   /* announced by the caller, once its parent is there too */
}

static bool listed(const SnapshotInfo *list, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (list[i].name && streq(list[i].name, name))
                        return true;
        return false;
}

/* The VM's snapshots are now LIST: new ones announced, gone ones withdrawn. */
static void snapshots_apply(Manager *m, const char *uuid, SnapshotInfo *list, size_t n) {
        bool changed = false, added = false;

        for (VmSnapshot **p = &snapshots(m)->list; *p;) {
                VmSnapshot *s = *p;

                if (!streq(s->uuid, uuid) || listed(list, n, s->info.name)) {
                        p = &s->next;
                        continue;
                }
                *p = s->next;
                vm_snapshot_bus_removed(s);
                snapshot_free(s);
                changed = true;
        }
        for (size_t i = 0; i < n; i++) {
                VmSnapshot *s = vm_snapshot_find(m, uuid, list[i].name);

                if (s)
                        snapshot_update(s, &list[i]);
                else if (snapshot_add(m, uuid, &list[i]) > 0)
                        added = changed = true;
        }
        /* Announced once all are there: libvirt lists a child before its
         * parent as often as after, and the child's InterfacesAdded names
         * its parent's object. New ones are at the list's head. */
        for (VmSnapshot *s = snapshots(m)->list; added && s && !s->announced; s = s->next) {
                s->announced = true;
                vm_snapshot_bus_added(s);
        }
        if (changed)
                vm_snapshot_bus_vm_changed(m, uuid);
}

void vm_snapshots_vm_removed(Manager *m, const char *uuid) {
        if (snapshots(m))
                snapshots_apply(m, uuid, NULL, 0);
}

static void relist_call_free(RelistCall *c) {
        for (size_t i = 0; i < c->n; i++)
                if (c->lists)
                        snapshot_info_list_free(c->lists[i], c->counts[i]);
        strv_free(c->uuids);
        free(c->lists);
        free(c->counts);
        free(c->results);
        virConnectClosep(&c->conn);
        free(c);
}

static int relist_work(void *userdata) {
        RelistCall *c = userdata;

        for (size_t i = 0; i < c->n; i++)
                c->results[i] = snapshot_list(c->conn, c->uuids[i], &c->lists[i], &c->counts[i], NULL);
        if (c->all)
                failpoint_hold_saying("HOSTAGENT_SNAPSHOT_RELIST_ALL_HOLD");
        return 0;
}

static SnapshotRelist *relist_find(Manager *m, const char *uuid) {
        for (SnapshotRelist *x = snapshots(m)->relists; x; x = x->next)
                if (streq(x->uuid, uuid))
                        return x;
        return NULL;
}

static int relist_submit(Manager *m, char **uuids, bool all);

/* One VM's read ended: a read asked for meanwhile follows. */
static void relist_one_ended(Manager *m, const char *uuid) {
        SnapshotRelist **p = &snapshots(m)->relists;
        bool again = false;

        for (; *p; p = &(*p)->next)
                if (streq((*p)->uuid, uuid)) {
                        SnapshotRelist *x = *p;

                        again = x->again;
                        *p = x->next;
                        free(x);
                        break;
                }
        if (again)
                vm_snapshots_relist(m, uuid);
}

/* One VM's list as read by C: applied unless a read begun later was
 * (every VM's read is slow, and a VM's own read after a merge or a
 * snapshot may overtake it: the older list must not undo the newer). */
static void read_apply(Manager *m, const char *uuid, uint64_t started, int result, SnapshotInfo *list, size_t n) {
        Vm *vm = vm_find(m, uuid);

        if (vm && result >= 0) {
                if (started < vm->snapshots_read)
                        return;
                vm->snapshots_read = started;
                snapshots_apply(m, uuid, list, n);
        } else if (!vm || result == -ENOENT)
                snapshots_apply(m, uuid, NULL, 0);   /* a VM that is gone (or not known here) has none */
}

static void relist_apply(RelistCall *c, size_t i) {
        read_apply(c->manager, c->uuids[i], c->started, c->results[i], c->lists[i], c->counts[i]);
}

uint64_t vm_snapshots_read_begin(Manager *m) {
        return snapshots(m) ? ++snapshots(m)->reads : 0;
}

void vm_snapshots_read_apply(Manager *m, const char *uuid, uint64_t started, SnapshotInfo *list, size_t n) {
        if (snapshots(m) && !m->stopping)
                read_apply(m, uuid, started, 0, list, n);
        snapshot_info_list_free(list, n);
}

static void relist_done(int result, void *userdata) {
        RelistCall *c = userdata;
        Manager *m = c->manager;

        /* After a stop, the snapshots may be freed already (a worker that was stuck in libvirt). */
        if (result != -ECANCELED && !m->stopping && snapshots(m))
                for (size_t i = 0; i < c->n; i++)
                        relist_apply(c, i);
        if (c->all) {
                if (snapshots(m))
                        snapshots(m)->all_running = false;
        } else if (c->n == 1 && !m->stopping && snapshots(m))
                relist_one_ended(m, c->uuids[0]);
        relist_call_free(c);
}

/* Takes UUIDS. */
static int relist_submit(Manager *m, char **uuids, bool all) {
        RelistCall *c = calloc(1, sizeof *c);
        int r;

        if (!c) {
                strv_free(uuids);
                return -ENOMEM;
        }
        c->manager = m;
        c->uuids = uuids;
        c->n = strv_length(uuids);
        c->all = all;
        c->started = ++snapshots(m)->reads;
        c->lists = calloc(c->n + 1, sizeof *c->lists);
        c->counts = calloc(c->n + 1, sizeof *c->counts);
        c->results = calloc(c->n + 1, sizeof *c->results);
        c->conn = libvirt_conn_ref(m->libvirt);
        r = !c->lists || !c->counts || !c->results ? -ENOMEM : !c->conn ? -ENOTCONN : 0;
        if (r >= 0)
                r = worker_pool_submit(m->pool, WORKER_INTERNAL, relist_work, relist_done, c);
        if (r < 0)
                relist_call_free(c);
        return r;
}

void vm_snapshots_relist(Manager *m, const char *uuid) {
        SnapshotRelist *x;
        char **uuids;

        if (!snapshots(m) || m->stopping)
                return;
        x = relist_find(m, uuid);
        if (x) {
                x->again = true;
                return;
        }
        x = calloc(1, sizeof *x);
        uuids = calloc(2, sizeof *uuids);
        if (!x || !uuids || !(uuids[0] = strdup(uuid))) {
                free(x);
                strv_free(uuids);
                return;
        }
        snprintf(x->uuid, sizeof x->uuid, "%s", uuid);
        x->next = snapshots(m)->relists;
        snapshots(m)->relists = x;
        if (relist_submit(m, uuids, false) < 0)
                relist_one_ended(m, uuid);
}

typedef struct UuidList {
        char **v;
        size_t n;
} UuidList;

static void collect_uuid(Vm *vm, void *userdata) {
        UuidList *l = userdata;
        char *u = strdup(vm->info.uuid);

        if (u)
                l->v[l->n++] = u;
}

/* Every VM's list, and the VMs of snapshot objects that are not known any more. */
static int on_relist_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        VmSnapshots *all = snapshots(m);
        UuidList l = {};

        /* The first read follows the first full read of the VMs closely. */
        (void) sd_event_source_set_time(s, usec + (m->vm_synced ? all->interval_usec : 1000 * 1000));
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        if (all->all_running || m->stopping || !m->vm_synced)
                return 0;
        l.v = calloc(vm_count(m) + 1, sizeof *l.v);
        if (!l.v)
                return 0;
        vm_foreach(m, collect_uuid, &l);
        for (VmSnapshot *x = all->list; x;) {
                char uuid[VIR_UUID_STRING_BUFLEN];

                if (vm_find(m, x->uuid)) {
                        x = x->next;
                        continue;
                }
                memcpy(uuid, x->uuid, sizeof uuid);
                vm_snapshots_vm_removed(m, uuid);   /* frees X: the walk starts again */
                x = all->list;
        }
        if (l.n > 0 && relist_submit(m, l.v, true) >= 0)
                all->all_running = true;
        else if (l.n == 0)
                strv_free(l.v);
        return 0;
}

int vm_snapshots_start(Manager *m) {
        const char *e = failpoint_get("HOSTAGENT_SNAPSHOT_RELIST_SEC");
        VmSnapshots *all = calloc(1, sizeof *all);

        if (!all)
                return -ENOMEM;
        all->interval_usec = e && atoi(e) > 0 ? (uint64_t) atoi(e) * 1000 * 1000 : SNAPSHOT_RELIST_USEC;
        m->snapshots = all;
        return sd_event_add_time_relative(m->event, &all->timer, CLOCK_MONOTONIC, 1000 * 1000, 0, on_relist_timer,
                                          m);
}

void vm_snapshots_free(Manager *m) {
        VmSnapshots *all = snapshots(m);

        if (!all)
                return;
        sd_event_source_disable_unref(all->timer);
        while (all->list) {
                VmSnapshot *s = all->list;

                all->list = s->next;
                snapshot_free(s);
        }
        while (all->relists) {
                SnapshotRelist *x = all->relists;

                all->relists = x->next;
                free(x);
        }
        free(all);
        m->snapshots = NULL;
}

/* The pools that hold FILES (or hold the directory they are in) list their volumes again. */
void vm_snapshot_refresh_pools(Manager *m, char *const *files) {
        for (Pool *p = m->pools; p; p = p->next) {
                bool hit = false;

                for (char *const *f = files; f && *f && !hit; f++)
                        for (size_t i = 0; i < p->n_volumes && !hit; i++) {
                                const char *loc = p->volumes[i]->location, *slash = strrchr(*f, '/');

                                hit = loc && slash && strncmp(loc, *f, slash - *f + 1) == 0 &&
                                      !strchr(loc + (slash - *f) + 1, '/');
                        }
                if (hit)
                        pool_check_soon(p, true);
        }
}
