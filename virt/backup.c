/* VM backups: the XML libvirt is given and gives back, and the names of what a backup makes */
#include "backup.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "vm-xml.h"

static void backup_disk_done(BackupDisk *d) {
        free(d->target);
        free(d->format);
        free(d->name);
        free(d->partial);
        free(d->path);
        *d = (BackupDisk) {};
}

static void backup_disks_free(BackupDisk *disks, size_t n) {
        for (size_t i = 0; disks && i < n; i++)
                backup_disk_done(&disks[i]);
        free(disks);
}

void backup_domain_done(BackupDomain *d) {
        backup_disks_free(d->disks, d->n_disks);
        *d = (BackupDomain) {};
}

void backup_plan_done(BackupPlan *p) {
        free(p->vm_name);
        free(p->dir);
        free(p->checkpoint);
        free(p->incremental);
        backup_disks_free(p->disks, p->n_disks);
        *p = (BackupPlan) {};
}

size_t backup_plan_included(const BackupPlan *p) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_disks; i++)
                n += p->disks[i].include;
        return n;
}

static xmlDocPtr xml_read(const char *xml, const char *root_name) {
        xmlDocPtr doc = xmlReadMemory(xml, (int) strlen(xml), "backup.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

        if (doc && (!root || !xmlStrEqual(root->name, BAD_CAST root_name))) {
                xmlFreeDoc(doc);
                return NULL;
        }
        return doc;
}

static bool is_element(xmlNodePtr n, const char *name) {
        return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

/* Where a disk's data is: a file, a device, or a network disk of any protocol (NBD, NFS, ...). */
static bool disk_has_source(xmlNodePtr n) {
        _cleanup_(freep) char *location = vm_xml_disk_source(n), *type = vm_xml_prop(n, "type");
        _cleanup_(freep) char *protocol = vm_xml_prop(vm_xml_child(n, "source"), "protocol");

        return (location && *location) || (streq_ptr(type, "network") && protocol && *protocol);
}

/* A disk is copied when it holds the guest's data: a disk device with a source, writable. */
static int disk_parse(xmlNodePtr n, BackupDisk *ret) {
        _cleanup_(freep) char *device = vm_xml_prop(n, "device");
        BackupDisk d = {
                .target = vm_xml_prop(vm_xml_child(n, "target"), "dev"),
                .format = vm_xml_prop(vm_xml_child(n, "driver"), "type"),
        };

        if (!d.target) {
                free(d.format);
                return 0;   /* nothing to name it by: not ours to list */
        }
        if (!d.format && !(d.format = strdup(""))) {
                backup_disk_done(&d);
                return -ENOMEM;
        }
        d.include = (!device || streq(device, "disk")) && disk_has_source(n) && !vm_xml_child(n, "readonly") &&
                    !vm_xml_child(n, "shareable");
        *ret = d;
        return 1;
}

static void agent_parse(xmlNodePtr channel, BackupDomain *d) {
        xmlNodePtr target = vm_xml_child(channel, "target");
        _cleanup_(freep) char *name = vm_xml_prop(target, "name"), *state = vm_xml_prop(target, "state");

        if (!streq_ptr(name, GUEST_AGENT_CHANNEL))
                return;
        d->has_agent = true;
        d->agent_connected = streq_ptr(state, "connected");
}

int backup_domain_parse(const char *xml, BackupDomain *ret) {
        xmlDocPtr doc = xml_read(xml, "domain");
        BackupDomain d = {};
        xmlNodePtr devices;
        int r = 0;

        if (!doc)
                return -EBADMSG;
        devices = vm_xml_child(xmlDocGetRootElement(doc), "devices");
        for (xmlNodePtr n = devices ? devices->children : NULL; n && r >= 0; n = n->next) {
                if (is_element(n, "channel"))
                        agent_parse(n, &d);
                if (!is_element(n, "disk"))
                        continue;
                if (d.n_disks >= BACKUP_DISKS_MAX) {
                        r = -E2BIG;
                        break;
                }
                if (!d.disks && !(d.disks = calloc(BACKUP_DISKS_MAX, sizeof *d.disks))) {
                        r = -ENOMEM;
                        break;
                }
                r = disk_parse(n, &d.disks[d.n_disks]);
                if (r > 0)
                        d.n_disks++;
        }
        xmlFreeDoc(doc);
        if (r < 0) {
                backup_domain_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

int backup_checkpoint_name(time_t when, unsigned n, char **ret) {
        struct tm tm;
        char stamp[32];

        if (!gmtime_r(&when, &tm) || strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0)
                return -EINVAL;
        if ((n > 1 ? asprintf(ret, BACKUP_CHECKPOINT_PREFIX "%s-%u", stamp, n)
                   : asprintf(ret, BACKUP_CHECKPOINT_PREFIX "%s", stamp)) < 0)
                return -ENOMEM;
        return 0;
}

static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '+' || c == '-';
}

int backup_volume_name(const char *vm_name, const char *target, const char *checkpoint, char **ret) {
        size_t tail = strlen(target) + strlen(checkpoint) + 2, room;
        char *s;
        int n;

        if (tail + 1 > BACKUP_NAME_MAX)
                return -ENAMETOOLONG;
        room = BACKUP_NAME_MAX - tail;
        n = asprintf(&s, "%.*s-%s-%s", (int) room, vm_name, target, checkpoint);
        if (n < 0)
                return -ENOMEM;
        /* A volume name is 1-64 of A-Z a-z 0-9 . _ + -, starting with a letter or digit. */
        for (char *p = s; *p; p++)
                if (!name_char(*p))
                        *p = '_';
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                s[0] = 'v';
        *ret = s;
        return 0;
}

int backup_plan_name_disks(BackupPlan *p) {
        for (size_t i = 0; i < p->n_disks; i++) {
                BackupDisk *d = &p->disks[i];
                int r;

                if (!d->include)
                        continue;
                free(d->name);
                free(d->partial);
                free(d->path);
                d->name = d->partial = d->path = NULL;   /* freeable whatever fails below */
                r = backup_volume_name(p->vm_name, d->target, p->checkpoint, &d->name);
                if (r < 0)
                        return r;
                if (asprintf(&d->partial, "%s/" BACKUP_PARTIAL_PREFIX "%s", p->dir, d->name) < 0 ||
                    asprintf(&d->path, "%s/%s", p->dir, d->name) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool has_bitmaps(const BackupDisk *d) {
        return streq_ptr(d->format, "qcow2");
}

static void backup_disk_xml(xmlNodePtr disks, const BackupPlan *p, const BackupDisk *d) {
        xmlNodePtr n = xmlNewChild(disks, NULL, BAD_CAST "disk", NULL);

        xmlNewProp(n, BAD_CAST "name", BAD_CAST d->target);
        xmlNewProp(n, BAD_CAST "backup", BAD_CAST(d->include ? "yes" : "no"));
        if (!d->include)
                return;
        /* A raw disk has no bitmap to say what changed: an incremental backup copies it whole. */
        if (p->incremental && !has_bitmaps(d))
                xmlNewProp(n, BAD_CAST "backupmode", BAD_CAST "full");
        xmlNewProp(n, BAD_CAST "type", BAD_CAST "file");
        xmlNewProp(xmlNewChild(n, NULL, BAD_CAST "target", NULL), BAD_CAST "file", BAD_CAST d->partial);
        xmlNewProp(xmlNewChild(n, NULL, BAD_CAST "driver", NULL), BAD_CAST "type", BAD_CAST "qcow2");
}

int backup_xml_build(const BackupPlan *p, char **ret_xml) {
        xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
        xmlNodePtr root, disks;

        if (!doc)
                return -ENOMEM;
        root = xmlNewNode(NULL, BAD_CAST "domainbackup");
        xmlDocSetRootElement(doc, root);
        xmlNewProp(root, BAD_CAST "mode", BAD_CAST "push");
        if (p->incremental)
                xmlNewTextChild(root, NULL, BAD_CAST "incremental", BAD_CAST p->incremental);
        disks = xmlNewChild(root, NULL, BAD_CAST "disks", NULL);
        for (size_t i = 0; i < p->n_disks; i++)
                backup_disk_xml(disks, p, &p->disks[i]);
        return vm_xml_doc_dump(doc, ret_xml);
}

int backup_checkpoint_xml_build(const BackupPlan *p, char **ret_xml) {
        xmlDocPtr doc;
        xmlNodePtr root, disks;
        size_t bitmaps = 0;

        for (size_t i = 0; i < p->n_disks; i++)
                bitmaps += p->disks[i].include && has_bitmaps(&p->disks[i]);
        if (bitmaps == 0)
                return -ENOENT;
        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        root = xmlNewNode(NULL, BAD_CAST "domaincheckpoint");
        xmlDocSetRootElement(doc, root);
        xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST p->checkpoint);
        disks = xmlNewChild(root, NULL, BAD_CAST "disks", NULL);
        for (size_t i = 0; i < p->n_disks; i++) {
                const BackupDisk *d = &p->disks[i];
                xmlNodePtr n = xmlNewChild(disks, NULL, BAD_CAST "disk", NULL);

                xmlNewProp(n, BAD_CAST "name", BAD_CAST d->target);
                xmlNewProp(n, BAD_CAST "checkpoint", BAD_CAST(d->include && has_bitmaps(d) ? "bitmap" : "no"));
        }
        return vm_xml_doc_dump(doc, ret_xml);
}

void backup_running_done(BackupRunning *r) {
        for (size_t i = 0; i < r->n; i++) {
                free(r->targets[i]);
                free(r->files[i]);
        }
        free(r->targets);
        free(r->files);
        free(r->incremental);
        *r = (BackupRunning) {};
}

static int running_add(BackupRunning *r, xmlNodePtr disk) {
        _cleanup_(freep) char *backup = vm_xml_prop(disk, "backup"), *target = vm_xml_prop(disk, "name");
        _cleanup_(freep) char *file = vm_xml_prop(vm_xml_child(disk, "target"), "file");
        char **t, **f;

        if (streq_ptr(backup, "no") || !target)
                return 0;
        t = realloc(r->targets, (r->n + 1) * sizeof *t);
        if (!t)
                return -ENOMEM;
        r->targets = t;
        f = realloc(r->files, (r->n + 1) * sizeof *f);
        if (!f)
                return -ENOMEM;
        r->files = f;
        if (!file && !(file = strdup("")))
                return -ENOMEM;
        r->targets[r->n] = TAKE_PTR(target);
        r->files[r->n++] = TAKE_PTR(file);
        return 0;
}

int backup_running_parse(const char *xml, BackupRunning *ret) {
        xmlDocPtr doc = xml_read(xml, "domainbackup");
        BackupRunning r = {};
        _cleanup_(freep) char *mode = NULL;
        xmlNodePtr root, disks;
        int k = 0;

        if (!doc)
                return -EBADMSG;
        root = xmlDocGetRootElement(doc);
        mode = vm_xml_prop(root, "mode");
        r.push = !mode || streq(mode, "push");
        r.incremental = vm_xml_content(vm_xml_child(root, "incremental"));
        disks = vm_xml_child(root, "disks");
        for (xmlNodePtr n = disks ? disks->children : NULL; n && k >= 0; n = n->next)
                if (is_element(n, "disk"))
                        k = running_add(&r, n);
        xmlFreeDoc(doc);
        if (k < 0) {
                backup_running_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}
