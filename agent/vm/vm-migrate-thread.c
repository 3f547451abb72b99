/* The thread of one migration: libvirt's migration call blocks for the whole
 * migration, so each running migration gets a thread of its own (at most
 * --max-migrations of them): the worker pool's threads stay free for calls.
 * It posts its end to the loop, unless the agent stopped meanwhile
 * ("orphaned"): then it frees itself. LOCK orders the two. */
#include "vm-migrate-thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "virt-cleanup.h"

struct MigrateThread {
        pthread_mutex_t lock;
        bool posted, orphaned;
        MailboxMessage message;
        Mailbox *mailbox;
        migrate_thread_done_fn done;   /* loop thread only */
        void *userdata;
        virConnectPtr conn;
        char uuid[VIR_UUID_STRING_BUFLEN];
        char *destination;
        MigrationOptions options;
        int result;
        char *error;
};

static unsigned threads_running;   /* atomic */

unsigned vm_migration_threads_running(void) {
        return __atomic_load_n(&threads_running, __ATOMIC_SEQ_CST);
}

static void migrate_thread_free(MigrateThread *t) {
        virConnectClosep(&t->conn);
        migration_options_done(&t->options);
        free(t->destination);
        free(t->error);
        pthread_mutex_destroy(&t->lock);
        free(t);
}

static void *migrate_thread_main(void *userdata) {
        MigrateThread *t = userdata;
        bool orphaned;

        t->result = migration_run(t->conn, t->uuid, t->destination, &t->options, &t->error);
        pthread_mutex_lock(&t->lock);
        orphaned = t->orphaned;
        if (!orphaned) {
                t->posted = true;
                mailbox_post(t->mailbox, &t->message);
        }
        pthread_mutex_unlock(&t->lock);
        if (orphaned)
                migrate_thread_free(t);
        __atomic_sub_fetch(&threads_running, 1, __ATOMIC_SEQ_CST);
        return NULL;
}

/* Loop thread: the migration call returned. */
static void migrate_thread_posted(void *userdata) {
        MigrateThread *t = userdata;

        pthread_mutex_lock(&t->lock);   /* the thread has let go of it */
        pthread_mutex_unlock(&t->lock);
        t->done(t->result, t->error, t->userdata);
        migrate_thread_free(t);
}

void migrate_thread_orphan(MigrateThread *t) {
        bool posted;

        pthread_mutex_lock(&t->lock);
        posted = t->posted;
        t->orphaned = !posted;
        pthread_mutex_unlock(&t->lock);
        if (posted) {
                mailbox_cancel(t->mailbox, &t->message);
                migrate_thread_free(t);
        }
}

static int migrate_thread_spawn(MigrateThread *t) {
        pthread_attr_t attr;
        pthread_t thread;
        int r;

        __atomic_add_fetch(&threads_running, 1, __ATOMIC_SEQ_CST);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&thread, &attr, migrate_thread_main, t);
        pthread_attr_destroy(&attr);
        if (r < 0)
                __atomic_sub_fetch(&threads_running, 1, __ATOMIC_SEQ_CST);
        return r;
}

int migrate_thread_start(Mailbox *mailbox, virConnectPtr conn, const char *uuid, const char *dest_uri,
                         const MigrationOptions *o, migrate_thread_done_fn done, void *userdata,
                         MigrateThread **ret) {
        MigrateThread *t;
        int r;

        if (!conn)
                return -ENOTCONN;
        t = calloc(1, sizeof *t);
        if (!t) {
                virConnectClosep(&conn);
                return -ENOMEM;
        }
        pthread_mutex_init(&t->lock, NULL);
        t->message = (MailboxMessage) { .fn = migrate_thread_posted, .userdata = t };
        t->mailbox = mailbox;
        t->done = done;
        t->userdata = userdata;
        t->conn = conn;
        t->options = *o;
        t->options.migration_uri = NULL;
        snprintf(t->uuid, sizeof t->uuid, "%s", uuid);
        if (!(t->destination = strdup(dest_uri)) ||
            (o->migration_uri && !(t->options.migration_uri = strdup(o->migration_uri)))) {
                migrate_thread_free(t);
                return -ENOMEM;
        }
        r = migrate_thread_spawn(t);
        if (r < 0) {
                migrate_thread_free(t);
                return r;
        }
        *ret = t;
        return 0;
}
