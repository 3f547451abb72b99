#!/bin/sh
# Runs inside the system-test guest (systemd as PID 1), from the host's 9p
# share: installs the staged hostagent, checks what only a real systemd host
# shows, and writes results.txt and the journal back to the share.
S=/mnt/share
PHASE_MARK=/var/lib/hostagent-systest-rebooted
if [ -f "$PHASE_MARK" ]; then
        exec > "$S/guest2.log" 2>&1
        R="$S/results2.txt"
else
        exec > "$S/guest.log" 2>&1
        R="$S/results.txt"
fi
: > "$R"
PASS=0; FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok - $*" >> "$R"; }
fail() { FAIL=$((FAIL + 1)); echo "not ok - $*" >> "$R"; }
# check DESCRIPTION 'SHELL CONDITION': evaluated here, so the helpers below work.
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
wait_for() { n=$1; shift; while [ "$n" -gt 0 ]; do eval "$*" && return 0; sleep 0.2; n=$((n - 1)); done; return 1; }
prop() { busctl get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager "$1"; }
answers() { prop Version | grep -q '^s "'; }
main_pid() { systemctl show -p MainPID --value hostagentd; }
owned() {
        [ "$(busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.hostagent1)" = "b true" ]
}
owner_pid() {
        busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                GetConnectionUnixProcessID s org.hostagent1 2>/dev/null | awk '{print $2}'
}
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# After the reboot: the network confirmed before it comes back when the agent starts.
if [ -f "$PHASE_MARK" ]; then
        ip link add d0 type dummy; ip link set d0 up    # the NIC, as a host has it at boot
        check "after a reboot the agent starts" 'systemctl start hostagentd'
        check "and brings back the confirmed network: its VLAN device in its bridge" \
                'wait_for 150 "ip link show d0.300 | grep -q \"master kept\""'
        check "with its address" 'wait_for 50 "ip addr show kept | grep -q 192.0.2.70/24"'
        check "and the Network object is ok" \
                'wait_for 50 "busctl get-property org.hostagent1 /org/hostagent1/network/kept org.hostagent1.Network State | grep -qw ok"'
        systemctl stop hostagentd
        journalctl -b --no-pager > "$S/journal2.txt"
        echo "$PASS passed, $FAIL failed" >> "$R"
        sync
        exit 0
fi

# Install what cmake --install staged. tar keeps the merged-/usr symlinks
# (/lib -> usr/lib) that a plain copy would trip over.
tar -C "$S/root" -cf - . | tar -C / -xf - --keep-directory-symlink --no-same-owner
systemctl daemon-reload
systemctl reload dbus

# A user at the console: operator, logged in on tty1 (the foreground VT) by
# getty's autologin, so that logind makes it an active seat0 session, the one
# where polkit applies the policy's allow_active. Its login shell runs each
# script the checks hand it (in_session); it comes up while libvirt does.
SESSION=/run/systest-session
install -m 0755 "$S/polkit-caller" /usr/local/bin/polkit-caller
useradd -m -s /bin/bash -g operator -G sudo operator   # Debian has the group already
install -d -o operator -m 0755 "$SESSION"
cat > /usr/local/bin/systest-session <<'EOF'
#!/bin/sh
d=/run/systest-session
echo $$ > $d/pid
echo "$XDG_SESSION_ID" > $d/id.tmp && mv $d/id.tmp $d/id
n=1
while :; do
        if [ -e $d/req.$n ]; then
                sh $d/req.$n > $d/out.$n 2>&1
                echo $? > $d/rc.tmp && mv $d/rc.tmp $d/rc.$n
                n=$((n + 1))
        else
                sleep 0.1
        fi
done
EOF
chmod 0755 /usr/local/bin/systest-session
echo 'exec /usr/local/bin/systest-session' >> /home/operator/.profile
mkdir -p /etc/systemd/system/getty@tty1.service.d
printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin operator --noclear %%I $TERM\n' \
        > /etc/systemd/system/getty@tty1.service.d/autologin.conf
