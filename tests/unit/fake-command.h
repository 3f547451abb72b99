/* Stand-ins for helper programs (lvs, qemu-img): first on PATH, they print what the test recorded and log their arguments */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "macro.h"

typedef struct FakeCommands {
        char dir[64];
        char *old_path;
} FakeCommands;

/* Each stand-in appends "NAME [arg] [arg]..." to DIR/log, prints DIR/NAME.out
 * and DIR/NAME.err, and exits with DIR/NAME.status (0 when there is none). */
static const char fake_command_script[] =
        "#!/bin/sh\n"
        "d=${0%/*}; n=${0##*/}\n"
        "{ printf '%s' \"$n\"; for a in \"$@\"; do printf ' [%s]' \"$a\"; done; echo; } >> \"$d/log\"\n"
        "[ -f \"$d/$n.out\" ] && cat \"$d/$n.out\"\n"
        "[ -f \"$d/$n.err\" ] && cat \"$d/$n.err\" >&2\n"
        "[ -f \"$d/$n.status\" ] && exit \"$(cat \"$d/$n.status\")\"\n"
        "exit 0\n";

static inline void fake_write(const FakeCommands *f, const char *name, const char *data, size_t size) {
        char path[256];
        FILE *file;

        snprintf(path, sizeof path, "%s/%s", f->dir, name);
        file = fopen(path, "we");
        if (!file || fwrite(data, 1, size, file) != size || fclose(file) != 0) {
                fprintf(stderr, "cannot write %s\n", path);
                abort();
        }
}

static inline void fake_commands_setup(FakeCommands *f) {
        char *path;

        snprintf(f->dir, sizeof f->dir, "/tmp/hostagent-fake-XXXXXX");
        if (!mkdtemp(f->dir))
                abort();
        f->old_path = strdup(getenv("PATH") ?: "/usr/bin:/bin");
        if (!f->old_path || asprintf(&path, "%s:%s", f->dir, f->old_path) < 0)
                abort();
        setenv("PATH", path, 1);
        free(path);
}

static inline void fake_commands_teardown(FakeCommands *f) {
        char command[128];

        setenv("PATH", f->old_path, 1);
        free(f->old_path);
        snprintf(command, sizeof command, "rm -rf -- '%s'", f->dir);
        if (system(command) != 0)
                fprintf(stderr, "cannot remove %s\n", f->dir);
}

/* NAME prints OUT (SIZE bytes: it may hold any byte) and ERR, and exits STATUS. */
static inline void fake_command_bytes(const FakeCommands *f, const char *name, const char *out, size_t size,
                                      const char *err, int status) {
        char file[128], path[256], number[16];

        fake_write(f, name, fake_command_script, strlen(fake_command_script));
        snprintf(path, sizeof path, "%s/%s", f->dir, name);
        if (chmod(path, 0755) < 0)
                abort();
        snprintf(file, sizeof file, "%s.out", name);
        fake_write(f, file, out ?: "", out ? size : 0);
        snprintf(file, sizeof file, "%s.err", name);
        fake_write(f, file, err ?: "", err ? strlen(err) : 0);
        snprintf(file, sizeof file, "%s.status", name);
        snprintf(number, sizeof number, "%d\n", status);
        fake_write(f, file, number, strlen(number));
}

static inline void fake_command(const FakeCommands *f, const char *name, const char *out, const char *err,
                                int status) {
        fake_command_bytes(f, name, out, out ? strlen(out) : 0, err, status);
}

/* What ran, one line each; "" when nothing did. The caller frees it. */
static inline char *fake_commands_log(const FakeCommands *f) {
        char path[256], *text = NULL;
        size_t size = 0;
        FILE *file, *mem = open_memstream(&text, &size);
        int c;

        snprintf(path, sizeof path, "%s/log", f->dir);
        file = fopen(path, "re");
        while (file && (c = fgetc(file)) != EOF)
                fputc(c, mem);
        if (file)
                fclose(file);
        fclose(mem);
        return text;
}

/* Forgets what ran so far. */
static inline void fake_commands_log_clear(const FakeCommands *f) {
        char path[256];

        snprintf(path, sizeof path, "%s/log", f->dir);
        (void) unlink(path);
}

/* NAME runs the shell script BODY (after the logging the others do). */
static inline void fake_command_script_body(const FakeCommands *f, const char *name, const char *body) {
        char path[256], *script;

        if (asprintf(&script, "#!/bin/sh\n"
                              "{ printf '%%s' \"${0##*/}\"; for a in \"$@\"; do printf ' [%%s]' \"$a\"; done; echo; } "
                              ">> \"${0%%/*}/log\"\n%s\n", body) < 0)
                abort();
        fake_write(f, name, script, strlen(script));
        free(script);
        snprintf(path, sizeof path, "%s/%s", f->dir, name);
        if (chmod(path, 0755) < 0)
                abort();
}

/* cmocka setup and teardown of a group whose tests each get a fresh FakeCommands as *STATE. */
static inline int fake_commands_group_setup(void **state) {
        FakeCommands *f = calloc(1, sizeof *f);

        assert_non_null(f);
        fake_commands_setup(f);
        *state = f;
        return 0;
}

static inline int fake_commands_group_teardown(void **state) {
        fake_commands_teardown(*state);
        free(*state);
        return 0;
}

/* The stand-ins ran exactly WANTED ("lvs [--units] [b]\n..."), in order. */
static inline void assert_fake_ran(const FakeCommands *f, const char *wanted) {
        _cleanup_(freep) char *log = fake_commands_log(f);

        if (!streq(log, wanted))
                fail_msg("wanted these commands:\n%s\ngot:\n%s", wanted, log);
}

/* A cmocka test that runs with fresh stand-ins. */
#define fake_commands_unit_test(f) \
        cmocka_unit_test_setup_teardown(f, fake_commands_group_setup, fake_commands_group_teardown)
