/* Compares the committed interface XML (the contract) with what a daemon serves */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 4096

typedef struct Lines {
        char *v[MAX_LINES];
        size_t n;
} Lines;

static void lines_add(Lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lines_add(Lines *l, const char *fmt, ...) {
        va_list ap;

        if (l->n >= MAX_LINES) {
                fprintf(stderr, "too many members\n");
                exit(2);
        }
        va_start(ap, fmt);
        if (vasprintf(&l->v[l->n], fmt, ap) < 0)
                exit(2);
        va_end(ap);
        l->n++;
}

static int cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static const char *prop(xmlNodePtr n, const char *name, xmlChar **keep) {
        *keep = xmlGetProp(n, BAD_CAST name);
        return *keep ? (const char *) *keep : "";
}

static bool is_element(xmlNodePtr n, const char *name) {
        return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

/* The element's doc comment is the nearest previous sibling that is not blank text. */
static bool has_doc_comment(xmlNodePtr n) {
        for (xmlNodePtr p = n->prev; p; p = p->prev) {
                if (p->type == XML_TEXT_NODE && xmlIsBlankNode(p))
                        continue;
                return p->type == XML_COMMENT_NODE;
        }
        return false;
}

static int check_docs(xmlNodePtr iface, const char *iface_name) {
        int missing = 0;

        for (xmlNodePtr m = iface->children; m; m = m->next) {
                xmlChar *k1 = NULL;

                if (!is_element(m, "method") && !is_element(m, "property") && !is_element(m, "signal"))
                        continue;
                if (!has_doc_comment(m)) {
                        fprintf(stderr, "%s: %s %s has no doc comment\n", iface_name,
                                (const char *) m->name, prop(m, "name", &k1));
                        missing++;
                }
                for (xmlNodePtr a = m->children; a; a = a->next) {
                        xmlChar *k2 = NULL;

                        if (is_element(a, "arg") && !has_doc_comment(a)) {
                                fprintf(stderr, "%s: argument %s of %s has no doc comment\n", iface_name,
                                        prop(a, "name", &k2), prop(m, "name", &k1));
                                missing++;
                        }
                        xmlFree(k2);
                }
                xmlFree(k1);
        }
        return missing;
}

/* org.gtk.GDBus.* annotations (C.Name, ...) tell gdbus-codegen how to name
 * things in C: they are for the contract's readers, and sd-bus cannot serve
 * them, so they are not compared. Every other annotation is. */
static bool is_codegen_annotation(xmlNodePtr a) {
        xmlChar *name = xmlGetProp(a, BAD_CAST "name");
        bool codegen = name && xmlStrncmp(name, BAD_CAST "org.gtk.GDBus.", strlen("org.gtk.GDBus.")) == 0;

        xmlFree(name);
        return codegen;
}

static void describe_interface(xmlNodePtr iface, Lines *out) {
        for (xmlNodePtr m = iface->children; m; m = m->next) {
                xmlChar *kind_name = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL;
                const char *kind = (const char *) m->name, *name;
                int argi = 0;

                if (!is_element(m, "method") && !is_element(m, "property") && !is_element(m, "signal"))
                        continue;
                name = prop(m, "name", &kind_name);
                if (is_element(m, "property"))
                        lines_add(out, "property %s type=%s access=%s", name, prop(m, "type", &k2),
                                  prop(m, "access", &k3));
                else
                        lines_add(out, "%s %s", kind, name);
                xmlFree(k2);
                xmlFree(k3);
                for (xmlNodePtr a = m->children; a; a = a->next) {
                        k2 = k3 = k4 = NULL;
                        if (is_element(a, "arg")) {
                                const char *dir = prop(a, "direction", &k4);
                                lines_add(out, "%s %s arg%d %s %s name=%s", kind, name, argi++,
                                          *dir ? dir : (is_element(m, "signal") ? "out" : "in"),
                                          prop(a, "type", &k2), prop(a, "name", &k3));
                        } else if (is_element(a, "annotation") && !is_codegen_annotation(a))
                                lines_add(out, "%s %s annotation %s=%s", kind, name,
                                          prop(a, "name", &k2), prop(a, "value", &k3));
                        xmlFree(k2);
                        xmlFree(k3);
                        xmlFree(k4);
                }
                xmlFree(kind_name);
        }
        qsort(out->v, out->n, sizeof out->v[0], cmp);
}

static xmlNodePtr find_interface(xmlDocPtr doc, const char *name) {
        xmlNodePtr root = xmlDocGetRootElement(doc);

        for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
                xmlChar *k = NULL;
                bool match = is_element(n, "interface") && strcmp(prop(n, "name", &k), name) == 0;

                xmlFree(k);
                if (match)
                        return n;
        }
        return NULL;
}

/* Lines in A that B lacks, printed with PREFIX. Both sorted. */
static int report_missing(const Lines *a, const Lines *b, const char *prefix) {
        int n = 0;

        for (size_t i = 0; i < a->n; i++)
                if (!bsearch(&a->v[i], b->v, b->n, sizeof b->v[0], cmp)) {
                        fprintf(stderr, "%s%s\n", prefix, a->v[i]);
                        n++;
                }
        return n;
}

int main(int argc, char *argv[]) {
        bool require_docs = argc > 1 && strcmp(argv[1], "--require-docs") == 0;
        int first = require_docs ? 2 : 1, problems = 0;
        xmlDocPtr contract, live;
        xmlNodePtr root;

        if (argc - first != 2) {
                fprintf(stderr, "usage: %s [--require-docs] CONTRACT.xml LIVE.xml\n", argv[0]);
                return 2;
        }
        contract = xmlReadFile(argv[first], NULL, XML_PARSE_NONET);
        live = xmlReadFile(argv[first + 1], NULL, XML_PARSE_NONET);
        if (!contract || !live) {
                fprintf(stderr, "cannot parse %s\n", !contract ? argv[first] : argv[first + 1]);
                return 2;
        }
        root = xmlDocGetRootElement(contract);
        for (xmlNodePtr iface = root ? root->children : NULL; iface; iface = iface->next) {
                Lines want = {}, have = {};
                xmlChar *k = NULL;
                const char *name;
                xmlNodePtr served;

                if (!is_element(iface, "interface"))
                        continue;
                name = prop(iface, "name", &k);
                if (require_docs)
                        problems += check_docs(iface, name);
                served = find_interface(live, name);
                if (!served) {
                        fprintf(stderr, "%s: not served at all\n", name);
                        problems++;
                } else {
                        describe_interface(iface, &want);
                        describe_interface(served, &have);
                        problems += report_missing(&want, &have, "in the contract, not served: ");
                        problems += report_missing(&have, &want, "served, not in the contract: ");
                        printf("%s: %zu members compared\n", name, want.n);
                }
                for (size_t i = 0; i < want.n; i++)
                        free(want.v[i]);
                for (size_t i = 0; i < have.n; i++)
                        free(have.v[i]);
                xmlFree(k);
        }
        xmlFreeDoc(contract);
        xmlFreeDoc(live);
        return problems ? 1 : 0;
}