systemctl daemon-reload
systemctl restart getty@tty1
# in_session SCRIPT: runs it in operator's session; prints its output, returns
# its status. The count is in a file: out=$(in_session ...) is a subshell.
in_session() {
        [ -s "$SESSION/id" ] || { echo "(no session)"; return 99; }
        session_n=$(( $(cat /run/systest-session.n 2>/dev/null || echo 0) + 1 ))
        echo "$session_n" > /run/systest-session.n
        printf '%s\n' "$1" > "$SESSION/req.tmp" && mv "$SESSION/req.tmp" "$SESSION/req.$session_n"
        wait_for 150 "[ -e $SESSION/rc.$session_n ]" || { echo "(the session did not answer)"; return 99; }
        cat "$SESSION/out.$session_n"
        return "$(cat "$SESSION/rc.$session_n")"
}
# vmcall [-i] PATH INTERFACE METHOD: prints "ok", or the error's name and message.
printf '#!/bin/sh\necho | polkit-caller "$@" | sed 1d\n' > /usr/local/bin/vmcall
chmod 0755 /usr/local/bin/vmcall

# Type=notify: start returns once READY=1 came, and by then the name is owned.
check "systemctl start hostagentd succeeds" 'systemctl start hostagentd'
check "it is active" 'systemctl is-active -q hostagentd'
check "org.hostagent1 is owned as soon as start returns (READY=1 after the name)" 'owned'
check "the owner is the unit's main process" '[ "$(owner_pid)" = "$(main_pid)" ] && [ "$(main_pid)" != 0 ]'
check "STATUS= reaches systemd" 'wait_for 50 "systemctl show -p StatusText --value hostagentd | grep -q libvirt"'
check "Version answers on the system bus" 'answers'

# The installed policy: anyone reads; polkit (activated on the first question)
# wants an administrator's password for anyone else's change.
check "an unprivileged user reads properties" \
        'nobody busctl get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Version'
check "an unprivileged write is refused: it needs an administrator's authentication" \
        'nobody busctl set-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager LogLevel s debug 2>&1 |
         grep -q "Authentication is required for org.hostagent1.host.configure"'
check "an unprivileged process cannot own org.hostagent1" \
        'nobody busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus RequestName su org.hostagent1 0 2>&1 | grep -qi denied'

# The journal: structured fields from the daemon's own log calls.
check "the refusal is in the journal with CALLER_UID=65534 and its error's name" \
        'wait_for 25 "journalctl -u hostagentd CALLER_UID=65534 ACTION=org.hostagent1.host.configure \
                RESULT=org.freedesktop.DBus.Error.InteractiveAuthorizationRequired -o cat | grep -q Audit:"'
check "journal entries carry the code location" 'journalctl -u hostagentd -o json | grep -q "\"CODE_FUNC\""'

# A clean stop, then D-Bus activation through SystemdService=.
check "systemctl stop hostagentd succeeds" 'systemctl stop hostagentd'
check "it stopped cleanly (Result=success)" '[ "$(systemctl show -p Result --value hostagentd)" = success ]'
check "the name is gone with it" '! owned'
check "the first call on a stopped host activates it" 'answers'
check "through systemd: the unit is active again" 'systemctl is-active -q hostagentd'

# Watchdog: a loop that stops is killed and the service restarted.
mkdir -p /etc/systemd/system/hostagentd.service.d
printf '[Service]\nWatchdogSec=3s\nRestartSec=1s\n' > /etc/systemd/system/hostagentd.service.d/watchdog.conf
systemctl daemon-reload
systemctl restart hostagentd
pid=$(main_pid)
if [ -n "$pid" ] && [ "$pid" != 0 ]; then
        kill -STOP "$pid"
        check "a frozen hostagentd is killed by the watchdog and restarted" \
                'wait_for 150 "p=\$(main_pid); [ \"\$p\" != 0 ] && [ \"\$p\" != $pid ]"'
        check "the journal says it was the watchdog" 'journalctl -u hostagentd | grep -qi watchdog'
        check "the restarted daemon answers" 'wait_for 50 answers'
