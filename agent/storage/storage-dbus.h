/* org.hostagent1.StoragePool and org.hostagent1.Volume on the bus */
#pragma once

#include <systemd/sd-bus.h>

#include "bus-call.h"
#include "storage.h"
#include "worker-pool.h"

int storage_bus_register(Manager *m);

int storage_pool_bus_path(const char *name, char **ret);
int storage_volume_bus_path(Pool *p, const char *name, char **ret);

void pool_bus_added(Pool *p);
void pool_bus_removed(Pool *p);
void pool_bus_emit_state_changed(Pool *p);
void pool_bus_emit_space_changed(Pool *p);
void volume_bus_added(Volume *v);
void volume_bus_removed(Volume *v);
void volume_bus_emit_changed(Volume *v);

/* Fills ERROR for a storage operation that failed with R, named by bus-error's one table:
 * INPUT_ERROR (InvalidSpec, InvalidArgs, or NULL when the call has no input the backend
 * checks) is the call's name for what the caller got wrong or named and is not there.
 * MESSAGE is the backend's explanation, WHAT says what was tried. */
int storage_error(sd_bus_error *error, int r, const char *input_error, const char *message, const char *what);

/* As storage_error(), for a call on pool P: when P was deleted while the call ran, NoSuchObject
 * naming P (the call's -ECANCELED then is not the agent stopping). */
int storage_pool_error(sd_bus_error *error, Pool *p, int r, const char *input_error, const char *message,
                       const char *what);

/* Fills ERROR for a change that the state file could not keep (R from
 * storage_save()): Failed, naming the file and why, and whether the change
 * was undone (UNDO 0) or undoing it failed too (-errno, UNDO_MESSAGE may say
 * why). */
int storage_error_unsaved(sd_bus_error *error, int r, int undo, const char *undo_message, const char *what);

/* Fills ERROR for a call that would make a volume in pool P while what a previous agent left
 * half-made may still be removed: Busy. */
int storage_error_leftovers(sd_bus_error *error, Pool *p);

/* Fills ERROR for a volume that would take pool P past the volumes the agent keeps in one pool:
 * InvalidArgs, naming the limit. */
int storage_error_volumes_max(sd_bus_error *error, Pool *p);

/* Manager methods */
int method_create_storage_pool(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_storage_pools(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_storage_pool(sd_bus_message *msg, void *userdata, sd_bus_error *error);

extern const sd_bus_vtable storage_pool_vtable[];
extern const sd_bus_vtable volume_vtable[];
