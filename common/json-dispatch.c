/* Table-driven reading of a JSON object into a struct, one row per field */
#include "json-dispatch.h"

#include <assert.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "error-text.h"
#include "json-field.h"
#include "macro.h"

static const char *const type_errors[] = {
        [json_type_boolean] = "must be true or false",
        [json_type_double] = "must be a number",
        [json_type_int] = "must be an integer",
        [json_type_object] = "must be an object",
        [json_type_array] = "must be an array",
        [json_type_string] = "must be a string",
};

static const JsonDispatch *dispatch_find(const JsonDispatch table[], const char *key) {
        for (const JsonDispatch *e = table; e->name; e++)
                if (streq(e->name, key))
                        return e;
        return NULL;
}

/* "PREFIX.KEY", or KEY alone; a caller's key past TEXT_CUT_MAX bytes is cut, and marked so. */
static char *dispatch_field(const char *prefix, const char *key) {
        char *field;

        if (asprintf(&field, "%s%s%s", strempty(prefix), prefix ? "." : "", TEXT_CUT(key)) < 0)
                return NULL;
        return field;
}

static int dispatch_one(json_object *v, const char *prefix, const JsonDispatch *e, void *target,
                        char **ret_error) {
        _cleanup_(freep) char *field = dispatch_field(prefix, e->name);

        if (!field)
                return -ENOMEM;
        /* json_object_is_type(NULL, json_type_null) holds: JSON null is of no other type. */
        if (e->type != JSON_DISPATCH_ANY && !json_object_is_type(v, e->type))
                return json_field_fail(ret_error, field, "%s", type_errors[e->type]);
        return e->parse(v, field, e, (uint8_t *) target + e->offset, ret_error);
}

static int dispatch_missing(const char *prefix, const JsonDispatch *e, char **ret_error) {
        _cleanup_(freep) char *field = dispatch_field(prefix, e->name);

        if (!field)
                return -ENOMEM;
        return json_field_fail(ret_error, field, "%s", e->missing ?: "is required");
}

int json_dispatch_full(json_object *o, const char *prefix, const JsonDispatch table[], const char *unknown,
                       void *target, char **ret_error) {
        json_object *v;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return json_field_fail(ret_error, prefix ?: "spec", "must be an object");

        json_object_object_foreach(o, key, value) {
                const JsonDispatch *e = dispatch_find(table, key);

                if (!e) {
                        _cleanup_(freep) char *field = dispatch_field(prefix, key);
                        return field ? json_field_fail(ret_error, field, "%s", unknown ?: "unknown key") : -ENOMEM;
                }
                if (e->flags & JSON_DISPATCH_DEFERRED)
                        continue;
                r = dispatch_one(value, prefix, e, target, ret_error);
                if (r < 0)
                        return r;
        }

        for (const JsonDispatch *e = table; e->name; e++) {
                if (!(e->flags & (JSON_DISPATCH_DEFERRED | JSON_DISPATCH_REQUIRED)))
                        continue;
                if (!json_object_object_get_ex(o, e->name, &v)) {
                        if (e->flags & JSON_DISPATCH_REQUIRED)
                                return dispatch_missing(prefix, e, ret_error);
                        continue;
                }
                if (e->flags & JSON_DISPATCH_DEFERRED) {
                        r = dispatch_one(v, prefix, e, target, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int json_dispatch(json_object *o, const char *prefix, const JsonDispatch table[], void *target, char **ret_error) {
        return json_dispatch_full(o, prefix, table, NULL, target, ret_error);
}

int json_dispatch_enum(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error) {
        return json_field_enum(v, field, entry->choices, ret, ret_error);
}

int json_dispatch_bool(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error) {
        return json_field_bool(v, field, ret, ret_error);
}

int json_dispatch_uint64(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error) {
        return json_field_uint(v, field, entry->min, entry->max, ret, ret_error);
}

int json_dispatch_unsigned(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                           char **ret_error) {
        uint64_t u;
        int r;

        assert(entry->max <= UINT_MAX);
        r = json_field_uint(v, field, entry->min, entry->max, &u, ret_error);
        if (r < 0)
                return r;
        *(unsigned *) ret = (unsigned) u;
        return 0;
}

int json_dispatch_name(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error) {
        char **name = ret;
        const char *s;
        int r;

        r = json_field_string(v, field, entry->max, &s, ret_error);
        if (r < 0)
                return r;
        if (!json_name_valid(s))
                return json_field_fail(ret_error, field, "must be 1 to %d letters, digits, '.', '_', '+' or '-', "
                                       "starting with a letter or digit", JSON_NAME_MAX_LEN);
        free(*name);
        *name = strdup(s);
        return *name ? 0 : -ENOMEM;
}

int json_dispatch_skip(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error) {
        return 0;
}
