/* The VM spec: JSON in, validated, turned into libvirt domain XML */
#include "vm-spec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "guest-agent.h"
#include "error-text.h"
#include "ifname.h"
#include "json-cleanup.h"
#include "json-dispatch.h"
#include "json-field.h"
#include "macro.h"
#include "vm-info.h"
#include "vm-spec-private.h"
#include "vm-xml.h"

static const char *const vm_types[] = { "kvm", "qemu", "test", NULL };
static const char *const firmwares[] = { "bios", "uefi", NULL };
static const char *const disk_formats[] = { "raw", "qcow2", NULL };
static const char *const disk_buses[] = { "virtio", "sata", "scsi", "ide", NULL };
static const char *const disk_devices[] = { "disk", "cdrom", NULL };
static const char *const nic_models[] = { "virtio", "e1000", "rtl8139", NULL };
static const char *const graphics_types[] = { "vnc", "spice", NULL };

#define MEMORY_MIB_MIN 16
#define MEMORY_MIB_MAX (4ULL * 1024 * 1024)   /* 4 TiB */
#define VCPUS_MAX 512
#define METADATA_MAX_KEYS 32
#define METADATA_MAX_VALUE 1024

static bool uuid_valid(const char *s) {
        static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

        if (strlen(s) != sizeof pattern - 1)
                return false;
        for (size_t i = 0; pattern[i]; i++)
                if (pattern[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

static bool machine_valid(const char *s) {
        if (!*s)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("._-", *p))
                        return false;
        return true;
}

/* "52:54:00:12:34:56": six hex pairs, unicast, not all zero; lower-cased into OUT. */
static bool mac_parse(const char *s, char out[18]) {
        unsigned b[6];
        char tail;

        if (strlen(s) != 17 ||
            sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
                return false;
        for (size_t i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i]))
                        return false;
        if (b[0] & 1)
                return false;   /* multicast */
        if ((b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0)
                return false;
        snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0] & 0xffu, b[1] & 0xffu, b[2] & 0xffu,
                 b[3] & 0xffu, b[4] & 0xffu, b[5] & 0xffu);
        return true;
}

