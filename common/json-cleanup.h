/* _cleanup_ helpers for json-c objects */
#pragma once

#include <json-c/json.h>

static inline void json_object_putp(json_object **p) {
        if (*p)
                json_object_put(*p);
}
