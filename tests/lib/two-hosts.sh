# Two hosts on one machine (../../../shared/RECIPES.md, "Two hosts on one
# machine"): network namespaces A and B joined by a veth pair (192.0.2.1 and
# 192.0.2.2), each with its own libvirtd listening on TCP inside its namespace
# (its own host name and host UUID, migration_host its address), its own
# private system bus and its own hostagentd. Each host's files are under $T/a
# and $T/b; the fixture's functions run once per host with T pointing there.
# Sourced after fixture.sh.
#
# two_hosts_start [AGENT ARGS...]: everything; then
#   on_a CMD... / on_b CMD...      run CMD against that host's bus
#   A_URI, B_URI                   what each host's libvirtd is as a migration destination
#   A_LV_URI, B_LV_URI             each libvirtd's local socket (virsh, the agents)
#   A_NS, B_NS, A_DAEMON_PID, B_DAEMON_PID, A_BUS, B_BUS
#   A_MADDR, B_MADDR, A_MIF, B_MIF a second veth pair, a migration network
#                                  (192.0.2.129/25, .130/25): options.migration_uri
# agent_restart a|b [ARGS...]: a new agent on that host (the old one must be gone).

TOP=$T
A_NS=hostagent-ma-$$
B_NS=hostagent-mb-$$
A_ADDR=192.0.2.1
B_ADDR=192.0.2.2
A_MADDR=192.0.2.129
B_MADDR=192.0.2.130
A_MIF=mna$$
B_MIF=mnb$$
A_URI=qemu+tcp://$A_ADDR/system
B_URI=qemu+tcp://$B_ADDR/system

two_hosts_net() {
        ip netns add "$A_NS" || return 1
        fixture_on_exit "ip netns del $A_NS"
        ip netns add "$B_NS" || return 1
        fixture_on_exit "ip netns del $B_NS"
        ip -n "$A_NS" link set lo up
        ip -n "$B_NS" link set lo up
        ip link add "mga$$" netns "$A_NS" type veth peer name "mgb$$" netns "$B_NS" || return 1
        ip -n "$A_NS" addr add "$A_ADDR/25" dev "mga$$"
        ip -n "$B_NS" addr add "$B_ADDR/25" dev "mgb$$"
        ip -n "$A_NS" link set "mga$$" up
        ip -n "$B_NS" link set "mgb$$" up
        ip link add "$A_MIF" netns "$A_NS" type veth peer name "$B_MIF" netns "$B_NS" || return 1
        ip -n "$A_NS" addr add "$A_MADDR/25" dev "$A_MIF"
        ip -n "$B_NS" addr add "$B_MADDR/25" dev "$B_MIF"
        ip -n "$A_NS" link set "$A_MIF" up
        ip -n "$B_NS" link set "$B_MIF" up
}

# two_hosts_libvirtd a|b NS ADDR: that host's libvirtd and bus, in $TOP/a or $TOP/b.
two_hosts_libvirtd() {
        local h=$1 ns=$2 addr=$3 H
        H=${h^^}
        T=$TOP/$h
        mkdir -p "$T"
        LIBVIRTD_PREFIX=(ip netns exec "$ns")
        LIBVIRTD_HOSTNAME=host$h
        LIBVIRTD_ARGS=(-l)
        LIBVIRTD_CONF_EXTRA="listen_tls = 0
listen_tcp = 1
listen_addr = \"$addr\"
auth_tcp = \"none\"
host_uuid = \"$(cat /proc/sys/kernel/random/uuid)\""
        # Incoming QEMUs listen on every address of the namespace (a migration_uri
        # may name the migration network's); by default the source comes to ADDR.
        QEMU_CONF_EXTRA="migration_address = \"0.0.0.0\"
migration_host = \"$addr\""
        libvirtd_start || { T=$TOP; return 1; }
        bus_start
        eval "${H}_LV=\$LV ${H}_LIBVIRTD_PID=\$LIBVIRTD_PID ${H}_BUS=\$DBUS_SYSTEM_BUS_ADDRESS"
        eval "${H}_LV_URI=\$LIBVIRT_QEMU_URI"
        fixture_on_exit "T=$T fixture_stop_guests"
        LIBVIRTD_PREFIX=() LIBVIRTD_HOSTNAME="" LIBVIRTD_ARGS=() LIBVIRTD_CONF_EXTRA="" QEMU_CONF_EXTRA=""
        T=$TOP
}

on_a() { DBUS_SYSTEM_BUS_ADDRESS=$A_BUS "$@"; }
on_b() { DBUS_SYSTEM_BUS_ADDRESS=$B_BUS "$@"; }

# agent_restart a|b [ARGS...]: hostagentd on that host's bus, in its namespace.
TWO_HOSTS_AGENT_ARGS=()
agent_restart() {
        local h=$1 H ns bus uri
        shift
        H=${h^^}
        eval "ns=\$${H}_NS bus=\$${H}_BUS uri=\$${H}_LV_URI"
        T=$TOP/$h
        DAEMON_PREFIX=(ip netns exec "$ns")
        DBUS_SYSTEM_BUS_ADDRESS=$bus daemon_start --libvirt-uri="$uri" --run-dir="$T/run" "${TWO_HOSTS_AGENT_ARGS[@]}" "$@" ||
                { T=$TOP; return 1; }
        eval "${H}_DAEMON_PID=\$DAEMON_PID"
        DAEMON_PREFIX=()
        T=$TOP
        DBUS_SYSTEM_BUS_ADDRESS=$bus wait_until 60 sh -c \
                'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'
}

two_hosts_start() {
        TWO_HOSTS_AGENT_ARGS=("$@")
        two_hosts_net || return 1
        two_hosts_libvirtd a "$A_NS" "$A_ADDR" || return 1
        two_hosts_libvirtd b "$B_NS" "$B_ADDR" || return 1
        # The first QEMU connection probes the emulator (seconds on a cold cache).
        virsh -q -c "$A_LV_URI" list --all >/dev/null || return 1
        virsh -q -c "$B_LV_URI" list --all >/dev/null || return 1
        agent_restart a || return 1
        agent_restart b || return 1
}

# two_hosts_nfs: nfs-ganesha in host A's namespace on 192.0.2.1 (host B reaches it
# over the veth), and a pool "shared" of it on both agents.
two_hosts_nfs() {
        local spec='{"name":"shared","type":"nfs","server":"192.0.2.1","export":"/export","access":"libnfs"}'
        NFS_NETNS=$A_NS NFS_BIND_ADDR=$A_ADDR nfs_start || return 1
        on_a create_pool "$spec" | grep -q "/org/hostagent1/storage/shared" || return 1
        on_b create_pool "$spec" | grep -q "/org/hostagent1/storage/shared"
}
