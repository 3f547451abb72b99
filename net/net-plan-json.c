/* A network plan as JSON: what the transaction journal keeps, and reads back strictly */
#include "net-plan.h"

#include <limits.h>
#include <stdio.h>

#include "json-cleanup.h"
#include "json-field.h"
#include "macro.h"

json_object *net_plan_to_json(const NetPlan *p) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < p->n_steps; i++) {
                const NetStep *s = &p->steps[i];
                json_object *o = json_object_new_object();
                json_object_object_add(o, "kind", json_object_new_int(s->kind));
                json_object_object_add(o, "link", json_object_new_string(s->link));
                json_object_object_add(o, "arg", json_object_new_string(s->arg));
                json_object_object_add(o, "old_arg", json_object_new_string(s->old_arg));
                json_object_object_add(o, "value", json_object_new_int64(s->value));
                json_object_object_add(o, "old_value", json_object_new_int64(s->old_value));
                json_object_array_add(a, o);
        }
        return a;
}

/* A journaled string that fits SIZE: anything else is refused (a null printed as "(null)", or a
 * name cut to fit, would have a rollback touch another link). */
static int get_str(json_object *o, const char *key, char *buf, size_t size) {
        json_object *v;
        size_t n;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return -EBADMSG;
        n = (size_t) json_object_get_string_len(v);
        if (n >= size || strlen(json_object_get_string(v)) != n)
                return -EBADMSG;
        memcpy(buf, json_object_get_string(v), n + 1);
        return 0;
}

static int get_uint(json_object *o, const char *key, unsigned *ret) {
        json_object *v;
        int64_t i;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        i = json_object_get_int64(v);
        if (i < 0 || i > UINT_MAX)
                return -EBADMSG;
        *ret = (unsigned) i;
        return 0;
}

/* Only what net_plan_to_json() writes: every key, of its type; else -EBADMSG. */
int net_plan_from_json(json_object *a, NetPlan *ret) {
        NetPlan p = {};
        size_t n;

        if (!json_object_is_type(a, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(a);
        p.steps = calloc(n ?: 1, sizeof *p.steps);
        if (!p.steps)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(a, i);
                NetStep *s = &p.steps[i];
                unsigned kind;

                if (get_uint(o, "kind", &kind) < 0 || kind >= _NET_STEP_MAX ||
                    get_str(o, "link", s->link, sizeof s->link) < 0 || get_str(o, "arg", s->arg, sizeof s->arg) < 0 ||
                    get_str(o, "old_arg", s->old_arg, sizeof s->old_arg) < 0 || get_uint(o, "value", &s->value) < 0 ||
                    get_uint(o, "old_value", &s->old_value) < 0) {
                        net_plan_done(&p);
                        return -EBADMSG;
                }
                s->kind = (NetStepKind) kind;
        }
        p.n_steps = n;
        *ret = p;
        return 0;
}
