/* Reading validated fields out of JSON specs, with errors that name the field */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets RET_ERROR (if not NULL) to "FIELD: why" and returns -EINVAL. */
int json_field_fail(char **ret_error, const char *field, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

/* A JSON string without embedded NULs, at most MAX bytes. */
int json_field_string(json_object *v, const char *field, size_t max, const char **ret, char **ret_error);

/* One of the NULL-terminated CHOICES; RET points into CHOICES. */
int json_field_enum(json_object *v, const char *field, const char *const *choices, const char **ret,
                    char **ret_error);

int json_field_uint(json_object *v, const char *field, uint64_t min, uint64_t max, uint64_t *ret,
                    char **ret_error);

int json_field_bool(json_object *v, const char *field, bool *ret, char **ret_error);

/* A name for an object on the bus and on disk: 1..64 of [A-Za-z0-9._+-],
 * starting with a letter or digit (so never "." or ".." and never a path). */
#define JSON_NAME_MAX_LEN 64
bool json_name_valid(const char *s);
