/* The thread of one migration: it sits in libvirt's blocking migration call */
#pragma once

#include <libvirt/libvirt.h>

#include "mailbox.h"
#include "migration.h"

typedef struct MigrateThread MigrateThread;

/* Loop thread: libvirt's call returned RESULT (0 or -errno) with libvirt's
 * words ERROR (may be NULL). The thread is gone once it returns. */
typedef void (*migrate_thread_done_fn)(int result, const char *error, void *userdata);

/* Starts migrating the domain UUID of CONN (a reference, taken over) to
 * DEST_URI with O (copied) on a thread of its own; DONE comes through
 * MAILBOX. -ENOTCONN when CONN is NULL. */
int migrate_thread_start(Mailbox *mailbox, virConnectPtr conn, const char *uuid, const char *dest_uri,
                         const MigrationOptions *o, migrate_thread_done_fn done, void *userdata,
                         MigrateThread **ret);

/* The agent stops: DONE will not come; the thread goes on alone until
 * libvirt returns (libvirt carries the migration on). */
void migrate_thread_orphan(MigrateThread *t);

/* Migration threads still inside libvirt (they outlive a stop). */
unsigned vm_migration_threads_running(void);
