/* A VM's devices as read from its domain XML, and what waits for its next start */
#include "vm-info-devices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "strv.h"
#include "vm-xml.h"

static bool is_element(xmlNodePtr n, const char *name) {
        return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

static size_t count_elements(xmlNodePtr parent, const char *name) {
        size_t n = 0;

        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
                if (is_element(c, name))
                        n++;
        return n;
}

/* Never NULL: "" for what the XML does not say (NULL only when out of memory). */
static char *prop_or_empty(xmlNodePtr n, const char *name) {
        char *s = vm_xml_prop(n, name);

        return s ?: strdup("");
}

static void parse_disk(xmlNodePtr d, VmDiskInfo *disk) {
        xmlNodePtr target = vm_xml_child(d, "target");

        disk->target = prop_or_empty(target, "dev");
        disk->bus = prop_or_empty(target, "bus");
        disk->source = vm_xml_disk_source(d) ?: strdup("");
        disk->format = prop_or_empty(vm_xml_child(d, "driver"), "type");
        disk->alias = prop_or_empty(vm_xml_child(d, "alias"), "name");
        disk->readonly = vm_xml_child(d, "readonly") != NULL;
}

static void parse_nic(xmlNodePtr i, VmNicInfo *nic) {
        xmlNodePtr source = vm_xml_child(i, "source");

        nic->mac = prop_or_empty(vm_xml_child(i, "mac"), "address");
        nic->model = prop_or_empty(vm_xml_child(i, "model"), "type");
        nic->type = prop_or_empty(i, "type");
        nic->source = vm_xml_prop(source, "bridge") ?: vm_xml_prop(source, "network") ?: strdup("");
        nic->tap = prop_or_empty(vm_xml_child(i, "target"), "dev");
        nic->alias = prop_or_empty(vm_xml_child(i, "alias"), "name");
}

void vm_info_parse_devices(xmlNodePtr root, VmInfo *info) {
        xmlNodePtr devices = vm_xml_child(root, "devices");
        size_t nd = count_elements(devices, "disk"), nn = count_elements(devices, "interface");

        info->machine = vm_xml_prop(vm_xml_child(vm_xml_child(root, "os"), "type"), "machine");
        info->disks = nd ? calloc(nd, sizeof *info->disks) : NULL;
        info->nics = nn ? calloc(nn, sizeof *info->nics) : NULL;
        for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
                if (info->disks && is_element(c, "disk"))
                        parse_disk(c, &info->disks[info->n_disks++]);
                else if (info->nics && is_element(c, "interface"))
                        parse_nic(c, &info->nics[info->n_nics++]);
        }
}

void vm_info_devices_done(VmInfo *info) {
        for (size_t i = 0; i < info->n_disks; i++) {
                VmDiskInfo *d = &info->disks[i];
                free(d->target);
                free(d->bus);
                free(d->source);
                free(d->format);
                free(d->alias);
        }
        free(info->disks);
        for (size_t i = 0; i < info->n_nics; i++) {
                VmNicInfo *n = &info->nics[i];
                free(n->mac);
                free(n->model);
                free(n->type);
                free(n->source);
                free(n->tap);
                free(n->alias);
        }
        free(info->nics);
        free(info->machine);
        strv_free(info->pending);
}

bool vm_disks_equal(const VmDiskInfo *a, size_t n_a, const VmDiskInfo *b, size_t n_b) {
        if (n_a != n_b)
                return false;
        for (size_t i = 0; i < n_a; i++)
                if (!streq_ptr(a[i].target, b[i].target) || !streq_ptr(a[i].bus, b[i].bus) ||
                    !streq_ptr(a[i].source, b[i].source) || !streq_ptr(a[i].format, b[i].format) ||
                    !streq_ptr(a[i].alias, b[i].alias) || a[i].readonly != b[i].readonly)
                        return false;
        return true;
}

