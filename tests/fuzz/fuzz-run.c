/* One identity's share of a fuzz run (see fuzz-run.h) */
#include "fuzz-run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "fuzz-tree.h"
#include "fuzz-value.h"

typedef struct Target {
        FuzzInterface *iface;
        size_t member;          /* a method, or a property */
} Target;

typedef struct Run {
        const FuzzConfig *cfg;
        FuzzStats *stats;
        sd_bus *bus;
        FuzzRng rng;
        FuzzCorpus corpus;
        FuzzTree tree;
        Target *methods, *props;
        size_t n_methods, n_props;
        unsigned outstanding;
        char last[4][256];      /* the last calls sent, for a dropped connection */
} Run;

/* What a reply is checked against. */
typedef struct Pending {
        Run *run;
        bool change;            /* a change: an unprivileged caller's success is a leak */
        char what[256];
} Pending;

void fuzz_stats_count(FuzzStats *stats, const char *name, uint64_t n) {
        size_t i;

        for (i = 0; i < stats->n_counts; i++)
                if (strcmp(stats->counts[i].name, name) == 0)
                        break;
        if (i == stats->n_counts) {
                if (i == FUZZ_MAX_NAMES)
                        name = "(other names)", i--;
                else
                        stats->n_counts++;
                snprintf(stats->counts[i].name, sizeof stats->counts[i].name, "%s", name);
        }
        stats->counts[i].n += n;
}

/* Read-only methods: what the policy lets everyone do. A success of any
 * other for an unprivileged caller is a change that got through. */
static bool is_read(const char *iface, const char *member) {
        static const char *const reads[] = {
                "org.freedesktop.DBus.Properties.Get", "org.freedesktop.DBus.Properties.GetAll",
                "org.freedesktop.DBus.Introspectable.Introspect", "org.freedesktop.DBus.Peer.Ping",
                "org.freedesktop.DBus.Peer.GetMachineId", "org.freedesktop.DBus.ObjectManager.GetManagedObjects",
                "org.hostagent1.Manager.GetHostInfo", "org.hostagent1.Manager.GetHostStats",
                "org.hostagent1.Manager.ListVMs", "org.hostagent1.Manager.GetVM",
                "org.hostagent1.Manager.GetAllVMStats", "org.hostagent1.Manager.ListStoragePools",
                "org.hostagent1.Manager.GetStoragePool", "org.hostagent1.Manager.GetNetworkCapabilities",
                "org.hostagent1.VM.GetStats",
        };
        size_t l = strlen(iface);

        for (size_t i = 0; i < sizeof reads / sizeof *reads; i++)
                if (strncmp(reads[i], iface, l) == 0 && reads[i][l] == '.' && strcmp(reads[i] + l + 1, member) == 0)
                        return true;
        return false;
}

/* Seconds, for FUZZ_TRACE's lines, on the clock the Ping's complaints use. */
static double trace_clock(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        Run *r = p->run;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        r->outstanding--;
        r->stats->answered++;
        if (getenv("FUZZ_TRACE"))
                fprintf(stderr, "%.3f reply %s: %s %.160s\n", trace_clock(), p->what, e ? e->name : "ok",
                        e && e->message ? e->message : "");
        if (!e) {
                fuzz_stats_count(r->stats, "(success)", 1);
                if (r->cfg->unprivileged && p->change) {
                        if (r->stats->leaks < FUZZ_MAX_LEAKS)
                                snprintf(r->stats->leak_text[r->stats->leaks], sizeof r->stats->leak_text[0], "%s",
                                         p->what);
                        r->stats->leaks++;
                }
        } else if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) && e->message &&
                   strcmp(e->message, "Connection terminated") == 0) {
                fuzz_stats_count(r->stats, "(our connection dropped)", 1);
        } else {
                if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))
                        r->stats->hangs++;
                if (r->cfg->unprivileged && p->change && strncmp(e->name, "org.hostagent1.Error.", 21) == 0) {
                        char name[160];

                        r->stats->refused_after_checks++;
                        snprintf(name, sizeof name, "%.100s to a change", e->name);
                        fuzz_stats_count(r->stats, name, 1);
                } else
                        fuzz_stats_count(r->stats, e->name, 1);
        }
        return 0;
}

