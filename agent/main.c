/* hostagentd: the virtualization host agent on the D-Bus system bus */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>

#include "bus-introspect.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "options.h"

static int run(Options *o) {
        Manager *m = NULL;
        int r;

        r = manager_new(o, &m);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the daemon: %m");
                return EXIT_FAILURE;
        }
        r = manager_startup(m);
        if (r >= 0)
                r = manager_run(m);
        manager_free(m);
        if (manager_left_threads_behind()) {
                /* Threads are still inside libvirt: no destructors under them. */
                fflush(stdout);
                fflush(stderr);
                _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        Options o;
        int r, ret;

        log_open();
        /* A peer that goes away mid-write (libvirtd stopping, a client
         * vanishing) is an error to handle, not a reason to die: libvirt
         * leaves this to the application, and outside systemd nobody else
         * ignores it for us. */
        (void) signal(SIGPIPE, SIG_IGN);
        /* Each worker thread would otherwise get a heap arena of its own, and
         * keep what it freed: blocking work is bursty, memory should not be. */
        (void) mallopt(M_ARENA_MAX, 2);
        options_init(&o);
        r = options_parse(&o, argc, argv);
        if (r < 0) {
                options_done(&o);
                return EXIT_FAILURE;
        }
        log_set_max_level(o.log_level);

        switch (o.action) {
        case OPTIONS_SHOW_HELP:
                options_print_help(program_invocation_short_name);
                ret = EXIT_SUCCESS;
                break;
        case OPTIONS_SHOW_VERSION:
                printf("hostagentd %s\n", PROJECT_VERSION);
                ret = EXIT_SUCCESS;
                break;
        case OPTIONS_BUS_INTROSPECT:
                ret = bus_introspect_print(o.bus_introspect) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
                break;
        default:
                ret = run(&o);
        }
        options_done(&o);
        return ret;
}
