/* Test-only, LD_PRELOADed into hostagentd by a test: holds a re-read of one
 * domain after libvirt has answered its last call, until the test lets it
 * go, so a read that began before a change ends after it, every time.
 * Nothing of it is in the daemon.
 *
 * HOLD_READ_UUID: the domain; HOLD_READ_GATE: a file. While the gate exists,
 * virDomainIsPersistent() of that domain (the last call of the agent's read
 * of one domain) creates GATE.held and waits (at most 60 s) until the gate
 * is gone, then returns what libvirt said before. */
#include <dlfcn.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*is_persistent_fn)(virDomainPtr dom);

static is_persistent_fn real_is_persistent;

__attribute__((constructor)) static void hold_init(void) {
        real_is_persistent = (is_persistent_fn) dlsym(RTLD_NEXT, "virDomainIsPersistent");
}

static int is_held_domain(virDomainPtr dom) {
        const char *want = getenv("HOLD_READ_UUID");
        char uuid[VIR_UUID_STRING_BUFLEN];

        return want && virDomainGetUUIDString(dom, uuid) == 0 && strcmp(uuid, want) == 0;
}

static void hold(const char *gate) {
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
        const char *gate = getenv("HOLD_READ_GATE");
        int r = real_is_persistent(dom);

        if (r >= 0 && gate && access(gate, F_OK) == 0 && is_held_domain(dom))
                hold(gate);
        return r;
}
