/* Worker pool: blocking work runs on threads, completions run on the loop */
#include "worker-pool.h"

#include <pthread.h>
#include <time.h>

#include "log.h"
#include "macro.h"

typedef struct WorkItem {
        MailboxMessage message;   /* delivers the completion to the loop */
        struct WorkItem *next;    /* queue link while waiting for a thread */
        WorkerPool *pool;
        WorkerPriority prio;
        worker_work_fn work;
        worker_done_fn done;
        worker_expired_fn expired;
        sd_event_source *deadline;   /* loop thread only */
        void *userdata;
        int result;
} WorkItem;

typedef struct WorkQueue {
        WorkItem *head, *tail;
} WorkQueue;

struct WorkerPool {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        WorkQueue queue;          /* changes and the agent's own work: taken first */
        WorkQueue reads;
        unsigned reads_running;   /* guarded by lock */
        unsigned max_reads_running;
        bool stopping;
        unsigned n_threads;
        unsigned n_exited;        /* threads that returned; guarded by lock */
        pthread_cond_t exited;
        pthread_t *threads;
        Mailbox *mailbox;
        sd_event *event;
        unsigned max_in_flight;
        unsigned max_reads;       /* of max_in_flight */
        unsigned in_flight;       /* loop thread only: NORMAL and READ items not yet completed */
        unsigned reads_in_flight; /* loop thread only: READ items not yet completed */
        unsigned outstanding;     /* loop thread only: all items not yet completed */
        void (*idle)(void *userdata);
        void *idle_userdata;
};

static void item_complete(void *userdata) {
        WorkItem *item = userdata;
        WorkerPool *p = item->pool;

        if (item->prio != WORKER_INTERNAL)
                p->in_flight--;
        if (item->prio == WORKER_READ)
                p->reads_in_flight--;
        p->outstanding--;
        item->deadline = sd_event_source_disable_unref(item->deadline);
        item->done(item->result, item->userdata);
        free(item);
        if (p->outstanding == 0 && p->idle)
                p->idle(p->idle_userdata);
}

static void queue_push(WorkQueue *q, WorkItem *item) {
        if (q->tail)
                q->tail->next = item;
        else
                q->head = item;
        q->tail = item;
}

static WorkItem *queue_pop(WorkQueue *q) {
        WorkItem *item = q->head;

        if (item) {
                q->head = item->next;
                if (!q->head)
                        q->tail = NULL;
                item->next = NULL;
        }
        return item;
}

/* Under the lock: the next item a thread may run, changes first; a read only
 * while reads leave the threads kept for the rest free. */
static WorkItem *next_item(WorkerPool *p) {
        WorkItem *item = queue_pop(&p->queue);

        if (item || p->reads_running >= p->max_reads_running)
                return item;
        item = queue_pop(&p->reads);
        if (item)
                p->reads_running++;
        return item;
}

static void *worker_main(void *userdata) {
        WorkerPool *p = userdata;

        pthread_mutex_lock(&p->lock);
        for (;;) {
                WorkItem *item = NULL;
                bool read;

                while (!p->stopping && !(item = next_item(p)))
                        pthread_cond_wait(&p->wake, &p->lock);
                if (p->stopping)
                        break;
                read = item->prio == WORKER_READ;
                pthread_mutex_unlock(&p->lock);

                item->result = item->work(item->userdata);
                mailbox_post(p->mailbox, &item->message);

                pthread_mutex_lock(&p->lock);
                if (read) {
                        p->reads_running--;
                        pthread_cond_signal(&p->wake);   /* a read may wait for this thread share */
                }
        }
        p->n_exited++;
        pthread_cond_broadcast(&p->exited);
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int worker_pool_new(sd_event *event, Mailbox *mb, unsigned n_threads, unsigned max_in_flight,
                    WorkerPool **ret) {
        WorkerPool *p;
        int r;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        pthread_cond_init(&p->exited, NULL);
        p->mailbox = mb;
        p->event = sd_event_ref(event);
        p->max_in_flight = max_in_flight;
        p->max_reads = max_in_flight - max_in_flight / 4;
        p->max_reads_running = n_threads > 1 ? n_threads - (n_threads / 4 ?: 1) : n_threads;
        p->threads = calloc(n_threads, sizeof *p->threads);
        if (!p->threads) {
                free(p);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < n_threads; i++) {
                r = -pthread_create(&p->threads[i], NULL, worker_main, p);
                if (r < 0) {
                        /* Idle threads exit at once. */
                        if (worker_pool_stop(p, 5 * 1000 * 1000) >= 0)
                                worker_pool_free(p);
                        return r;
                }
                p->n_threads++;
        }
        *ret = p;
        return 0;
}

static struct timespec deadline_after(uint64_t usec) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t) (usec / 1000000);
        ts.tv_nsec += (long) (usec % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
        }
        return ts;
}