static void targets_build(Run *r) {
        free(r->methods);
        free(r->props);
        r->methods = r->props = NULL;
        r->n_methods = r->n_props = 0;
        for (size_t i = 0; i < r->tree.n_ifaces; i++) {
                FuzzInterface *fi = &r->tree.ifaces[i];

                if (fi->paths.n == 0)
                        continue;
                r->methods = realloc(r->methods, (r->n_methods + fi->n_methods) * sizeof *r->methods);
                r->props = realloc(r->props, (r->n_props + fi->n_props) * sizeof *r->props);
                if ((!r->methods && fi->n_methods) || (!r->props && fi->n_props))
                        abort();
                for (size_t j = 0; j < fi->n_methods; j++)
                        r->methods[r->n_methods++] = (Target) { fi, j };
                for (size_t j = 0; j < fi->n_props; j++)
                        r->props[r->n_props++] = (Target) { fi, j };
        }
}

/* Learns what is served now. Nothing at all means the agent is gone: the
 * run ends there (a GetManagedObjects that failed once does not). */
static int walk(Run *r) {
        (void) fuzz_tree_walk(&r->tree, r->bus, &r->corpus);
        targets_build(r);
        if (r->n_methods == 0) {
                fprintf(stderr, "%c: %s serves no methods now (gone?) after %" PRIu64 " calls\n", r->cfg->tag,
                        r->cfg->service, r->stats->sent);
                return -ENOENT;
        }
        return 0;
}

static FuzzKind hint_for(const char *member, const FuzzArg *arg) {
        if (strcmp(arg->type, "s") != 0)
                return FUZZ_ANY;
        if (strcmp(member, "CreateVM") == 0)
                return FUZZ_VM;
        if (strcmp(member, "CreateVMFromXML") == 0)
                return FUZZ_XML;
        if (strcmp(member, "CreateStoragePool") == 0)
                return FUZZ_POOL;
        if (strcmp(member, "SetupNetworks") == 0)
                return FUZZ_NET;
        return FUZZ_NAME;
}

static const char *pick_path(Run *r, const FuzzInterface *fi) {
        return fi->paths.items[fuzz_below(&r->rng, fi->paths.n)];
}

/* An interface or member name that is valid but served by nobody. */
static void unknown_name(Run *r, char *buf, size_t size, bool iface) {
        snprintf(buf, size, iface ? "org.hostagent1.Fuzz%u" : "Fuzz%u", (unsigned) fuzz_below(&r->rng, 1000));
}

/* Properties.Get/GetAll/Set of a property of the object, mostly right. */
static int build_property_call(Run *r, FuzzGen *g, sd_bus_message **ret, Pending *p) {
        const Target *t = &r->props[fuzz_below(&r->rng, r->n_props)];
        const FuzzProperty *prop = &t->iface->props[t->member];
        size_t pick = fuzz_below(&r->rng, 100);
        const char *member = pick < 40 ? "Get" : pick < 50 ? "GetAll" : "Set";
        char iface[128], name[128], type[256];
        sd_bus_message *m = NULL;
        int k;

        if (strcmp(member, "Set") == 0 && !prop->writable && fuzz_below(&r->rng, 10))
                member = "Get";   /* read-only properties are Set now and then */
        snprintf(iface, sizeof iface, "%s", t->iface->name);
        snprintf(name, sizeof name, "%s", prop->name);
        if (fuzz_below(&r->rng, 10) == 0)
                unknown_name(r, iface, sizeof iface, true);
        if (fuzz_below(&r->rng, 10) == 0)
                unknown_name(r, name, sizeof name, false);
        snprintf(p->what, sizeof p->what, "Properties.%s %.80s.%.80s", member, iface, name);
        p->change = strcmp(member, "Set") == 0;
        k = sd_bus_message_new_method_call(r->bus, &m, r->cfg->service, pick_path(r, t->iface),
                                           "org.freedesktop.DBus.Properties", member);
        if (k >= 0)
                k = sd_bus_message_append(m, "s", iface);
        if (k >= 0 && strcmp(member, "GetAll") != 0)
                k = sd_bus_message_append(m, "s", name);
        if (k >= 0 && p->change) {
                FuzzKind hint = FUZZ_NAME;

                snprintf(type, sizeof type, "%s", prop->type);
                if (fuzz_below(&r->rng, 6) == 0)   /* a value of the wrong type */
                        do
                                fuzz_signature(&r->rng, type, 1);
                        while (type[0] == '\0');
                k = sd_bus_message_open_container(m, 'v', type);
                if (k >= 0)
                        k = fuzz_append_args(m, g, type, &hint);
                if (k >= 0)
                        k = sd_bus_message_close_container(m);
        }
        *ret = m;
        return k;
}

/* A method: mostly of its object with arguments of its signature; some on
 * paths nobody serves, some with a random signature. */
