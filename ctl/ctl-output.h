/* What hostagentctl prints: tables and their JSON (libsmartcols), key/value blocks, state colours,
 * sizes with units, progress */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct libscols_table;
struct libscols_line;

typedef enum CtlType {
        CTL_STRING,
        CTL_NUMBER,
        CTL_BOOLEAN,
        CTL_SIZE,        /* bytes: "10G" for people, a number in JSON */
        CTL_STATE,       /* a string, coloured on a terminal */
        CTL_STRINGS,     /* a list: one per line in a cell, an array in JSON */
        CTL_SIGNED,      /* an int64_t */
        CTL_DOUBLE,      /* a double */
} CtlType;

/* One value, in the member its type reads. A formatter (below) that made the text or the list
 * leaves it in OWNED_STRING or OWNED_STRINGS, to be freed once the value is written. */
typedef struct CtlValue {
        union {
                const char *string;     /* CTL_STRING, CTL_STATE */
                uint64_t number;        /* CTL_NUMBER, CTL_SIZE */
                int64_t signed_number;  /* CTL_SIGNED */
                int boolean;            /* CTL_BOOLEAN */
                char **strings;         /* CTL_STRINGS */
                double real;            /* CTL_DOUBLE */
        };
        char *owned_string;
        char **owned_strings;
} CtlValue;

void ctl_value_clear(CtlValue *v);

/* A column's value made from the object it shows (ctl-object.h): PATH is the object's path,
 * OBJECT the struct its properties were read into. */
typedef int (*CtlFormat)(const char *path, const void *object, void *userdata, CtlValue *ret);

typedef struct CtlColumn {
        const char *header;   /* for people: "MEMORY" (a block of fields: its label, "Memory") */
        const char *json;     /* JSON key: "memory_bytes" */
        CtlType type;
        bool json_only;       /* e.g. object paths: in JSON, too long for a person's table */
        bool people_only;     /* e.g. names for the paths a JSON column beside it has */
        /* For a table of objects (ctl-object.h): the property it shows, or the function that
         * makes its value. */
        const char *property;
        CtlFormat format;
} CtlColumn;

/* Whether the column is printed in the mode we are in (--json or not). */
bool ctl_column_shown(const CtlColumn *c);

typedef struct CtlTable CtlTable;

/* A table whose JSON form is {"NAME": [rows...]}. COLUMNS ends with a {NULL} entry. */
CtlTable *ctl_table_new(const char *name, const CtlColumn *columns);
CtlTable *ctl_table_free(CtlTable *t);
static inline void ctl_table_freep(CtlTable **t) {
        if (*t)
                ctl_table_free(*t);
}
int ctl_table_add_row(CtlTable *t);
/* The cell COLUMN of the last row; the value is read as the column's type says: a string, a
 * uint64_t for numbers and sizes, an int for booleans, a NULL-terminated char ** for lists. */
int ctl_table_set(CtlTable *t, unsigned column, ...);
int ctl_table_set_value(CtlTable *t, unsigned column, const CtlValue *value);
unsigned ctl_table_rows(CtlTable *t);
/* Prints the table (or its JSON, with --json); empty tables print only their header. */
int ctl_table_print(CtlTable *t);

/* A block of "Label: value" lines for one object (show, status); its JSON form is one object. */
typedef struct CtlFields CtlFields;
CtlFields *ctl_fields_new(void);
CtlFields *ctl_fields_free(CtlFields *f);
static inline void ctl_fields_freep(CtlFields **f) {
        if (*f)
                ctl_fields_free(*f);
}
int ctl_fields_add(CtlFields *f, const char *label, const char *json, CtlType type, ...);
int ctl_fields_add_value(CtlFields *f, const char *label, const char *json, CtlType type, const CtlValue *value);
int ctl_fields_print(CtlFields *f);

/* Colours: on when stdout is a terminal (and NO_COLOR is unset). */
bool ctl_colors(void);
const char *ctl_state_color(const char *state);

/* "10G", "512M", "1.5T", plain bytes: 1024-based, as the issue and systemd's tools read them. */
int ctl_parse_size(const char *text, uint64_t *ret);
const char *ctl_format_size(char *buf, size_t size, uint64_t bytes);
int ctl_parse_seconds(const char *text, uint32_t *ret);

/* Progress of a job: a bar redrawn in place on a terminal, one line per change otherwise. */
void ctl_progress(const char *what, unsigned percent);
void ctl_progress_done(void);

/* JSON text printed as --json asks (pretty or on one line). */
int ctl_print_json_text(const char *text);

#define CTL_COLUMN(h, j, t) { .header = (h), .json = (j), .type = (t) }
#define CTL_JSON_COLUMN(h, j, t) { .header = (h), .json = (j), .type = (t), .json_only = true }
#define CTL_PEOPLE_COLUMN(h, j, t) { .header = (h), .json = (j), .type = (t), .people_only = true }
