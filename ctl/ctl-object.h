/* Objects of one interface as a table (list, pools, ...) and one as a block of fields (show, ...):
 * each column says which property it shows, or which function makes its value */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "ctl-bus.h"
#include "ctl-output.h"

typedef struct CtlObjectType {
        const char *interface;      /* CTL_VM */
        const char *kind;           /* "VM": what error lines call one */
        const CtlProperty *map;     /* the properties read into a struct of SIZE bytes */
        size_t size;
        const char *table;          /* the listing's name in JSON: {"vms": [...]} */
        const CtlColumn *columns;   /* the listing's, ending with {} */
        const CtlColumn *fields;    /* show's, the same way */
        /* show's argument as a path; reports a missing object itself */
        int (*lookup)(sd_bus *bus, const char *name, char **ret);
        /* which objects the listing has (all when NULL) */
        bool (*filter)(const void *object, void *userdata);
} CtlObjectType;

/* A table of every object of TYPE (that FILTER keeps); USERDATA goes to FILTER and formatters. */
int ctl_list_objects(sd_bus *bus, const CtlObjectType *type, void *userdata);

/* The fields of the object NAME (as TYPE's lookup reads it). */
int ctl_show_object(sd_bus *bus, const CtlObjectType *type, const char *name);

/* The object's path, a formatter every type has a column for. */
int ctl_format_path(const char *path, const void *object, void *userdata, CtlValue *ret);

/* A column showing property P, or the value formatter F makes; more members may follow
 * (.json_only = true). */
#define CTL_PROPERTY(h, j, t, p, ...) { .header = (h), .json = (j), .type = (t), .property = (p), __VA_ARGS__ }
#define CTL_FORMATTED(h, j, t, f, ...) { .header = (h), .json = (j), .type = (t), .format = (f), __VA_ARGS__ }
/* The object's path: a column in JSON only (too long for a person's table). */
#define CTL_PATH_COLUMN CTL_FORMATTED("PATH", "path", CTL_STRING, ctl_format_path, .json_only = true)