static int build_method_call(Run *r, FuzzGen *g, sd_bus_message **ret, Pending *p) {
        const Target *t = &r->methods[fuzz_below(&r->rng, r->n_methods)];
        const FuzzMethod *fm = &t->iface->methods[t->member];
        size_t pick = fuzz_below(&r->rng, 100);
        FuzzKind hints[16] = {};
        char sig[256], iface[128], member[128], *path;
        sd_bus_message *m = NULL;
        int k;

        snprintf(iface, sizeof iface, "%s", t->iface->name);
        snprintf(member, sizeof member, "%s", fm->name);
        snprintf(sig, sizeof sig, "%s", fm->signature);
        for (size_t i = 0; i < fm->n_args && i < 16; i++)
                hints[i] = hint_for(fm->name, &fm->args[i]);
        if (pick < 5) {                 /* an unknown object */
                path = fuzz_path(g);
                if (fuzz_below(&r->rng, 4) == 0)
                        unknown_name(r, member, sizeof member, false);
        } else {
                path = strdup(pick_path(r, t->iface));
                if (!path)
                        abort();
                if (pick < 12)          /* the wrong signature */
                        fuzz_signature(&r->rng, sig, 4);
                else if (pick < 14)     /* an unknown interface of a known object */
                        unknown_name(r, iface, sizeof iface, true);
        }
        snprintf(p->what, sizeof p->what, "%.60s.%.40s(%.30s) on %.90s", iface, member, sig, path);
        if (pick < 5 && strlen(path) > 90)
                snprintf(p->what + strlen(p->what), sizeof p->what - strlen(p->what), "... (%zu bytes)", strlen(path));
        p->change = !is_read(iface, member);
        k = sd_bus_message_new_method_call(r->bus, &m, r->cfg->service, path, iface, member);
        if (k >= 0)
                k = fuzz_append_args(m, g, sig, hints);
        free(path);
        *ret = m;
        return k;
}

static int send_one(Run *r) {
        FuzzGen g = { .rng = &r->rng, .corpus = &r->corpus, .budget = r->cfg->message_budget };
        Pending *p = calloc(1, sizeof *p);
        sd_bus_message *m = NULL;
        sd_bus_slot *slot = NULL;
        bool expect_reply = fuzz_below(&r->rng, 100) != 0;
        int k;

        if (!p)
                abort();
        p->run = r;
        /* Some calls as a careful caller makes them, so that changes also succeed (and a hole in
         * the authorization of one shows as an unprivileged success). */
        g.tame = fuzz_below(&r->rng, 100) < 15;
        if (r->n_props > 0 && fuzz_below(&r->rng, 100) < 25)
                k = build_property_call(r, &g, &m, p);
        else
                k = build_method_call(r, &g, &m, p);
        if (k >= 0 && fuzz_below(&r->rng, 10) == 0)
                k = sd_bus_message_set_allow_interactive_authorization(m, true);
        if (k >= 0 && !expect_reply)
                k = sd_bus_message_set_expect_reply(m, false);
        r->stats->sent++;
        memcpy(r->last[r->stats->sent % 4], p->what, sizeof p->what);
        if (getenv("FUZZ_TRACE"))
                fprintf(stderr, "%.3f %c %" PRIu64 " %s%s\n", trace_clock(), r->cfg->tag, r->stats->sent, p->what, k < 0 ? " (not sent)" : "");
        if (k >= 0 && !expect_reply) {
                k = sd_bus_send(r->bus, m, NULL);
                if (k >= 0)
                        fuzz_stats_count(r->stats, "(sent without asking for a reply)", 1);
        } else if (k >= 0) {
                k = sd_bus_call_async(r->bus, &slot, m, on_reply, p, r->cfg->timeout_usec);
                if (k >= 0) {
                        sd_bus_slot_set_destroy_callback(slot, free);
                        sd_bus_slot_set_floating(slot, true);
                        sd_bus_slot_unref(slot);
                        p = NULL;
                        r->outstanding++;
                }
        }
        if (k >= 0 && getenv("FUZZ_DUMP") && r->stats->sent == strtoull(getenv("FUZZ_DUMP"), NULL, 0))
                sd_bus_message_dump(m, stderr, SD_BUS_MESSAGE_DUMP_WITH_HEADER);
        if (k < 0) {
                char name[128];

                snprintf(name, sizeof name, "(not sent: %s)", strerror(-k));
                fuzz_stats_count(r->stats, name, 1);
        }
        sd_bus_message_unref(m);
        free(p);
        return 0;
}

static int connect_bus(Run *r) {
        int k;

        sd_bus_flush_close_unref(r->bus);
        r->bus = NULL;
        r->outstanding = 0;
        k = sd_bus_open_system(&r->bus);
        if (k < 0)
                fprintf(stderr, "cannot connect to the system bus: %s\n", strerror(-k));
        return k;
}

