/* Random D-Bus arguments for the method fuzzer (see fuzz-value.h) */
#include "fuzz-value.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STRING (1024 * 1024)
#define MAX_SIG_DEPTH 6

void fuzz_rng_seed(FuzzRng *rng, uint64_t seed) {
        /* splitmix64, so that seeds 1 and 2 start far apart */
        uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rng->state = (z ^ (z >> 31)) | 1;
}

uint64_t fuzz_rng_next(FuzzRng *rng) {   /* xorshift64* */
        rng->state ^= rng->state >> 12;
        rng->state ^= rng->state << 25;
        rng->state ^= rng->state >> 27;
        return rng->state * 0x2545f4914f6cdd1dULL;
}

size_t fuzz_below(FuzzRng *rng, size_t n) {
        return n ? (size_t) (fuzz_rng_next(rng) % n) : 0;
}

void fuzz_list_add(FuzzList *l, const char *s) {
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 16;
                l->items = realloc(l->items, l->cap * sizeof *l->items);
                if (!l->items)
                        abort();
        }
        l->items[l->n] = strdup(s);
        if (!l->items[l->n])
                abort();
        l->n++;
}

void fuzz_list_clear(FuzzList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i]);
        free(l->items);
        *l = (FuzzList) {};
}

static const char *const kind_names[_FUZZ_KIND_MAX] = {
        [FUZZ_ANY] = "any", [FUZZ_VM] = "vm", [FUZZ_POOL] = "pool", [FUZZ_NET] = "net",
        [FUZZ_XML] = "xml", [FUZZ_NAME] = "name", [FUZZ_OPTION] = "option",
};

int fuzz_corpus_load(FuzzCorpus *c, const char *file) {
        FILE *f = fopen(file, "re");
        char *line = NULL;
        size_t size = 0;
        ssize_t n;

        if (!f)
                return -errno;
        while ((n = getline(&line, &size, f)) > 0) {
                char *tab = strchr(line, '\t');

                if (line[n - 1] == '\n')
                        line[n - 1] = '\0';
                if (!tab)
                        continue;
                *tab = '\0';
                for (int k = 0; k < _FUZZ_KIND_MAX; k++)
                        if (strcmp(line, kind_names[k]) == 0)
                                fuzz_list_add(&c->seeds[k], tab + 1);
        }
        free(line);
        fclose(f);
        c->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        return c->null_fd < 0 ? -errno : 0;
}

void fuzz_corpus_done(FuzzCorpus *c) {
        for (int k = 0; k < _FUZZ_KIND_MAX; k++)
                fuzz_list_clear(&c->seeds[k]);
        fuzz_list_clear(&c->harvest);
        fuzz_list_clear(&c->paths);
        if (c->null_fd >= 0)
                close(c->null_fd);
}

/* A growable string. */
typedef struct Text {
        char *s;
        size_t len, cap;
} Text;

static void text_reserve(Text *t, size_t more) {
        if (t->len + more + 1 <= t->cap)
                return;
        t->cap = (t->len + more + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s)
                abort();
}

static void text_put(Text *t, const char *s, size_t n) {
        text_reserve(t, n);
        memcpy(t->s + t->len, s, n);
        t->len += n;
        t->s[t->len] = '\0';
}

static void text_puts(Text *t, const char *s) {
        text_put(t, s, strlen(s));
}

/* sd-bus refuses strings that are not UTF-8 of valid characters (no
 * surrogates, no noncharacters): such bytes become '?', so that every
 * argument reaches the agent. */