else
        fail "no main process to freeze for the watchdog check"
fi

# Back to the unit's own watchdog for what follows, which is slow here.
rm -f /etc/systemd/system/hostagentd.service.d/watchdog.conf
systemctl daemon-reload
systemctl restart hostagentd

# VMs on a real host: a nested guest (software-emulated inside this
# software-emulated host) started through the bus outlives a restart of
# the agent, and the new agent publishes it as it is.
check "libvirtd came up with the agent (Wants=)" 'systemctl is-active -q libvirtd'
check "the agent connects to libvirt" 'wait_for 900 "prop LibvirtConnected | grep -q true"'
vm=$(busctl --timeout=120 call org.hostagent1 /org/hostagent1 org.hostagent1.Manager CreateVM s \
        '{"name":"nested1","type":"qemu","memory_mib":64,"start":true}' 2>&1 | cut -d'"' -f2)
check "CreateVM starts a nested guest ($vm)" 'echo "$vm" | grep -q "^/org/hostagent1/vm/"'
qpid=$(cat /run/libvirt/qemu/nested1.pid 2>/dev/null)
check "its QEMU process runs" '[ -n "$qpid" ] && kill -0 "$qpid"'
check "systemctl restart hostagentd succeeds" 'systemctl restart hostagentd'
check "the new agent has read the VMs" 'wait_for 300 "prop Ready | grep -q true"'
check "it publishes the guest as running" \
        'wait_for 100 "busctl get-property org.hostagent1 $vm org.hostagent1.VM State | grep -q running"'
check "the guest's QEMU process is the same one ($qpid)" '[ "$(cat /run/libvirt/qemu/nested1.pid)" = "$qpid" ] && kill -0 "$qpid"'

# polkit with the installed .policy, for a user at the console: in the active
# seat session allow_active applies (auth_admin_keep), to the same user outside
# any session allow_any (auth_admin); a rule can tell the two apart too.
MANAGE=org.hostagent1.vm.manage
refused() { echo "$1" | grep -q "^org.freedesktop.DBus.Error.$2 .*$MANAGE"; }
guest_is() { wait_for 50 "busctl get-property org.hostagent1 $vm org.hostagent1.VM State | grep -q $1"; }
# may_manage PID VM: pkcheck's exit status for that process managing the VM
# (details are for root's questions only).
may_manage() { pkcheck --action-id $MANAGE --process "$1" --detail vm "$2" >/dev/null; }
check "polkit reads the installed .policy: an active session needs auth_admin_keep for $MANAGE" \
        'pkaction --verbose --action-id $MANAGE | grep -q "implicit active: *auth_admin_keep$"'
check "anyone else auth_admin" 'pkaction --verbose --action-id $MANAGE | grep -q "implicit any: *auth_admin$"'
check "operator is logged in on tty1" 'wait_for 300 "[ -s $SESSION/id ]"'
sid=$(cat "$SESSION/id" 2>/dev/null)
in_pid=$(cat "$SESSION/pid" 2>/dev/null)
op_uid=$(id -u operator)
# And a process of operator outside any session, in this service.
setpriv --reuid="$op_uid" --regid="$(id -g operator)" --init-groups sleep 600 &
out_pid=$!
check "in an active seat0 session ($sid)" \
        '[ "$(loginctl show-session "$sid" -p Active -p State -p Seat -p Remote | sort | tr "\n" " ")" = "Active=yes Remote=no Seat=seat0 State=active " ]'
out=$(in_session "vmcall $vm org.hostagent1.VM Pause")
check "from it Pause without interaction is refused: InteractiveAuthorizationRequired ($out)" \
        'refused "$out" InteractiveAuthorizationRequired'
may_manage "$in_pid" nested1; rc=$?
check "pkcheck agrees: authentication needed (exit $rc)" '[ "$rc" = 2 ]'
check "the guest still runs" 'guest_is running'
out=$(runuser -u operator -- vmcall "$vm" org.hostagent1.VM Pause)
check "operator outside any session (runuser here) is refused: InteractiveAuthorizationRequired ($out)" \
        'refused "$out" InteractiveAuthorizationRequired'
