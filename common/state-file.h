/* A state file: the whole state, written off the loop, in order, one write at a time */
#pragma once

#include "worker-pool.h"

typedef struct StateFile StateFile;

typedef struct StateFileOps {
        /* Loop thread: the text to write, the state as it is now, malloc()ed;
         * NULL when out of memory. */
        char *(*snapshot)(void *userdata);
        /* Loop thread, may be NULL: a write ended with RESULT (0 or -errno),
         * once per write, before its waiters are told. */
        void (*written)(int result, void *userdata);
} StateFileOps;

/* RESULT: 0 once the state is on disk, -errno when it could not be written. */
typedef void (*state_file_saved_fn)(int result, void *userdata);

/* The file at PATH, written through POOL (WORKER_INTERNAL) with
 * atomic_file_write(), mode 0600. OPS and USERDATA stay the caller's. */
int state_file_new(WorkerPool *pool, const char *path, const StateFileOps *ops, void *userdata,
                   StateFile **ret);

/* After the pool is stopped and the mailbox dispatched: a write still
 * running then (on a thread left behind) keeps the file alive; its waiters
 * are dropped unanswered. */
StateFile *state_file_free(StateFile *f);

const char *state_file_path(const StateFile *f);

/* Loop thread. Writes the state as it is now (OPS->snapshot), atomically, on
 * a worker: fsync() can take long. DONE (may be NULL) runs on the loop once a
 * write that includes this moment's state has finished, with its result.
 * Writes never overlap, so an older state never lands after a newer one:
 * requests made while one runs share the next (a group commit), and the
 * waiters of a write are told oldest first; the next write starts only after
 * they all were, so it keeps what they undid. When the pool is stopping
 * (the daemon exits), the file is written here, on the loop, once: the
 * replies still wait for it. */
void state_file_save(StateFile *f, state_file_saved_fn done, void *userdata);
