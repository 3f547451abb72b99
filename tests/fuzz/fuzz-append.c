/* Values of any D-Bus signature, appended to an sd-bus message: numbers at
 * their edges, strings from fuzz_string(), arrays short and long, variants
 * of random types nested deep. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-value.h"

#define MAX_VARIANT_DEPTH 60    /* the bus refuses a message nested past 64 */
#define MAX_DEPTH 62

static uint64_t edge_number(FuzzRng *rng, unsigned bits) {
        uint64_t mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

        switch (fuzz_below(rng, 9)) {
        case 0: return 0;
        case 1: return 1;
        case 2: return mask;                        /* -1 */
        case 3: return mask >> 1;                   /* the largest signed */
        case 4: return (mask >> 1) + 1;             /* the smallest signed */
        case 5: return fuzz_below(rng, 100);
        case 6: return fuzz_below(rng, 100000);
        case 7: return (UINT64_C(1) << fuzz_below(rng, bits)) & mask;
        default: return fuzz_rng_next(rng) & mask;
        }
}

static double edge_double(FuzzRng *rng) {
        static const double values[] = { 0.0, -0.0, 1.0, -1.0, 0.5, DBL_MAX, -DBL_MAX, DBL_MIN,
                                         DBL_EPSILON, 1e300, 4294967296.0 };

        switch (fuzz_below(rng, 4)) {
        case 0: return NAN;
        case 1: return fuzz_below(rng, 2) ? INFINITY : -INFINITY;
        case 2: return values[fuzz_below(rng, sizeof values / sizeof *values)];
        default: return (double) (int64_t) fuzz_rng_next(rng) / (double) (1 + fuzz_below(rng, 1000));
        }
}

static int append_basic(sd_bus_message *m, FuzzGen *g, char type, FuzzKind hint) {
        uint64_t n;
        double d;
        int b, r;

        /* at most 8 bytes and padding each; strings count their length too */
        g->budget -= g->budget >= 16 ? 16 : g->budget;

        switch (type) {
        case 's':
        case 'o':
        case 'g': {
                char sig[256];
                char *s = type == 's' ? fuzz_string(g, hint) : type == 'o' ? fuzz_path(g) : NULL;

                if (type == 'g')
                        fuzz_signature(g->rng, sig, 4);
                r = sd_bus_message_append_basic(m, type, s ?: sig);
                free(s);
                return r;
        }
        case 'b':
                b = (int) fuzz_below(g->rng, 2);
                return sd_bus_message_append_basic(m, type, &b);
        case 'd':
                d = edge_double(g->rng);
                return sd_bus_message_append_basic(m, type, &d);
        case 'h':
                g->fds++;
                return sd_bus_message_append_basic(m, type, &g->corpus->null_fd);
        case 'y': {
                uint8_t v = (uint8_t) edge_number(g->rng, 8);
                return sd_bus_message_append_basic(m, type, &v);
        }
        case 'n':
        case 'q': {
                uint16_t v = (uint16_t) edge_number(g->rng, 16);
                return sd_bus_message_append_basic(m, type, &v);
        }
        case 'i':
        case 'u': {
                uint32_t v = g->tame ? 1 + (uint32_t) fuzz_below(g->rng, 60) : (uint32_t) edge_number(g->rng, 32);
                return sd_bus_message_append_basic(m, type, &v);
        }
        default:
                n = edge_number(g->rng, 64);
                return sd_bus_message_append_basic(m, type, &n);
        }
}

static int append_value(sd_bus_message *m, FuzzGen *g, const char *type, size_t len, FuzzKind hint,
                        unsigned depth);

/* Mostly few elements; sometimes many, while the message's budget lasts.
 * File descriptors stay few: the bus drops a connection that sends a
 * message with more than 16. */
