/* mkdir_parents: a directory at PATH afterwards, or an error saying why not */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fs-util.h"
#include "macro.h"

static int setup(void **state) {
        char *dir = strdup("/tmp/hostagent-fs-util-XXXXXX");

        assert_non_null(mkdtemp(dir));
        *state = dir;
        return 0;
}

static int teardown(void **state) {
        char command[256];

        snprintf(command, sizeof command, "rm -rf -- '%s'", (char *) *state);
        assert_int_equal(system(command), 0);
        free(*state);
        return 0;
}

static bool is_dir(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *path_in(void **state, const char *rel) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", (char *) *state, rel) > 0);
        return p;
}

static void touch(const char *path) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fclose(f);
}

static void test_creates_parents(void **state) {
        _cleanup_(freep) char *deep = path_in(state, "a/b/c"), *a = path_in(state, "a"),
                               *slash = path_in(state, "x/y/");
        struct stat st;

        assert_int_equal(mkdir_parents(deep, 0700), 0);
        assert_true(is_dir(a));
        assert_true(is_dir(deep));
        assert_int_equal(stat(deep, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        /* Already there: fine, and left as it is. */
        assert_int_equal(mkdir_parents(deep, 0755), 0);
        assert_int_equal(stat(deep, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        /* A trailing slash is the same directory. */
        assert_int_equal(mkdir_parents(slash, 0755), 0);
        assert_true(is_dir(slash));
        assert_int_equal(mkdir_parents("/", 0755), 0);
        assert_int_equal(mkdir_parents("", 0755), -ENOENT);
}

static void test_symlink_to_directory(void **state) {
        _cleanup_(freep) char *real = path_in(state, "real"), *link = path_in(state, "link"),
                               *under = path_in(state, "link/sub");

        assert_int_equal(mkdir(real, 0755), 0);
        assert_int_equal(symlink(real, link), 0);
        assert_int_equal(mkdir_parents(link, 0755), 0);
        assert_int_equal(mkdir_parents(under, 0755), 0);
        assert_true(is_dir(under));
}

static void test_file_in_the_way(void **state) {
        _cleanup_(freep) char *file = path_in(state, "file"), *under = path_in(state, "file/sub/dir");

        touch(file);
        /* A parent that is a file. */
        assert_int_equal(mkdir_parents(under, 0755), -ENOTDIR);
        /* PATH itself a file: no directory there, as mkdir -p says. */
        assert_int_equal(mkdir_parents(file, 0755), -ENOTDIR);
        assert_false(is_dir(file));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_creates_parents, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlink_to_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_in_the_way, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
