/* VM statistics on the bus: Manager.GetAllVMStats and VM.GetStats */
#include "vm-stats-dbus.h"

#include <systemd/sd-id128.h>

#include "bus-error.h"
#include "bus-text.h"
#include "log.h"
#include "macro.h"
#include "bus-work.h"
#include "domain-ops.h"
#include "vm.h"

typedef struct StatsCall {
        LibvirtCall base;   /* first: answered and submitted through it */
        char uuid[VIR_UUID_STRING_BUFLEN];   /* "" for all VMs */
        virDomainStatsRecordPtr *records;
        int n_records;
        char **paths;       /* all VMs: each record's object path, made on the worker */
} StatsCall;

/* Any thread. */
static void stats_records_free(StatsCall *c) {
        if (c->records)
                virDomainStatsRecordListFree(c->records);
        c->records = NULL;
        for (int i = 0; c->paths && i < c->n_records; i++)
                free(c->paths[i]);
        c->paths = mfree(c->paths);
}

static void stats_call_free(StatsCall *c) {
        if (!c)
                return;
        stats_records_free(c);
        libvirt_call_done(&c->base);
        free(c);
}

/* Worker thread: the object path of every record, so that the loop only
 * copies: formatting UUIDs is most of the cost of a bulk reply. */
static int stats_paths_make(StatsCall *c) {
        c->paths = calloc(c->n_records + 1, sizeof(char *));
        if (!c->paths)
                return -ENOMEM;
        for (int i = 0; i < c->n_records; i++) {
                sd_id128_t id;

                if (virDomainGetUUID(c->records[i]->dom, id.bytes) < 0)
                        continue;
                if (vm_path_from_uuid(sd_id128_to_uuid_string(id, (char[SD_ID128_UUID_STRING_MAX]) {}),
                                      &c->paths[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int stats_work(void *userdata) {
        StatsCall *c = userdata;

        c->n_records = domain_stats_read(c->base.conn, c->uuid[0] ? c->uuid : NULL, &c->records, &c->base.error);
        if (c->n_records < 0)
                return c->n_records;
        return c->uuid[0] ? 0 : stats_paths_make(c);
}

static int stats_free_work(void *userdata) {
        stats_records_free(userdata);
        return 0;
}

static void stats_free_done(int result, void *userdata) {
        stats_call_free(userdata);
}

/* After the reply: libvirt formats every domain's UUID again as it frees
 * the records, which is not the loop's time to spend. The call itself (the
 * request, the connection reference) is let go of now. */
static void stats_call_release(StatsCall *c) {
        libvirt_call_done(&c->base);
        if (c->n_records < 64 ||
            worker_pool_submit(c->base.manager->pool, WORKER_INTERNAL, stats_free_work, stats_free_done, c) < 0)
                stats_call_free(c);
}

/* One NAME: variant pair, in the calls sd_bus_message_append() would make
 * for "{sv}" after parsing that format: a bulk reply has 10^5 of them. */
static int append_entry(sd_bus_message *reply, const char *name, char type, const void *value) {
        const char signature[2] = { type, 0 };
        int r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', name);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', signature);
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, type, value);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* libvirt's typed parameters as they are: its names ("cpu.time",
 * "balloon.rss", "block.0.rd.bytes"), its types (t, x, u, i, d, b, s). */
static int append_params(sd_bus_message *reply, virTypedParameterPtr params, int n) {
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");

        for (int i = 0; r >= 0 && i < n; i++) {
                const virTypedParameter *p = &params[i];

                switch (p->type) {
                case VIR_TYPED_PARAM_INT:
                        r = append_entry(reply, p->field, 'i', &p->value.i);
                        break;
                case VIR_TYPED_PARAM_UINT:
                        r = append_entry(reply, p->field, 'u', &p->value.ui);
                        break;
                case VIR_TYPED_PARAM_LLONG:
                        r = append_entry(reply, p->field, 'x', &(int64_t) { p->value.l });
                        break;
                case VIR_TYPED_PARAM_ULLONG:
                        r = append_entry(reply, p->field, 't', &(uint64_t) { p->value.ul });
                        break;
                case VIR_TYPED_PARAM_DOUBLE:
                        r = append_entry(reply, p->field, 'd', &p->value.d);
                        break;
                case VIR_TYPED_PARAM_BOOLEAN:
                        r = append_entry(reply, p->field, 'b', &(int) { p->value.b });
                        break;
                case VIR_TYPED_PARAM_STRING: {
                        /* Disk paths and the like: XML allows what D-Bus strings do not. */
                        _cleanup_(freep) char *safe = bus_text_dup(strempty(p->value.s));

                        r = safe ? append_entry(reply, p->field, 's', safe) : -ENOMEM;
                        break;
                }
                default:
                        break;   /* a type newer than us: leave it out */
                }
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int build_all_reply(StatsCall *c, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(c->base.call.request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(oa{sv})");
        for (int i = 0; r >= 0 && i < c->n_records; i++) {
                if (!c->paths[i])
                        continue;
                r = sd_bus_message_open_container(reply, 'r', "oa{sv}");
                if (r >= 0)
                        r = sd_bus_message_append_basic(reply, 'o', c->paths[i]);
                if (r >= 0)
                        r = append_params(reply, c->records[i]->params, c->records[i]->nparams);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                *ret = TAKE_PTR(reply);
        return r;
}

static int build_one_reply(StatsCall *c, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(c->base.call.request, &reply);
        if (r >= 0)
                r = c->n_records > 0 ? append_params(reply, c->records[0]->params, c->records[0]->nparams)
                                     : append_params(reply, NULL, 0);
        if (r >= 0)
                *ret = TAKE_PTR(reply);
        return r;
}

static void stats_done(int result, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        StatsCall *c = userdata;
        int r;

        if (result == -ECANCELED)
                (void) bus_error_set_shutting_down(&error);
        else if (result < 0)
                (void) bus_error_set(&error, result, c->base.error, "Cannot read VM statistics from libvirt");
        else {
                r = c->uuid[0] ? build_one_reply(c, &reply) : build_all_reply(c, &reply);
                if (r < 0)
                        (void) bus_error_set(&error, r, NULL, "Cannot build the statistics reply");
        }
        if (reply)
                (void) bus_call_reply(&c->base.call, reply);
        else
                (void) bus_call_reply_error(&c->base.call, &error);
        stats_call_release(c);
}

static int stats_start(Manager *m, sd_bus_message *msg, const char *uuid, sd_bus_error *error) {
        StatsCall *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        libvirt_call_init_read(&c->base, m, msg);
        if (uuid)
                snprintf(c->uuid, sizeof c->uuid, "%s", uuid);
        r = libvirt_call_submit(&c->base, stats_work, stats_done, error);
        if (r < 0)
                stats_call_free(c);
        return r;
}

int method_get_all_vm_stats(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return stats_start(userdata, msg, NULL, error);
}

int method_vm_get_stats(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;

        return stats_start(vm->manager, msg, vm->info.uuid, error);
}
