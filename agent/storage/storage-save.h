/* The pools' state file (a StateFile), written off the loop and in order */
#pragma once

typedef struct Manager Manager;

/* RESULT: 0 once the state is on disk, -errno when it could not be written. */
typedef void (*storage_saved_fn)(int result, void *userdata);

/* Loop thread. Writes the pools as they are now (spec and whether each is to
 * be active) to storage-pools.json, atomically, on a worker. DONE runs on the
 * loop once a write that includes this moment's state has finished, with its
 * result: a change whose write failed is not on disk, and whoever made it
 * undoes it, so the agent says what a restart would find. Writes never
 * overlap: requests made while one runs share the next. */
void storage_save(Manager *m, storage_saved_fn done, void *userdata);

/* At stop, after the workers: waiters still there are dropped unanswered. */
void storage_save_free(Manager *m);