bool vm_nics_equal(const VmNicInfo *a, size_t n_a, const VmNicInfo *b, size_t n_b) {
        if (n_a != n_b)
                return false;
        for (size_t i = 0; i < n_a; i++)
                if (!streq_ptr(a[i].mac, b[i].mac) || !streq_ptr(a[i].model, b[i].model) ||
                    !streq_ptr(a[i].type, b[i].type) || !streq_ptr(a[i].source, b[i].source) ||
                    !streq_ptr(a[i].tap, b[i].tap) || !streq_ptr(a[i].alias, b[i].alias))
                        return false;
        return true;
}

bool vm_strv_equal(char **a, char **b) {
        size_t i;

        for (i = 0; a && b && a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return (!a || !a[i]) && (!b || !b[i]);
}

static const VmDiskInfo *disk_by_target(const VmInfo *info, const char *target) {
        for (size_t i = 0; i < info->n_disks; i++)
                if (streq_ptr(info->disks[i].target, target))
                        return &info->disks[i];
        return NULL;
}

static const VmNicInfo *nic_by_mac(const VmInfo *info, const char *mac) {
        for (size_t i = 0; i < info->n_nics; i++)
                if (streq_ptr(info->nics[i].mac, mac))
                        return &info->nics[i];
        return NULL;
}

typedef struct Lines {
        char **v;
        size_t n;
        bool oom;
} Lines;

static void add_line(Lines *l, const char *format, ...) _printf_(2, 3);
static void add_line(Lines *l, const char *format, ...) {
        char **grown, *s;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        grown = r >= 0 ? realloc(l->v, (l->n + 2) * sizeof(char *)) : NULL;
        if (!grown) {
                if (r >= 0)
                        free(s);
                l->oom = true;
                return;
        }
        l->v = grown;
        l->v[l->n++] = s;
        l->v[l->n] = NULL;
}

static void pending_devices(const VmInfo *live, const VmInfo *config, Lines *l) {
        for (size_t i = 0; i < config->n_disks; i++) {
                const VmDiskInfo *d = &config->disks[i], *now = disk_by_target(live, d->target);
                if (!now)
                        add_line(l, "disk %s: added (%s)", d->target, d->source);
                else if (!streq_ptr(now->source, d->source))
                        add_line(l, "disk %s: %s instead of %s", d->target, d->source, now->source);
        }
        for (size_t i = 0; i < live->n_disks; i++)
                if (!disk_by_target(config, live->disks[i].target))
                        add_line(l, "disk %s: removed", live->disks[i].target);
        for (size_t i = 0; i < config->n_nics; i++)
                if (!nic_by_mac(live, config->nics[i].mac))
                        add_line(l, "nic %s: added (%s %s)", config->nics[i].mac, config->nics[i].type,
                                 config->nics[i].source);
        for (size_t i = 0; i < live->n_nics; i++)
                if (!nic_by_mac(config, live->nics[i].mac))
                        add_line(l, "nic %s: removed", live->nics[i].mac);
}

char **vm_info_pending(const VmInfo *live, const VmInfo *config) {
        Lines l = {};

        if (!streq_ptr(live->machine, config->machine))
                add_line(&l, "machine: %s -> %s", strempty(live->machine), strempty(config->machine));
        if (live->max_memory_mib != config->max_memory_mib)
                add_line(&l, "memory maximum: %llu -> %llu MiB", (unsigned long long) live->max_memory_mib,
                         (unsigned long long) config->max_memory_mib);
        if (live->max_vcpus != config->max_vcpus)
                add_line(&l, "vcpu maximum: %u -> %u", live->max_vcpus, config->max_vcpus);
        if (live->vcpus != config->vcpus)
                add_line(&l, "vcpus: %u -> %u", live->vcpus, config->vcpus);
        pending_devices(live, config, &l);
        if (l.oom) {
                strv_free(l.v);
                return NULL;
        }
        return l.v;
}