/* A MAC in QEMU's locally administered 52:54:00 range, as libvirt would pick. */
int vm_spec_mac_generate(char out[18]) {
        uint8_t b[3];

        if (getrandom(b, sizeof b, 0) != sizeof b)
                return -errno;
        snprintf(out, 18, "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
        return 0;
}

/* SIZE - 1 random hex digits: a password nobody knows. */
static int random_password(char *buf, size_t size) {
        uint8_t b[32];
        size_t n = (size - 1) / 2;

        if (n > sizeof b || getrandom(b, n, 0) != (ssize_t) n)
                return -EIO;
        for (size_t i = 0; i < n; i++)
                snprintf(buf + 2 * i, 3, "%02x", b[i]);
        explicit_bzero(b, sizeof b);
        return 0;
}

static bool address_valid(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

void vm_spec_done(VmSpec *spec) {
        free(spec->name);
        free(spec->uuid);
        free(spec->machine);
        free(spec->graphics_listen);
        for (size_t i = 0; i < spec->n_disks; i++) {
                free(spec->disks[i].path);
                free(spec->disks[i].pool);
                free(spec->disks[i].volume);
                free(spec->disks[i].nfs_host);
        }
        for (size_t i = 0; i < spec->n_nics; i++) {
                free(spec->nics[i].bridge);
                free(spec->nics[i].network);
        }
        json_object_put(spec->normalized);
        *spec = (VmSpec) {};
}

static int vm_dispatch_path(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                            char **ret_error) {
        char **path = ret;
        const char *s;
        int r;

        r = json_field_string(v, field, PATH_MAX, &s, ret_error);
        if (r < 0)
                return r;
        if (s[0] != '/')
                return json_field_fail(ret_error, field, "must be an absolute path");
        *path = strdup(s);
        return *path ? 0 : -ENOMEM;
}

/* A disk's pool or its volume: the error says which. */
static int vm_dispatch_volume_name(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                   char **ret_error) {
        char **name = ret;
        const char *s;
        int r;

        r = json_field_string(v, field, JSON_NAME_MAX_LEN, &s, ret_error);
        if (r < 0)
                return r;
        if (!json_name_valid(s))
                return json_field_fail(ret_error, field, "is not a valid %s name", entry->name);
        *name = strdup(s);
        return *name ? 0 : -ENOMEM;
}

/* The shape only ("vdb"); whether it fits the bus is checked with the bus. */
static int vm_dispatch_target(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                              char **ret_error) {
        const char *s;
        int r;

        r = json_field_string(v, field, 64, &s, ret_error);
        if (r < 0)
                return r;
        if (strlen(s) != 3 || !strchr("vsh", s[0]) || s[1] != 'd' || s[2] < 'a' || s[2] > 'z')
                return json_field_fail(ret_error, field, "'%s' is not a disk target like vdb, sda or hdc", s);
        memcpy(ret, s, 4);
        return 0;
}

static const JsonDispatch disk_fields[] = {
        { "path", json_type_string, vm_dispatch_path, .offset = offsetof(VmSpecDisk, path) },
        { "format", json_type_string, json_dispatch_enum, .offset = offsetof(VmSpecDisk, format),
          .choices = disk_formats },
        { "bus", json_type_string, json_dispatch_enum, .offset = offsetof(VmSpecDisk, bus), .choices = disk_buses },
        { "device", json_type_string, json_dispatch_enum, .offset = offsetof(VmSpecDisk, device),
          .choices = disk_devices },
        { "readonly", json_type_boolean, json_dispatch_bool, .offset = offsetof(VmSpecDisk, readonly) },
        { "pool", json_type_string, vm_dispatch_volume_name, .offset = offsetof(VmSpecDisk, pool) },
        { "volume", json_type_string, vm_dispatch_volume_name, .offset = offsetof(VmSpecDisk, volume) },
        { "target", json_type_string, vm_dispatch_target, .offset = offsetof(VmSpecDisk, target) },
        {}
};

/* What the keys of a disk say together: a path, or a pool and a volume. */
static int disk_check(VmSpecDisk *d, const char *prefix, bool format_given, char **ret_error) {
        char field[64];

        if (d->pool || d->volume) {
                snprintf(field, sizeof field, "%s.%s", prefix, d->pool ? "volume" : "pool");
                if (!d->pool || !d->volume)
                        return json_field_fail(ret_error, field, "is required with %s", d->pool ? "pool" : "volume");
                snprintf(field, sizeof field, "%s.path", prefix);
                if (d->path)
                        return json_field_fail(ret_error, field, "give either a path or a pool and a volume");
                snprintf(field, sizeof field, "%s.format", prefix);
                if (format_given)
                        return json_field_fail(ret_error, field, "comes from the volume; leave it out");
        } else {
                snprintf(field, sizeof field, "%s.path", prefix);
                if (!d->path)
                        return json_field_fail(ret_error, field, "is required (or a pool and a volume)");
        }
        snprintf(field, sizeof field, "%s.target", prefix);
        if (d->target[0] && !vm_spec_target_valid(d->bus, d->target))
                return json_field_fail(ret_error, field, "'%s' is not a target of the %s bus", d->target, d->bus);
        if (streq(d->device, "cdrom")) {
                snprintf(field, sizeof field, "%s.bus", prefix);
                if (streq(d->bus, "virtio"))
                        return json_field_fail(ret_error, field, "a cdrom must be on sata, scsi or ide");
                d->readonly = true;
        }
        return 0;
}

int vm_spec_disk_parse_object(json_object *o, const char *prefix, VmSpecDisk *d, char **ret_error) {
        bool format_given;
        int r;

        *d = (VmSpecDisk) { .bus = "virtio", .device = "disk" };
        r = json_dispatch(o, prefix, disk_fields, d, ret_error);
        if (r < 0)
                return r;
        /* Raw unless given; a volume's format is the volume's, and not to be given. */
        format_given = d->format;
        if (!format_given)
                d->format = "raw";
        return disk_check(d, prefix, format_given, ret_error);
}

static int parse_disk(json_object *o, size_t index, VmSpecDisk *d, char **ret_error) {
        char prefix[32];

        snprintf(prefix, sizeof prefix, "disks[%zu]", index);
        return vm_spec_disk_parse_object(o, prefix, d, ret_error);
}

/* A string of at most 64 bytes that VALID accepts, copied into a char *;
 * else "FIELD: 'VALUE' is not WHAT". */
static int dispatch_checked(json_object *v, const char *field, bool (*valid)(const char *s), const char *what,
                            char **ret, char **ret_error) {
        const char *s;
        int r;

        r = json_field_string(v, field, 64, &s, ret_error);
        if (r < 0)
                return r;
        if (!valid(s))
                return json_field_fail(ret_error, field, "'%s' is not %s", s, what);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int vm_dispatch_bridge(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                              char **ret_error) {
        return dispatch_checked(v, field, ifname_valid, "a valid interface name", ret, ret_error);
}

static int vm_dispatch_network(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                               char **ret_error) {
        return dispatch_checked(v, field, ifname_valid, "a network name", ret, ret_error);
}

static int vm_dispatch_mac(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                           char **ret_error) {
        const char *s;
        int r;

        r = json_field_string(v, field, 64, &s, ret_error);
        if (r < 0)
                return r;
        if (!mac_parse(s, ret))
                return json_field_fail(ret_error, field, "'%s' is not a unicast MAC address like 52:54:00:12:34:56",
                                       s);
        return 0;
}

static const JsonDispatch nic_fields[] = {
        { "bridge", json_type_string, vm_dispatch_bridge, .offset = offsetof(VmSpecNic, bridge) },
        { "model", json_type_string, json_dispatch_enum, .offset = offsetof(VmSpecNic, model), .choices = nic_models },
        { "mac", json_type_string, vm_dispatch_mac, .offset = offsetof(VmSpecNic, mac) },
        { "network", json_type_string, vm_dispatch_network, .offset = offsetof(VmSpecNic, network) },
        {}
};

int vm_spec_nic_parse_object(json_object *o, const char *prefix, VmSpecNic *n, char **ret_error) {
        char field[64];
        int r;

        *n = (VmSpecNic) { .model = "virtio" };
        r = json_dispatch(o, prefix, nic_fields, n, ret_error);
        if (r < 0)
                return r;
        snprintf(field, sizeof field, "%s.bridge", prefix);
        if (n->network && n->bridge)
                return json_field_fail(ret_error, field, "give either a bridge or a network");
        if (!n->bridge && !n->network)
                return json_field_fail(ret_error, field, "is required (or a network)");
        return 0;
}

static int parse_nic(json_object *o, size_t index, VmSpecNic *n, char **ret_error) {
        char prefix[32];

        snprintf(prefix, sizeof prefix, "nics[%zu]", index);
        return vm_spec_nic_parse_object(o, prefix, n, ret_error);
}

static int array_length(json_object *v, const char *field, size_t max, size_t *ret_n, char **ret_error) {
        if (json_object_array_length(v) > max)
                return json_field_fail(ret_error, field, "at most %zu entries", max);
        *ret_n = json_object_array_length(v);
        return 0;
}

static int vm_dispatch_disks(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                             char **ret_error) {
        VmSpec *spec = ret;
        int r;

        r = array_length(v, field, VM_SPEC_MAX_DISKS, &spec->n_disks, ret_error);
        for (size_t i = 0; r >= 0 && i < spec->n_disks; i++)
                r = parse_disk(json_object_array_get_idx(v, i), i, &spec->disks[i], ret_error);
        return r;
}

static int vm_dispatch_nics(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                            char **ret_error) {
        VmSpec *spec = ret;
        int r;

        r = array_length(v, field, VM_SPEC_MAX_NICS, &spec->n_nics, ret_error);
        for (size_t i = 0; r >= 0 && i < spec->n_nics; i++)
                r = parse_nic(json_object_array_get_idx(v, i), i, &spec->nics[i], ret_error);
        return r;
}

static int vm_dispatch_listen(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                              char **ret_error) {
        return dispatch_checked(v, field, address_valid, "an IPv4 or IPv6 address", ret, ret_error);
}

static const JsonDispatch graphics_fields[] = {
        { "type", json_type_string, json_dispatch_enum, .offset = offsetof(VmSpec, graphics_type),
          .choices = graphics_types },
        { "listen", json_type_string, vm_dispatch_listen, .offset = offsetof(VmSpec, graphics_listen) },
        {}
};

static int vm_dispatch_graphics(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                char **ret_error) {
        VmSpec *spec = ret;
        int r;

        spec->graphics_type = "vnc";
        r = json_dispatch(v, field, graphics_fields, spec, ret_error);
        if (r < 0)
                return r;
        /* Never every interface by default: a console is a root shell's worth. */
        if (!spec->graphics_listen && !(spec->graphics_listen = strdup("127.0.0.1")))
                return -ENOMEM;
        return 0;
}

/* Checked only: the metadata is kept as given, in the normalized spec. */
static int vm_dispatch_metadata(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                                char **ret_error) {
        const char *s;
        size_t n = 0;
        int r;

        if (!json_object_is_type(v, json_type_object))
                return json_field_fail(ret_error, field, "must be an object of strings");
        json_object_object_foreach(v, key, value) {
                char item[128];

                snprintf(item, sizeof item, "metadata.%.64s", key);
                if (++n > METADATA_MAX_KEYS)
                        return json_field_fail(ret_error, field, "at most %d keys", METADATA_MAX_KEYS);
                r = json_field_string(value, item, METADATA_MAX_VALUE, &s, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int vm_dispatch_uuid(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                            char **ret_error) {
        return dispatch_checked(v, field, uuid_valid, "a UUID like 6695eb01-f6a4-8304-79aa-97f2502e193f", ret,
                                ret_error);
}

static int vm_dispatch_machine(json_object *v, const char *field, const JsonDispatch *entry, void *ret,
                               char **ret_error) {
        return dispatch_checked(v, field, machine_valid, "a machine type like q35 or pc", ret, ret_error);
}

/* The keys of a VM spec. Offset 0: the parser takes the whole VmSpec. */
static const JsonDispatch vm_fields[] = {
        /* Longer than a name can be, so that a long name is told what a name is. */
        { "name", json_type_string, json_dispatch_name, .offset = offsetof(VmSpec, name),
          .flags = JSON_DISPATCH_REQUIRED, .max = 256 },
        { "uuid", json_type_string, vm_dispatch_uuid, .offset = offsetof(VmSpec, uuid) },
        { "memory_mib", json_type_int, json_dispatch_uint64, .offset = offsetof(VmSpec, memory_mib),
          .flags = JSON_DISPATCH_REQUIRED, .min = MEMORY_MIB_MIN, .max = MEMORY_MIB_MAX },
        { "vcpus", json_type_int, json_dispatch_unsigned, .offset = offsetof(VmSpec, vcpus),
          .min = 1, .max = VCPUS_MAX },
        { "max_memory_mib", json_type_int, json_dispatch_uint64, .offset = offsetof(VmSpec, max_memory_mib),
          .min = MEMORY_MIB_MIN, .max = MEMORY_MIB_MAX },
        { "max_vcpus", json_type_int, json_dispatch_unsigned, .offset = offsetof(VmSpec, max_vcpus),
          .min = 1, .max = VCPUS_MAX },
        { "type", json_type_string, json_dispatch_enum, .offset = offsetof(VmSpec, type), .choices = vm_types },
        { "machine", json_type_string, vm_dispatch_machine, .offset = offsetof(VmSpec, machine) },
        { "firmware", json_type_string, json_dispatch_enum, .offset = offsetof(VmSpec, firmware),
          .choices = firmwares },
        { "disks", json_type_array, vm_dispatch_disks, .offset = 0 },
        { "nics", json_type_array, vm_dispatch_nics, .offset = 0 },
        { "graphics", json_type_object, vm_dispatch_graphics, .offset = 0 },
        { "autostart", json_type_boolean, json_dispatch_bool, .offset = offsetof(VmSpec, autostart) },
        { "start", json_type_boolean, json_dispatch_bool, .offset = offsetof(VmSpec, start) },
        { "guest_agent", json_type_boolean, json_dispatch_bool, .offset = offsetof(VmSpec, guest_agent) },
        { "metadata", JSON_DISPATCH_ANY, vm_dispatch_metadata, .offset = 0 },
        {}
};

static int check_unique(const VmSpec *spec, char **ret_error) {
        char field[64], other[64];

        for (size_t i = 0; i < spec->n_disks; i++)
                for (size_t j = 0; j < i; j++)
                        if (spec->disks[i].pool
                                    ? spec->disks[j].pool && streq(spec->disks[i].pool, spec->disks[j].pool) &&
                                              streq(spec->disks[i].volume, spec->disks[j].volume)
                                    : !spec->disks[j].pool && streq(spec->disks[i].path, spec->disks[j].path)) {
                                snprintf(field, sizeof field, "disks[%zu].%s", i,
                                         spec->disks[i].pool ? "volume" : "path");
                                snprintf(other, sizeof other, "disks[%zu]", j);
                                return json_field_fail(ret_error, field, "same %s as %s",
                                                       spec->disks[i].pool ? "volume" : "file", other);
                        }
        for (size_t i = 0; i < spec->n_nics; i++)
                for (size_t j = 0; j < i; j++)
                        if (spec->nics[i].mac[0] && streq(spec->nics[i].mac, spec->nics[j].mac)) {
                                snprintf(field, sizeof field, "nics[%zu].mac", i);
                                snprintf(other, sizeof other, "nics[%zu]", j);
                                return json_field_fail(ret_error, field, "same address as %s", other);
                        }
        return 0;
}

/* Target device names, per bus: vda.., sda.., hda..hdd; the ones given are
 * kept, the others take the first free one in order. */
static int disk_targets(VmSpec *spec, char **ret_error) {
        char *used[VM_SPEC_MAX_DISKS + 1] = {};
        size_t n = 0;
        char field[64];

        for (size_t i = 0; i < spec->n_disks; i++) {
                if (!spec->disks[i].target[0])
                        continue;
                snprintf(field, sizeof field, "disks[%zu].target", i);
                if (vm_spec_target_taken(used, spec->disks[i].target))
                        return json_field_fail(ret_error, field, "%s is given to another disk", spec->disks[i].target);
                used[n++] = spec->disks[i].target;
                spec->disks[i].target_given = true;
        }
        for (size_t i = 0; i < spec->n_disks; i++) {
                if (spec->disks[i].target[0])
                        continue;
                snprintf(field, sizeof field, "disks[%zu].bus", i);
                if (vm_spec_next_target(spec->disks[i].bus, used, spec->disks[i].target) < 0)
                        return json_field_fail(ret_error, field, "at most %d disks on %s",
                                               streq(spec->disks[i].bus, "ide") ? 4 : 26, spec->disks[i].bus);
                used[n++] = spec->disks[i].target;
        }
        return 0;
}

/* The maxima default to what the VM starts with, and cannot be below it. */
static int check_maxima(VmSpec *spec, char **ret_error) {
        if (spec->max_memory_mib == 0)
                spec->max_memory_mib = spec->memory_mib;
        if (spec->max_vcpus == 0)
                spec->max_vcpus = spec->vcpus;
        if (spec->max_memory_mib < spec->memory_mib)
                return json_field_fail(ret_error, "max_memory_mib", "must be at least memory_mib (%llu)",
                                       (unsigned long long) spec->memory_mib);
        if (spec->max_vcpus < spec->vcpus)
                return json_field_fail(ret_error, "max_vcpus", "must be at least vcpus (%u)", spec->vcpus);
        return 0;
}

static json_object *normalize(const VmSpec *spec, json_object *metadata) {
        json_object *o = json_object_new_object(), *disks = json_object_new_array(),
                    *nics = json_object_new_array();

        json_object_object_add(o, "name", json_object_new_string(spec->name));
        if (spec->uuid)
                json_object_object_add(o, "uuid", json_object_new_string(spec->uuid));
        json_object_object_add(o, "type", json_object_new_string(spec->type));
        if (spec->machine)
                json_object_object_add(o, "machine", json_object_new_string(spec->machine));
        json_object_object_add(o, "firmware", json_object_new_string(spec->firmware));
        json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t) spec->memory_mib));
        json_object_object_add(o, "vcpus", json_object_new_int((int) spec->vcpus));
        json_object_object_add(o, "max_memory_mib", json_object_new_int64((int64_t) spec->max_memory_mib));
        json_object_object_add(o, "max_vcpus", json_object_new_int((int) spec->max_vcpus));
        for (size_t i = 0; i < spec->n_disks; i++)
                json_object_array_add(disks, vm_spec_disk_json(&spec->disks[i]));
        json_object_object_add(o, "disks", disks);
        for (size_t i = 0; i < spec->n_nics; i++)
                json_object_array_add(nics, vm_spec_nic_json(&spec->nics[i]));
        json_object_object_add(o, "nics", nics);
        if (spec->graphics_type) {
                json_object *g = json_object_new_object();
                json_object_object_add(g, "type", json_object_new_string(spec->graphics_type));
                json_object_object_add(g, "listen", json_object_new_string(spec->graphics_listen));
                json_object_object_add(o, "graphics", g);
        }
        json_object_object_add(o, "autostart", json_object_new_boolean(spec->autostart));
        json_object_object_add(o, "guest_agent", json_object_new_boolean(spec->guest_agent));
        json_object_object_add(o, "metadata", metadata ? json_object_get(metadata) : json_object_new_object());
        return o;
}

int vm_spec_parse(const char *text, VmSpec *ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        VmSpec spec = { .type = "kvm", .firmware = "bios", .vcpus = 1, .guest_agent = true };
        json_object *metadata = NULL;
        enum json_tokener_error jerr;
        int r;

        if (strlen(text) > VM_SPEC_MAX_BYTES)
                return json_field_fail(ret_error, "spec", "larger than %d bytes", VM_SPEC_MAX_BYTES);
        root = json_tokener_parse_verbose(text, &jerr);
        if (!root)
                return json_field_fail(ret_error, "spec", "not valid JSON: %s", json_tokener_error_desc(jerr));
        if (!json_object_is_type(root, json_type_object))
                return json_field_fail(ret_error, "spec", "must be a JSON object");

        r = json_dispatch(root, NULL, vm_fields, &spec, ret_error);
        if (r >= 0)
                r = check_unique(&spec, ret_error);
        if (r >= 0)
                r = check_maxima(&spec, ret_error);
        if (r >= 0)
                r = disk_targets(&spec, ret_error);
        for (size_t i = 0; r >= 0 && i < spec.n_nics; i++)
                if (!spec.nics[i].mac[0]) {
                        r = vm_spec_mac_generate(spec.nics[i].mac);
                        spec.nics[i].mac_generated = true;
                }
        if (r < 0) {
                vm_spec_done(&spec);
                return r;
        }
        (void) json_object_object_get_ex(root, "metadata", &metadata);
        spec.normalized = normalize(&spec, metadata);
        *ret = spec;
        return 0;
}

int vm_spec_resolve_volume(VmSpecDisk *d, const char *prefix, const char *location, const char *format,
                           char **ret_error) {
        char field[64];
        const char *slash;

        snprintf(field, sizeof field, "%s.volume", prefix);
        d->format = NULL;
        for (size_t i = 0; disk_formats[i]; i++)
                if (streq_ptr(format, disk_formats[i]))
                        d->format = disk_formats[i];
        if (!d->format)
                return json_field_fail(ret_error, field, "%s/%s is in format %s; a disk must be raw or qcow2", d->pool,
                                       d->volume, strempty(format));
        free(d->path);
        free(d->nfs_host);
        d->path = d->nfs_host = NULL;
        if (strncmp(location, "nfs://", 6) == 0) {
                /* nfs://host/export/file: QEMU's network disk wants the host and the path apart. */
                slash = strchr(location + 6, '/');
                if (!slash)
                        return json_field_fail(ret_error, field, "cannot use %s", TEXT_CUT(location));
                d->nfs_host = strndup(location + 6, (size_t) (slash - location - 6));
                d->path = strdup(slash);
        } else
                d->path = strdup(location);
        return d->path && (d->nfs_host || strncmp(location, "nfs://", 6) != 0) ? 0 : -ENOMEM;
}

int vm_spec_check_paths(const VmSpec *spec, char **ret_error) {
        for (size_t i = 0; i < spec->n_disks; i++) {
                struct stat st;
                char field[64];

                if (spec->disks[i].nfs_host)
                        continue;   /* on the server: QEMU reaches it, not us */
                snprintf(field, sizeof field, "disks[%zu].%s", i, spec->disks[i].pool ? "volume" : "path");
                if (stat(spec->disks[i].path, &st) < 0)
                        return json_field_fail(ret_error, field, "%s: %s", TEXT_CUT(spec->disks[i].path),
                                               strerror(errno));
                if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                        return json_field_fail(ret_error, field, "%s is neither a file nor a block device",
                                               TEXT_CUT(spec->disks[i].path));
        }
        return 0;
}

/* libxml2 escapes text and attribute values itself: nothing is pasted. */
static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text) {
        return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

static void set(xmlNodePtr node, const char *name, const char *value) {
        xmlSetProp(node, BAD_CAST name, BAD_CAST value);
}

void vm_spec_add_disk(xmlNodePtr devices, const VmSpecDisk *d) {
        xmlNodePtr disk = add(devices, "disk", NULL), n;
        struct stat st;
        /* A block device (LVM volume) is type='block' with source dev=. */
        bool block = !d->nfs_host && stat(d->path, &st) == 0 && S_ISBLK(st.st_mode);

        set(disk, "type", d->nfs_host ? "network" : block ? "block" : "file");
        set(disk, "device", d->device);
        n = add(disk, "driver", NULL);
        set(n, "name", "qemu");
        set(n, "type", d->format);
        n = add(disk, "source", NULL);
        if (d->nfs_host) {
                /* QEMU's own NFS client (libnfs): no mount on the host. */
                set(n, "protocol", "nfs");
                set(n, "name", d->path);
                set(add(n, "host", NULL), "name", d->nfs_host);
                /* Who QEMU is on the server: the agent creates volumes as root,
                 * so the export must not squash root (as qemu-img needs too). */
                xmlNodePtr id = add(n, "identity", NULL);
                set(id, "user", "root");
                set(id, "group", "root");
        } else
                set(n, block ? "dev" : "file", d->path);
        n = add(disk, "target", NULL);
        set(n, "dev", d->target);
        set(n, "bus", d->bus);
        if (d->readonly)
                add(disk, "readonly", NULL);
}

void vm_spec_add_nic(xmlNodePtr devices, const VmSpecNic *nic) {
        xmlNodePtr iface = add(devices, "interface", NULL), n;

        set(iface, "type", "bridge");
        n = add(iface, "mac", NULL);
        set(n, "address", nic->mac);
        n = add(iface, "source", NULL);
        set(n, "bridge", nic->bridge);
        if (nic->openvswitch) {
                /* libvirt adds the tap to the OVS bridge, as an access port of the network's VLAN. */
                set(add(iface, "virtualport", NULL), "type", "openvswitch");
                if (nic->vlan) {
                        char tag[16];
                        snprintf(tag, sizeof tag, "%u", nic->vlan);
                        set(add(add(iface, "vlan", NULL), "tag", NULL), "id", tag);
                }
        }
        n = add(iface, "model", NULL);
        set(n, "type", nic->model);
}

static void add_os(xmlNodePtr root, const VmSpec *spec) {
        xmlNodePtr os = add(root, "os", NULL), type;

        if (streq(spec->firmware, "uefi"))
                set(os, "firmware", "efi");
        type = add(os, "type", "hvm");
        set(type, "arch", "x86_64");
        if (spec->machine)
                set(type, "machine", spec->machine);
        set(add(os, "boot", NULL), "dev", "hd");
}

/* The normalized spec, kept in the agent's own metadata namespace. */
static void add_metadata(xmlNodePtr root, const VmSpec *spec) {
        xmlNodePtr mine = add(add(root, "metadata", NULL), "vm", NULL);
        xmlNsPtr ns = xmlNewNs(mine, BAD_CAST VM_METADATA_NS, BAD_CAST VM_METADATA_KEY);

        xmlSetNs(mine, ns);
        xmlNewTextChild(mine, ns, BAD_CAST "spec",
                        BAD_CAST json_object_to_json_string_ext(spec->normalized, JSON_C_TO_STRING_PLAIN));
}

static int add_graphics(xmlNodePtr devices, const VmSpec *spec) {
        char locked[VM_SPEC_CONSOLE_PASSWORD_LEN + 1];
        xmlNodePtr n = add(devices, "graphics", NULL);

        set(n, "type", spec->graphics_type);
        set(n, "autoport", "yes");
        set(n, "listen", spec->graphics_listen);
        /* Locked until SetConsoleTicket, as vdsm does: a password that
         * has expired already. It also makes QEMU start the console
         * with password support, without which no ticket can be set. */
        if (random_password(locked, sizeof locked) < 0)
                return -EIO;
        set(n, "passwd", locked);
        set(n, "passwdValidTo", "1970-01-01T00:00:01");
        explicit_bzero(locked, sizeof locked);
        return 0;
}

/* qemu-ga's port; libvirt picks the host side's socket path. */
static void add_guest_agent(xmlNodePtr devices) {
        xmlNodePtr channel = add(devices, "channel", NULL), target;

        set(channel, "type", "unix");
        target = add(channel, "target", NULL);
        set(target, "type", "virtio");
        set(target, "name", GUEST_AGENT_CHANNEL);
}

static int add_devices(xmlNodePtr root, const VmSpec *spec) {
        xmlNodePtr devices = add(root, "devices", NULL);

        for (size_t i = 0; i < spec->n_disks; i++)
                vm_spec_add_disk(devices, &spec->disks[i]);
        for (size_t i = 0; i < spec->n_nics; i++)
                vm_spec_add_nic(devices, &spec->nics[i]);
        if (spec->graphics_type && add_graphics(devices, spec) < 0)
                return -EIO;
        if (spec->guest_agent)
                add_guest_agent(devices);
        if (!streq(spec->type, "test")) {
                set(add(devices, "memballoon", NULL), "model", "virtio");
                set(add(devices, "serial", NULL), "type", "pty");
                set(add(devices, "console", NULL), "type", "pty");
        }
        return 0;
}

int vm_spec_to_xml(const VmSpec *spec, char **ret_xml) {
        char number[32];
        xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
        xmlNodePtr root, n;

        if (!doc)
                return -ENOMEM;
        root = xmlNewNode(NULL, BAD_CAST "domain");
        xmlDocSetRootElement(doc, root);
        set(root, "type", spec->type);
        add(root, "name", spec->name);
        if (spec->uuid)
                add(root, "uuid", spec->uuid);
        add_metadata(root, spec);

        /* <memory> is the balloon's ceiling, <currentMemory> what the guest
         * gets; <maxMemory> (DIMM hot-plug) would need NUMA cells in QEMU. */
        snprintf(number, sizeof number, "%llu", (unsigned long long) (spec->max_memory_mib ?: spec->memory_mib));
        n = add(root, "memory", number);
        set(n, "unit", "MiB");
        snprintf(number, sizeof number, "%llu", (unsigned long long) spec->memory_mib);
        n = add(root, "currentMemory", number);
        set(n, "unit", "MiB");
        snprintf(number, sizeof number, "%u", spec->max_vcpus ?: spec->vcpus);
        n = add(root, "vcpu", number);
        snprintf(number, sizeof number, "%u", spec->vcpus);
        set(n, "current", number);
        add_os(root, spec);
        n = add(root, "features", NULL);
        add(n, "acpi", NULL);
        add(n, "apic", NULL);
        set(add(root, "clock", NULL), "offset", "utc");
        add(root, "on_poweroff", "destroy");
        add(root, "on_reboot", "restart");
        add(root, "on_crash", "destroy");
        if (add_devices(root, spec) < 0) {
                xmlFreeDoc(doc);
                return -EIO;
        }
        return vm_xml_doc_dump(doc, ret_xml);
}

