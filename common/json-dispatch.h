/* Table-driven reading of a JSON object into a struct, one row per field */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* One row: the key, its JSON type, the parser and where the value lands.
 * A spec's shape reads off its table, as with systemd's json_dispatch:
 *
 *   static const JsonDispatch fields[] = {
 *           { "name",  json_type_string, json_dispatch_name, .offset = offsetof(S, name),
 *             .flags = JSON_DISPATCH_REQUIRED, .max = 64 },
 *           { "vcpus", json_type_int, json_dispatch_unsigned, .offset = offsetof(S, vcpus), .min = 1, .max = 512 },
 *           {}
 *   };
 */
typedef struct JsonDispatch JsonDispatch;

/* Reads V (the value of ENTRY's key, named FIELD in errors: "disks[0].bus")
 * into RET, which is the target plus ENTRY->offset. Returns -EINVAL with
 * RET_ERROR set by json_field_fail(), or another -errno. */
typedef int (*JsonDispatchParse)(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                 char **ret_error);

typedef enum JsonDispatchFlags {
        /* Absent: "FIELD: is required", or ENTRY->missing instead of "is required". */
        JSON_DISPATCH_REQUIRED = 1 << 0,
        /* Read after every other key of the object, in table order, so that
         * the other keys' errors come first (a nested list checked last). */
        JSON_DISPATCH_DEFERRED = 1 << 1,
} JsonDispatchFlags;

/* Any type: the parser checks it, with its own words. JSON null is a NULL value. */
#define JSON_DISPATCH_ANY json_type_null

struct JsonDispatch {
        const char *name;
        json_type type;                 /* checked before PARSE: "must be a string", ... */
        JsonDispatchParse parse;
        size_t offset;
        JsonDispatchFlags flags;
        const char *missing;            /* the error for a required key that is absent */
        const char *const *choices;     /* json_dispatch_enum: NULL-terminated */
        uint64_t min, max;              /* the integer parsers' range; the strings' length */
};

/* Walks the object O in its own key order: an unknown key fails with
 * "PREFIX.KEY: unknown key", a key of the wrong type with "PREFIX.KEY: must
 * be ..." (a string, an integer, true or false, an array, an object); then
 * the deferred keys and the missing required ones, in table order. The
 * first error stops the walk. PREFIX NULL names the keys alone. */
int json_dispatch(json_object *o, const char *prefix, const JsonDispatch table[], void *target, char **ret_error);

/* The same with UNKNOWN as the reason for an unknown key ("unknown key for a dir pool"). */
int json_dispatch_full(json_object *o, const char *prefix, const JsonDispatch table[], const char *unknown,
                       void *target, char **ret_error);

/* Parsers for the common cases, to name in tables. */
int json_dispatch_enum(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error);
int json_dispatch_bool(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error);
int json_dispatch_uint64(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error);
int json_dispatch_unsigned(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error);
/* A JSON name (json_name_valid()) of at most ENTRY->max bytes, copied into a char *. */
int json_dispatch_name(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error);
/* Accepts anything and keeps nothing: a key read elsewhere. */
int json_dispatch_skip(json_object *v, const char *field, const JsonDispatch *entry, void *ret, char **ret_error);
