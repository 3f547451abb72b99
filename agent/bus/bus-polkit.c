/* polkit: CheckAuthorization asked without waiting, answers kept briefly.
 *
 * A question is a caller (its unique name), an action, its details and
 * whether the caller allowed a prompt. Calls that ask the same question
 * while polkit thinks share one CheckAuthorization; the answer is kept for
 * ANSWER_KEEP_USEC, so a caller pipelining calls costs polkit one check, and
 * is dropped when the caller leaves the bus. Unique names are never reused,
 * so a kept answer can only be stale by a changed rule, for that long. The
 * calls held while polkit thinks count against the connection's one cap of
 * held calls (bus_budget_hold()). */
#include "bus-polkit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-budget.h"
#include "log.h"
#include "macro.h"

#define ANSWER_KEEP_USEC (3ULL * 1000000ULL)
#define PUT_BACK_KEEP_USEC (10ULL * 1000000ULL)   /* longer for calls put back and not seen again yet */
#define QUESTIONS_MAX 1024              /* answered and pending, all callers */
#define INTERACTIVE_TIMEOUT_USEC (120ULL * 1000000ULL)   /* a person types a password */

typedef struct Question {
        char *key;              /* the question, unambiguously encoded */
        char *sender;
        sd_bus_slot *slot;      /* set while polkit has not answered */
        PolkitVerdict verdict;
        sd_bus_error error;     /* POLKIT_FAILED: polkit's own error */
        uint64_t expires_usec;
        bool interactive;       /* the caller allowed a prompt: polkit had its chance */
        sd_bus_message **held;  /* while pending; once answered, the calls put back and not yet seen again */
        size_t n_held;
        struct Question *next;
} Question;

static struct {
        Question *questions;
        size_t n_questions;
        bool said_absent;
} pk;

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static void question_free(Question *q) {
        for (size_t i = 0; i < q->n_held; i++) {
                if (q->slot)   /* still waiting for polkit: held */
                        bus_budget_unhold(q->sender);
                sd_bus_message_unref(q->held[i]);
        }
        free(q->held);
        sd_bus_slot_unref(q->slot);
        sd_bus_error_free(&q->error);
        free(q->sender);
        free(q->key);
        free(q);
}

/* Frees the questions PREDICATE picks; returns how many went. */
static size_t questions_drop(bool (*predicate)(const Question *q, const void *arg), const void *arg) {
        size_t dropped = 0;

        for (Question **p = &pk.questions; *p;) {
                Question *q = *p;
                if (!predicate(q, arg)) {
                        p = &q->next;
                        continue;
                }
                *p = q->next;
                question_free(q);
                pk.n_questions--;
                dropped++;
        }
        return dropped;
}

static bool is_expired(const Question *q, const void *arg) {
        uint64_t now = *(const uint64_t *) arg;

        return !q->slot && q->expires_usec + (q->n_held > 0 ? PUT_BACK_KEEP_USEC : 0) <= now;
}

static bool is_of_sender(const Question *q, const void *arg) {
        return streq(q->sender, arg);
}

static bool is_any(const Question *q, const void *arg) {
        return true;
}

/* Each part with its length in front: no value can pass for a key. */
static char *question_key(const char *sender, const char *action, const char *const *details,
                          bool interactive) {
        char *key = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&key, &size);

        if (!f)
                return NULL;
        fprintf(f, "%d%zu:%s%zu:%s", interactive, strlen(sender), sender, strlen(action), action);
        for (size_t i = 0; details && details[i]; i += 2)
                if (details[i + 1])
                        fprintf(f, "%zu:%s%zu:%s", strlen(details[i]), details[i], strlen(details[i + 1]),
                                details[i + 1]);
        if (fclose(f) != 0) {
                free(key);
                return NULL;
        }
        return key;
}

static Question *question_find(const char *key) {
        for (Question *q = pk.questions; q; q = q->next)
                if (streq(q->key, key))
                        return q;
        return NULL;
}

/* -EBUSY past the connection's cap of held calls. */
static int question_hold(Question *q, sd_bus_message *m) {
        return bus_budget_hold_call(q->sender, &q->held, &q->n_held, m);
}

static bool error_is_absent(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

static void question_read_answer(Question *q, sd_bus_message *reply) {
        int authorized, challenge, r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                if (error_is_absent(e)) {
                        q->verdict = POLKIT_ABSENT;
                        if (!pk.said_absent)
                                log_notice("polkit is not on the bus: only root may change anything until it is");
                        pk.said_absent = true;
                        return;
                }
                q->verdict = POLKIT_FAILED;
                (void) sd_bus_error_copy(&q->error, e);
                return;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                q->verdict = POLKIT_FAILED;
                (void) sd_bus_error_set_errnof(&q->error, -r, "Cannot read polkit's answer: %m");
                return;
        }
        if (pk.said_absent)
                log_notice("polkit is on the bus: it decides again who may change what");
        pk.said_absent = false;
        q->verdict = authorized                     ? POLKIT_ALLOWED
                     : challenge && !q->interactive ? POLKIT_CHALLENGE
                                                    : POLKIT_DENIED;
}

