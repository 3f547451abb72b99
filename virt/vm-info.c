/* A VM as read from libvirt: a snapshot taken on a worker thread */
#include "vm-info.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest-agent.h"
#include "libvirt-error.h"
#include "macro.h"
#include "virt-cleanup.h"
#include "vm-xml.h"

/* Threads that read the domains of a full read at once (with the caller's). */
#define VM_INFO_READERS 4

/* What one bulk read of all domains already says about one of them, so
 * that reading it costs one call (its XML) instead of four. */
typedef struct VmInfoHint {
        bool have_state;
        int state, reason;           /* libvirt's numbers */
        bool have_flags;
        bool autostart, persistent;
} VmInfoHint;

void vm_info_done(VmInfo *info) {
        free(info->name);
        free(info->spec);
        free(info->graphics_type);
        free(info->graphics_listen);
        for (size_t i = 0; info->disk_sources && info->disk_sources[i]; i++)
                free(info->disk_sources[i]);
        free(info->disk_sources);
        vm_info_devices_done(info);
        *info = (VmInfo) { .graphics_port = -1 };
}

void vm_info_move(VmInfo *dst, VmInfo *src) {
        vm_info_done(dst);
        *dst = *src;
        *src = (VmInfo) { .graphics_port = -1 };
}

static void parse_graphics(xmlNodePtr devices, VmInfo *info) {
        xmlNodePtr g = vm_xml_child(devices, "graphics");
        _cleanup_(freep) char *port = NULL;

        if (!g)
                return;
        info->graphics_type = vm_xml_prop(g, "type");
        info->graphics_listen = vm_xml_prop(g, "listen");
        if (!info->graphics_listen)
                info->graphics_listen = vm_xml_prop(vm_xml_child(g, "listen"), "address");
        port = vm_xml_prop(g, "port");
        info->graphics_port = port ? atoi(port) : -1;
        if (info->graphics_port <= 0)
                info->graphics_port = -1;
}

static void parse_disks(xmlNodePtr devices, VmInfo *info) {
        size_t n = 0;

        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next)
                if (d->type == XML_ELEMENT_NODE && xmlStrEqual(d->name, BAD_CAST "disk"))
                        n++;
        if (n == 0)
                return;
        info->disk_sources = calloc(n + 1, sizeof(char *));
        if (!info->disk_sources)
                return;
        n = 0;
        for (xmlNodePtr d = devices->children; d; d = d->next) {
                char *s;

                if (d->type != XML_ELEMENT_NODE || !xmlStrEqual(d->name, BAD_CAST "disk"))
                        continue;
                s = vm_xml_disk_source(d);
                if (s)
                        info->disk_sources[n++] = s;
        }
}

static void parse_metadata(xmlNodePtr metadata, VmInfo *info) {
        for (xmlNodePtr n = metadata ? metadata->children : NULL; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE || !n->ns ||
                    !xmlStrEqual(n->ns->href, BAD_CAST VM_METADATA_NS))
                        continue;
                info->spec = vm_xml_content(vm_xml_child(n, "spec"));
                return;
        }
}

int vm_info_parse_xml(const char *xml, VmInfo *info) {
        xmlDocPtr doc;
        xmlNodePtr root, vcpu, mem;
        _cleanup_(freep) char *vcpus = NULL, *vcpus_max = NULL;

        /* Errors come back as -EBADMSG; libxml2 must not print them itself. */
        doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EBADMSG;
        root = xmlDocGetRootElement(doc);
        if (!root || !xmlStrEqual(root->name, BAD_CAST "domain")) {
                xmlFreeDoc(doc);
                return -EBADMSG;
        }
        free(info->name);
        info->name = vm_xml_content(vm_xml_child(root, "name"));
        vcpu = vm_xml_child(root, "vcpu");
        vcpus = vm_xml_prop(vcpu, "current");
        if (!vcpus)
                vcpus = vm_xml_content(vcpu);
        info->vcpus = vcpus ? (unsigned) strtoul(vcpus, NULL, 10) : 0;
        vcpus_max = vm_xml_content(vcpu);
        info->max_vcpus = vcpus_max ? (unsigned) strtoul(vcpus_max, NULL, 10) : info->vcpus;
        mem = vm_xml_child(root, "currentMemory");
        if (!mem)
                mem = vm_xml_child(root, "memory");
        info->memory_mib = vm_xml_memory_kib(mem) / 1024;
        info->current_memory_mib = info->memory_mib;
        info->max_memory_mib = vm_xml_memory_kib(vm_xml_child(root, "memory")) / 1024;
        info->graphics_port = -1;
        parse_graphics(vm_xml_child(root, "devices"), info);
        parse_disks(vm_xml_child(root, "devices"), info);
        info->guest_agent = guest_agent_channel_state(vm_xml_child(root, "devices"));
        vm_info_parse_devices(root, info);
        parse_metadata(vm_xml_child(root, "metadata"), info);
        xmlFreeDoc(doc);
        return 0;
}

