/* A state file: the whole state, written off the loop, in order, one write at a time.
 *
 * fsync() of a file and its directory can take long on a busy disk, so the
 * write runs on a worker, while the callers whose replies depend on it wait.
 * One write at a time, each of the whole state as it is when it starts: two
 * writes in flight could land in either order, and an older state would
 * then win. Whoever asks meanwhile is served by the next write, which takes
 * the state as it is then (a group commit): a burst of changes costs two
 * writes, not one each. */
#include "state-file.h"

#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "macro.h"

typedef struct Waiter {
        state_file_saved_fn done;
        void *userdata;
        struct Waiter *next;
} Waiter;

/* One write: its text and the waiters it serves. */
typedef struct Write {
        StateFile *file;
        char *text;
        Waiter *waiters;        /* newest first */
} Write;

struct StateFile {
        WorkerPool *pool;
        char *path;
        const StateFileOps *ops;
        void *userdata;
        Waiter *waiting;        /* newest first: served by the next write */
        bool wanted;            /* a write is due after the one running */
        bool writing;           /* a write runs, or its waiters are being told */
        bool freed;             /* freed while a write ran: that write frees it */
};

int state_file_new(WorkerPool *pool, const char *path, const StateFileOps *ops, void *userdata,
                   StateFile **ret) {
        StateFile *f = calloc(1, sizeof *f);

        if (!f)
                return -ENOMEM;
        f->path = strdup(path);
        if (!f->path) {
                free(f);
                return -ENOMEM;
        }
        f->pool = pool;
        f->ops = ops;
        f->userdata = userdata;
        *ret = f;
        return 0;
}

static void waiters_free(Waiter *waiters) {
        while (waiters) {
                Waiter *w = waiters;

                waiters = w->next;
                free(w);
        }
}

static void state_file_release(StateFile *f) {
        waiters_free(f->waiting);
        free(f->path);
        free(f);
}

StateFile *state_file_free(StateFile *f) {
        if (!f)
                return NULL;
        if (f->writing)
                f->freed = true;   /* the write still holds it */
        else
                state_file_release(f);
        return NULL;
}

const char *state_file_path(const StateFile *f) {
        return f->path;
}

/* Worker thread: touches only what no one changes while it runs. */
static int write_work(void *userdata) {
        Write *w = userdata;

        return atomic_file_write(w->file->path, w->text, strlen(w->text), 0600);
}

/* Tells the waiters, oldest first, how the write went. */
static void waiters_answer(Waiter *waiters, int result) {
        Waiter *in_order = NULL;

        while (waiters) {
                Waiter *w = waiters;

                waiters = w->next;
                w->next = in_order;
                in_order = w;
        }
        while (in_order) {
                Waiter *w = in_order;

                in_order = w->next;
                if (w->done)
                        w->done(result, w->userdata);
                free(w);
        }
}

static void write_start(StateFile *f);

/* Those that undo their change when told the write failed do it before the
 * next write starts, so that write never keeps a change whose caller was
 * told it failed. */
static void write_end(StateFile *f, Waiter *waiters, int result) {
        if (f->ops->written)
                f->ops->written(result, f->userdata);
        waiters_answer(waiters, result);
        f->writing = false;
        if (f->freed) {   /* by a waiter */
                state_file_release(f);
                return;
        }
        if (f->wanted)
                write_start(f);
}

static void write_done(int result, void *userdata) {
        Write *w = userdata;
        StateFile *f = w->file;
        Waiter *waiters = TAKE_PTR(w->waiters);

        /* Cancelled: the daemon is stopping and the workers with it. The
         * replies still wait for the file, so write it here, once. */
        if (result == -ECANCELED && w->text)
                result = write_work(w);
        free(w->text);
        free(w);
        if (f->freed) {
                waiters_free(waiters);
                state_file_release(f);
                return;
        }
        write_end(f, waiters, result);
}

static void write_start(StateFile *f) {
        Write *w = calloc(1, sizeof *w);
        int r;

        f->writing = true;
        f->wanted = false;
        if (!w) {
                write_end(f, TAKE_PTR(f->waiting), -ENOMEM);
                return;
        }
        w->file = f;
        w->waiters = TAKE_PTR(f->waiting);
        w->text = f->ops->snapshot(f->userdata);
        if (!w->text) {
                write_done(-ENOMEM, w);
                return;
        }
        r = worker_pool_submit(f->pool, WORKER_INTERNAL, write_work, write_done, w);
        /* Stopping: written here instead, once. Any other refusal (out of memory) is answered as
         * it is: the loop thread never writes the file otherwise. */
        if (r < 0)
                write_done(r == -ESHUTDOWN ? -ECANCELED : r, w);
}

void state_file_save(StateFile *f, state_file_saved_fn done, void *userdata) {
        if (done) {
                Waiter *w = calloc(1, sizeof *w);

                if (!w) {
                        done(-ENOMEM, userdata);
                        return;
                }
                *w = (Waiter) { .done = done, .userdata = userdata, .next = f->waiting };
                f->waiting = w;
        }
        f->wanted = true;
        if (!f->writing)
                write_start(f);
}
