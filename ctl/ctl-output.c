/* What hostagentctl prints: tables and their JSON (libsmartcols), key/value blocks, state colours,
 * sizes with units, progress */
#include "ctl-output.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <libsmartcols.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ctl.h"
#include "json-cleanup.h"
#include "strv.h"

struct CtlTable {
        struct libscols_table *scols;
        struct libscols_line *line;
        const CtlColumn *columns;
        int cells[32];            /* libsmartcols' column for each of ours, -1 for one left out */
        unsigned n_columns;
        unsigned n_rows;
};

bool ctl_colors(void) {
        static int cached = -1;
        const char *term = getenv("TERM");

        if (cached < 0)
                cached = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !(term && streq(term, "dumb"));
        return cached;
}

const char *ctl_state_color(const char *state) {
        static const struct { const char *state, *color; } colors[] = {
                { "running", "green" }, { "active", "green" }, { "ok", "green" }, { "finished", "green" },
                { "paused", "yellow" }, { "pmsuspended", "yellow" }, { "degraded", "yellow" },
                { "crashed", "red" }, { "unreachable", "red" }, { "failed", "red" },
        };

        for (size_t i = 0; state && i < ELEMENTSOF(colors); i++)
                if (streq(state, colors[i].state))
                        return colors[i].color;
        return NULL;
}

static int column_json_type(CtlType type) {
        switch (type) {
        case CTL_NUMBER:
        case CTL_SIZE:
        case CTL_SIGNED:
        case CTL_DOUBLE:
                return SCOLS_JSON_NUMBER;
        case CTL_BOOLEAN:
                return SCOLS_JSON_BOOLEAN;
        case CTL_STRINGS:
                return SCOLS_JSON_ARRAY_STRING;
        default:
                return SCOLS_JSON_STRING;
        }
}

/* One of our columns as libsmartcols' (none for a JSON-only column in a table for people). */
static int table_add_column(CtlTable *t, const CtlColumn *c) {
        int flags = column_json_type(c->type) == SCOLS_JSON_NUMBER ? SCOLS_FL_RIGHT : 0;
        struct libscols_column *cl;

        if (t->n_columns >= ELEMENTSOF(t->cells))
                return -E2BIG;
        if (!ctl_column_shown(c)) {
                t->cells[t->n_columns++] = -1;
                return 0;
        }
        /* A list is a cell of lines, cut into a JSON array where the lines end. */
        if (c->type == CTL_STRINGS && arg.json != JSON_OFF)
                flags |= SCOLS_FL_WRAP;
        cl = scols_table_new_column(t->scols, arg.json != JSON_OFF ? c->json : c->header, 0, flags);
        if (!cl || scols_column_set_json_type(cl, column_json_type(c->type)) < 0)
                return -ENOMEM;
        if ((flags & SCOLS_FL_WRAP) &&
            scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize, scols_wrapnl_nextchunk, NULL) < 0)
                return -ENOMEM;
        t->cells[t->n_columns++] = scols_table_get_ncols(t->scols) - 1;
        return 0;
}

CtlTable *ctl_table_new(const char *name, const CtlColumn *columns) {
        _cleanup_(ctl_table_freep) CtlTable *t = calloc(1, sizeof *t);

        if (!t || !(t->scols = scols_new_table()))
                return NULL;
        t->columns = columns;
        if (arg.json != JSON_OFF) {
                scols_table_enable_json(t->scols, 1);
                scols_table_set_name(t->scols, name);
        } else {
                scols_table_enable_colors(t->scols, ctl_colors());
                scols_table_enable_noheadings(t->scols, !arg.legend);
        }
        for (const CtlColumn *c = columns; c->header; c++)
                if (table_add_column(t, c) < 0)
                        return NULL;
        return TAKE_PTR(t);
}

CtlTable *ctl_table_free(CtlTable *t) {
        if (!t)
                return NULL;
        scols_unref_table(t->scols);
        free(t);
        return NULL;
}

int ctl_table_add_row(CtlTable *t) {
        t->line = scols_table_new_line(t->scols, NULL);
        if (!t->line)
                return -ENOMEM;
        t->n_rows++;
        return 0;
}

unsigned ctl_table_rows(CtlTable *t) {
        return t->n_rows;
}

/* A list in one cell: "a, b" for people, lines that libsmartcols turns into a JSON array. */
static char *cell_strings(char **list) {
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; list && list[i]; i++)
                fprintf(f, "%s%s", i ? (arg.json != JSON_OFF ? "\n" : ", ") : "", list[i]);
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(text);
}

