/* Reading validated fields out of JSON specs, with errors that name the field */
#include "json-field.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "macro.h"

int json_field_fail(char **ret_error, const char *field, const char *format, ...) {
        _cleanup_(freep) char *why = NULL;
        va_list ap;

        va_start(ap, format);
        if (vasprintf(&why, format, ap) < 0)
                why = NULL;
        va_end(ap);
        if (ret_error && asprintf(ret_error, "%s: %s", field, why ?: "invalid") < 0)
                *ret_error = NULL;
        return -EINVAL;
}

static void join_choices(const char *const *choices, char *buf, size_t size) {
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; choices[i] && used < size; i++)
                used += (size_t) snprintf(buf + used, size - used, "%s%s", i ? ", " : "", choices[i]);
}

int json_field_string(json_object *v, const char *field, size_t max, const char **ret, char **ret_error) {
        const char *s;

        if (!json_object_is_type(v, json_type_string))
                return json_field_fail(ret_error, field, "must be a string");
        s = json_object_get_string(v);
        if (strlen(s) != (size_t) json_object_get_string_len(v))
                return json_field_fail(ret_error, field, "must not contain NUL characters");
        if (strlen(s) > max)
                return json_field_fail(ret_error, field, "must be at most %zu bytes long", max);
        *ret = s;
        return 0;
}

int json_field_enum(json_object *v, const char *field, const char *const *choices, const char **ret,
                    char **ret_error) {
        const char *s;
        char list[256];
        int r;

        r = json_field_string(v, field, 64, &s, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; choices[i]; i++)
                if (streq(s, choices[i])) {
                        *ret = choices[i];
                        return 0;
                }
        join_choices(choices, list, sizeof list);
        return json_field_fail(ret_error, field, "must be one of %s", list);
}

int json_field_uint(json_object *v, const char *field, uint64_t min, uint64_t max, uint64_t *ret,
                    char **ret_error) {
        uint64_t u;

        if (!json_object_is_type(v, json_type_int))
                return json_field_fail(ret_error, field, "must be an integer");
        /* json-c keeps integers past INT64_MAX as uint64 (get_int64 would clamp
         * them to INT64_MAX), and clamps whatever does not fit in 64 bits to
         * UINT64_MAX without a word: that value cannot be told from a larger one. */
        u = json_object_get_uint64(v);
        if (json_object_get_int64(v) < 0 || u == UINT64_MAX || u < min || u > max)
                return json_field_fail(ret_error, field, "must be between %llu and %llu",
                                       (unsigned long long) min, (unsigned long long) max);
        *ret = u;
        return 0;
}

int json_field_bool(json_object *v, const char *field, bool *ret, char **ret_error) {
        if (!json_object_is_type(v, json_type_boolean))
                return json_field_fail(ret_error, field, "must be true or false");
        *ret = json_object_get_boolean(v);
        return 0;
}

bool json_name_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > JSON_NAME_MAX_LEN || !isalnum((unsigned char) s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("._+-", *p))
                        return false;
        return true;
}