/* A running persistent domain: what its definition holds for the next start. */
static int vm_info_read_pending(virDomainPtr dom, VmInfo *info) {
        _cleanup_(freep) char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
        VmInfo config = { .graphics_port = -1 };
        int r;

        if (!xml)
                return -ENOENT;   /* gone meanwhile; the caller takes libvirt's error */
        r = vm_info_parse_xml(xml, &config);
        if (r >= 0)
                info->pending = vm_info_pending(info, &config);
        vm_info_done(&config);
        return r;
}

/* libvirt says "paused, migration" both of a source in its last pass and of
 * the domain a destination starts for an incoming migration: only the job on
 * the domain tells them apart (libvirt refuses an incoming one's statistics,
 * "available only on the source host"). */
static bool vm_info_incoming(virDomainPtr dom) {
        virTypedParameterPtr params = NULL;
        int type = VIR_DOMAIN_JOB_NONE, n = 0, op = 0;
        virErrorPtr e;
        bool incoming;

        if (virDomainGetJobStats(dom, &type, &params, &n, 0) < 0) {
                e = virGetLastError();
                incoming = e && e->code == VIR_ERR_OPERATION_UNSUPPORTED;
                virResetLastError();
                return incoming;
        }
        incoming = virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
                   op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN;
        virTypedParamsFree(params, n);
        return incoming;
}

/* vm_info_read(), taking what HINT has instead of asking for it. */
static int vm_info_read_hinted(virDomainPtr dom, const VmInfoHint *hint, VmInfo *ret, char **ret_error) {
        VmInfo info = { .graphics_port = -1 };
        _cleanup_(freep) char *xml = NULL;
        int state, reason, autostart = 0, persistent, r;

        if (virDomainGetUUIDString(dom, info.uuid) < 0)
                goto fail;
        if (hint && hint->have_state)
                state = hint->state, reason = hint->reason;
        else if (virDomainGetState(dom, &state, &reason, 0) < 0)
                goto fail;
        xml = virDomainGetXMLDesc(dom, 0);
        if (!xml)
                goto fail;
        if (hint && hint->have_flags) {
                autostart = hint->autostart;
                persistent = hint->persistent;
        } else {
                if (virDomainGetAutostart(dom, &autostart) < 0)
                        goto fail;
                persistent = virDomainIsPersistent(dom);
                if (persistent < 0)
                        goto fail;
        }

        info.state = (VmState) state;
        info.reason = vm_reason_from_libvirt(state, reason);
        if (state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_MIGRATION && vm_info_incoming(dom))
                info.reason = "incoming";
        info.autostart = autostart;
        info.persistent = persistent;
        r = vm_info_parse_xml(xml, &info);
        if (r >= 0 && persistent && vm_state_is_active(info.state))
                r = vm_info_read_pending(dom, &info);
        if (r == -ENOENT)
                goto fail;
        if (r < 0) {
                vm_info_done(&info);
                if (ret_error)
                        *ret_error = strdup("libvirt returned domain XML that cannot be parsed");
                return r;
        }
        *ret = info;
        return 0;
fail:
        vm_info_done(&info);
        return libvirt_error_take(ret_error);
}

int vm_info_read(virDomainPtr dom, VmInfo *ret, char **ret_error) {
        return vm_info_read_hinted(dom, NULL, ret, ret_error);
}

typedef struct UuidIndex {
        unsigned char uuid[VIR_UUID_BUFLEN];
        size_t index;
} UuidIndex;

static int uuid_index_compare(const void *a, const void *b) {
        return memcmp(((const UuidIndex *) a)->uuid, ((const UuidIndex *) b)->uuid, VIR_UUID_BUFLEN);
}

/* The position in the sorted BY_UUID of DOM's UUID, or -1. */
static ssize_t find_domain(const UuidIndex *by_uuid, size_t n, virDomainPtr dom) {
        UuidIndex key;
        const UuidIndex *found;

        if (virDomainGetUUID(dom, key.uuid) < 0)
                return -1;
        found = bsearch(&key, by_uuid, n, sizeof *by_uuid, uuid_index_compare);
        return found ? (ssize_t) found->index : -1;
}

/* Lists the domains FLAGS selects and marks their hints: autostart when
 * IS_AUTOSTART, persistent otherwise. False when libvirt cannot list them. */
static bool mark_listed(virConnectPtr conn, unsigned flags, const UuidIndex *by_uuid, size_t n, VmInfoHint *hints,
                        bool is_autostart) {
        virDomainPtr *listed = NULL;
        int m = virConnectListAllDomains(conn, &listed, flags);

        if (m < 0) {
                virResetLastError();
                return false;
        }
        for (int i = 0; i < m; i++) {
                ssize_t k = find_domain(by_uuid, n, listed[i]);
                if (k >= 0) {
                        if (is_autostart)
                                hints[k].autostart = true;
                        else
                                hints[k].persistent = true;
                }
                virDomainFree(listed[i]);
        }
        free(listed);
        return true;
}

/* Worker thread: hints for DOMS[0..N), from three calls in all (the state of
 * every domain, and the autostart and persistent ones). Best effort: a hint
 * that could not be had is left unset, and vm_info_read_hinted() asks. */