static int on_answer(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Question *q = userdata;

        q->slot = sd_bus_slot_unref(q->slot);
        question_read_answer(q, reply);
        q->expires_usec = now_usec() + ANSWER_KEEP_USEC;
        /* In arrival order, ahead of anything read later: each call runs
         * again from the start and finds this answer. */
        for (size_t i = 0; i < q->n_held; i++) {
                sd_bus_message *m = q->held[i];
                int r = sd_bus_message_rewind(m, true);

                if (r >= 0)
                        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(m), m);
                if (r < 0)
                        log_warning_errno(r, "Cannot requeue a call from %s: %m", q->sender);
                bus_budget_unhold(q->sender);   /* back in the read queue: not held any more */
        }
        return 0;
}

/* A call put back by on_answer() is here again: it gets the answer even if
 * the answer expired meanwhile (a busy loop), so it is never asked about
 * twice. False for any other call. */
static bool question_take_back(Question *q, sd_bus_message *m) {
        for (size_t i = 0; i < q->n_held; i++)
                if (q->held[i] == m) {
                        sd_bus_message_unref(m);
                        q->held[i] = q->held[--q->n_held];
                        return true;
                }
        return false;
}

static int question_ask(Question *q, sd_bus_message *m, const char *action, const char *const *details,
                        bool interactive) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus *bus = sd_bus_message_get_bus(m);
        int r;

        r = sd_bus_message_new_method_call(bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", q->sender,
                                          action);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && details && details[i]; i += 2)
                if (details[i + 1])
                        r = sd_bus_message_append(call, "{ss}", details[i], details[i + 1]);
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0)
                r = sd_bus_message_append(call, "us", (uint32_t) interactive, "");
        if (r < 0)
                return r;
        return sd_bus_call_async(bus, &q->slot, call, on_answer, q, interactive ? INTERACTIVE_TIMEOUT_USEC : 0);
}

/* Takes KEY, also on failure. */
static int question_new(sd_bus_message *m, char *key, const char *action, const char *const *details,
                        bool interactive, Question **ret) {
        Question *q;
        int r;

        q = pk.n_questions < QUESTIONS_MAX ? calloc(1, sizeof *q) : NULL;
        if (!q) {
                free(key);
                return pk.n_questions < QUESTIONS_MAX ? -ENOMEM : -EBUSY;
        }
        q->key = key;
        q->interactive = interactive;
        q->sender = strdup(sd_bus_message_get_sender(m));
        r = q->sender ? question_ask(q, m, action, details, interactive) : -ENOMEM;
        if (r < 0) {
                question_free(q);
                return r;
        }
        q->next = pk.questions;
        pk.questions = q;
        pk.n_questions++;
        *ret = q;
        return 0;
}

int polkit_check(sd_bus_message *m, const char *action, const char *const *details, bool interactive,
                 bool may_hold, PolkitVerdict *ret_verdict, sd_bus_error *ret_error) {
        const char *sender = sd_bus_message_get_sender(m);
        char *key;
        Question *q;
        int r;

        if (!sender)
                return -EBADMSG;
        key = question_key(sender, action, details, interactive);
        if (!key)
                return -ENOMEM;
        /* Old answers go, and the calls they put back are let go of. */
        (void) questions_drop(is_expired, &(uint64_t) { now_usec() });
        q = question_find(key);
        if (q && !q->slot && q->expires_usec <= now_usec() && !question_take_back(q, m))
                q = NULL;   /* expired: asked again (the old one goes with the next sweep) */
        if (q) {
                free(key);
                if (!q->slot) {
                        (void) question_take_back(q, m);
                        *ret_verdict = q->verdict;
                        if (q->verdict == POLKIT_FAILED)
                                (void) sd_bus_error_copy(ret_error, &q->error);
                        return 1;
                }
                if (!may_hold)
                        return -EAGAIN;
        } else if (!may_hold) {
                free(key);
                return -EAGAIN;
        } else {
                r = question_new(m, key, action, details, interactive, &q);
                if (r < 0)
                        return r;
        }
        r = question_hold(q, m);
        return r < 0 ? r : 0;
}

bool polkit_hold_behind(sd_bus_message *m) {
        const char *sender = sd_bus_message_get_sender(m);

        for (Question *q = pk.questions; sender && q; q = q->next)
                if (q->slot && streq(q->sender, sender))
                        return question_hold(q, m) >= 0;
        return false;
}

void polkit_forget_caller(const char *name) {
        (void) questions_drop(is_of_sender, name);
}

void polkit_done(void) {
        (void) questions_drop(is_any, NULL);
        pk = (typeof(pk)) {};
}
