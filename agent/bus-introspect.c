/* --bus-introspect: the XML of our vtables, exactly as the bus would serve it */
#include "bus-introspect.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "job-dbus.h"
#include "manager-dbus.h"
#include "network-dbus.h"
#include "storage-dbus.h"
#include "vm-backup.h"
#include "vm-dbus.h"
#include "vm-devices.h"
#include "vm-guest-dbus.h"
#include "vm-migrate-dbus.h"
#include "vm-snapshot.h"

typedef struct BusImplementation {
        const char *interface;
        const char *path;      /* an object that carries it, for introspection */
        const sd_bus_vtable *vtable;
        const sd_bus_vtable *more[6];       /* more vtables of the same interface (vm-*-dbus.c), NULL-ended */
} BusImplementation;

static const BusImplementation implementations[] = {
        { MANAGER_INTERFACE, HOSTAGENT_ROOT_PATH, manager_vtable, {} },
        { VM_INTERFACE, VM_PATH_PREFIX "/example", vm_vtable,
          { vm_devices_vtable, vm_guest_vtable, vm_snapshot_vtable, vm_backup_vtable } },
        { JOB_INTERFACE, JOB_PATH_PREFIX "/1", job_vtable, {} },
        { MIGRATION_INTERFACE, JOB_PATH_PREFIX "/1", migration_vtable, {} },
        { BACKUP_INTERFACE, JOB_PATH_PREFIX "/1", backup_vtable, {} },
        { SNAPSHOT_INTERFACE, VM_PATH_PREFIX "/example/snapshot/example", snapshot_vtable, {} },
        { NETWORK_INTERFACE, NETWORK_PATH_PREFIX "/example", network_vtable, {} },
        { STORAGE_POOL_INTERFACE, STORAGE_PATH_PREFIX "/example", storage_pool_vtable, {} },
        { STORAGE_VOLUME_INTERFACE, STORAGE_PATH_PREFIX "/example/volume", volume_vtable, {} },
};

typedef struct IntrospectCall {
        char *xml;
        int error;
} IntrospectCall;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        IntrospectCall *call = userdata;
        const char *xml;
        int r;

        r = sd_bus_message_get_errno(m);
        if (r == 0)
                r = sd_bus_message_read(m, "s", &xml);
        if (r > 0 && !(call->xml = strdup(xml)))
                r = -ENOMEM;
        call->error = r < 0 ? r : 0;
        return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), 0);
}

/* sd-bus has no public call that renders a vtable, so serve it for real on
 * a private socket pair and ask for it, as any client would. */
static int introspect_vtable(const BusImplementation *impl, char **ret_xml) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *server = NULL, *client = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        IntrospectCall call = { .error = -EIO };
        sd_id128_t id = SD_ID128_NULL;
        int fds[2], r;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
                return -errno;
        r = sd_bus_new(&server);
        if (r >= 0)
                r = sd_bus_set_fd(server, fds[0], fds[0]);
        else
                close(fds[0]);
        if (r >= 0)
                r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_set_server(server, 1, id);
        if (r >= 0)
                r = sd_bus_set_anonymous(server, 1);
        if (r >= 0)
                r = sd_bus_add_object_vtable(server, NULL, impl->path, impl->interface, impl->vtable, NULL);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(impl->more) && impl->more[i]; i++)
                r = sd_bus_add_object_vtable(server, NULL, impl->path, impl->interface, impl->more[i], NULL);
        if (r >= 0)
                r = sd_bus_start(server);
        if (r < 0) {
                close(fds[1]);
                return r;
        }
        r = sd_bus_new(&client);
        if (r >= 0)
                r = sd_bus_set_fd(client, fds[1], fds[1]);
        else
                close(fds[1]);
        if (r >= 0)
                r = sd_bus_set_anonymous(client, 1);
        if (r >= 0)
                r = sd_bus_start(client);
        if (r >= 0)
                r = sd_event_new(&event);
        if (r >= 0)
                r = sd_bus_attach_event(server, event, 0);
        if (r >= 0)
                r = sd_bus_attach_event(client, event, 0);
        if (r >= 0)
                r = sd_bus_call_method_async(client, NULL, NULL, impl->path,
                                             "org.freedesktop.DBus.Introspectable", "Introspect",
                                             on_reply, &call, NULL);
        if (r >= 0)
                r = sd_event_loop(event);
        if (r < 0)
                return r;
        if (call.error < 0)
                return call.error;
        *ret_xml = call.xml;
        return 0;
}

/* The standard interfaces sd-bus adds are not ours to document. */
static int print_interface_only(const char *xml, const char *interface) {
        xmlDocPtr doc;
        xmlNodePtr root;
        int found = 0;

        doc = xmlReadMemory(xml, (int) strlen(xml), "introspect.xml", NULL, XML_PARSE_NONET);
        if (!doc)
                return -EBADMSG;
        root = xmlDocGetRootElement(doc);
        printf("<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
               " \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n");
        for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
                xmlChar *name;
                xmlBufferPtr buf;

                if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "interface"))
                        continue;
                name = xmlGetProp(n, BAD_CAST "name");
                if (name && xmlStrEqual(name, BAD_CAST interface)) {
                        buf = xmlBufferCreate();
                        xmlNodeDump(buf, doc, n, 1, 1);
                        printf(" %s\n", (const char *) xmlBufferContent(buf));
                        xmlBufferFree(buf);
                        found = 1;
                }
                xmlFree(name);
        }
        printf("</node>\n");
        xmlFreeDoc(doc);
        return found ? 0 : -ENOENT;
}

int bus_introspect_print(const char *what) {
        _cleanup_(freep) char *xml = NULL;
        int r;

        if (streq(what, "list")) {
                for (size_t i = 0; i < ELEMENTSOF(implementations); i++)
                        printf("%s\n", implementations[i].interface);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(implementations); i++) {
                if (!streq(implementations[i].interface, what))
                        continue;
                r = introspect_vtable(&implementations[i], &xml);
                if (r < 0) {
                        fprintf(stderr, "Cannot introspect %s: %s\n", what, strerror(-r));
                        return r;
                }
                return print_interface_only(xml, what);
        }
        fprintf(stderr, "Unknown interface '%s'; --bus-introspect=list shows the ones served\n", what);
        return -ENOENT;
}
