/* What this kernel can do for networks: VLAN devices, bonds, the Open vSwitch datapath */
#include "net-plan.h"

#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "macro.h"

static bool module_present(const char *name, const char *sysfs) {
        char path[512];
        struct stat st;
        struct utsname u;

        if (access(sysfs, F_OK) == 0)
                return true;
        if (uname(&u) < 0)
                return false;
        /* Loadable on demand: the kernel asks modprobe when the first device is made. */
        snprintf(path, sizeof path, "/lib/modules/%s/kernel/%s", u.release, name);
        return stat(path, &st) == 0;
}

void net_kernel_probe(NetKernel *ret) {
        ret->vlan = module_present("net/8021q", "/proc/net/vlan/config") ||
                    module_present("net/8021q/8021q.ko", "/sys/module/8021q") ||
                    module_present("net/8021q/8021q.ko.xz", "/sys/module/8021q");
        ret->bonding = module_present("drivers/net/bonding/bonding.ko", "/sys/class/net/bonding_masters") ||
                       module_present("drivers/net/bonding/bonding.ko.xz", "/sys/module/bonding");
        ret->ovs_datapath = module_present("net/openvswitch/openvswitch.ko", "/sys/module/openvswitch") ||
                            module_present("net/openvswitch/openvswitch.ko.xz", "/sys/module/openvswitch");
}
