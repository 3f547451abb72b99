/* One identity's share of a fuzz run: calls to every method and property of
 * what the agent serves, WINDOW of them in flight, each reply counted by
 * its name. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FUZZ_MAX_NAMES 128
#define FUZZ_MAX_LEAKS 10

typedef struct FuzzCount {
        char name[128];
        uint64_t n;
} FuzzCount;

typedef struct FuzzStats {
        uint64_t sent, answered;
        uint64_t hangs;         /* no reply within the call timeout */
        uint64_t leaks;         /* changes that went through for an unprivileged caller */
        uint64_t refused_after_checks;  /* its changes refused with the agent's own errors, not AccessDenied */
        uint64_t reconnects;
        FuzzCount counts[FUZZ_MAX_NAMES];
        size_t n_counts;
        char leak_text[FUZZ_MAX_LEAKS][256];
} FuzzStats;

typedef struct FuzzConfig {
        uint64_t seed;
        uint64_t calls;
        unsigned window;
        unsigned rewalk;        /* calls between walks of the tree */
        uint64_t timeout_usec;
        size_t message_budget;  /* about the largest message, in bytes */
        bool unprivileged;      /* successes of changes are leaks */
        char tag;               /* in names this identity creates */
        const char *corpus_file;
        const char *service, *root;
        const volatile bool *stop;
} FuzzConfig;

int fuzz_run(const FuzzConfig *cfg, FuzzStats *stats);
void fuzz_stats_count(FuzzStats *stats, const char *name, uint64_t n);
/* As lines: "sent N", "count N NAME", ...; and read back. */
void fuzz_stats_write(const FuzzStats *stats, FILE *f);
int fuzz_stats_read(FuzzStats *stats, FILE *f);