out=$(runuser -u operator -- vmcall -i "$vm" org.hostagent1.VM Pause)
check "with interaction allowed AccessDenied: no agent of theirs to ask ($out)" 'refused "$out" AccessDenied'
check "the guest still runs" 'guest_is running'

# A rule for the console: operator may manage nested1 from an active local session.
cat > /etc/polkit-1/rules.d/60-systest.rules <<'EOF'
polkit.addRule(function(action, subject) {
        if (action.id == "org.hostagent1.vm.manage" && action.lookup("vm") == "nested1" &&
            subject.user == "operator" && subject.local && subject.active)
                return polkit.Result.YES;
        return polkit.Result.NOT_HANDLED;
});
EOF
check "with a rule for active sessions pkcheck allows operator's session nested1" \
        'wait_for 50 "may_manage $in_pid nested1"'
check "but not another VM: the rule reads the vm detail" 'may_manage "$in_pid" other; [ $? = 2 ]'
check "nor operator outside a session" 'may_manage "$out_pid" nested1; [ $? = 2 ]'
kill "$out_pid"
out=$(in_session "vmcall $vm org.hostagent1.VM Pause")
check "from the session Pause without interaction is done ($out)" '[ "$out" = ok ]'
check "the guest is paused" 'guest_is paused'
out=$(in_session "vmcall $vm org.hostagent1.VM Resume")
check "and Resume ($out)" '[ "$out" = ok ]'
check "the guest runs again" 'guest_is running'
out=$(runuser -u operator -- vmcall "$vm" org.hostagent1.VM Pause)
check "operator outside a session is still refused ($out)" 'refused "$out" InteractiveAuthorizationRequired'
check "and the guest still runs" 'guest_is running'
rm -f /etc/polkit-1/rules.d/60-systest.rules
# The audit trail, asked as the README asks "who paused web1".
audit_of() { journalctl -u hostagentd "$@" -o verbose --output-fields=CALLER_UID,CALLER_PID,CALLER_UNIT,RESULT; }
check "the journal says who paused nested1: operator's uid, from its session" \
        'wait_for 25 "audit_of METHOD=Pause DETAIL_VM=nested1 RESULT=done | grep -q CALLER_UID=$op_uid" &&
         audit_of METHOD=Pause DETAIL_VM=nested1 RESULT=done | grep -q "CALLER_UNIT=session-$sid.scope"'
check "and who resumed it" 'wait_for 25 "audit_of METHOD=Resume DETAIL_VM=nested1 RESULT=done | grep -q CALLER_UID=$op_uid"'
check "operator's first refusal is there by name, with its session" \
        'audit_of ACTION=$MANAGE CALLER_UID=$op_uid RESULT=org.freedesktop.DBus.Error.InteractiveAuthorizationRequired |
         grep -q "CALLER_UNIT=session-$sid.scope"'
busctl call org.hostagent1 "$vm" org.hostagent1.VM Destroy >/dev/null 2>&1
busctl call org.hostagent1 "$vm" org.hostagent1.VM Undefine >/dev/null 2>&1

# Storage on a real kernel. NFS: the guest's own kernel server, mounted by
# the agent with the kernel client where libvirtd's QEMU sees it too.
mgr() { busctl call org.hostagent1 /org/hostagent1 org.hostagent1.Manager "$@" 2>&1; }
objpath() { grep -o '"/org/hostagent1/[^"]*"' | tr -d '"'; }
state_of() { busctl get-property org.hostagent1 "$1" org.hostagent1.StoragePool State 2>/dev/null; }
vm_state() { busctl get-property org.hostagent1 "$1" org.hostagent1.VM State 2>/dev/null; }
mkdir -p /srv/export
echo "/srv/export 127.0.0.1(rw,sync,no_root_squash,no_subtree_check,insecure)" > /etc/exports
# A restarted server refuses new locks for its grace period (90 s by default),
# and qemu-img locks the images it writes: keep the wait short here.
printf '[nfsd]\ngrace-time=10\nlease-time=10\n' >> /etc/nfs.conf
systemctl restart nfs-server
check "the kernel NFS server exports /srv/export" 'exportfs -v | grep -q /srv/export'
knfs=$(mgr CreateStoragePool s '{"name":"knfs","type":"nfs","server":"127.0.0.1","export":"/srv/export","version":4}' | objpath)
check "an nfs pool mounted by the kernel client ($knfs)" '[ "$knfs" = /org/hostagent1/storage/knfs ]'
check "the mount is in the host's namespace, not only the agent's" \
        'grep -q " /run/hostagent/storage/knfs .* nfs4 " /proc/self/mountinfo'
