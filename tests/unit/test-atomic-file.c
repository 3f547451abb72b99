/* Atomic file replacement */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "atomic-file.h"
#include "macro.h"

static int setup(void **state) {
        char *dir = strdup("/tmp/hostagent-atomic-XXXXXX");
        assert_non_null(mkdtemp(dir));
        *state = dir;
        return 0;
}

static int teardown(void **state) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *) *state);
        assert_int_equal(system(cmd), 0);
        free(*state);
        return 0;
}

static size_t count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static void test_write_replace_read(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *path = NULL, *data = NULL;
        struct stat st;
        size_t size;

        assert_true(asprintf(&path, "%s/networks.json", dir) > 0);
        assert_int_equal(atomic_file_write(path, "{\"a\":1}", 7, 0600), 0);
        assert_int_equal(atomic_file_write(path, "{\"b\":2}\n", 8, 0640), 0);
        assert_int_equal(atomic_file_read(path, &data, &size), 0);
        assert_int_equal(size, 8);
        assert_string_equal(data, "{\"b\":2}\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        /* No temporary file is left beside it. */
        assert_int_equal(count_entries(dir), 1);
}

static void test_failure_leaves_old_content(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *path = NULL, *data = NULL, *blocked = NULL;

        assert_true(asprintf(&path, "%s/state", dir) > 0);
        assert_int_equal(atomic_file_write(path, "old", 3, 0644), 0);
        /* A directory where the file should go: rename() must fail. */
        assert_true(asprintf(&blocked, "%s/dir-target", dir) > 0);
        assert_int_equal(mkdir(blocked, 0755), 0);
        assert_int_equal(atomic_file_write(blocked, "new", 3, 0644), -EISDIR);
        assert_int_equal(atomic_file_read(path, &data, NULL), 0);
        assert_string_equal(data, "old");
        assert_int_equal(count_entries(dir), 2);
}

static void test_read_missing(void **state) {
        char *data = NULL;

        assert_int_equal(atomic_file_read("/nonexistent/file", &data, NULL), -ENOENT);
        assert_null(data);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_replace_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_leaves_old_content, setup, teardown),
                cmocka_unit_test(test_read_missing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