static void vm_info_hints_read(virConnectPtr conn, virDomainPtr *doms, size_t n, VmInfoHint *hints) {
        _cleanup_(freep) UuidIndex *by_uuid = calloc(n ?: 1, sizeof *by_uuid);
        virDomainStatsRecordPtr *records = NULL;
        size_t valid = 0;
        int m;

        if (!by_uuid)
                return;
        for (size_t i = 0; i < n; i++) {
                hints[i] = (VmInfoHint) {};
                if (virDomainGetUUID(doms[i], by_uuid[valid].uuid) >= 0)
                        by_uuid[valid++].index = i;
        }
        qsort(by_uuid, valid, sizeof *by_uuid, uuid_index_compare);

        /* Every domain's state and reason in one call; NOWAIT: a VM whose
         * monitor is stuck does not hold up the rest. */
        m = virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_STATE, &records, VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
        if (m < 0)
                virResetLastError();
        for (int i = 0; i < m; i++) {
                ssize_t k = find_domain(by_uuid, valid, records[i]->dom);
                int state, reason;

                if (k < 0 || virTypedParamsGetInt(records[i]->params, records[i]->nparams, "state.state", &state) <= 0 ||
                    virTypedParamsGetInt(records[i]->params, records[i]->nparams, "state.reason", &reason) <= 0)
                        continue;
                hints[k].have_state = true;
                hints[k].state = state;
                hints[k].reason = reason;
        }
        if (records)
                virDomainStatsRecordListFree(records);

        /* Autostart and persistence: two filtered lists instead of two calls per domain. */
        if (mark_listed(conn, VIR_CONNECT_LIST_DOMAINS_AUTOSTART, by_uuid, valid, hints, true) &&
            mark_listed(conn, VIR_CONNECT_LIST_DOMAINS_PERSISTENT, by_uuid, valid, hints, false))
                for (size_t i = 0; i < n; i++)
                        hints[i].have_flags = true;
}

int vm_info_read_uuid(virConnectPtr conn, const char *uuid, VmInfo *ret, char **ret_error) {
        _cleanup_(virDomainFreep) virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);

        if (!dom)
                return libvirt_error_take(ret_error);
        return vm_info_read(dom, ret, ret_error);
}

static void domains_free(virDomainPtr *doms, int n) {
        for (int i = 0; i < n; i++)
                virDomainFree(doms[i]);
        free(doms);
}

/* One full read's per-domain calls (each domain's XML), spread over a few
 * threads: libvirt answers calls on one connection concurrently, and a
 * serial read of 10,000 domains spends most of its time waiting for each
 * answer in turn. */
typedef struct ReadTeam {
        virDomainPtr *doms;
        const VmInfoHint *hints;
        VmInfo *infos;
        int *results;
        size_t n;
        atomic_size_t next;
} ReadTeam;

static void *read_team_run(void *userdata) {
        ReadTeam *t = userdata;

        for (size_t i; (i = atomic_fetch_add(&t->next, 1)) < t->n;)
                t->results[i] = vm_info_read_hinted(t->doms[i], &t->hints[i], &t->infos[i], NULL);
        return NULL;
}

static void read_team_join(ReadTeam *t) {
        pthread_t threads[VM_INFO_READERS - 1];
        size_t started = 0;

        /* Small reads are not worth a thread; a thread that cannot be had is
         * not needed (this one reads what is left). */
        for (size_t i = 0; i < ELEMENTSOF(threads) && t->n > 64 * (i + 1); i++)
                if (pthread_create(&threads[started], NULL, read_team_run, t) == 0)
                        started++;
        (void) read_team_run(t);
        for (size_t i = 0; i < started; i++)
                (void) pthread_join(threads[i], NULL);
}

int vm_info_read_all(virConnectPtr conn, VmInfo **ret, size_t *ret_n, char **ret_error) {
        _cleanup_(freep) VmInfoHint *hints = NULL;
        _cleanup_(freep) int *results = NULL;
        virDomainPtr *doms = NULL;
        VmInfo *infos;
        ReadTeam team;
        int n, r = 0;

        *ret = NULL;
        *ret_n = 0;
        n = virConnectListAllDomains(conn, &doms, 0);
        if (n < 0)
                return libvirt_error_take(ret_error);
        infos = calloc((size_t) n + 1, sizeof *infos);
        hints = calloc((size_t) n + 1, sizeof *hints);
        results = calloc((size_t) n + 1, sizeof *results);
        if (!infos || !hints || !results) {
                free(infos);
                domains_free(doms, n);
                return -ENOMEM;
        }
        *ret = infos;
        vm_info_hints_read(conn, doms, (size_t) n, hints);
        team = (ReadTeam) { .doms = doms, .hints = hints, .infos = infos, .results = results, .n = (size_t) n };
        read_team_join(&team);
        /* In libvirt's order, without the gaps; a domain undefined meanwhile is no error. */
        for (int i = 0; i < n; i++) {
                if (results[i] >= 0) {
                        if ((size_t) i != *ret_n)
                                vm_info_move(&infos[*ret_n], &infos[i]);
                        (*ret_n)++;
                } else if (results[i] != -ENOENT && r >= 0)
                        r = results[i];
        }
        domains_free(doms, n);
        return r;
}
