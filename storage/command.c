/* Running a helper program (qemu-img, lvcreate, mount) with a deadline */
#include "command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "macro.h"

/* Enough for an LVM JSON report of a big volume group; more is a bug. */
#define COMMAND_OUT_MAX (8u * 1024 * 1024)
/* The end of standard error is where the reason is. */
#define COMMAND_ERR_KEEP 2048u

extern char **environ;

void command_result_done(CommandResult *r) {
        r->out = mfree(r->out);
        r->err = mfree(r->err);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

typedef struct Buffer {
        char *data;
        size_t size;
        size_t limit;
        bool keep_tail;   /* past the limit, keep the newest bytes instead of failing */
} Buffer;

static int buffer_add(Buffer *b, const char *p, size_t n) {
        if (b->keep_tail && n >= b->limit) {
                p += n - b->limit;
                n = b->limit;
                b->size = 0;
        } else if (b->keep_tail && b->size + n > b->limit) {
                size_t drop = b->size + n - b->limit;
                memmove(b->data, b->data + drop, b->size - drop);
                b->size -= drop;
        } else if (b->size + n > b->limit)
                return -E2BIG;

        char *d = realloc(b->data, b->size + n + 1);
        if (!d)
                return -ENOMEM;
        memcpy(d + b->size, p, n);
        b->data = d;
        b->size += n;
        b->data[b->size] = 0;
        return 0;
}

static char *trim_message(char *s) {
        size_t n;

        if (!s)
                return NULL;
        n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
                s[--n] = 0;
        return s;
}

static int spawn(char *const argv[], int out_fd, int err_fd, pid_t *ret_pid) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        /* The helpers' messages are parsed and shown: keep them untranslated. */
        static const char *const extra_env[] = { "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1", NULL };
        _cleanup_(freep) char **env = NULL;
        size_t n = 0;
        int r;

        for (char **e = environ; e && *e; e++)
                n++;
        env = calloc(n + ELEMENTSOF(extra_env), sizeof(char *));
        if (!env)
                return -ENOMEM;
        n = 0;
        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, "LC_", 3) != 0 && strncmp(*e, "LANG", 4) != 0)
                        env[n++] = *e;
        for (size_t i = 0; extra_env[i]; i++)
                env[n++] = (char *) extra_env[i];

        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        sigemptyset(&none);
        sigfillset(&all);
        /* The daemon blocks its signals in every thread; the child must not inherit that,
         * and it must not ignore SIGPIPE either. */
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
        r = -posix_spawnp(ret_pid, argv[0], &fa, &attr, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r;
}

static int wait_exit(pid_t pid) {
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int command_run(char *const argv[], uint64_t timeout_usec, command_output_fn on_output, void *userdata,
                CommandResult *ret) {
        int out_pipe[2] = { -EBADF, -EBADF }, err_pipe[2] = { -EBADF, -EBADF };
        Buffer out = { .limit = COMMAND_OUT_MAX }, err = { .limit = COMMAND_ERR_KEEP, .keep_tail = true };
        uint64_t deadline = now_usec() + timeout_usec;
        bool timed_out = false, too_big = false;
        int stopped = 0;
        pid_t pid;
        int r;

        if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        r = spawn(argv, out_pipe[1], err_pipe[1], &pid);
        close(out_pipe[1]);
        close(err_pipe[1]);
        out_pipe[1] = err_pipe[1] = -EBADF;
        if (r < 0)
                goto fail;

        struct pollfd fds[2] = { { .fd = out_pipe[0], .events = POLLIN }, { .fd = err_pipe[0], .events = POLLIN } };
        while (fds[0].fd >= 0 || fds[1].fd >= 0) {
                uint64_t now = now_usec();
                char chunk[4096];

                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                uint64_t wait = deadline - now < 250000 ? deadline - now : 250000;
                r = poll(fds, 2, (int) ((wait + 999) / 1000));
                if (r < 0 && errno != EINTR) {
                        timed_out = true;   /* cannot watch it any more: treat as stuck */
                        break;
                }
                for (unsigned i = 0; i < 2; i++) {
                        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
                        if (n <= 0) {
                                if (n < 0 && errno == EINTR)
                                        continue;
                                fds[i].fd = -1;
                                continue;
                        }
                        if (i == 0) {
                                if (on_output && stopped == 0)
                                        stopped = on_output(chunk, (size_t) n, userdata);
                                if (!too_big && buffer_add(&out, chunk, (size_t) n) < 0)
                                        too_big = true;
                        } else
                                (void) buffer_add(&err, chunk, (size_t) n);
                }
                if (on_output && stopped == 0)
                        stopped = on_output(NULL, 0, userdata);
                if (stopped < 0)
                        break;
        }
        if (timed_out || stopped < 0)
                (void) kill(-pid, SIGKILL);
        ret->exit_status = wait_exit(pid);
        close(out_pipe[0]);
        close(err_pipe[0]);
        if (timed_out || stopped < 0) {
                free(out.data);
                free(err.data);
                return timed_out ? -ETIME : stopped;
        }
        if (too_big) {
                free(out.data);
                free(err.data);
                return -E2BIG;
        }
        ret->out = out.data ?: strdup("");
        ret->err = trim_message(err.data) ?: strdup("");
        if (!ret->out || !ret->err) {
                command_result_done(ret);
                return -ENOMEM;
        }
        return 0;

fail:
        for (unsigned i = 0; i < 2; i++) {
                if (out_pipe[i] >= 0)
                        close(out_pipe[i]);
                if (err_pipe[i] >= 0)
                        close(err_pipe[i]);
        }
        return r;
}

int command_run_simple(char *const argv[], uint64_t timeout_usec, char **ret_out, char **ret_message) {
        CommandResult res = {};
        int r;

        r = command_run(argv, timeout_usec, NULL, NULL, &res);
        if (r < 0) {
                if (ret_message) {
                        if (r == -ETIME)
                                (void) asprintf(ret_message, "%s did not finish within %llu s and was killed",
                                                argv[0], (unsigned long long) (timeout_usec / 1000000));
                        else
                                (void) asprintf(ret_message, "cannot run %s: %s", argv[0], strerror(-r));
                }
                return r;
        }
        if (res.exit_status != 0) {
                if (ret_message) {
                        if (*res.err)
                                *ret_message = TAKE_PTR(res.err);
                        else
                                (void) asprintf(ret_message, "%s failed (exit status %d)", argv[0],
                                                res.exit_status);
                }
                command_result_done(&res);
                return -EIO;
        }
        if (ret_out)
                *ret_out = TAKE_PTR(res.out);
        command_result_done(&res);
        return 0;
}
