/* What the agent serves, learnt through Introspect and GetManagedObjects
 * (see fuzz-tree.h) */
#include "fuzz-tree.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 64            /* Introspect calls per walk */
#define MAX_CHILDREN 8          /* children followed per node: GetManagedObjects lists the rest */
#define MAX_HARVEST 4096

static char *xml_prop(xmlNode *n, const char *name) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *) name);
        char *s = strdup(v ? (const char *) v : "");

        xmlFree(v);
        if (!s)
                abort();
        return s;
}

static bool is(xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && strcmp((const char *) n->name, name) == 0;
}

static void parse_method(FuzzMethod *fm, xmlNode *n) {
        fm->name = xml_prop(n, "name");
        for (xmlNode *a = n->children; a; a = a->next) {
                char *dir;

                if (!is(a, "arg"))
                        continue;
                dir = xml_prop(a, "direction");
                if (strcmp(dir, "out") != 0) {
                        FuzzArg *arg;

                        fm->args = realloc(fm->args, (fm->n_args + 1) * sizeof *fm->args);
                        if (!fm->args)
                                abort();
                        arg = &fm->args[fm->n_args++];
                        arg->type = xml_prop(a, "type");
                        arg->name = xml_prop(a, "name");
                        if (strlen(fm->signature) + strlen(arg->type) < sizeof fm->signature)
                                strcat(fm->signature, arg->type);
                }
                free(dir);
        }
}

static void parse_interface(FuzzInterface *fi, xmlNode *n) {
        for (xmlNode *c = n->children; c; c = c->next) {
                if (is(c, "method")) {
                        fi->methods = realloc(fi->methods, (fi->n_methods + 1) * sizeof *fi->methods);
                        if (!fi->methods)
                                abort();
                        fi->methods[fi->n_methods] = (FuzzMethod) {};
                        parse_method(&fi->methods[fi->n_methods++], c);
                } else if (is(c, "property")) {
                        FuzzProperty *p;
                        char *access;

                        fi->props = realloc(fi->props, (fi->n_props + 1) * sizeof *fi->props);
                        if (!fi->props)
                                abort();
                        p = &fi->props[fi->n_props++];
                        p->name = xml_prop(c, "name");
                        p->type = xml_prop(c, "type");
                        access = xml_prop(c, "access");
                        p->writable = strstr(access, "write") != NULL;
                        free(access);
                }
        }
}

static FuzzInterface *interface_get(FuzzTree *t, const char *name) {
        for (size_t i = 0; i < t->n_ifaces; i++)
                if (strcmp(t->ifaces[i].name, name) == 0)
                        return &t->ifaces[i];
        return NULL;
}

static FuzzInterface *interface_add(FuzzTree *t, xmlNode *n) {
        char *name = xml_prop(n, "name");
        FuzzInterface *fi = interface_get(t, name);

        if (fi) {
                free(name);
                return fi;
        }
        t->ifaces = realloc(t->ifaces, (t->n_ifaces + 1) * sizeof *t->ifaces);
        if (!t->ifaces)
                abort();
        fi = &t->ifaces[t->n_ifaces++];
        *fi = (FuzzInterface) { .name = name };
        parse_interface(fi, n);
        return fi;
}

static char *child_path(const char *parent, const char *name) {
        char *p;

        if (asprintf(&p, "%s%s%s", parent, strcmp(parent, "/") == 0 ? "" : "/", name) < 0)
                abort();
        return p;
}

/* One node: its interfaces, then up to MAX_CHILDREN of its children. */
static void walk_node(FuzzTree *t, sd_bus *bus, FuzzCorpus *corpus, const char *path, unsigned *budget) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *xml;
        xmlDoc *doc = NULL;
        unsigned children = 0;

        if (*budget == 0)
                return;
        (*budget)--;
        if (sd_bus_call_method(bus, t->service, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                               &error, &reply, "") < 0 ||
            sd_bus_message_read(reply, "s", &xml) < 0 ||
            !(doc = xmlReadMemory(xml, (int) strlen(xml), path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR)))
                goto out;
        fuzz_list_add(&corpus->paths, path);
        for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
                if (is(n, "interface"))
                        fuzz_list_add(&interface_add(t, n)->paths, path);
                else if (is(n, "node") && children++ < MAX_CHILDREN) {
                        char *name = xml_prop(n, "name"), *child = child_path(path, name);

                        walk_node(t, bus, corpus, child, budget);
                        free(child);
                        free(name);
                }
        }