/* The value varargs carry, read as the type says (ctl_table_set(), ctl_fields_add()). */
static CtlValue value_from_args(CtlType type, va_list ap) {
        switch (type) {
        case CTL_NUMBER:
        case CTL_SIZE:
                return (CtlValue) { .number = va_arg(ap, uint64_t) };
        case CTL_BOOLEAN:
                return (CtlValue) { .boolean = va_arg(ap, int) };
        case CTL_STRINGS:
                return (CtlValue) { .strings = va_arg(ap, char **) };
        case CTL_SIGNED:
                return (CtlValue) { .signed_number = va_arg(ap, int64_t) };
        case CTL_DOUBLE:
                return (CtlValue) { .real = va_arg(ap, double) };
        default:
                return (CtlValue) { .string = va_arg(ap, const char *) };
        }
}

static char *cell_text(CtlType type, const CtlValue *v) {
        char buf[64];

        switch (type) {
        case CTL_NUMBER:
                snprintf(buf, sizeof buf, "%" PRIu64, v->number);
                return strdup(buf);
        case CTL_SIZE:
                if (arg.json != JSON_OFF)
                        snprintf(buf, sizeof buf, "%" PRIu64, v->number);
                return strdup(arg.json != JSON_OFF ? buf : ctl_format_size(buf, sizeof buf, v->number));
        case CTL_BOOLEAN:
                /* libsmartcols reads a JSON boolean as false only from "", "0" or "N...". */
                return strdup(arg.json != JSON_OFF ? (v->boolean ? "1" : "0") : (v->boolean ? "yes" : "no"));
        case CTL_STRINGS:
                return cell_strings(v->strings);
        case CTL_SIGNED:
                snprintf(buf, sizeof buf, "%" PRIi64, v->signed_number);
                return strdup(buf);
        case CTL_DOUBLE:
                snprintf(buf, sizeof buf, "%.17g", v->real);
                return strdup(buf);
        default:
                return strdup(strempty(v->string));
        }
}

void ctl_value_clear(CtlValue *v) {
        free(v->owned_string);
        strv_free(v->owned_strings);
        *v = (CtlValue) {};
}

bool ctl_column_shown(const CtlColumn *c) {
        return arg.json != JSON_OFF ? !c->people_only : !c->json_only;
}

int ctl_table_set_value(CtlTable *t, unsigned column, const CtlValue *value) {
        const CtlColumn *c;
        char *text;
        int r;

        if (column >= t->n_columns || !t->line)
                return -EINVAL;
        c = &t->columns[column];
        if (t->cells[column] < 0)
                return 0;
        text = cell_text(c->type, value);
        if (!text)
                return -ENOMEM;
        if (c->type == CTL_STATE && arg.json == JSON_OFF && ctl_state_color(text))
                (void) scols_cell_set_color(scols_line_get_cell(t->line, t->cells[column]), ctl_state_color(text));
        r = scols_line_refer_data(t->line, t->cells[column], text);
        if (r < 0)
                free(text);
        return r;
}

int ctl_table_set(CtlTable *t, unsigned column, ...) {
        CtlValue value;
        va_list ap;

        /* A column past the end has no type to read its value by. */
        if (column >= t->n_columns)
                return -EINVAL;
        va_start(ap, column);
        value = value_from_args(t->columns[column].type, ap);
        va_end(ap);
        return ctl_table_set_value(t, column, &value);
}

/* The JSON libsmartcols wrote, to be fixed up and printed as --json asks. */
static char *table_json(CtlTable *t) {
        char *text = NULL;

        if (scols_print_table_to_string(t->scols, &text) < 0)
                return NULL;
        return text;
}

/* libsmartcols writes an empty string as null, and an empty list as [null]: the bus has "" and
 * an empty array, and so does our JSON. */
static void json_fix_value(json_object *row, const char *key, CtlType type) {
        json_object *v;

        if (!json_object_object_get_ex(row, key, &v))
                return;
        if (type == CTL_STRINGS && json_object_is_type(v, json_type_array) && json_object_array_length(v) == 1 &&
            !json_object_array_get_idx(v, 0))
                json_object_array_del_idx(v, 0, 1);
        else if (!v && (type == CTL_STRING || type == CTL_STATE))
                json_object_object_add(row, key, json_object_new_string(""));
}

static void json_fix_row(json_object *row, CtlTable *t) {
        for (size_t i = 0; i < t->n_columns; i++)
                if (t->cells[i] >= 0)
                        json_fix_value(row, t->columns[i].json, t->columns[i].type);
}