static size_t utf8_char(const unsigned char *s, size_t left) {
        uint32_t c;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
        if (n == 0 || n > left || s[0] > 0xf4)
                return 0;
        c = s[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff) || (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
                return 0;
        return n;
}

static void utf8_sanitize(char *s, size_t len) {
        for (size_t i = 0; i < len;) {
                size_t n = utf8_char((const unsigned char *) s + i, len - i);

                if (n == 0) {
                        s[i++] = '?';
                        continue;
                }
                i += n;
        }
}

/* What parsers and validators trip on. */
static const char *const tokens[] = {
        "\"", "{", "}", "[", "]", ",", ":", "null", "true", "false", "-1", "0", "1e999", "-0.5",
        "18446744073709551616", "4294967296", "9223372036854775807", "\"\\u0000\"", "\"\\ud800\"",
        "\"\\uffff\"", "\"../../etc\"", "\"a\\\"b\"", "{}", "[]", "[[[[[[[[[[", "\"name\"", "\"remove\"",
        "\"bond\"", "\"path\"", "\"pool\"", "\"volume\"", "\"network\"", "\"bridge\"", "\"uplink\"",
        "\"disks\"", "\"nics\"", "\"metadata\"", "\"start\":true", "\"switch\":\"ovs\"", "\"vlan\":7",
        "<domain/>", "&amp;", "]]>", "<!--", "<![CDATA[", "'", "\\", "%s%n", "\u00e9", "\u20ac",
        "\U0001d11e", "\u202e", "\t", "\n", "\x01", " ",
};

static void mutate_once(FuzzRng *rng, Text *t) {
        size_t at = fuzz_below(rng, t->len + 1), n;
        const char *tok;

        switch (fuzz_below(rng, 6)) {
        case 0:   /* one byte (ASCII: the rest would be made '?' anyway) */
                if (t->len)
                        t->s[fuzz_below(rng, t->len)] = (char) (1 + fuzz_below(rng, 127));
                break;
        case 1:   /* cut a span */
                n = fuzz_below(rng, t->len - at + 1);
                memmove(t->s + at, t->s + at + n, t->len - at - n + 1);
                t->len -= n;
                break;
        case 2:   /* repeat a span */
                n = fuzz_below(rng, t->len - at + 1);
                if (t->len + n > MAX_STRING)
                        break;
                text_reserve(t, n);
                memmove(t->s + at + n, t->s + at, t->len - at + 1);
                t->len += n;
                break;
        case 3:
        case 4:   /* insert a token */
                tok = tokens[fuzz_below(rng, sizeof tokens / sizeof *tokens)];
                n = strlen(tok);
                text_reserve(t, n);
                memmove(t->s + at + n, t->s + at, t->len - at + 1);
                memcpy(t->s + at, tok, n);
                t->len += n;
                break;
        default:  /* end early */
                t->len = at;
                t->s[at] = '\0';
        }
}

/* A seed with @N@ made a new name (so that valid specs keep creating), or
 * @BIG@ a long name. */
static void expand_seed(FuzzGen *g, Text *t, const char *seed) {
        const char *p;

        while ((p = strchr(seed, '@'))) {
                text_put(t, seed, (size_t) (p - seed));
                if (strncmp(p, "@N@", 3) == 0) {
                        char n[32];

                        snprintf(n, sizeof n, "%c%u", g->corpus->tag, g->corpus->serial++);
                        text_puts(t, n);
                        seed = p + 3;
                } else {
                        text_put(t, p, 1);
                        seed = p + 1;
                }
        }
        text_puts(t, seed);
}

static const char *pick(FuzzRng *rng, const FuzzList *l) {
        return l->n ? l->items[fuzz_below(rng, l->n)] : "";
}

static void mutated_seed(FuzzGen *g, Text *t, FuzzKind kind) {
        unsigned rounds;

        expand_seed(g, t, pick(g->rng, &g->corpus->seeds[kind]));
        /* a fifth stays valid, most get a few changes, some many */
        rounds = fuzz_below(g->rng, 5) == 0 ? 0 : 1 + (unsigned) fuzz_below(g->rng, fuzz_below(g->rng, 4) ? 4 : 40);
        for (unsigned i = 0; i < rounds; i++)
                mutate_once(g->rng, t);
}

static const char *const pieces[] = {
        "a", "Z", "0", "9", "-", "_", ".", "+", "/", "..", " ", "'", "\"", "\\", "<", ">", "&", ";",
        "$(", "`", "%s", "%n", "\t", "\n", "\r", "\x01", "\x7f", "\u00e9", "\u20ac", "\U0001d11e",
        "\u202e", "\u200b", "\ufffd", "52:54:00:12:34:56", "192.0.2.1", "fd00::1", "qcow2", "raw",
};

static void random_text(FuzzRng *rng, Text *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                text_puts(t, pieces[fuzz_below(rng, sizeof pieces / sizeof *pieces)]);
}

/* Long: up to 1 MiB, log-uniform, as one repeated byte, text, or a spec
 * whose every string is long. */
static void long_text(FuzzGen *g, Text *t) {
        size_t n = (size_t) 1 << fuzz_below(g->rng, 21), i;

        n = n + fuzz_below(g->rng, n);
        if (n > MAX_STRING)
                n = MAX_STRING;
        if (n > g->budget)
                n = g->budget / 2;
        switch (fuzz_below(g->rng, 3)) {
        case 0:
                text_reserve(t, n);
                memset(t->s + t->len, "aZ9.-/"[fuzz_below(g->rng, 6)], n);
                t->len += n;
                t->s[t->len] = '\0';
                break;
        case 1:
                random_text(g->rng, t, n / 4 + 1);
                break;
        default:
                text_puts(t, "{\"name\":\"");
                for (i = 0; i < n; i++)
                        text_put(t, "n", 1);
                text_puts(t, "\",\"memory_mib\":128,\"metadata\":{\"k\":\"");
                for (i = 0; i < n; i++)
                        text_put(t, "v", 1);
                text_puts(t, "\"}}");
        }
}

/* Nesting a recursive parser must refuse, not follow. */
static void deep_text(FuzzRng *rng, Text *t) {
        size_t depth = 1 + fuzz_below(rng, fuzz_below(rng, 2) ? 100 : 100000);
        const char *open = fuzz_below(rng, 2) ? "[" : "{\"a\":";

        for (size_t i = 0; i < depth; i++)
                text_puts(t, open);
        if (fuzz_below(rng, 2))
                for (size_t i = 0; i < depth; i++)
                        text_puts(t, open[0] == '[' ? "]" : "}");
}

char *fuzz_string(FuzzGen *g, FuzzKind hint) {
        FuzzRng *rng = g->rng;
        FuzzCorpus *c = g->corpus;
        bool specs = hint != FUZZ_ANY && c->seeds[hint].n > 0;
        size_t r = fuzz_below(rng, 100);
        Text t = {};

        text_reserve(&t, 64);
        t.s[0] = '\0';
        if (g->tame)
                expand_seed(g, &t, pick(rng, &c->seeds[specs ? hint : FUZZ_NAME]));
        else if (specs && r < 50)
                mutated_seed(g, &t, hint);
        else if (r < 65) {
                const char *s = fuzz_below(rng, 2) && c->harvest.n ? pick(rng, &c->harvest) : pick(rng, &c->seeds[FUZZ_NAME]);

                text_puts(&t, s);
                if (fuzz_below(rng, 5) == 0)
                        mutate_once(rng, &t);
        } else if (r < 77)
                random_text(rng, &t, fuzz_below(rng, 40));
        else if (r < 80)
                ;   /* empty */
        else if (r < 83)
                long_text(g, &t);
        else if (r < 93)
                mutated_seed(g, &t, (FuzzKind) (FUZZ_VM + fuzz_below(rng, FUZZ_XML - FUZZ_VM + 1)));
        else if (r < 96)
                deep_text(rng, &t);
        else
                text_puts(&t, pick(rng, &c->paths));
        if (t.len > g->budget)
                t.s[t.len = g->budget] = '\0';
        utf8_sanitize(t.s, t.len);
        g->budget -= t.len;
        return t.s;
}

static void path_element(FuzzRng *rng, Text *t, size_t max) {
        static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
        size_t n = 1 + fuzz_below(rng, max);

        for (size_t i = 0; i < n; i++)
                text_put(t, &chars[fuzz_below(rng, sizeof chars - 1)], 1);
}

char *fuzz_path(FuzzGen *g) {
        FuzzRng *rng = g->rng;
        size_t r = fuzz_below(rng, 100), n;
        Text t = {};

        text_reserve(&t, 64);
        t.s[0] = '\0';
        if (r < 60 && g->corpus->paths.n)
                text_puts(&t, pick(rng, &g->corpus->paths));
        else if (r < 85 && g->corpus->paths.n) {
                text_puts(&t, pick(rng, &g->corpus->paths));
                if (strcmp(t.s, "/") != 0)
                        text_puts(&t, "/");
                path_element(rng, &t, 40);
        } else {
                n = 1 + fuzz_below(rng, fuzz_below(rng, 10) ? 5 : 200);
                for (size_t i = 0; i < n; i++) {
                        text_puts(&t, "/");
                        path_element(rng, &t, fuzz_below(rng, 10) ? 20 : 2000);
                }
        }
        return t.s;
}

static void random_type(FuzzRng *rng, Text *t, unsigned depth) {
        static const char basic[] = "ybnqiuxtdsog";
        size_t r = fuzz_below(rng, 100);

        if (depth >= MAX_SIG_DEPTH || t->len > 200 || r < 55) {
                /* 'h' rarely: a file descriptor nobody asked for */
                text_put(t, fuzz_below(rng, 50) ? &basic[fuzz_below(rng, sizeof basic - 1)] : "h", 1);
        } else if (r < 70) {
                text_puts(t, "a");
                random_type(rng, t, depth + 1);
        } else if (r < 80) {
                text_puts(t, "a{");
                text_put(t, &basic[fuzz_below(rng, sizeof basic - 1)], 1);
                random_type(rng, t, depth + 1);
                text_puts(t, "}");
        } else if (r < 92) {
                size_t n = 1 + fuzz_below(rng, 4);

                text_puts(t, "(");
                for (size_t i = 0; i < n; i++)
                        random_type(rng, t, depth + 1);
                text_puts(t, ")");
        } else
                text_puts(t, "v");
}

void fuzz_signature(FuzzRng *rng, char *buf, unsigned max_types) {
        size_t n = fuzz_below(rng, max_types + 1);
        Text t = {};

        text_reserve(&t, 256);
        t.s[0] = '\0';
        for (size_t i = 0; i < n && t.len < 200; i++)
                random_type(rng, &t, 0);
        /* a type cut at 255 would not be one: keep only whole ones */
        while (t.len > 255) {
                size_t keep = 0, l;

                while ((l = fuzz_type_length(t.s + keep)) > 0 && keep + l <= 255)
                        keep += l;
                t.s[t.len = keep] = '\0';
        }
        memcpy(buf, t.s, t.len + 1);
        free(t.s);
}

size_t fuzz_type_length(const char *sig) {
        size_t n = 1, l;
        char close;

        switch (sig[0]) {
        case '\0':
                return 0;
        case 'a':
                l = fuzz_type_length(sig + 1);
                return l ? 1 + l : 0;
        case '(':
        case '{':
                close = sig[0] == '(' ? ')' : '}';
                while (sig[n] && sig[n] != close) {
                        l = fuzz_type_length(sig + n);
                        if (l == 0)
                                return 0;
                        n += l;
                }
                return sig[n] == close ? n + 1 : 0;
        default:
                return 1;
        }
}
