/* The pools' state file, written off the loop and in order */
#pragma once

typedef struct Manager Manager;

typedef void (*storage_saved_fn)(void *userdata);

/* Loop thread. Writes the pools as they are now (spec and whether each is to
 * be active) to storage-pools.json, atomically, on a worker. DONE runs on the
 * loop once a write that includes this moment's state has finished; a failed
 * write is logged here, and DONE runs all the same. Writes never overlap:
 * requests made while one runs share the next. */
void storage_save(Manager *m, storage_saved_fn done, void *userdata);
