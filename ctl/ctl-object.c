/* Objects of one interface as a table and one as a block of fields, from their columns */
#include "ctl-object.h"

#include <stdint.h>
#include <stdlib.h>

#include "ctl-error.h"
#include "ctl.h"

int ctl_format_path(const char *path, const void *object, void *userdata, CtlValue *ret) {
        *ret = (CtlValue) { .string = path };
        return 0;
}

/* A property as it was read into the struct (ctl_map_properties()), as a value. */
static int property_value(const CtlProperty *p, const void *object, CtlValue *ret) {
        const void *field = (const uint8_t *) object + p->offset;

        switch (p->type) {
        case 's': case 'o': *ret = (CtlValue) { .string = *(char *const *) field }; return 0;
        case 'b': *ret = (CtlValue) { .boolean = *(const bool *) field }; return 0;
        case 'u': *ret = (CtlValue) { .number = *(const uint32_t *) field }; return 0;
        case 't': *ret = (CtlValue) { .number = *(const uint64_t *) field }; return 0;
        case 'i': *ret = (CtlValue) { .signed_number = *(const int32_t *) field }; return 0;
        case 'a': *ret = (CtlValue) { .strings = *(char **const *) field }; return 0;
        default: return -EINVAL;      /* a struct ('G') is shown through formatters */
        }
}

static int column_value(const CtlObjectType *type, const CtlColumn *c, const char *path, const void *object,
                        void *userdata, CtlValue *ret) {
        const CtlProperty *p;

        if (c->format)
                return c->format(path, object, userdata, ret);
        p = ctl_property_find(type->map, c->property);
        return p ? property_value(p, object, ret) : -EINVAL;
}

typedef struct Listing {
        const CtlObjectType *type;
        CtlTable *table;
        void *userdata;
} Listing;

static int object_row(const char *path, void *object, void *userdata) {
        Listing *l = userdata;
        int r;

        if (l->type->filter && !l->type->filter(object, l->userdata))
                return 0;
        r = ctl_table_add_row(l->table);
        for (unsigned i = 0; r >= 0 && l->type->columns[i].header; i++) {
                const CtlColumn *c = &l->type->columns[i];
                CtlValue v = {};

                if (!ctl_column_shown(c))
                        continue;
                r = column_value(l->type, c, path, object, l->userdata, &v);
                if (r >= 0)
                        r = ctl_table_set_value(l->table, i, &v);
                ctl_value_clear(&v);
        }
        return r;
}

int ctl_list_objects(sd_bus *bus, const CtlObjectType *type, void *userdata) {
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(type->table, type->columns);
        int r;

        if (!t)
                return -ENOMEM;
        r = ctl_for_each_object(bus, type->interface, type->map, type->size, object_row,
                                &(Listing) { type, t, userdata });
        if (r < 0)
                return r;
        return ctl_table_print(t);
}

static int object_fields(CtlFields *f, const CtlObjectType *type, const char *path, const void *object) {
        int r = 0;

        for (const CtlColumn *c = type->fields; r >= 0 && c->header; c++) {
                CtlValue v = {};

                if (!ctl_column_shown(c))
                        continue;
                r = column_value(type, c, path, object, NULL, &v);
                if (r >= 0)
                        r = ctl_fields_add_value(f, c->header, c->json, c->type, &v);
                ctl_value_clear(&v);
        }
        return r;
}

int ctl_show_object(sd_bus *bus, const CtlObjectType *type, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_fields_freep) CtlFields *f = ctl_fields_new();
        _cleanup_(freep) void *object = calloc(1, type->size);
        _cleanup_(freep) char *path = NULL;
        int r;

        if (!f || !object)
                return -ENOMEM;
        r = type->lookup(bus, name, &path);
        if (r < 0)
                return r;
        r = ctl_get_all(bus, path, type->interface, type->map, object, &error);
        if (r < 0)
                r = ctl_error_report(type->kind, name, "read it", &error);
        if (r >= 0)
                r = object_fields(f, type, path, object);
        if (r >= 0)
                r = ctl_fields_print(f);
        ctl_properties_clear(type->map, object);
        return r;
}