void worker_pool_cancel_queued(WorkerPool *p) {
        WorkItem *cancelled;

        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        /* The changes' queue, then the reads' behind it. */
        cancelled = p->queue.head;
        if (p->queue.tail)
                p->queue.tail->next = p->reads.head;
        else
                cancelled = p->reads.head;
        p->queue = p->reads = (WorkQueue) {};
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);

        while (cancelled) {
                WorkItem *item = cancelled;

                cancelled = item->next;
                item->result = -ECANCELED;
                mailbox_post(p->mailbox, &item->message);
        }
}

int worker_pool_stop(WorkerPool *p, uint64_t timeout_usec) {
        struct timespec deadline = deadline_after(timeout_usec);
        bool all_exited;

        worker_pool_cancel_queued(p);

        pthread_mutex_lock(&p->lock);
        while (p->n_exited < p->n_threads)
                if (pthread_cond_timedwait(&p->exited, &p->lock, &deadline) != 0)
                        break;
        all_exited = p->n_exited == p->n_threads;
        pthread_mutex_unlock(&p->lock);

        if (!all_exited) {
                /* A thread is stuck in a blocking call (a hung libvirtd, a dead NFS
                 * server). Joining would hang the exit, so leave it and the pool. */
                log_warning("%u worker thread(s) still blocked after %llu ms, leaving them behind",
                            p->n_threads - p->n_exited, (unsigned long long) timeout_usec / 1000);
                for (unsigned i = 0; i < p->n_threads; i++)
                        pthread_detach(p->threads[i]);
                return -EBUSY;
        }
        for (unsigned i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        p->n_threads = 0;
        return 0;
}

WorkerPool *worker_pool_free(WorkerPool *p) {
        if (!p)
                return NULL;
        pthread_cond_destroy(&p->exited);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        sd_event_unref(p->event);
        free(p->threads);
        free(p);
        return NULL;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        WorkItem *item = userdata;

        item->expired(item->userdata);
        return 0;
}

int worker_pool_submit(WorkerPool *p, WorkerPriority prio, worker_work_fn work,
                       worker_done_fn done, void *userdata) {
        return worker_pool_submit_with_deadline(p, prio, 0, work, done, NULL, userdata);
}

int worker_pool_submit_with_deadline(WorkerPool *p, WorkerPriority prio, uint64_t timeout_usec,
                                     worker_work_fn work, worker_done_fn done, worker_expired_fn expired,
                                     void *userdata) {
        WorkItem *item;
        int r;

        if (prio != WORKER_INTERNAL && p->in_flight >= p->max_in_flight)
                return -EBUSY;
        if (prio == WORKER_READ && p->reads_in_flight >= p->max_reads)
                return -EBUSY;
        item = calloc(1, sizeof *item);
        if (!item)
                return -ENOMEM;
        *item = (WorkItem) {
                .message = { .fn = item_complete, .userdata = item },
                .pool = p,
                .prio = prio,
                .work = work,
                .done = done,
                .expired = expired,
                .userdata = userdata,
        };
        if (timeout_usec > 0 && expired) {
                r = sd_event_add_time_relative(p->event, &item->deadline, CLOCK_MONOTONIC, timeout_usec, 0,
                                               on_deadline, item);
                if (r < 0) {
                        free(item);
                        return r;
                }
        }

        pthread_mutex_lock(&p->lock);
        if (p->stopping) {
                pthread_mutex_unlock(&p->lock);
                sd_event_source_disable_unref(item->deadline);
                free(item);
                return -ESHUTDOWN;
        }
        queue_push(prio == WORKER_READ ? &p->reads : &p->queue, item);
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);

        if (prio != WORKER_INTERNAL)
                p->in_flight++;
        if (prio == WORKER_READ)
                p->reads_in_flight++;
        p->outstanding++;
        return 0;
}

void worker_pool_set_idle_callback(WorkerPool *p, void (*idle)(void *userdata), void *userdata) {
        p->idle = idle;
        p->idle_userdata = userdata;
}

unsigned worker_pool_outstanding(WorkerPool *p) {
        return p->outstanding;
}

unsigned worker_pool_in_flight(WorkerPool *p) {
        return p->in_flight;
}

unsigned worker_pool_max_in_flight(WorkerPool *p) {
        return p->max_in_flight;
}

unsigned worker_pool_max_reads(WorkerPool *p) {
        return p->max_reads;
}