out:
        xmlFreeDoc(doc);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
}

/* An interface GetManagedObjects names that no Introspect showed yet. */
static FuzzInterface *interface_learn(FuzzTree *t, sd_bus *bus, FuzzCorpus *corpus, const char *path,
                                      const char *name) {
        FuzzInterface *fi = interface_get(t, name);
        unsigned budget = 1;

        if (!fi) {
                walk_node(t, bus, corpus, path, &budget);
                fi = interface_get(t, name);
        }
        return fi;
}

static void harvest(FuzzCorpus *corpus, sd_bus_message *reply) {
        const char *contents, *s;
        char type;

        if (sd_bus_message_peek_type(reply, &type, &contents) <= 0 || sd_bus_message_enter_container(reply, 'v', contents) < 0)
                return;
        if ((contents[0] == 's' || contents[0] == 'o') && contents[1] == '\0' &&
            sd_bus_message_read_basic(reply, contents[0], &s) >= 0 && s[0] && corpus->harvest.n < MAX_HARVEST)
                fuzz_list_add(&corpus->harvest, s);
        else
                sd_bus_message_skip(reply, contents);
        sd_bus_message_exit_container(reply);
}

/* {sa{sv}}: an interface of path, its properties' strings harvested. */
static int read_interface(FuzzTree *t, sd_bus *bus, FuzzCorpus *corpus, sd_bus_message *reply, const char *path) {
        FuzzInterface *fi;
        const char *name;
        int r;

        r = sd_bus_message_read(reply, "s", &name);
        if (r < 0)
                return r;
        fi = interface_learn(t, bus, corpus, path, name);
        if (fi)
                fuzz_list_add(&fi->paths, path);
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_skip(reply, "s");
                if (r >= 0)
                        harvest(corpus, reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

static int walk_managed(FuzzTree *t, sd_bus *bus, FuzzCorpus *corpus) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, t->service, t->root, "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", &error, &reply, "");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        fuzz_list_add(&corpus->paths, path);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                        r = read_interface(t, bus, corpus, reply, path);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        return r;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void sort_unique(FuzzList *l) {
        size_t out = 0;

        if (l->n == 0)
                return;
        qsort(l->items, l->n, sizeof *l->items, compare_strings);
        for (size_t i = 1; i < l->n; i++) {
                if (strcmp(l->items[i], l->items[out]) == 0)
                        free(l->items[i]);
                else
                        l->items[++out] = l->items[i];
        }
        l->n = out + 1;
}

int fuzz_tree_walk(FuzzTree *t, sd_bus *bus, FuzzCorpus *corpus) {
        unsigned budget = MAX_NODES;
        int r;

        for (size_t i = 0; i < t->n_ifaces; i++)
                fuzz_list_clear(&t->ifaces[i].paths);
        fuzz_list_clear(&corpus->paths);
        fuzz_list_clear(&corpus->harvest);
        walk_node(t, bus, corpus, "/", &budget);
        r = walk_managed(t, bus, corpus);
        for (size_t i = 0; i < t->n_ifaces; i++)
                sort_unique(&t->ifaces[i].paths);
        sort_unique(&corpus->paths);
        sort_unique(&corpus->harvest);
        return r;
}

bool fuzz_tree_has(const FuzzInterface *iface, const char *path) {
        return bsearch(&path, iface->paths.items, iface->paths.n, sizeof(char *), compare_strings) != NULL;
}

void fuzz_tree_done(FuzzTree *t) {
        for (size_t i = 0; i < t->n_ifaces; i++) {
                FuzzInterface *fi = &t->ifaces[i];

                for (size_t j = 0; j < fi->n_methods; j++) {
                        for (size_t k = 0; k < fi->methods[j].n_args; k++) {
                                free(fi->methods[j].args[k].type);
                                free(fi->methods[j].args[k].name);
                        }
                        free(fi->methods[j].args);
                        free(fi->methods[j].name);
                }
                for (size_t j = 0; j < fi->n_props; j++) {
                        free(fi->props[j].name);
                        free(fi->props[j].type);
                }
                free(fi->methods);
                free(fi->props);
                free(fi->name);
                fuzz_list_clear(&fi->paths);
        }
        free(t->ifaces);
        *t = (FuzzTree) {};
}
