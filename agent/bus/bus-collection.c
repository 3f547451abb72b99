/* Collections of same-typed objects under a path prefix (VMs, jobs, ...), and the ObjectManager listing them */
#include "bus-collection.h"

#include <limits.h>
#include <search.h>

#include "bus-fair.h"
#include "bus-wire.h"
#include "failpoint.h"
#include "log.h"
#include "macro.h"

#define VTABLES_MAX 6   /* the VM interface: its own, devices, the guest agent, snapshots, backup */

typedef struct Collection {
        char *prefix;
        const char *interface;
        const sd_bus_vtable *vtables[VTABLES_MAX];   /* in the order sd-bus has them */
        size_t n_vtables;
        sd_bus_object_find_t find;
        sd_bus_node_enumerator_t enumerator;   /* NULL: another collection lists these objects */
        void *userdata;
        bool cached;
} Collection;

/* One object's {oa{sa{sv}}}, as it goes on the wire, zero-padded to 8 so
 * entries can follow one another. */
typedef struct Entry {
        char *path;
        BusWire wire;
        size_t size;    /* without the padding */
        bool stale;     /* the object changed since: built again when next asked for */
        unsigned refill;        /* the last refill that listed it */
        struct Entry *prev, *next;
} Entry;

typedef struct EntryList {
        Entry *first, *last;
} EntryList;

#define COLLECTIONS_MAX 16
#define INTERFACES_MAX 4

/* One bus per process: the daemon's. */
static struct {
        sd_bus *bus;
        char *root;
        Collection collections[COLLECTIONS_MAX];
        size_t n_collections;
        /* The cached collections' entries: by path (a tsearch() tree), and
         * in a list that, when COMPLETE, holds exactly their objects (until
         * one is added, a reply walks the list and asks no enumerator). */
        void *entries;
        EntryList list;
        bool complete;
        unsigned refill;
} om;

static Entry *entry_free(Entry *e) {
        if (!e)
                return NULL;
        free(e->path);
        bus_wire_done(&e->wire);
        free(e);
        return NULL;
}

static int entry_compare(const void *a, const void *b) {
        return strcmp(((const Entry *) a)->path, ((const Entry *) b)->path);
}

static void entry_destroy(void *e) {
        entry_free(e);
}

static void list_unlink(EntryList *l, Entry *e) {
        if (e->prev)
                e->prev->next = e->next;
        else
                l->first = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                l->last = e->prev;
        e->prev = e->next = NULL;
}

static void list_append(EntryList *l, Entry *e) {
        e->prev = l->last;
        e->next = NULL;
        if (l->last)
                l->last->next = e;
        else
                l->first = e;
        l->last = e;
}

static Entry *entry_lookup(const char *path) {
        Entry key = { .path = (char *) path }, **found = tfind(&key, &om.entries, entry_compare);

        return found ? *found : NULL;
}

/* E leaves the tree and whichever list L holds it. */
static void entry_drop(EntryList *l, Entry *e) {
        list_unlink(l, e);
        tdelete(e, &om.entries, entry_compare);
        entry_free(e);
}

static int collection_add(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                          sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerator, void *userdata,
                          bool cached) {
        Collection *c;
        int r;

        if (om.n_collections >= COLLECTIONS_MAX || (om.bus && om.bus != bus))
                return log_error_errno(-E2BIG, "Cannot publish %s: too many collections", interface);
        r = sd_bus_add_fallback_vtable(bus, NULL, prefix, interface, vtable, find, userdata);
        if (r < 0)
                return log_error_errno(r, "Cannot publish %s: %m", interface);
        if (enumerator) {
                r = sd_bus_add_node_enumerator(bus, NULL, prefix, enumerator, userdata);
                if (r < 0)
                        return log_error_errno(r, "Cannot publish the objects under %s: %m", prefix);
        }
        c = &om.collections[om.n_collections];
        *c = (Collection) { .prefix = strdup(prefix), .interface = interface, .vtables = { vtable }, .n_vtables = 1,
                            .find = find, .enumerator = enumerator, .userdata = userdata, .cached = cached };
        if (!c->prefix)
                return log_error_errno(-ENOMEM, "Cannot publish %s: %m", interface);
        om.n_collections++;
        om.bus = bus;
        return 0;
}

int bus_add_collection(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                       sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerator, void *userdata) {
        return collection_add(bus, prefix, interface, vtable, find, enumerator, userdata, false);
}

int bus_add_cached_collection(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                              sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerator, void *userdata) {
        return collection_add(bus, prefix, interface, vtable, find, enumerator, userdata, true);
}

