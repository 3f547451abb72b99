/* What the agent serves, as the fuzzer learns it: every interface's methods
 * (with their in-arguments) and properties from Introspect, and which
 * object paths carry each interface, from a walk of Introspect from / and
 * from GetManagedObjects. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "fuzz-value.h"

typedef struct FuzzArg {
        char *type, *name;
} FuzzArg;

typedef struct FuzzMethod {
        char *name;
        char signature[256];    /* the in-arguments' types */
        FuzzArg *args;
        size_t n_args;
} FuzzMethod;

typedef struct FuzzProperty {
        char *name, *type;
        bool writable;
} FuzzProperty;

typedef struct FuzzInterface {
        char *name;
        FuzzMethod *methods;
        size_t n_methods;
        FuzzProperty *props;
        size_t n_props;
        FuzzList paths;         /* sorted, unique after a walk */
} FuzzInterface;

typedef struct FuzzTree {
        FuzzInterface *ifaces;
        size_t n_ifaces;
        const char *service;
        const char *root;       /* where the ObjectManager is */
} FuzzTree;

/* Learns the paths anew (interfaces once); names and paths go into the
 * corpus for the arguments. */
int fuzz_tree_walk(FuzzTree *t, sd_bus *bus, FuzzCorpus *corpus);
bool fuzz_tree_has(const FuzzInterface *iface, const char *path);
void fuzz_tree_done(FuzzTree *t);
