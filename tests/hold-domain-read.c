/* Test-only, LD_PRELOADed into hostagentd by a test: holds a read of one
 * domain after libvirt has answered its last call, until the test lets it
 * go, so a read that began before a change ends after it, every time.
 * Nothing of it is in the daemon.
 *
 * HOLD_READ_UUID: the domain; HOLD_READ_GATE: a file. While the gate exists,
 * the call it names (its first line) for that domain waits, at most 60 s,
 * until the gate is gone, after creating GATE.held; then it returns what
 * libvirt said before. "persistent": virDomainIsPersistent(), the last call
 * of the agent's read of one domain; "xml": virDomainGetXMLDesc(), the last
 * one for each domain of a full read; "shutdown": virDomainShutdown(), held
 * before libvirt is asked, so that a test can kill the agent between its
 * job being recorded and the guest being asked; "shutdown-fails":
 * virDomainShutdown() fails (-1) without asking libvirt, as it does for a
 * guest that cannot take the request.
 *
 * HOLD_SHUTDOWN_LOG: a file; each virDomainShutdown() that goes to libvirt
 * appends the domain's UUID to it first (a guest with no OS never shows
 * that it was asked). */
#include <dlfcn.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*is_persistent_fn)(virDomainPtr dom);
typedef char *(*get_xml_fn)(virDomainPtr dom, unsigned int flags);
typedef int (*shutdown_fn)(virDomainPtr dom);

static is_persistent_fn real_is_persistent;
static get_xml_fn real_get_xml;
static shutdown_fn real_shutdown;

__attribute__((constructor)) static void hold_init(void) {
        real_is_persistent = (is_persistent_fn) dlsym(RTLD_NEXT, "virDomainIsPersistent");
        real_get_xml = (get_xml_fn) dlsym(RTLD_NEXT, "virDomainGetXMLDesc");
        real_shutdown = (shutdown_fn) dlsym(RTLD_NEXT, "virDomainShutdown");
}

/* Whether the gate is there and names CALL, for the domain held. */
static int gate_names(const char *call, virDomainPtr dom) {
        const char *gate = getenv("HOLD_READ_GATE"), *want = getenv("HOLD_READ_UUID");
        char uuid[VIR_UUID_STRING_BUFLEN], line[64] = "";
        FILE *f;

        if (!gate || !want || virDomainGetUUIDString(dom, uuid) < 0 || strcmp(uuid, want) != 0)
                return 0;
        f = fopen(gate, "re");
        if (!f)
                return 0;
        if (!fgets(line, sizeof line, f))
                line[0] = '\0';
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
        return strcmp(line, call) == 0;
}

static void hold(void) {
        const char *gate = getenv("HOLD_READ_GATE");
        char held[4096];
        int fd;

        snprintf(held, sizeof held, "%s.held", gate);
        fd = open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                close(fd);
        for (int i = 0; i < 6000 && access(gate, F_OK) == 0; i++)
                usleep(10 * 1000);
}

int virDomainIsPersistent(virDomainPtr dom) {
        int r = real_is_persistent(dom);

        if (r >= 0 && gate_names("persistent", dom))
                hold();
        return r;
}

char *virDomainGetXMLDesc(virDomainPtr dom, unsigned int flags) {
        char *xml = real_get_xml(dom, flags);

        if (xml && gate_names("xml", dom))
                hold();
        return xml;
}

int virDomainShutdown(virDomainPtr dom) {
        const char *log = getenv("HOLD_SHUTDOWN_LOG");
        char uuid[VIR_UUID_STRING_BUFLEN];
        FILE *f;

        if (gate_names("shutdown", dom))
                hold();
        if (gate_names("shutdown-fails", dom))
                return -1;
        if (log && virDomainGetUUIDString(dom, uuid) == 0 && (f = fopen(log, "ae"))) {
                fprintf(f, "%s\n", uuid);
                fclose(f);
        }
        return real_shutdown(dom);
}