check "the pool is active" 'state_of "$knfs" | grep -qw active'
vol=$(busctl --timeout=120 call org.hostagent1 "$knfs" org.hostagent1.StoragePool CreateVolume 'stsa{sv}' disk 33554432 qcow2 0 2>&1 | objpath)
check "a volume on the mounted export ($vol)" '[ -n "$vol" ] && [ -f /srv/export/disk ]'
out=$(mgr CreateVM s '{"name":"onnfs","type":"qemu","memory_mib":64,"start":true,"disks":[{"pool":"knfs","volume":"disk"}]}')
nvm=$(echo "$out" | objpath)
check "a nested guest runs with its disk on the NFS mount ($out)" 'vm_state "$nvm" | grep -q running'
check "its disk is the file under the mount" 'virsh domblklist onnfs | grep -q /run/hostagent/storage/knfs/disk'
check "InUseBy names it" 'busctl get-property org.hostagent1 "$vol" org.hostagent1.Volume InUseBy | grep -q "$nvm"'
busctl call org.hostagent1 "$nvm" org.hostagent1.VM Destroy >/dev/null 2>&1
busctl call org.hostagent1 "$nvm" org.hostagent1.VM Undefine >/dev/null 2>&1
systemctl stop nfs-server
check "with the NFS server stopped the pool turns unreachable" 'wait_for 300 "state_of $knfs | grep -q unreachable"'
t0=$(date +%s%N); answers; t1=$(date +%s%N)
check "the agent answers meanwhile ($(( (t1 - t0) / 1000000 )) ms)" '[ $(( (t1 - t0) / 1000000 )) -lt 2000 ]'
check "so does the pool's own state" 'state_of "$knfs" | grep -q unreachable'
systemctl start nfs-server
check "with the server back the pool is active again" 'wait_for 600 "state_of $knfs | grep -qw active"'
busctl call org.hostagent1 "$vol" org.hostagent1.Volume Delete >/dev/null 2>&1
check "Delete unmounts the pool" 'busctl call org.hostagent1 "$knfs" org.hostagent1.StoragePool Delete && ! grep -q /run/hostagent/storage/knfs /proc/self/mountinfo'

# LVM with device-mapper: a VG on the blank virtio disk, active LVs, a nested guest on one.
lvmp=$(mgr CreateStoragePool s '{"name":"vgsys","type":"lvm","devices":["/dev/vdb"]}' | objpath)
check "an lvm pool on /dev/vdb ($lvmp)" '[ "$lvmp" = /org/hostagent1/storage/vgsys ]'
check "its VG carries the agent's tag" 'vgs --noheadings -o vg_tags vgsys | grep -q org.hostagent1'
lv=$(busctl call org.hostagent1 "$lvmp" org.hostagent1.StoragePool CreateVolume 'stsa{sv}' lv1 67108864 raw 0 2>&1 | objpath)
check "an active LV ($lv)" '[ -b /dev/vgsys/lv1 ]'
job=$(busctl call org.hostagent1 "$lv" org.hostagent1.Volume Clone s lv2 2>&1 | objpath)
check "Clone copies an LV with device-mapper" \
        'wait_for 300 "busctl get-property org.hostagent1 $job org.hostagent1.Job Result | grep -q done" && [ -b /dev/vgsys/lv2 ]'
