/* Random D-Bus arguments for the method fuzzer: a seeded generator, the
 * corpus of valid specs and names it mutates, and values of any signature
 * appended to an sd-bus message. Everything drawn from one FuzzRng, so a
 * seed gives the same arguments again. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct FuzzRng {
        uint64_t state;
} FuzzRng;

void fuzz_rng_seed(FuzzRng *rng, uint64_t seed);
uint64_t fuzz_rng_next(FuzzRng *rng);
size_t fuzz_below(FuzzRng *rng, size_t n);

/* What a string argument stands for: a spec of one kind (mutated from the
 * corpus' seeds of that kind), a name, or anything. */
typedef enum FuzzKind {
        FUZZ_ANY,
        FUZZ_VM,
        FUZZ_POOL,
        FUZZ_NET,
        FUZZ_XML,
        FUZZ_NAME,
        FUZZ_OPTION,    /* keys of a{sv} options */
        _FUZZ_KIND_MAX,
} FuzzKind;

typedef struct FuzzList {
        char **items;
        size_t n, cap;
} FuzzList;

void fuzz_list_add(FuzzList *l, const char *s);
void fuzz_list_clear(FuzzList *l);

typedef struct FuzzCorpus {
        FuzzList seeds[_FUZZ_KIND_MAX];
        FuzzList harvest;       /* string values read from the agent's objects */
        FuzzList paths;         /* object paths the agent serves now */
        unsigned serial;        /* for @N@ in seeds: a new name each time */
        char tag;               /* in those names, per identity */
        int null_fd;            /* for 'h' */
} FuzzCorpus;

/* Lines "KIND<TAB>TEXT", KIND one of vm, pool, net, xml, name, option. */
int fuzz_corpus_load(FuzzCorpus *c, const char *file);
void fuzz_corpus_done(FuzzCorpus *c);

/* A message's arguments: the budget caps its size (strings of up to 1 MiB
 * and long arrays, but not a message the bus refuses for its size). */
typedef struct FuzzGen {
        FuzzRng *rng;
        FuzzCorpus *corpus;
        size_t budget;
        unsigned fds;
        bool tame;              /* arguments a careful caller would send: valid specs and names, small numbers */
} FuzzGen;

char *fuzz_string(FuzzGen *g, FuzzKind hint);
char *fuzz_path(FuzzGen *g);
/* A valid signature of up to max_types complete types into buf (>= 256). */
void fuzz_signature(FuzzRng *rng, char *buf, unsigned max_types);
/* The length of the one complete type at the start of sig (0: none). */
size_t fuzz_type_length(const char *sig);
/* Values for every complete type of signature; hints[i] for the i-th (or NULL). */
int fuzz_append_args(sd_bus_message *m, FuzzGen *g, const char *signature, const FuzzKind *hints);
