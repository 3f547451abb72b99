/* Running a helper program (qemu-img, lvcreate, mount) with a deadline */
#include "command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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

/* ARGV0 as execvp() would find it, looked up before fork(): the child may
 * only make async-signal-safe calls, and a PATH search allocates. */
static int find_program(const char *argv0, char **ret) {
        const char *search = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";

        if (strchr(argv0, '/')) {
                *ret = strdup(argv0);
                return *ret ? 0 : -ENOMEM;
        }
        for (const char *p = search; *p;) {
                size_t n = strcspn(p, ":");
                char *candidate;
                struct stat st;

                if (asprintf(&candidate, "%.*s/%s", (int) n, n > 0 ? p : ".", argv0) < 0)
                        return -ENOMEM;
                if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0) {
                        *ret = candidate;
                        return 0;
                }
                free(candidate);
                p += n + (p[n] == ':');
        }
        return -ENOENT;
}

/* The helpers' messages are parsed and shown: keep them untranslated. */
static char **child_environment(void) {
        static const char *const extra_env[] = { "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1", NULL };
        char **env;
        size_t n = 0;

        for (char **e = environ; e && *e; e++)
                n++;
        env = calloc(n + ELEMENTSOF(extra_env), sizeof(char *));
        if (!env)
                return NULL;
        n = 0;
        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, "LC_", 3) != 0 && strncmp(*e, "LANG", 4) != 0)
                        env[n++] = *e;
        for (size_t i = 0; extra_env[i]; i++)
                env[n++] = (char *) extra_env[i];
        return env;
}

/* FD becomes TARGET, kept across exec (a dup2() onto itself would keep O_CLOEXEC). */
static int child_move_fd(int fd, int target) {
        if (fd == target)
                return fcntl(fd, F_SETFD, 0);
        return dup2(fd, target);
}

/* The child between fork() and exec: async-signal-safe calls only. A failure
 * is written to REPORT_FD (closed on exec) as an errno. */
static _Noreturn void child_exec(const char *program, char *const argv[], char **env, int out_fd, int err_fd,
                                  int report_fd, pid_t parent) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;
        int null_fd, e;

        /* SIGKILL when the parent *thread* ends, not the process. That thread
         * (a worker of the pool, or whichever thread called command_run())
         * waits in command_run() until this child has exited, whatever happens
         * (deadline, cancel, too much output), so it cannot end first while the
         * agent lives, and how long worker threads live does not matter: the
         * signal comes only when the agent itself dies (kill -9, a crash, a
         * cgroup kill), and a qemu-img must not go on writing into a volume the
         * next agent publishes. getppid() catches a parent that died before the
         * prctl() took effect. Only this child is covered, not what it forks:
         * qemu-img and lvm2 run alone. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                goto fail;
        /* Its own process group, so a deadline can kill everything it started. */
        if (setpgid(0, 0) < 0)
                goto fail;
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0 || child_move_fd(null_fd, STDIN_FILENO) < 0 || child_move_fd(out_fd, STDOUT_FILENO) < 0 ||
            child_move_fd(err_fd, STDERR_FILENO) < 0)
                goto fail;
        /* The daemon blocks its signals in every thread and ignores SIGPIPE;
         * the helper must not inherit either. */
        for (int sig = 1; sig < NSIG; sig++)
                (void) sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        execve(program, argv, env);
fail:
        e = errno;
        (void) !write(report_fd, &e, sizeof e);
        _exit(127);
}

/* fork() rather than posix_spawn(): only a child of our own can ask to die
 * with its parent (PR_SET_PDEATHSIG). */
static int spawn(char *const argv[], int out_fd, int err_fd, pid_t *ret_pid) {
        _cleanup_(freep) char **env = child_environment();
        _cleanup_(freep) char *program = NULL;
        int report[2], e = 0;
        pid_t parent = getpid(), pid;
        ssize_t n;
        int r;

        if (!env)
                return -ENOMEM;
        r = find_program(argv[0], &program);
        if (r < 0)
                return r;
        if (pipe2(report, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(report[0]);
                close(report[1]);
                return r;
        }
        if (pid == 0)
                child_exec(program, argv, env, out_fd, err_fd, report[1], parent);
        close(report[1]);
        /* Nothing to read once exec closed the pipe: the program runs. */
        while ((n = read(report[0], &e, sizeof e)) < 0 && errno == EINTR)
                ;
        close(report[0]);
        if (n == (ssize_t) sizeof e) {
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                return -(e ?: EIO);
        }
        *ret_pid = pid;
        return 0;
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
        pid_t pid = 0;   /* set by spawn() whenever it succeeds */
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
        ret->out_size = out.size;
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