int bus_add_collection_interface(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                                 sd_bus_object_find_t find, void *userdata) {
        return collection_add(bus, prefix, interface, vtable, find, NULL, userdata, false);
}

int bus_add_collection_vtable(sd_bus *bus, const char *prefix, const char *interface, const sd_bus_vtable *vtable) {
        Collection *c = NULL;
        int r;

        for (size_t i = 0; i < om.n_collections && !c; i++)
                if (streq(om.collections[i].prefix, prefix) && streq(om.collections[i].interface, interface))
                        c = &om.collections[i];
        if (!c || c->n_vtables >= VTABLES_MAX)
                return log_error_errno(c ? -E2BIG : -ENOENT, "Cannot publish more of %s: %m", interface);
        r = sd_bus_add_fallback_vtable(bus, NULL, prefix, interface, vtable, c->find, c->userdata);
        if (r < 0)
                return log_error_errno(r, "Cannot publish more of %s: %m", interface);
        c->vtables[c->n_vtables++] = vtable;
        return 0;
}

void bus_collection_changed(const char *path) {
        Entry *e = entry_lookup(path);

        if (e)
                e->stale = true;
}

void bus_collection_added(const char *path) {
        Entry *e = entry_lookup(path);

        if (e)
                entry_drop(&om.list, e);
        om.complete = false;    /* the next reply asks the enumerators */
}

void bus_collection_removed(const char *path) {
        Entry *e = entry_lookup(path);

        if (e)
                entry_drop(&om.list, e);
}

/* PATH lies strictly below C's prefix. */
static bool collection_covers(const Collection *c, const char *path) {
        size_t n = strlen(c->prefix);

        return strncmp(path, c->prefix, n) == 0 && path[n] == '/' && path[n + 1];
}

/* The properties one vtable of C has, appended to TMP's open a{sv}. */
static int append_vtable_properties(sd_bus_message *tmp, const Collection *c, const sd_bus_vtable *vtable,
                                    const char *path, void *found, sd_bus_error *error) {
        int r = 0;

        for (const sd_bus_vtable *v = vtable + 1; r >= 0 && v->type != _SD_BUS_VTABLE_END; v++) {
                if ((v->type != _SD_BUS_VTABLE_PROPERTY && v->type != _SD_BUS_VTABLE_WRITABLE_PROPERTY) ||
                    (v->flags & (SD_BUS_VTABLE_HIDDEN | SD_BUS_VTABLE_PROPERTY_EXPLICIT)))
                        continue;
                if (!v->x.property.get)
                        return -EOPNOTSUPP;
                r = sd_bus_message_open_container(tmp, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append_basic(tmp, 's', v->x.property.member);
                if (r >= 0)
                        r = sd_bus_message_open_container(tmp, 'v', v->x.property.signature);
                if (r >= 0)
                        r = v->x.property.get(om.bus, path, c->interface, v->x.property.member, tmp,
                                              (uint8_t *) found + v->x.property.offset, error);
                if (r >= 0)
                        r = sd_bus_message_close_container(tmp);
                if (r >= 0)
                        r = sd_bus_message_close_container(tmp);
        }
        return r;
}

/* The properties of one interface as an a{sv}, read by its getters as
 * sd-bus's own GetAll would. */
static int append_properties(BusWire *w, const Collection *c, const char *path, void *found) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *tmp = NULL;
        int r;

        r = sd_bus_message_new_signal(om.bus, &tmp, path, c->interface, "Properties");
        if (r >= 0)
                r = sd_bus_message_open_container(tmp, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < c->n_vtables; i++)
                r = append_vtable_properties(tmp, c, c->vtables[i], path, found, &error);
        if (r >= 0)
                r = sd_bus_message_close_container(tmp);
        if (r >= 0)
                r = sd_bus_message_seal(tmp, 1, 0);
        if (r >= 0)
                r = sd_bus_message_rewind(tmp, 1);
        if (r < 0)
                return r;
        return bus_wire_copy(w, tmp);
}

static void append_empty_interface(BusWire *w, const char *interface) {
        bus_wire_align(w, 8);
        bus_wire_string(w, 's', interface);
        bus_wire_array_close(w, bus_wire_array_open(w, 8), 8);
}

/* The entry sd-bus's ObjectManager would give for PATH: its standard
 * interfaces (empty), then those of the collections that find it. 0 and
 * nothing written when none does. */