lvm_vm=$(mgr CreateVM s '{"name":"onlvm","type":"qemu","memory_mib":64,"start":true,"disks":[{"pool":"vgsys","volume":"lv1"}]}' | objpath)
check "a nested guest runs on the LV ($lvm_vm)" 'vm_state "$lvm_vm" | grep -q running'
check "as a block disk" 'virsh dumpxml onlvm | grep -q "<source dev=./dev/vgsys/lv1."'
check "the LV cannot be deleted under it" \
        'busctl call org.hostagent1 "$lv" org.hostagent1.Volume Delete 2>&1 | grep -q "disk of VM"'
busctl call org.hostagent1 "$lvm_vm" org.hostagent1.VM Destroy >/dev/null 2>&1
busctl call org.hostagent1 "$lvm_vm" org.hostagent1.VM Undefine >/dev/null 2>&1
for v in lv1 lv2; do busctl call org.hostagent1 "$lvmp/$v" org.hostagent1.Volume Delete >/dev/null 2>&1; done
check "Delete removes the VG and wipes the PV" \
        'busctl call org.hostagent1 "$lvmp" org.hostagent1.StoragePool Delete && ! vgs vgsys >/dev/null 2>&1 && ! pvs /dev/vdb >/dev/null 2>&1'

# Networks on a real kernel: 802.1Q, bonding and Open vSwitch's kernel datapath.
setup() { busctl call org.hostagent1 /org/hostagent1 org.hostagent1.Manager SetupNetworks 'sa{sv}' "$1" 0 2>&1; }
nstate() { busctl get-property org.hostagent1 "/org/hostagent1/network/$1" org.hostagent1.Network State 2>/dev/null; }
for d in d0 d1 d2 d3; do ip link add "$d" type dummy; ip link set "$d" up; done
out=$(setup '{"networks":{"tagged":{"uplink":"d0","vlan":100,"addresses":["192.0.2.60/24"]}}}')
check "a Linux network on an 802.1Q VLAN ($out)" 'ip -d link show d0.100 | grep -q "vlan protocol 802.1Q id 100"'
check "the VLAN device is the bridge's port" 'ip link show d0.100 | grep -q "master tagged"'
check "with the address" 'ip addr show tagged | grep -q 192.0.2.60/24'
check "the network is ok" 'wait_for 50 "nstate tagged | grep -qw ok"'
out=$(setup '{"networks":{"bonded":{"uplink":"bond0","bond":{"slaves":["d1","d2"],"mode":"active-backup"}}}}')
check "a Linux network on a bond of two NICs ($out)" 'grep -q "Bonding Mode: fault-tolerance (active-backup)" /proc/net/bonding/bond0'
check "both slaves are in the bond" 'grep -q "Slave Interface: d1" /proc/net/bonding/bond0 && grep -q "Slave Interface: d2" /proc/net/bonding/bond0'
check "the bond is the bridge's port" 'ip link show bond0 | grep -q "master bonded"'
check "OVS runs here" 'wait_for 100 "ovs-vsctl show"'
out=$(setup '{"networks":{"ovsk":{"switch":"ovs","uplink":"d3","vlan":200}}}')
check "an Open vSwitch network on the kernel datapath ($out)" 'ovs-vsctl show | grep -q "Bridge ovsk"'
check "with its own port tagged 200" 'ovs-vsctl get Port ovsk tag | grep -qx 200'
check "and the uplink as its port" 'ovs-vsctl list-ports ovsk | grep -qx d3'
check "the kernel datapath is in use" 'ip link show ovs-system >/dev/null 2>&1'
check "the OVS network is ok" 'wait_for 50 "nstate ovsk | grep -qw ok"'
ovs-vsctl del-br ovsk
check "ovs-vsctl del-br: it turns degraded" 'wait_for 50 "nstate ovsk | grep -qw degraded"'
# What a reboot loses, a start brings back (the tier boots once: a restart stands in for the reboot).
systemctl stop hostagentd
ip link del tagged; ip link del d0.100
systemctl start hostagentd
check "after the agent starts again, the lost bridge and VLAN are back" 'wait_for 100 "ip link show d0.100 | grep -q \"master tagged\""'
check "and the deleted OVS bridge" 'wait_for 100 "ovs-vsctl br-exists ovsk"'
out=$(setup '{"networks":{"tagged":{"remove":true},"bonded":{"remove":true},"ovsk":{"remove":true}}}')
check "removing them all ($out)" '! ip link show tagged 2>/dev/null && ! ip link show bond0 2>/dev/null && ! ovs-vsctl br-exists ovsk'
# A kernel refusal on a real host: nothing is left behind.
before=$(ip -d addr)
out=$(setup '{"networks":{"refused":{"uplink":"lo","addresses":["192.0.2.80/24"]}}}')
check "a step the kernel refuses fails by name ($out)" 'echo "$out" | grep -q "set master lo refused"'
check "and the host is as it was" '[ "$(ip -d addr)" = "$before" ]'
# Unconfirmed, a change rolls back by itself.
before=$(ip -d addr | sed -E 's/ [a-z_]+_timer +[0-9.]+//g')
out=$(busctl call org.hostagent1 /org/hostagent1 org.hostagent1.Manager SetupNetworks 'sa{sv}' \
        '{"networks":{"unconfirmed":{"uplink":"d1","vlan":400}}}' 1 confirm_timeout_sec u 3 2>&1)
