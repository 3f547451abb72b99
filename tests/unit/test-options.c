/* Options: command line over configuration file over defaults */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "macro.h"
#include "options.h"

static char *write_config(const char *text) {
        char *path = strdup("/tmp/hostagent-options-XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        return path;
}

static int parse(Options *o, int argc, char **argv) {
        options_init(o);
        return options_parse(o, argc, argv);
}

static void test_defaults(void **state) {
        char *argv[] = { "hostagentd", "--config=/dev/null", NULL };
        Options o;

        assert_int_equal(parse(&o, 2, argv), 0);
        assert_int_equal(o.action, OPTIONS_RUN);
        assert_string_equal(o.libvirt_uri, OPTIONS_DEFAULT_LIBVIRT_URI);
        assert_string_equal(o.state_dir, OPTIONS_DEFAULT_STATE_DIR);
        assert_string_equal(o.ovsdb, OPTIONS_DEFAULT_OVSDB);
        assert_false(o.user_bus);
        assert_int_equal(o.workers, OPTIONS_DEFAULT_WORKERS);
        assert_int_equal(o.call_timeout_sec, OPTIONS_DEFAULT_CALL_TIMEOUT_SEC);
        assert_int_equal(o.detach_timeout_sec, 30);   /* the default */
        assert_int_equal(o.migration_bandwidth_mib, 0);
        assert_int_equal(o.max_migrations, 2);
        assert_int_equal(o.guest_info_interval_sec, 30);   /* the default */
        assert_int_equal(o.reply_backlog_kib, 64);
        assert_int_equal(o.listing_rate_kib, 256);
        options_done(&o);
}

/* --guest-info-interval: 0 (never) .. 86400 s. */
static void test_guest_info_interval(void **state) {
        char *never[] = { "hostagentd", "--config=/dev/null", "--guest-info-interval=0", NULL };
        char *two[] = { "hostagentd", "--config=/dev/null", "--guest-info-interval=2", NULL };
        char *big[] = { "hostagentd", "--config=/dev/null", "--guest-info-interval=86401", NULL };
        char *word[] = { "hostagentd", "--config=/dev/null", "--guest-info-interval=often", NULL };
        Options o;

        assert_int_equal(parse(&o, 3, never), 0);
        assert_int_equal(o.guest_info_interval_sec, 0);
        options_done(&o);
        assert_int_equal(parse(&o, 3, two), 0);
        assert_int_equal(o.guest_info_interval_sec, 2);
        options_done(&o);
        assert_int_equal(parse(&o, 3, big), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, word), -EINVAL);
        options_done(&o);
}

/* --reply-backlog: KiB, 0 (a listing waits for an empty way) up to 1 GiB. */
static void test_reply_backlog(void **state) {
        char *zero[] = { "hostagentd", "--config=/dev/null", "--reply-backlog=0", NULL };
        char *big[] = { "hostagentd", "--config=/dev/null", "--reply-backlog=1048577", NULL };
        char *word[] = { "hostagentd", "--config=/dev/null", "--reply-backlog=lots", NULL };
        Options o;

        assert_int_equal(parse(&o, 3, zero), 0);
        assert_int_equal(o.reply_backlog_kib, 0);
        options_done(&o);
        assert_int_equal(parse(&o, 3, big), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, word), -EINVAL);
        options_done(&o);
}

static void test_migration_options(void **state) {
        char *good[] = { "hostagentd", "--config=/dev/null", "--migration-bandwidth=16", "--max-migrations=1", NULL };
        char *zero[] = { "hostagentd", "--config=/dev/null", "--max-migrations=0", NULL };
        char *big[] = { "hostagentd", "--config=/dev/null", "--migration-bandwidth=100001", NULL };
        Options o;

        assert_int_equal(parse(&o, 4, good), 0);
        assert_int_equal(o.migration_bandwidth_mib, 16);
        assert_int_equal(o.max_migrations, 1);
        options_done(&o);
        assert_int_equal(parse(&o, 3, zero), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, big), -EINVAL);
        options_done(&o);
}

