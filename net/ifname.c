/* Network interface names: what the kernel accepts, checked before we ask it */
#include "ifname.h"

#include <net/if.h>
#include <string.h>

#include "macro.h"

bool ifname_valid(const char *name) {
        size_t len;

        if (!name)
                return false;
        len = strlen(name);
        /* IFNAMSIZ counts the terminating NUL. */
        if (len == 0 || len >= IFNAMSIZ)
                return false;
        /* dev_valid_name() in the kernel refuses these two. */
        if (streq(name, ".") || streq(name, ".."))
                return false;
        for (const char *p = name; *p; p++) {
                unsigned char c = (unsigned char) *p;

                /* '/' would escape /sys/class/net, ':' is the old alias syntax. */
                if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
                        return false;
        }
        return true;
}