static size_t array_length(FuzzGen *g, const char *elem, size_t elen, unsigned depth) {
        if (depth >= MAX_DEPTH - 2 || g->budget < 1024 || g->tame)
                return 0;
        if (memchr(elem, 'h', elen))
                return g->fds >= 8 ? 0 : fuzz_below(g->rng, 3);
        switch (fuzz_below(g->rng, 20)) {
        case 0: return 0;
        case 1: return 100 + fuzz_below(g->rng, depth ? 100 : 5000);
        default: return 1 + fuzz_below(g->rng, 4);
        }
}

static int append_array(sd_bus_message *m, FuzzGen *g, const char *elem, size_t elen, unsigned depth) {
        char contents[256];
        size_t n = array_length(g, elem, elen, depth);
        bool dict = elem[0] == '{';
        int r;

        memcpy(contents, elem, elen);
        contents[elen] = '\0';
        r = sd_bus_message_open_container(m, 'a', contents);
        for (size_t i = 0; r >= 0 && i < n && g->budget >= 64; i++) {
                if (!dict) {
                        r = append_value(m, g, elem, elen, FUZZ_ANY, depth + 1);
                        continue;
                }
                /* {KV}: keys of options named as the agent names them, or not */
                contents[elen - 1] = '\0';
                r = sd_bus_message_open_container(m, 'e', contents + 1);
                contents[elen - 1] = '}';
                if (r >= 0)
                        r = append_value(m, g, elem + 1, 1, FUZZ_OPTION, depth + 2);
                if (r >= 0)
                        r = append_value(m, g, elem + 2, elen - 3, FUZZ_ANY, depth + 2);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        return r >= 0 ? sd_bus_message_close_container(m) : r;
}

static int append_struct(sd_bus_message *m, FuzzGen *g, const char *type, size_t len, unsigned depth) {
        char contents[256];
        size_t at = 1, l;
        int r;

        memcpy(contents, type + 1, len - 2);
        contents[len - 2] = '\0';
        r = sd_bus_message_open_container(m, 'r', contents);
        for (; r >= 0 && at < len - 1; at += l) {
                l = fuzz_type_length(type + at);
                r = append_value(m, g, type + at, l, FUZZ_ANY, depth + 1);
        }
        return r >= 0 ? sd_bus_message_close_container(m) : r;
}

/* A variant holds a random type: often another variant, down to the limit. */
static int append_variant(sd_bus_message *m, FuzzGen *g, FuzzKind hint, unsigned depth) {
        static const char simple[] = "bsutix";
        char inner[256];
        int r;

        if (!g->tame && depth < MAX_VARIANT_DEPTH && fuzz_below(g->rng, 100) < 15)
                strcpy(inner, "v");
        else if (g->tame || depth + 2 >= MAX_DEPTH || fuzz_below(g->rng, 2))
                inner[0] = simple[fuzz_below(g->rng, sizeof simple - 1)], inner[1] = '\0';
        else
                do
                        fuzz_signature(g->rng, inner, 1);
                while (inner[0] == '\0' || depth + strlen(inner) >= MAX_DEPTH || (g->fds >= 4 && strchr(inner, 'h')));
        r = sd_bus_message_open_container(m, 'v', inner);
        if (r >= 0)
                r = append_value(m, g, inner, strlen(inner), hint, depth + 1);
        return r >= 0 ? sd_bus_message_close_container(m) : r;
}

static int append_value(sd_bus_message *m, FuzzGen *g, const char *type, size_t len, FuzzKind hint,
                        unsigned depth) {
        switch (type[0]) {
        case 'a':
                return append_array(m, g, type + 1, len - 1, depth);
        case '(':
                return append_struct(m, g, type, len, depth);
        case 'v':
                return append_variant(m, g, hint, depth);
        default:
                return append_basic(m, g, type[0], hint);
        }
}

int fuzz_append_args(sd_bus_message *m, FuzzGen *g, const char *signature, const FuzzKind *hints) {
        size_t l;
        int r = 0;

        for (unsigned i = 0; r >= 0 && (l = fuzz_type_length(signature)) > 0; i++, signature += l)
                r = append_value(m, g, signature, l, hints ? hints[i] : FUZZ_ANY, 0);
        return r;
}