/* sd-bus closes the connection on an over-deep message the bus refuses:
 * count it, connect again. */
static int pump(Run *r) {
        int k = sd_bus_process(r->bus, NULL);

        if (k < 0 || !sd_bus_is_open(r->bus)) {
                fprintf(stderr, "%c: our connection was dropped (%s); the last calls sent:\n", r->cfg->tag, strerror(k < 0 ? -k : ENOTCONN));
                for (unsigned i = 1; i <= 4; i++)
                        fprintf(stderr, "  %s\n", r->last[(r->stats->sent + i) % 4]);
                r->stats->reconnects++;
                fuzz_stats_count(r->stats, "(our connection dropped)", r->outstanding);
                k = connect_bus(r);
                return k < 0 ? k : walk(r);
        }
        if (k == 0)
                (void) sd_bus_wait(r->bus, 1000 * 1000);
        return 0;
}

int fuzz_run(const FuzzConfig *cfg, FuzzStats *stats) {
        Run r = { .cfg = cfg, .stats = stats, .corpus = { .tag = cfg->tag, .null_fd = -1 },
                  .tree = { .service = cfg->service, .root = cfg->root } };
        int k;

        fuzz_rng_seed(&r.rng, cfg->seed);
        k = fuzz_corpus_load(&r.corpus, cfg->corpus_file);
        if (k < 0)
                fprintf(stderr, "%s: %s\n", cfg->corpus_file, strerror(-k));
        if (k >= 0)
                k = connect_bus(&r);
        if (k >= 0)
                k = walk(&r);
        while (k >= 0 && !*cfg->stop && (stats->sent < cfg->calls || r.outstanding > 0)) {
                while (k >= 0 && r.outstanding < cfg->window && stats->sent < cfg->calls && !*cfg->stop &&
                       sd_bus_is_open(r.bus) > 0) {
                        if (stats->sent > 0 && stats->sent % cfg->rewalk == 0 && (k = walk(&r)) < 0)
                                break;
                        if (stats->sent > 0 && stats->sent % 100000 == 0)   /* a long run says how far it is */
                                fprintf(stderr, "%c: %" PRIu64 " calls sent, %zu objects now\n", cfg->tag, stats->sent,
                                        r.corpus.paths.n);
                        send_one(&r);
                }
                if (k >= 0)
                        k = pump(&r);
        }
        sd_bus_flush_close_unref(r.bus);
        fuzz_tree_done(&r.tree);
        fuzz_corpus_done(&r.corpus);
        free(r.methods);
        free(r.props);
        return k;
}

void fuzz_stats_write(const FuzzStats *stats, FILE *f) {
        fprintf(f, "sent %" PRIu64 "\nanswered %" PRIu64 "\nhangs %" PRIu64 "\nleaks %" PRIu64 "\nreconnects %" PRIu64
                   "\nrefused_after_checks %" PRIu64 "\n",
                stats->sent, stats->answered, stats->hangs, stats->leaks, stats->reconnects, stats->refused_after_checks);
        for (size_t i = 0; i < stats->n_counts; i++)
                fprintf(f, "count %" PRIu64 " %s\n", stats->counts[i].n, stats->counts[i].name);
        for (uint64_t i = 0; i < stats->leaks && i < FUZZ_MAX_LEAKS; i++)
                fprintf(f, "leak %s\n", stats->leak_text[i]);
}

int fuzz_stats_read(FuzzStats *stats, FILE *f) {
        char line[512], text[300];
        uint64_t n;
        size_t leak = 0;

        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = '\0';
                if (sscanf(line, "sent %" SCNu64, &stats->sent) == 1 ||
                    sscanf(line, "answered %" SCNu64, &stats->answered) == 1 ||
                    sscanf(line, "hangs %" SCNu64, &stats->hangs) == 1 ||
                    sscanf(line, "leaks %" SCNu64, &stats->leaks) == 1 ||
                    sscanf(line, "reconnects %" SCNu64, &stats->reconnects) == 1 ||
                    sscanf(line, "refused_after_checks %" SCNu64, &stats->refused_after_checks) == 1)
                        continue;
                if (sscanf(line, "count %" SCNu64 " %299[^\n]", &n, text) == 2)
                        fuzz_stats_count(stats, text, n);
                else if (strncmp(line, "leak ", 5) == 0 && leak < FUZZ_MAX_LEAKS)
                        snprintf(stats->leak_text[leak++], sizeof stats->leak_text[0], "%.250s", line + 5);
        }
        return stats->sent > 0 ? 0 : -ENODATA;
}
