/* Worker pool: blocking work runs on threads, completions run on the loop */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "mailbox.h"

typedef struct WorkerPool WorkerPool;

/* WORK runs on a worker thread and must not touch loop-owned state. DONE runs
 * later on the loop thread with WORK's return value, or -ECANCELED when the
 * pool was stopped before WORK started. DONE owns USERDATA from then on. */
typedef int (*worker_work_fn)(void *userdata);
typedef void (*worker_done_fn)(int result, void *userdata);
/* Loop thread: WORK has not finished within its deadline. The caller can
 * answer its client now; DONE still follows, exactly once, when WORK ends. */
typedef void (*worker_expired_fn)(void *userdata);

typedef enum WorkerPriority {
        WORKER_NORMAL,   /* a change: counts against the cap, callers get -EBUSY past it */
        WORKER_READ,     /* a read: counts against the cap too, and may not take the share kept
                          * for changes (of the slots, and of the threads) */
        WORKER_INTERNAL, /* the agent's own housekeeping (reconnects): never refused */
} WorkerPriority;

/* N_THREADS threads; MAX_IN_FLIGHT items of NORMAL and READ priority queued
 * or running at most. Reads get at most MAX_IN_FLIGHT - MAX_IN_FLIGHT/4 of
 * the slots and, with more than one thread, leave a quarter of the threads
 * (at least one) to the rest: a flood of slow reads can keep a change
 * neither from being accepted nor from running. The other priorities' work
 * is taken first. */
int worker_pool_new(sd_event *event, Mailbox *mb, unsigned n_threads, unsigned max_in_flight,
                    WorkerPool **ret);

/* Stops the threads: queued work is cancelled, running work is waited for
 * up to TIMEOUT_USEC, and later submissions fail with -ESHUTDOWN. DONE
 * callbacks are delivered through the mailbox; dispatch it afterwards.
 * Returns 0 when every thread has exited, or -EBUSY when one stayed blocked:
 * it may still post to the mailbox, so then neither the pool nor the
 * mailbox may be freed (the process is exiting anyway). */
int worker_pool_stop(WorkerPool *p, uint64_t timeout_usec);

/* Loop thread: the first step of a graceful stop. Work still queued is
 * cancelled (its DONE gets -ECANCELED through the mailbox), later
 * submissions fail with -ESHUTDOWN, running work goes on. */
void worker_pool_cancel_queued(WorkerPool *p);

/* Loop thread: IDLE runs whenever the last outstanding item (of any
 * priority) has completed, e.g. to finish a graceful stop. */
void worker_pool_set_idle_callback(WorkerPool *p, void (*idle)(void *userdata), void *userdata);
unsigned worker_pool_outstanding(WorkerPool *p);

/* Only after worker_pool_stop() returned 0. */
WorkerPool *worker_pool_free(WorkerPool *p);

/* Loop thread. Returns 0, -EBUSY when MAX_IN_FLIGHT operations are already
 * queued or running (for a read: its share of them), -ESHUTDOWN once
 * stopping, -ENOMEM. */
int worker_pool_submit(WorkerPool *p, WorkerPriority prio, worker_work_fn work,
                       worker_done_fn done, void *userdata);

/* The same, with EXPIRED called on the loop when WORK has not finished
 * TIMEOUT_USEC after submission (0: no deadline). */
int worker_pool_submit_with_deadline(WorkerPool *p, WorkerPriority prio, uint64_t timeout_usec,
                                     worker_work_fn work, worker_done_fn done, worker_expired_fn expired,
                                     void *userdata);

unsigned worker_pool_in_flight(WorkerPool *p);
unsigned worker_pool_max_in_flight(WorkerPool *p);
/* The share of MAX_IN_FLIGHT that reads may take. */
unsigned worker_pool_max_reads(WorkerPool *p);