static void json_print(json_object *o) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

        flags |= arg.json == JSON_SHORT ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
        puts(json_object_to_json_string_ext(o, flags));
}

int ctl_print_json_text(const char *text) {
        _cleanup_(json_object_putp) json_object *o = json_tokener_parse(text);

        if (!o)
                return -EBADMSG;
        json_print(o);
        return 0;
}

int ctl_table_print(CtlTable *t) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *text = NULL;
        json_object *rows;

        if (arg.json == JSON_OFF)
                return scols_print_table(t->scols) < 0 ? -EIO : 0;
        text = table_json(t);
        if (!text)
                return -ENOMEM;
        o = json_tokener_parse(text);
        if (!o)
                return -EBADMSG;
        json_object_object_foreach(o, name, list) {
                (void) name;
                rows = list;
                for (size_t i = 0; i < json_object_array_length(rows); i++)
                        json_fix_row(json_object_array_get_idx(rows, i), t);
        }
        json_print(o);
        return 0;
}

/* A block of fields is two tables drawn from one list: "Label: value" rows for people, and one
 * row whose columns are the JSON keys, printed as the object alone. */
typedef struct CtlField {
        CtlColumn column; /* its label and key are the copies below */
        char *label, *json;
        char *text;       /* as cell_text() made it for the mode we are in */
} CtlField;

struct CtlFields {
        CtlField *fields;
        size_t n;
};

CtlFields *ctl_fields_new(void) {
        return calloc(1, sizeof(CtlFields));
}

CtlFields *ctl_fields_free(CtlFields *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n; i++) {
                free(f->fields[i].text);
                free(f->fields[i].label);
                free(f->fields[i].json);
        }
        free(f->fields);
        free(f);
        return NULL;
}

int ctl_fields_add_value(CtlFields *f, const char *label, const char *json, CtlType type, const CtlValue *value) {
        CtlField *n;

        n = reallocarray(f->fields, f->n + 1, sizeof *n);
        if (!n)
                return -ENOMEM;
        f->fields = n;
        n[f->n] = (CtlField) { .text = cell_text(type, value), .label = strdup(label), .json = strdup(json) };
        n[f->n].column = (CtlColumn) CTL_COLUMN(n[f->n].label, n[f->n].json, type);
        /* Counted even when incomplete, so that ctl_fields_free() frees what was made. */
        if (!n[f->n++].text || !n[f->n - 1].label || !n[f->n - 1].json)
                return -ENOMEM;
        return 0;
}

int ctl_fields_add(CtlFields *f, const char *label, const char *json, CtlType type, ...) {
        CtlValue value;
        va_list ap;

        va_start(ap, type);
        value = value_from_args(type, ap);
        va_end(ap);
        return ctl_fields_add_value(f, label, json, type, &value);
}

static int fields_print_human(CtlFields *f) {
        struct libscols_table *tb = scols_new_table();
        struct libscols_column *label, *value;
        int r = -ENOMEM;

        if (!tb)
                return -ENOMEM;
        scols_table_enable_noheadings(tb, 1);
        scols_table_enable_colors(tb, ctl_colors());
        label = scols_table_new_column(tb, "LABEL", 0, SCOLS_FL_RIGHT);
        value = scols_table_new_column(tb, "VALUE", 0, 0);
        if (!label || !value)
                goto out;
        for (size_t i = 0; i < f->n; i++) {
                struct libscols_line *ln = scols_table_new_line(tb, NULL);
                char buf[128];

                if (!ln)
                        goto out;
                snprintf(buf, sizeof buf, "%s:", f->fields[i].column.header);
                if (scols_line_set_data(ln, 0, buf) < 0 || scols_line_set_data(ln, 1, f->fields[i].text) < 0)
                        goto out;
                if (f->fields[i].column.type == CTL_STATE && ctl_state_color(f->fields[i].text))
                        (void) scols_cell_set_color(scols_line_get_cell(ln, 1), ctl_state_color(f->fields[i].text));
        }
        r = scols_print_table(tb) < 0 ? -EIO : 0;
out:
        scols_unref_table(tb);
        return r;
}

