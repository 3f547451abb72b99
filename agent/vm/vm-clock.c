/* The VM event clock: what happened after a read from libvirt began wins over what it read */
#include "vm-clock.h"

#include <stdio.h>
#include <stdlib.h>

#include "macro.h"

struct VmClockNote {
        VmClockNote *next;
        char uuid[VIR_UUID_STRING_BUFLEN];
        uint64_t clock;
        bool removed;
        bool has_state;
        VmState state;
        const char *reason;
};

uint64_t vm_clock_tick(VmClock *c) {
        return ++c->now;
}

void vm_clock_read_begin(VmClock *c, VmClockRead *read) {
        *read = (VmClockRead) { .prev = c->newest, .started = c->now };
        if (c->newest)
                c->newest->next = read;
        else
                c->oldest = read;
        c->newest = read;
}

/* Drops the notes at or before CLOCK (they are at the end: newest first). */
static void notes_drop_until(VmClock *c, uint64_t clock) {
        for (VmClockNote **p = &c->notes; *p;) {
                VmClockNote *n = *p;

                if (n->clock <= clock) {
                        *p = n->next;
                        free(n);
                        c->n_notes--;
                } else
                        p = &n->next;
        }
}

void vm_clock_read_end(VmClock *c, VmClockRead *read) {
        if (read->prev)
                read->prev->next = read->next;
        else if (c->oldest == read)
                c->oldest = read->next;
        if (read->next)
                read->next->prev = read->prev;
        else if (c->newest == read)
                c->newest = read->prev;
        *read = (VmClockRead) { .started = read->started };
        /* A note matters only to reads that began before it. */
        notes_drop_until(c, c->oldest ? c->oldest->started : UINT64_MAX);
}

/* Bounded: the oldest notes go, and reads older than them become unsure. */
static void notes_trim(VmClock *c) {
        VmClockNote **p = &c->notes;
        size_t kept = 0;

        while (*p && kept < VM_CLOCK_NOTES_MAX) {
                p = &(*p)->next;
                kept++;
        }
        while (*p) {
                VmClockNote *n = *p;

                *p = n->next;
                if (n->clock > c->forgotten)
                        c->forgotten = n->clock;
                free(n);
                c->n_notes--;
        }
}

/* Where UUID's note is linked, or the end of the list. */
static VmClockNote **note_find(VmClock *c, const char *uuid) {
        VmClockNote **p;

        for (p = &c->notes; *p; p = &(*p)->next)
                if (streq((*p)->uuid, uuid))
                        break;
        return p;
}

/* UUID's note, unlinked, or NULL. */
static VmClockNote *note_take(VmClock *c, const char *uuid) {
        VmClockNote **p = note_find(c, uuid), *n = *p;

        if (n) {
                *p = n->next;
                c->n_notes--;
        }
        return n;
}

/* UUID's note, moved to the front with the time now; NULL when no read in
 * flight began before now, as none then needs it, or when out of memory. */
static VmClockNote *note_touch(VmClock *c, const char *uuid) {
        uint64_t now = vm_clock_tick(c);
        VmClockNote *n = note_take(c, uuid);

        if (!c->oldest) {
                free(n);
                return NULL;
        }
        if (!n) {
                n = calloc(1, sizeof *n);
                if (!n) {
                        c->forgotten = now;   /* as if dropped: older reads are double-checked */
                        return NULL;
                }
                snprintf(n->uuid, sizeof n->uuid, "%s", uuid);
        }
        n->clock = now;
        n->next = c->notes;
        c->notes = n;
        c->n_notes++;
        notes_trim(c);
        return n;
}

void vm_clock_note_event(VmClock *c, const char *uuid, bool has_state, VmState state, const char *reason) {
        VmClockNote *n = note_touch(c, uuid);

        if (!n)
                return;
        n->removed = false;   /* defined again since */
        if (has_state) {
                n->has_state = true;
                n->state = state;
                n->reason = reason;
        }
}

void vm_clock_note_removed(VmClock *c, const char *uuid) {
        VmClockNote *n = note_touch(c, uuid);

        if (!n)
                return;
        n->removed = true;
        n->has_state = false;
}

VmClockVerdict vm_clock_judge_new(VmClock *c, const char *uuid, const VmClockRead *read, VmClockNews *ret_news) {
        VmClockNote **p = note_find(c, uuid), *n = *p;

        *ret_news = (VmClockNews) { .clock = read->started };
        /* A note older than the read says nothing the read does not know. */
        if (n && n->clock > read->started) {
                /* Kept when removed: another read as old must not bring it back either. */
                if (n->removed)
                        return VM_CLOCK_GONE;
                *ret_news = (VmClockNews) { .clock = n->clock, .has_state = n->has_state,
                                            .state = n->state, .reason = n->reason };
                *p = n->next;   /* the object carries its clock from now on */
                c->n_notes--;
                free(n);
                return VM_CLOCK_PUBLISH;
        }
        return read->started < c->forgotten ? VM_CLOCK_UNSURE : VM_CLOCK_PUBLISH;
}

void vm_clock_done(VmClock *c) {
        notes_drop_until(c, UINT64_MAX);
}
