/* A stand-in ovsdb-server for unit tests: answers each request with the next recorded reply, and keeps what it got */
#pragma once

#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "json-cleanup.h"
#include "macro.h"
#include "ovsdb.h"

/* A stand-in ovsdb-server: the Nth request it gets is answered with
 * replies[N] ("$ID" is the request's id; "" is silence; "CLOSE" hangs up). */
#define FAKE_MAX 32
typedef struct FakeServer {
        char dir[64];
        char address[128];
        int listen_fd;
        int conn_fd;                    /* the server's end of a socketpair, or -1 */
        pthread_t thread;
        atomic_bool stop;
        const char *const *replies;
        size_t n_replies;
        size_t next;
        bool repeat_last;               /* past the end, answer with the last one again */
        char *requests[FAKE_MAX];       /* as received, the id replaced by "$ID" */
        size_t n_requests;
        char *answers[FAKE_MAX];        /* messages without a method: answers to our echo requests */
        size_t n_answers;
} FakeServer;

static int send_text(int fd, const char *text) {
        size_t n = strlen(text);

        while (n > 0) {
                ssize_t w = send(fd, text, n, MSG_NOSIGNAL);
                if (w < 0)
                        return -errno;
                text += w;
                n -= (size_t) w;
        }
        return 0;
}

/* TEMPLATE with every "$ID" replaced by ID. */
static char *expand(const char *template, const char *id) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        for (const char *p = template; *p;) {
                const char *hit = strstr(p, "$ID");
                size_t n = hit ? (size_t) (hit - p) : strlen(p);

                fwrite(p, 1, n, f);
                if (!hit)
                        break;
                fputs(id, f);
                p = hit + 3;
        }
        fclose(f);
        return out;
}

typedef struct Served {
        FakeServer *server;
        int fd;
        bool hang_up;
} Served;

static void on_request(json_object *msg, void *userdata) {
        Served *c = userdata;
        FakeServer *s = c->server;
        _cleanup_(freep) char *id = NULL, *reply = NULL;
        json_object *v;
        const char *template;

        if (c->hang_up)
                return;
        if (!json_object_object_get_ex(msg, "method", NULL)) {
                if (s->n_answers < FAKE_MAX)
                        s->answers[s->n_answers++] = strdup(json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
                return;
        }
        json_object_object_get_ex(msg, "id", &v);
        id = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        json_object_object_add(msg, "id", json_object_new_string("$ID"));
        if (s->n_requests < FAKE_MAX)
                s->requests[s->n_requests++] = strdup(json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
        template = s->next < s->n_replies ? s->replies[s->next++]
                   : s->repeat_last && s->n_replies > 0 ? s->replies[s->n_replies - 1] : "";
        if (streq(template, "CLOSE")) {
                c->hang_up = true;
                return;
        }
        reply = expand(template, id);
        (void) send_text(c->fd, reply);
}

static void serve(FakeServer *s, int fd) {
        Served c = { .server = s, .fd = fd };
        OvsdbReader reader;

        assert_int_equal(ovsdb_reader_init(&reader), 0);
        while (!c.hang_up) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char buf[4096];
                ssize_t n;

                if (poll(&p, 1, 20) == 0) {
                        if (atomic_load(&s->stop))
                                break;
                        continue;
                }
                n = recv(fd, buf, sizeof buf, 0);
                if (n <= 0 || ovsdb_reader_feed(&reader, buf, (size_t) n, on_request, &c) < 0)
                        break;
        }
        ovsdb_reader_done(&reader);
}

static void *server_thread(void *userdata) {
        FakeServer *s = userdata;

        if (s->conn_fd >= 0) {
                serve(s, s->conn_fd);
                /* Hung up: the client sees the end of the stream. */
                shutdown(s->conn_fd, SHUT_RDWR);
                return NULL;
        }
        while (!atomic_load(&s->stop)) {
                struct pollfd p = { .fd = s->listen_fd, .events = POLLIN };
                int fd;

                if (poll(&p, 1, 20) <= 0)
                        continue;
                fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                serve(s, fd);
                close(fd);
        }
        return NULL;
}

/* A server on a socket file: for the functions that connect themselves. */
static FakeServer *fake_server_listen(const char *const *replies, size_t n_replies) {
        FakeServer *s = calloc(1, sizeof *s);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        assert_non_null(s);
        *s = (FakeServer) { .replies = replies, .n_replies = n_replies, .conn_fd = -1 };
        snprintf(s->dir, sizeof s->dir, "/tmp/hostagent-ovsdb-XXXXXX");
        assert_non_null(mkdtemp(s->dir));
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/db.sock", s->dir);
        snprintf(s->address, sizeof s->address, "unix:%s", sa.sun_path);
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->listen_fd >= 0);
        assert_int_equal(bind(s->listen_fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(s->listen_fd, 8), 0);
        assert_int_equal(pthread_create(&s->thread, NULL, server_thread, s), 0);
        return s;
}

/* A server on one end of a socketpair; RET_FD is the client's end. */
static FakeServer *fake_server_pair(const char *const *replies, size_t n_replies, int *ret_fd) {
        FakeServer *s = calloc(1, sizeof *s);
        int fds[2];

        assert_non_null(s);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        *s = (FakeServer) { .replies = replies, .n_replies = n_replies, .listen_fd = -1, .conn_fd = fds[1] };
        assert_int_equal(pthread_create(&s->thread, NULL, server_thread, s), 0);
        *ret_fd = fds[0];
        return s;
}

/* Stops the server once it has read all that was sent to it. */
static void fake_server_stop(FakeServer *s) {
        atomic_store(&s->stop, true);
        assert_int_equal(pthread_join(s->thread, NULL), 0);
        if (s->listen_fd >= 0) {
                char path[128];

                close(s->listen_fd);
                snprintf(path, sizeof path, "%s/db.sock", s->dir);
                unlink(path);
                rmdir(s->dir);
        }
        if (s->conn_fd >= 0)
                close(s->conn_fd);
}

static void fake_server_free(FakeServer *s) {
        for (size_t i = 0; i < s->n_requests; i++)
                free(s->requests[i]);
        for (size_t i = 0; i < s->n_answers; i++)
                free(s->answers[i]);
        free(s);
}