check "a change waiting for confirmation is applied ($out)" 'ip link show d1.400 | grep -q "master unconfirmed"'
check "without ConfirmNetworks() it is rolled back" 'wait_for 100 "! ip link show unconfirmed 2>/dev/null && ! ip link show d1.400 2>/dev/null"'
# Killed in the middle of a transaction (a failpoint holds it at step 3), the
# agent is restarted by systemd and rolls back what was half done.
systemctl set-environment HOSTAGENT_NET_FAILPOINT=pause:3
systemctl restart hostagentd
busctl call --timeout=120 org.hostagent1 /org/hostagent1 org.hostagent1.Manager SetupNetworks 'sa{sv}' \
        '{"networks":{"halfway":{"uplink":"d2","vlan":500,"addresses":["192.0.2.90/24"]}}}' 0 >/dev/null 2>&1 &
check "mid-way, the first steps took effect" 'wait_for 100 "ip link show halfway >/dev/null 2>&1 && grep -q \"\\\"done\\\":2\" /var/lib/hostagent/networks-journal.json"'
systemctl kill --signal=KILL hostagentd
systemctl unset-environment HOSTAGENT_NET_FAILPOINT
check "after kill -9 systemd restarts the agent" 'wait_for 150 "systemctl is-active -q hostagentd"'
check "which rolls back the half-done transaction" 'wait_for 150 "! ip link show halfway 2>/dev/null && ! ip link show d2.500 2>/dev/null"'
check "and clears its journal" 'wait_for 50 "! test -e /var/lib/hostagent/networks-journal.json"'
check "the host is as it was" '[ "$(ip -d addr | sed -E "s/ [a-z_]+_timer +[0-9.]+//g")" = "$before" ]'

# A network to keep across the reboot, confirmed in time.
out=$(busctl call org.hostagent1 /org/hostagent1 org.hostagent1.Manager SetupNetworks 'sa{sv}' \
        '{"networks":{"kept":{"uplink":"d0","vlan":300,"addresses":["192.0.2.70/24"]}}}' 1 confirm_timeout_sec u 60 2>&1)
check "a change waiting for confirmation ($out)" 'ip link show d0.300 | grep -q "master kept"'
check "confirmed in time" 'busctl call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ConfirmNetworks'
check "and kept in the state directory" 'grep -q "\"kept\"" /var/lib/hostagent/networks.json'
touch "$PHASE_MARK" "$S/reboot-requested"

systemctl stop hostagentd
journalctl -b --no-pager > "$S/journal.txt"
echo "$PASS passed, $FAIL failed" >> "$R"
sync
