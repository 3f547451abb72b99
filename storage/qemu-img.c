/* Image work through qemu-img: create, inspect, resize, copy */
#include "qemu-img.h"

#include <json-c/json.h>
#include <stdio.h>

#include "bus-text.h"
#include "command.h"
#include "json-cleanup.h"
#include "macro.h"

void volume_info_done(VolumeInfo *v) {
        free(v->name);
        free(v->format);
        free(v->backing);
        *v = (VolumeInfo) {};
}

void volume_info_array_free(VolumeInfo *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                volume_info_done(&v[i]);
        free(v);
}

int qemu_img_create(const char *location, const char *format, uint64_t size, const char *backing,
                    const char *backing_format, const char *preallocation, uint64_t timeout_usec,
                    char **ret_message) {
        char size_arg[32], *argv[16];
        _cleanup_(freep) char *options = NULL;
        size_t n = 0;

        snprintf(size_arg, sizeof size_arg, "%llu", (unsigned long long) size);
        if (preallocation && asprintf(&options, "preallocation=%s", preallocation) < 0)
                return -ENOMEM;
        argv[n++] = (char *) "qemu-img";
        argv[n++] = (char *) "create";
        argv[n++] = (char *) "-q";
        argv[n++] = (char *) "-f";
        argv[n++] = (char *) format;
        if (options) {
                argv[n++] = (char *) "-o";
                argv[n++] = options;
        }
        if (backing) {
                argv[n++] = (char *) "-b";
                argv[n++] = (char *) backing;
                argv[n++] = (char *) "-F";
                argv[n++] = (char *) backing_format;
        }
        /* A location that looks like an option must never be taken for one. */
        argv[n++] = (char *) "--";
        argv[n++] = (char *) location;
        argv[n++] = size_arg;
        argv[n] = NULL;
        return command_run_simple(argv, timeout_usec, NULL, ret_message);
}

/* A size in the report: 0 when left out (actual-size, when the protocol
 * cannot tell), else a byte count qemu could hold (an int64). */
static int get_u64(json_object *o, const char *key, uint64_t *ret) {
        json_object *v;

        *ret = 0;
        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
            json_object_get_uint64(v) > INT64_MAX)
                return -EBADMSG;
        *ret = json_object_get_uint64(v);
        return 0;
}

int qemu_img_info(const char *location, uint64_t timeout_usec, VolumeInfo *ret, char **ret_message) {
        /* -U: a running guest holds a lock on its disk, and reading the header is safe. */
        char *argv[] = { "qemu-img", "info", "--output=json", "-U", "--", (char *) location, NULL };
        _cleanup_(freep) char *out = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *v;
        uint64_t capacity, allocation;
        int r;

        r = command_run_simple(argv, timeout_usec, &out, ret_message);
        if (r < 0)
                return r;
        o = json_tokener_parse(out);
        if (!o || !json_object_object_get_ex(o, "format", &v) || !json_object_is_type(v, json_type_string) ||
            get_u64(o, "virtual-size", &capacity) < 0 || get_u64(o, "actual-size", &allocation) < 0) {
                if (ret_message)
                        *ret_message = strdup("qemu-img info printed no report that can be read");
                return -EIO;
        }
        free(ret->format);
        ret->format = strdup(json_object_get_string(v));
        ret->capacity = capacity;
        ret->allocation = allocation;
        free(ret->backing);
        ret->backing = NULL;
        if (json_object_object_get_ex(o, "full-backing-filename", &v) ||
            json_object_object_get_ex(o, "backing-filename", &v))
                /* Shown as Volume.BackingVolume when outside the pool, and a path may hold
                 * any bytes. qemu-img's JSON replaces what is not UTF-8 today; we do not
                 * rely on that. */
                ret->backing = bus_text_dup(json_object_get_string(v));
        return ret->format ? 0 : -ENOMEM;
}

int qemu_img_resize(const char *location, const char *format, uint64_t size, uint64_t timeout_usec,
                    char **ret_message) {
        char size_arg[32];
        char *argv[] = { "qemu-img", "resize", "-q", "-f", (char *) format, "--", (char *) location, size_arg, NULL };

        snprintf(size_arg, sizeof size_arg, "%llu", (unsigned long long) size);
        return command_run_simple(argv, timeout_usec, NULL, ret_message);
}

int qemu_img_parse_progress(const char *chunk, size_t size) {
        int last = -1;

        for (size_t i = 0; i < size; i++) {
                unsigned whole, frac;
                char buf[24];
                size_t n;

                if (chunk[i] != '(')
                        continue;
                n = size - i - 1 < sizeof buf - 1 ? size - i - 1 : sizeof buf - 1;
                memcpy(buf, chunk + i + 1, n);
                buf[n] = 0;
                if (sscanf(buf, "%u.%u/100%%", &whole, &frac) == 2 && whole <= 100)
                        last = (int) whole;
        }
        return last;
}

typedef struct ProgressForward {
        volume_progress_fn progress;
        void *userdata;
        const atomic_bool *cancel;
        int last;
} ProgressForward;

static int on_convert_output(const char *chunk, size_t size, void *userdata) {
        ProgressForward *f = userdata;
        int p = chunk ? qemu_img_parse_progress(chunk, size) : -1;

        if (f->cancel && atomic_load(f->cancel))
                return -ECANCELED;
        if (p >= 0 && p != f->last && f->progress) {
                f->last = p;
                f->progress((unsigned) p, f->userdata);
        }
        return 0;
}

int qemu_img_convert(const char *source, const char *source_format, const char *dest, const char *format,
                     bool target_exists, uint64_t timeout_usec, volume_progress_fn progress, void *userdata,
                     const atomic_bool *cancel, char **ret_message) {
        char *argv[16];
        ProgressForward f = { .progress = progress, .userdata = userdata, .cancel = cancel, .last = -1 };
        CommandResult res = {};
        size_t n = 0;
        int r;

        argv[n++] = "qemu-img";
        argv[n++] = "convert";
        argv[n++] = "-p";
        argv[n++] = "-f";
        argv[n++] = (char *) source_format;
        argv[n++] = "-O";
        argv[n++] = (char *) format;
        if (target_exists)
                argv[n++] = "-n";
        argv[n++] = "--";
        argv[n++] = (char *) source;
        argv[n++] = (char *) dest;
        argv[n] = NULL;

        r = command_run(argv, timeout_usec, on_convert_output, &f, &res);
        if (r == -ECANCELED) {
                if (ret_message)
                        *ret_message = strdup("cancelled");
                return r;
        }
        if (r < 0) {
                if (ret_message)
                        (void) asprintf(ret_message, r == -ETIME ? "qemu-img convert did not finish in time"
                                                                 : "cannot run qemu-img: %s", strerror(-r));
                return r;
        }
        if (res.exit_status != 0) {
                if (ret_message)
                        *ret_message = *res.err ? TAKE_PTR(res.err) : strdup("qemu-img convert failed");
                command_result_done(&res);
                return -EIO;
        }
        command_result_done(&res);
        return 0;
}
