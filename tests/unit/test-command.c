/* Helper commands: exit status, output, deadlines, cancellation, progress parsing */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/wait.h>

#include "command.h"
#include "macro.h"
#include "qemu-img.h"

static void test_output_and_status(void **state) {
        char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
        CommandResult res = {};

        assert_int_equal(command_run(argv, 10 * 1000 * 1000, NULL, NULL, &res), 0);
        assert_int_equal(res.exit_status, 3);
        assert_string_equal(res.out, "out\n");
        assert_string_equal(res.err, "err");
        command_result_done(&res);
}

static void test_simple_failure_message(void **state) {
        char *argv[] = { "sh", "-c", "echo 'no such volume' >&2; exit 5", NULL };
        char *message = NULL;

        assert_int_equal(command_run_simple(argv, 10 * 1000 * 1000, NULL, &message), -EIO);
        assert_string_equal(message, "no such volume");
        free(message);
}

static void test_missing_program(void **state) {
        char *argv[] = { "hostagent-no-such-program", NULL };
        char *message = NULL;

        assert_int_equal(command_run_simple(argv, 10 * 1000 * 1000, NULL, &message), -ENOENT);
        assert_non_null(strstr(message, "cannot run hostagent-no-such-program"));
        free(message);
}

/* Gone, or a zombie waiting for whoever adopted it. */
static bool process_dead(pid_t pid) {
        char path[64], buf[256];
        FILE *f;
        char *close_paren;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return true;
        buf[0] = 0;
        if (!fgets(buf, sizeof buf, f))
                buf[0] = 0;
        fclose(f);
        close_paren = strrchr(buf, ')');
        return close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

static void test_deadline_kills_the_group(void **state) {
        /* The child's own child must die too: the whole process group is killed. */
        char pidfile[] = "/tmp/hostagent-command-XXXXXX", script[256];
        char *argv[] = { "sh", "-c", script, NULL };
        CommandResult res = {};
        int fd = mkstemp(pidfile), pid = 0;
        FILE *f;

        assert_true(fd >= 0);
        close(fd);
        snprintf(script, sizeof script, "sleep 30 & echo $! > %s; wait", pidfile);
        assert_int_equal(command_run(argv, 300 * 1000, NULL, NULL, &res), -ETIME);
        f = fopen(pidfile, "re");
        assert_non_null(f);
        assert_int_equal(fscanf(f, "%d", &pid), 1);
        fclose(f);
        unlink(pidfile);
        for (int i = 0; i < 100 && !process_dead(pid); i++)
                usleep(20 * 1000);
        assert_true(process_dead(pid));
}

static void *run_script(void *userdata) {
        char *argv[] = { "sh", "-c", userdata, NULL };
        CommandResult res = {};

        if (command_run(argv, 60 * 1000 * 1000, NULL, NULL, &res) == 0)
                command_result_done(&res);
        return NULL;
}

/* The PID a helper wrote into PIDFILE, once it has: 0 if it never does. */
static pid_t wait_pidfile(const char *pidfile) {
        for (int i = 0; i < 500; i++) {
                FILE *f = fopen(pidfile, "re");
                int pid = 0;

                if (f) {
                        if (fscanf(f, "%d", &pid) != 1)
                                pid = 0;
                        fclose(f);
                }
                if (pid > 0)
                        return pid;
                usleep(20 * 1000);
        }
        return 0;
}

static void test_helper_dies_with_the_agent(void **state) {
        /* An "agent" whose worker thread runs a helper is killed with SIGKILL:
         * the helper, in a process group of its own, must not outlive it. */
        char pidfile[] = "/tmp/hostagent-command-XXXXXX", script[256];
        int fd = mkstemp(pidfile);
        pid_t agent, helper;
        bool dead;

        assert_true(fd >= 0);
        close(fd);
        snprintf(script, sizeof script, "echo $$ > %s; exec sleep 30", pidfile);
        agent = fork();
        assert_true(agent >= 0);
        if (agent == 0) {
                pthread_t worker;

                if (pthread_create(&worker, NULL, run_script, script) != 0)
                        _exit(1);
                for (;;)
                        pause();
        }
        helper = wait_pidfile(pidfile);
        unlink(pidfile);
        kill(agent, SIGKILL);
        assert_int_equal(waitpid(agent, NULL, 0), agent);
        assert_true(helper > 0);
        for (int i = 0; i < 250 && !process_dead(helper); i++)
                usleep(20 * 1000);
        dead = process_dead(helper);
        if (!dead)
                kill(helper, SIGKILL);   /* ours: not left running when the test fails */
        assert_true(dead);
}

static int stop_at_second_tick(const char *chunk, size_t size, void *userdata) {
        unsigned *ticks = userdata;

        return chunk || ++*ticks < 2 ? 0 : -ECANCELED;
}

static void test_cancel_through_callback(void **state) {
        char *argv[] = { "sleep", "30", NULL };
        CommandResult res = {};
        unsigned ticks = 0;

        assert_int_equal(command_run(argv, 30 * 1000 * 1000, stop_at_second_tick, &ticks, &res), -ECANCELED);
        assert_int_equal(ticks, 2);
}

static void test_progress_parsing(void **state) {
        const char *chunk = "    (0.00/100%)\r    (12.50/100%)\r    (37.01/100%)\r";

        assert_int_equal(qemu_img_parse_progress(chunk, strlen(chunk)), 37);
        assert_int_equal(qemu_img_parse_progress("    (100.00/100%)\r", 18), 100);
        assert_int_equal(qemu_img_parse_progress("no progress here", 16), -1);
        assert_int_equal(qemu_img_parse_progress("(", 1), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_output_and_status),
                cmocka_unit_test(test_simple_failure_message),
                cmocka_unit_test(test_missing_program),
                cmocka_unit_test(test_deadline_kills_the_group),
                cmocka_unit_test(test_cancel_through_callback),
                cmocka_unit_test(test_helper_dies_with_the_agent),
                cmocka_unit_test(test_progress_parsing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