static int fields_print_json(CtlFields *f) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *text = NULL;
        struct libscols_table *tb = scols_new_table();
        struct libscols_line *ln;
        json_object *rows;

        if (!tb)
                return -ENOMEM;
        scols_table_enable_json(tb, 1);
        scols_table_set_name(tb, "object");
        ln = NULL;
        for (size_t i = 0; i < f->n; i++) {
                struct libscols_column *cl = scols_table_new_column(tb, f->fields[i].column.json, 0, 0);
                if (!cl || scols_column_set_json_type(cl, column_json_type(f->fields[i].column.type)) < 0)
                        goto fail;
        }
        ln = scols_table_new_line(tb, NULL);
        for (size_t i = 0; ln && i < f->n; i++)
                if (scols_line_set_data(ln, i, f->fields[i].text) < 0)
                        goto fail;
        if (!ln || scols_print_table_to_string(tb, &text) < 0)
                goto fail;
        scols_unref_table(tb);
        o = json_tokener_parse(text);
        if (!o || !json_object_object_get_ex(o, "object", &rows) || json_object_array_length(rows) != 1)
                return -EBADMSG;
        for (size_t i = 0; i < f->n; i++)
                json_fix_value(json_object_array_get_idx(rows, 0), f->fields[i].column.json, f->fields[i].column.type);
        json_print(json_object_array_get_idx(rows, 0));
        return 0;
fail:
        scols_unref_table(tb);
        return -ENOMEM;
}

int ctl_fields_print(CtlFields *f) {
        return arg.json != JSON_OFF ? fields_print_json(f) : fields_print_human(f);
}

int ctl_parse_size(const char *text, uint64_t *ret) {
        static const char suffixes[] = "KMGTPE";
        unsigned long long n;
        const char *s;
        char *end;
        uint64_t factor = 1;

        if (!text || !*text || *text == '-')
                return -EINVAL;
        errno = 0;
        n = strtoull(text, &end, 10);
        if (errno != 0 || end == text)
                return -EINVAL;
        if (*end && (s = strchr(suffixes, *end))) {
                for (const char *p = suffixes; p <= s; p++)
                        factor *= 1024;
                end++;
                if (streq(end, "iB") || streq(end, "B"))
                        end += strlen(end);
        } else if (streq(end, "B"))
                end++;
        if (*end)
                return -EINVAL;
        if (n > UINT64_MAX / factor)
                return -ERANGE;
        *ret = n * factor;
        return 0;
}

const char *ctl_format_size(char *buf, size_t size, uint64_t bytes) {
        static const char suffixes[] = "KMGTPE";
        uint64_t unit = 1024;
        size_t i = 0;

        if (bytes < 1024) {
                snprintf(buf, size, "%" PRIu64 "B", bytes);
                return buf;
        }
        while (i + 1 < strlen(suffixes) && bytes >= unit * 1024) {
                unit *= 1024;
                i++;
        }
        /* One decimal, cut rather than rounded: 1.99G is "1.9G", never "2.0G". */
        uint64_t whole = bytes / unit, tenths = (bytes % unit) * 10 / unit;
        if (tenths == 0 || whole >= 100)
                snprintf(buf, size, "%" PRIu64 "%c", whole, suffixes[i]);
        else
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%c", whole, tenths, suffixes[i]);
        return buf;
}

int ctl_parse_seconds(const char *text, uint32_t *ret) {
        unsigned long n;
        char *end;

        errno = 0;
        n = strtoul(text, &end, 10);
        if (errno != 0 || end == text || *text == '-' || n > UINT32_MAX)
                return -EINVAL;
        if (streq(end, "min"))
                n *= 60;
        else if (*end && !streq(end, "s"))
                return -EINVAL;
        if (n > UINT32_MAX)
                return -ERANGE;
        *ret = n;
        return 0;
}

static bool progress_drawn;

static unsigned terminal_columns(void) {
        struct winsize ws;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

void ctl_progress(const char *what, unsigned percent) {
        unsigned width, filled;

        if (percent > 100)
                percent = 100;
        if (!isatty(STDOUT_FILENO)) {
                printf("%s: %u%%\n", what, percent);
                fflush(stdout);
                return;
        }
        width = terminal_columns();
        width = width > strlen(what) + 12 ? width - strlen(what) - 10 : 10;
        if (width > 50)
                width = 50;
        filled = width * percent / 100;
        printf("\r%s [", what);
        for (unsigned i = 0; i < width; i++)
                fputs(i < filled ? "#" : i == filled ? ">" : " ", stdout);
        printf("] %3u%%", percent);
        fflush(stdout);
        progress_drawn = true;
}

void ctl_progress_done(void) {
        if (progress_drawn)
                fputc('\n', stdout);
        progress_drawn = false;
        fflush(stdout);
}