static int entry_build(Entry *e, const char *path) {
        const Collection *with[INTERFACES_MAX];
        void *found[INTERFACES_MAX];
        BusWire *w = &e->wire;
        size_t n = 0, at;
        int r;

        for (size_t i = 0; i < om.n_collections && n < INTERFACES_MAX; i++) {
                const Collection *c = &om.collections[i];

                if (!collection_covers(c, path))
                        continue;
                r = c->find(om.bus, path, c->interface, c->userdata, &found[n], NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        with[n++] = c;
        }
        if (n == 0)
                return 0;
        bus_wire_string(w, 'o', path);
        at = bus_wire_array_open(w, 8);
        append_empty_interface(w, "org.freedesktop.DBus.Peer");
        append_empty_interface(w, "org.freedesktop.DBus.Introspectable");
        append_empty_interface(w, "org.freedesktop.DBus.Properties");
        for (size_t i = 0; i < n; i++) {
                bus_wire_align(w, 8);
                bus_wire_string(w, 's', with[i]->interface);
                r = append_properties(w, with[i], path, found[i]);
                if (r < 0)
                        return r;
        }
        bus_wire_array_close(w, at, 8);
        e->size = w->size;
        bus_wire_align(w, 8);
        if (w->error < 0)
                return w->error;
        bus_wire_shrink(w);     /* kept for as long as the VM does not change */
        return 1;
}

/* A GetManagedObjects reply being put together: the array's length, then
 * one piece per object, kept entries pointed at, not copied. */
typedef struct Reply {
        uint32_t header[2];     /* the array's length, and the padding to its first entry */
        struct iovec *iov;
        size_t n_iov, allocated;
        Entry **own;            /* built for this reply only */
        size_t n_own;
        size_t last_size;
} Reply;

static void reply_done(Reply *r) {
        for (size_t i = 0; i < r->n_own; i++)
                entry_free(r->own[i]);
        free(r->own);
        free(r->iov);
}

static int reply_push(Reply *r, const Entry *e) {
        if (r->n_iov == r->allocated) {
                size_t want = r->allocated ? r->allocated * 2 : 256;
                struct iovec *p = reallocarray(r->iov, want, sizeof *p);

                if (!p)
                        return -ENOMEM;
                r->iov = p;
                r->allocated = want;
        }
        r->iov[r->n_iov++] = (struct iovec) { e->wire.data, e->wire.size };
        r->last_size = e->size;
        return 0;
}

/* An object of a collection that is not cached: built for this reply. */
static int reply_add(Reply *r, const char *path) {
        Entry *e = calloc(1, sizeof *e), **own;
        int k;

        if (!e || !(e->path = strdup(path))) {
                entry_free(e);
                return -ENOMEM;
        }
        k = entry_build(e, path);
        own = k > 0 ? reallocarray(r->own, r->n_own + 1, sizeof *own) : NULL;
        if (!own) {
                entry_free(e);
                return k > 0 ? -ENOMEM : k;
        }
        r->own = own;
        r->own[r->n_own++] = e;
        return reply_push(r, e);
}

static int reply_add_collection(Reply *r, const Collection *c) {
        char **nodes = NULL;
        int k = 0;

        if (!c->enumerator || c->cached)
                return 0;
        k = c->enumerator(om.bus, c->prefix, c->userdata, &nodes, NULL);
        for (char **p = nodes; p && *p; p++) {
                if (k >= 0)
                        k = reply_add(r, *p);
                free(*p);
        }
        free(nodes);
        return k;
}

/* Moves PATH's entry (a new, stale one if it has none) to the end of L. */
static int refill_one(EntryList *l, const char *path) {
        Entry *e = entry_lookup(path);

        if (e && e->refill == om.refill)
                return 0;       /* listed twice */
        if (e) {
                e->refill = om.refill;
                list_unlink(&om.list, e);
                list_append(l, e);
                return 0;
        }
        e = calloc(1, sizeof *e);
        if (!e || !(e->path = strdup(path)) || !tsearch(e, &om.entries, entry_compare)) {
                entry_free(e);
                return -ENOMEM;
        }
        e->stale = true;
        e->refill = om.refill;
        list_append(l, e);
        return 0;
}

/* The list made to hold exactly what the cached collections' enumerators
 * list now, in their order; entries of objects gone are dropped. */
static int entries_refill(void) {
        EntryList fresh = {};
        int k = 0;

        om.refill++;
        for (size_t i = 0; k >= 0 && i < om.n_collections; i++) {
                const Collection *c = &om.collections[i];
                char **nodes = NULL;

                if (!c->enumerator || !c->cached)
                        continue;
                k = c->enumerator(om.bus, c->prefix, c->userdata, &nodes, NULL);
                for (char **p = nodes; p && *p; p++) {
                        if (k >= 0)
                                k = refill_one(&fresh, *p);
                        free(*p);
                }
                free(nodes);
        }
        while (om.list.first) {
                if (k >= 0)
                        entry_drop(&om.list, om.list.first);
                else {          /* kept, for the next try */
                        Entry *e = om.list.first;
                        list_unlink(&om.list, e);
                        list_append(&fresh, e);
                }
        }
        om.list = fresh;
        om.complete = k >= 0;
        return k;
}

static int reply_add_cached(Reply *r) {
        int k;

        if (!om.complete) {
                k = entries_refill();
                if (k < 0)
                        return k;
        }
        for (Entry *e = om.list.first, *next; e; e = next) {
                next = e->next;
                if (e->stale) {
                        bus_wire_done(&e->wire);
                        k = entry_build(e, e->path);
                        if (k < 0)
                                return k;
                        if (k == 0) {   /* gone without a word: not ours to list */
                                entry_drop(&om.list, e);
                                continue;
                        }
                        e->stale = false;
                }
                k = reply_push(r, e);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int object_manager_reply(sd_bus_message *call) {
        _cleanup_(reply_done) Reply r = {};
        size_t length = 0;
        int k;

        k = reply_push(&r, &(Entry) { .wire = { .data = (uint8_t *) r.header, .size = sizeof r.header } });
        if (k >= 0)
                k = reply_add_cached(&r);
        for (size_t i = 0; k >= 0 && i < om.n_collections; i++)
                k = reply_add_collection(&r, &om.collections[i]);
        if (k < 0)
                return k;
        if (r.n_iov > 1)
                r.iov[r.n_iov - 1].iov_len = r.last_size;    /* no padding after the last entry */
        for (size_t i = 1; i < r.n_iov; i++)
                length += r.iov[i].iov_len;
        if (length > UINT32_MAX)
                return -E2BIG;
        r.header[0] = (uint32_t) length;
        k = bus_wire_reply(call, "a{oa{sa{sv}}}", r.iov, r.n_iov);
        return k < 0 ? k : length > INT_MAX ? INT_MAX : (int) length;
}

/* The bytes sent: what the caller's rate counts (bus-fair.h). */
static int object_manager_answer(sd_bus_message *call, void *userdata) {
        return object_manager_reply(call);
}

/* A test compares our answer with sd-bus's own: while the file this
 * failpoint names exists, sd-bus answers. */
static bool object_manager_failpoint(void) {
        const char *path = failpoint_get("HOSTAGENT_OBJECTS_FAILPOINT");

        return path && access(path, F_OK) >= 0;
}

static int object_manager_filter(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int r;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects") ||
            !streq_ptr(sd_bus_message_get_path(m), om.root) || !sd_bus_message_has_signature(m, "") ||
            object_manager_failpoint())
                return 0;
        if (!sd_bus_message_get_expect_reply(m))
                return 1;
        r = bus_fair_reply(m, object_manager_answer, NULL);
        if (r < 0) {
                /* sd-bus's own answer: slower, and as complete. */
                log_debug_errno(r, "Cannot answer GetManagedObjects from the kept entries, sd-bus will: %m");
                return 0;
        }
        return 1;
}

static void object_manager_free(void *userdata) {
        tdestroy(om.entries, entry_destroy);
        for (size_t i = 0; i < om.n_collections; i++)
                free(om.collections[i].prefix);
        free(om.root);
        om = (typeof(om)) {};
        bus_wire_reply_free();
}

int bus_add_object_manager(sd_bus *bus, const char *path) {
        sd_bus_slot *slot = NULL;
        int r;

        r = sd_bus_add_object_manager(bus, NULL, path);
        if (r < 0)
                return log_error_errno(r, "Cannot publish the ObjectManager: %m");
        om.root = strdup(path);
        if (!om.root)
                return log_error_errno(-ENOMEM, "Cannot publish the ObjectManager: %m");
        om.bus = bus;
        /* Before sd-bus's dispatch to objects; freed with the bus. */
        r = sd_bus_add_filter(bus, &slot, object_manager_filter, NULL);
        if (r >= 0)
                r = sd_bus_slot_set_destroy_callback(slot, object_manager_free);
        if (r >= 0)
                r = sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        if (r < 0)
                return log_error_errno(r, "Cannot answer GetManagedObjects: %m");
        return 0;
}
