/* NULL-terminated string arrays */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Frees every string and the array; NULL is fine. Returns NULL. */
char **strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

size_t strv_length(char *const *v);

/* Same strings in the same order; NULL and an empty array are equal. */
bool strv_equal(char *const *a, char *const *b);