/* --detach-timeout: from the file, the command line over it, 1..3600. */
static void test_detach_timeout(void **state) {
        _cleanup_(freep) char *path = write_config("detach-timeout = 120\n");
        _cleanup_(freep) char *config = NULL;
        assert_true(asprintf(&config, "--config=%s", path) > 0);
        char *file[] = { "hostagentd", config, NULL };
        char *argv[] = { "hostagentd", config, "--detach-timeout=3", NULL };
        char *zero[] = { "hostagentd", "--config=/dev/null", "--detach-timeout=0", NULL };
        char *big[] = { "hostagentd", "--config=/dev/null", "--detach-timeout=3601", NULL };
        Options o;

        assert_int_equal(parse(&o, 2, file), 0);
        assert_int_equal(o.detach_timeout_sec, 120);
        options_done(&o);
        assert_int_equal(parse(&o, 3, argv), 0);
        assert_int_equal(o.detach_timeout_sec, 3);
        options_done(&o);
        assert_int_equal(parse(&o, 3, zero), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, big), -EINVAL);
        options_done(&o);
        unlink(path);
}

static void test_command_line_wins_over_file(void **state) {
        _cleanup_(freep) char *path = write_config(
                "# comment\n\n libvirt-uri = test:///default \nstate-dir=/srv/from-file\nlog-level = debug\n");
        _cleanup_(freep) char *config = NULL;
        assert_true(asprintf(&config, "--config=%s", path) > 0);
        char *argv[] = { "hostagentd", "--state-dir=/srv/from-argv", config, "--user", NULL };
        Options o;

        assert_int_equal(parse(&o, 4, argv), 0);
        assert_string_equal(o.libvirt_uri, "test:///default");   /* file only */
        assert_string_equal(o.state_dir, "/srv/from-argv");      /* both: argv wins */
        assert_int_equal(o.log_level, 7);
        assert_true(o.user_bus);
        options_done(&o);
        unlink(path);
}

static void test_bad_values_are_refused(void **state) {
        char *relative[] = { "hostagentd", "--config=/dev/null", "--state-dir=relative", NULL };
        char *level[] = { "hostagentd", "--config=/dev/null", "--log-level=loud", NULL };
        char *ovsdb[] = { "hostagentd", "--config=/dev/null", "--ovsdb=tcp:1.2.3.4:6640", NULL };
        char *workers[] = { "hostagentd", "--config=/dev/null", "--workers=0", NULL };
        char *timeout[] = { "hostagentd", "--config=/dev/null", "--call-timeout=0", NULL };
        char *unknown[] = { "hostagentd", "--config=/dev/null", "--frobnicate", NULL };
        char *not_utf8[] = { "hostagentd", "--config=/dev/null", "--libvirt-uri=qemu:///\xff", NULL };
        char *extra[] = { "hostagentd", "--config=/dev/null", "stray", NULL };
        char *missing[] = { "hostagentd", "--config=/nonexistent/hostagentd.conf", NULL };
        Options o;

        assert_int_equal(parse(&o, 3, relative), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, level), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, ovsdb), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, workers), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, timeout), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, unknown), -EINVAL);
        options_done(&o);
        assert_int_equal(parse(&o, 3, not_utf8), -EINVAL);   /* LibvirtURI could not be shown on the bus */
        options_done(&o);
        assert_int_equal(parse(&o, 3, extra), -EINVAL);
        options_done(&o);
        /* An explicitly named file must exist; the default one may be missing. */
        assert_int_equal(parse(&o, 2, missing), -ENOENT);
        options_done(&o);
}

static void test_bad_config_file(void **state) {
        _cleanup_(freep) char *noeq = write_config("libvirt-uri test:///default\n");
        _cleanup_(freep) char *unknown = write_config("colour = blue\n");
        Options o;

        options_init(&o);
        assert_int_equal(options_load_config(&o, noeq, true), -EINVAL);
        assert_int_equal(options_load_config(&o, unknown, true), -EINVAL);
        options_done(&o);
        unlink(noeq);
        unlink(unknown);
}

static void test_actions(void **state) {
        char *help[] = { "hostagentd", "--config=/dev/null", "--help", NULL };
        char *introspect[] = { "hostagentd", "--config=/dev/null", "--bus-introspect=list", NULL };
        Options o;

        assert_int_equal(parse(&o, 3, help), 0);
        assert_int_equal(o.action, OPTIONS_SHOW_HELP);
        options_done(&o);
        assert_int_equal(parse(&o, 3, introspect), 0);
        assert_int_equal(o.action, OPTIONS_BUS_INTROSPECT);
        assert_string_equal(o.bus_introspect, "list");
        options_done(&o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_detach_timeout),
                cmocka_unit_test(test_guest_info_interval),
                cmocka_unit_test(test_migration_options),
                cmocka_unit_test(test_reply_backlog),
                cmocka_unit_test(test_command_line_wins_over_file),
                cmocka_unit_test(test_bad_values_are_refused),
                cmocka_unit_test(test_bad_config_file),
                cmocka_unit_test(test_actions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
