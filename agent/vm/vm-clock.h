/* The VM event clock: what happened after a read from libvirt began wins over what it read */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm-state.h"

/* Notes kept for VMs that have no object: beyond this many, the oldest go
 * and the reads they concerned are double-checked instead (VM_CLOCK_UNSURE). */
#define VM_CLOCK_NOTES_MAX 1024

/* A read from libvirt in flight, from vm_clock_read_begin() to _end(). */
typedef struct VmClockRead {
        struct VmClockRead *prev, *next;
        uint64_t started;   /* the clock when it began: it knows nothing newer */
} VmClockRead;

typedef struct VmClockNote VmClockNote;

typedef struct VmClock {
        uint64_t now;               /* counts lifecycle events and removals */
        VmClockNote *notes;         /* what happened to VMs without an object, newest first */
        size_t n_notes;
        uint64_t forgotten;         /* the newest note dropped to stay bounded */
        VmClockRead *oldest, *newest;   /* reads in flight, in the order they began */
} VmClock;

/* Something happened: returns the new time. */
uint64_t vm_clock_tick(VmClock *c);

void vm_clock_read_begin(VmClock *c, VmClockRead *read);
/* Also forgets the notes that no read still in flight is older than. */
void vm_clock_read_end(VmClock *c, VmClockRead *read);

/* A lifecycle event for UUID, which has no object: a read that began before
 * it must take its run state (when HAS_STATE) instead of its own. Ticks. */
void vm_clock_note_event(VmClock *c, const char *uuid, bool has_state, VmState state, const char *reason);
/* UUID's object was withdrawn, or its domain undefined: a read that began
 * before must not bring it back. Ticks. */
void vm_clock_note_removed(VmClock *c, const char *uuid);

typedef enum VmClockVerdict {
        VM_CLOCK_PUBLISH,   /* nothing newer is known against it */
        VM_CLOCK_GONE,      /* it was removed after the read began */
        VM_CLOCK_UNSURE,    /* a note that might have said so was dropped: read it again */
} VmClockVerdict;

typedef struct VmClockNews {
        uint64_t clock;     /* the time of the newest event, or the read's start */
        bool has_state;     /* an event after the read says which run state it is in */
        VmState state;
        const char *reason;
} VmClockNews;

/* READ found UUID, which has no object: may it have one? Takes UUID's note;
 * RET_NEWS says what happened since READ began. */
VmClockVerdict vm_clock_judge_new(VmClock *c, const char *uuid, const VmClockRead *read, VmClockNews *ret_news);

/* Frees the notes; reads in flight stay linked, their owners end them. */
void vm_clock_done(VmClock *c);
