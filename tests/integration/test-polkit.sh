# Who may do what: polkitd on the test's own bus, with the project's .policy
# and rules of the test's own. Unprivileged callers (nobody, daemon) are
# allowed what a rule allows them, with the details the rule reads
# (action.lookup("owner"), "vm", "property"), and refused otherwise with the
# action named; pkcheck, asked about the same connection, is the oracle.
# Every mutating call leaves one audit entry (here on stderr, where the agent
# logs without a journal: the same KEY=value fields); a caller's refused calls
# after its first of the interval are counted in one entry instead. Without
# polkitd on the bus only root may change anything.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
set +e

: "${POLKIT_CALLER:?POLKIT_CALLER must name the polkit-caller helper}"

libvirtd_start
bus_start
polkit_start
# An hour's interval for refusals (a test-build knob): each uid's first refusal
# is an entry of its own, the others are counted and told when the agent stops.
export HOSTAGENT_DENIED_LOG_INTERVAL_SEC=3600
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI"
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

# call_as UID ACTION "KEY VALUE..." [-i] PATH INTERFACE METHOD [ARG...]: one
# connection as UID; pkcheck is asked about it for ACTION with the details
# (ORACLE: 0 yes, 1 no, 2 authentication needed), then it makes the call
# (RESULT: "ok" or the error's name and message; CALLER_PID: its pid).
call_as() {
        local uid=$1 action=$2 details=$3 name
        shift 3
        coproc PKC { exec setpriv --reuid="$uid" --regid="$uid" --clear-groups "$POLKIT_CALLER" "$@"; }
        read -r -u "${PKC[0]}" _ name CALLER_PID
        # shellcheck disable=SC2086
        ORACLE=$(polkit_check "$name" "$action" $details)
        echo go >&"${PKC[1]}"
        read -r -u "${PKC[0]}" RESULT
        wait "$PKC_PID" 2>/dev/null
}
NOBODY=65534
DAEMON=1
VM_IFACE=org.hostagent1.VM

# Two running VMs made by root: web1 owned by ops, db1 by dba.
WEB1=$(manager_call CreateVM '{"name":"web1","memory_mib":64,"type":"test","start":true,"metadata":{"owner":"ops"}}' | grep -o "/org/hostagent1/vm/[^']*")
DB1=$(manager_call CreateVM '{"name":"db1","memory_mib":64,"type":"test","start":true,"metadata":{"owner":"dba"}}' | grep -o "/org/hostagent1/vm/[^']*")
[ -n "$WEB1" ] && [ -n "$DB1" ] && ok "root creates VMs (polkit is not asked about root)" || fail "root could not create the VMs"

# Without a rule the defaults apply (auth_admin): a prompt could help, and the
# call did not allow one.
call_as $NOBODY org.hostagent1.vm.manage "vm web1 uuid x owner ops" "$WEB1" $VM_IFACE Pause
assert_eq 2 "$ORACLE" "pkcheck: without a rule nobody needs authentication for vm.manage"
assert_contains "$RESULT" "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" \
        "so nobody's Pause is InteractiveAuthorizationRequired"
assert_contains "$RESULT" "org.hostagent1.vm.manage" "which names the action"
assert_eq 's "running"' "$(vm_prop "$WEB1" State)" "and web1 still runs"
FIRST_REFUSED=$CALLER_PID
NOBODY_REFUSED=1   # nobody's refused calls, each an entry or in the count
call_as $NOBODY org.hostagent1.vm.manage "" -i "$WEB1" $VM_IFACE Pause
assert_contains "$RESULT" "org.freedesktop.DBus.Error.AccessDenied" \
        "with interactive authorization allowed but no agent to ask, it is AccessDenied"
NOBODY_REFUSED=$((NOBODY_REFUSED + 1))

# Rules: nobody may manage the VMs owned by ops, create VMs for ops (but none
# that reach host files: vm.create-raw), and set LogLevel; daemon may do nothing.
polkit_rule 50-test <<'JS'
polkit.addRule(function(action, subject) {
        if (subject.user == "daemon" && action.id.indexOf("org.hostagent1.") == 0)
                return polkit.Result.NO;
        if (subject.user != "nobody")
                return polkit.Result.NOT_HANDLED;
        if ((action.id == "org.hostagent1.vm.manage" || action.id == "org.hostagent1.vm.create") &&
            action.lookup("owner") == "ops")
                return polkit.Result.YES;
        if (action.id == "org.hostagent1.vm.console" && action.lookup("vm") == "web1")
                return polkit.Result.YES;
        if (action.id == "org.hostagent1.host.configure" && action.lookup("property") == "LogLevel")
                return polkit.Result.YES;
        if (action.id == "org.hostagent1.storage.manage" && action.lookup("pool") == "pool1")
                return polkit.Result.YES;
        if (action.id == "org.hostagent1.network.setup" && action.lookup("networks") == "pknet")
                return polkit.Result.YES;
        return polkit.Result.NOT_HANDLED;
});
JS
# polkitd reads the file a moment later: wait until pkcheck says so.
probe() { call_as $NOBODY org.hostagent1.vm.manage "owner ops" "$WEB1" org.freedesktop.DBus.Peer Ping; [ "$ORACLE" = 0 ]; }
wait_until 20 probe || fail "polkitd never applied the test's rule"

call_as $NOBODY org.hostagent1.vm.manage "vm web1 owner ops" "$WEB1" $VM_IFACE Pause
assert_eq 0 "$ORACLE" "pkcheck: the rule allows nobody vm.manage of an ops VM"
assert_eq ok "$RESULT" "nobody pauses web1 (owner ops): the rule read action.lookup(\"owner\")"
assert_eq 's "paused"' "$(vm_prop "$WEB1" State)" "web1 is paused"
WEB1_PAUSER=$CALLER_PID

call_as $NOBODY org.hostagent1.vm.manage "vm db1 owner dba" "$DB1" $VM_IFACE Pause
assert_eq 2 "$ORACLE" "pkcheck: not for a dba VM"
assert_contains "$RESULT" "InteractiveAuthorizationRequired" "nobody may not pause db1 (owner dba)"
assert_eq 's "running"' "$(vm_prop "$DB1" State)" "db1 still runs"
NOBODY_REFUSED=$((NOBODY_REFUSED + 1))

call_as $DAEMON org.hostagent1.vm.manage "vm web1 owner ops" "$WEB1" $VM_IFACE Resume
assert_eq 1 "$ORACLE" "pkcheck: daemon is refused by the rule"
assert_contains "$RESULT" "org.freedesktop.DBus.Error.AccessDenied" "daemon's Resume is AccessDenied"
assert_contains "$RESULT" "org.hostagent1.vm.manage" "naming the action"
assert_eq 's "paused"' "$(vm_prop "$WEB1" State)" "web1 stays paused"

call_as $NOBODY org.hostagent1.vm.console "vm web1" "$WEB1" $VM_IFACE SetConsoleTicket s:s3cret u:60
assert_eq 0 "$ORACLE" "pkcheck: nobody may set web1's console ticket (action.lookup(\"vm\"))"
assert_contains "$RESULT" "org.hostagent1.Error.InvalidState" \
        "so the call gets past authorization to the VM's own refusal (no console)"

# CreateVM: vm.create with the spec's owner, vm.create-raw when it names a host path.
call_as $NOBODY org.hostagent1.vm.create "vm nb1 owner ops" /org/hostagent1 org.hostagent1.Manager CreateVM \
        's:{"name":"nb1","memory_mib":64,"type":"test","metadata":{"owner":"ops"}}'
assert_eq 0 "$ORACLE" "pkcheck: nobody may create VMs for ops"
assert_eq ok "$RESULT" "nobody creates nb1 for ops"
assert_contains "$(manager_call ListVMs)" "'nb1'" "nb1 exists"
: > "$T/disk.img"
call_as $NOBODY org.hostagent1.vm.create-raw "vm nb2" /org/hostagent1 org.hostagent1.Manager CreateVM \
        "s:{\"name\":\"nb2\",\"memory_mib\":64,\"type\":\"test\",\"metadata\":{\"owner\":\"ops\"},\"disks\":[{\"path\":\"$T/disk.img\"}]}"
assert_eq 2 "$ORACLE" "pkcheck: vm.create-raw is not in the rule"
assert_contains "$RESULT" "org.hostagent1.vm.create-raw" "a spec with a host path disk is vm.create-raw, refused"
assert_not_contains "$(manager_call ListVMs)" "'nb2'" "nb2 was not made"
NOBODY_REFUSED=$((NOBODY_REFUSED + 1))

# Storage: the rule reads the pool's name, from the pool or from CreateStoragePool's spec.
for n in 1 2; do
        manager_call CreateStoragePool "{\"name\":\"pool$n\",\"type\":\"dir\",\"path\":\"$T/pools/$n\"}" >/dev/null
done
call_as $NOBODY org.hostagent1.storage.manage "pool pool1 volume v1" /org/hostagent1/storage/pool1 \
        org.hostagent1.StoragePool CreateVolume s:v1 t:1048576 s:raw 'a{sv}:'
assert_eq 0 "$ORACLE" "pkcheck: nobody may manage pool1"
assert_eq ok "$RESULT" "nobody creates a volume in pool1"
[ -f "$T/pools/1/v1" ] && ok "its file is there" || fail "no file for v1"
call_as $NOBODY org.hostagent1.storage.manage "pool pool2 volume v1" /org/hostagent1/storage/pool2 \
        org.hostagent1.StoragePool CreateVolume s:v1 t:1048576 s:raw 'a{sv}:'
assert_eq 2 "$ORACLE" "pkcheck: not pool2"
assert_contains "$RESULT" "InteractiveAuthorizationRequired" "nobody may not create a volume in pool2"
[ ! -e "$T/pools/2/v1" ] && ok "nothing was made in pool2" || fail "v1 was made in pool2"
NOBODY_REFUSED=$((NOBODY_REFUSED + 1))
call_as $NOBODY org.hostagent1.storage.manage "pool pool1" /org/hostagent1 org.hostagent1.Manager CreateStoragePool \
        "s:{\"name\":\"pool1\",\"type\":\"dir\",\"path\":\"$T/pools/3\"}"
assert_contains "$RESULT" "pool1" "CreateStoragePool of a spec named pool1 gets past authorization to the name's conflict"
assert_not_contains "$RESULT" "Authoriz" "and is not refused by polkit"
call_as $NOBODY org.hostagent1.storage.manage "pool pool3" /org/hostagent1 org.hostagent1.Manager CreateStoragePool \
        "s:{\"name\":\"pool3\",\"type\":\"dir\",\"path\":\"$T/pools/3\"}"
assert_contains "$RESULT" "InteractiveAuthorizationRequired" "one named pool3 is refused"
[ ! -e "$T/pools/3" ] && ok "and made nothing" || fail "a refused pool made $T/pools/3"
NOBODY_REFUSED=$((NOBODY_REFUSED + 1))

# Networks: the rule reads the names a SetupNetworks touches (a dry run: nothing is made).
call_as $NOBODY org.hostagent1.network.setup "networks pknet" /org/hostagent1 org.hostagent1.Manager SetupNetworks \
        's:{"networks":{"pknet":{}}}' 'a{sv}:dry_run'
assert_eq 0 "$ORACLE" "pkcheck: nobody may set up the network pknet"
assert_not_contains "$RESULT" "Authoriz" "so its dry run gets past authorization ($RESULT)"
assert_not_contains "$RESULT" "AccessDenied" "and is not denied"
call_as $NOBODY org.hostagent1.network.setup "networks pknet,other" /org/hostagent1 org.hostagent1.Manager SetupNetworks \
        's:{"networks":{"pknet":{},"other":{}}}' 'a{sv}:dry_run'
assert_eq 2 "$ORACLE" "pkcheck: not pknet and another"
assert_contains "$RESULT" "InteractiveAuthorizationRequired" "a change touching another network too is refused"
NOBODY_REFUSED=$((NOBODY_REFUSED + 1))
call_as 0 org.hostagent1.network.setup "networks pknet,other" /org/hostagent1 org.hostagent1.Manager SetupNetworks \
        's:{"networks":{"pknet":{},"other":{}}}' 'a{sv}:dry_run'
assert_contains "$(grep "Audit:" "$T/daemon.log" | grep "METHOD=SetupNetworks" | grep "CALLER_PID=$CALLER_PID ")" \
        "DETAIL_NETWORKS=pknet,other" "the audit entry of root's dry run of it names the networks touched"

# A host setting: the property write is checked before sd-bus dispatches it.
out=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups gdbus call --system -d org.hostagent1 -o /org/hostagent1 \
        -m org.freedesktop.DBus.Properties.Set org.hostagent1.Manager LogLevel "<'debug'>" 2>&1)
assert_eq "()" "$out" "nobody may set LogLevel (host.configure, property LogLevel)"
assert_eq 's "debug"' "$(prop LogLevel)" "LogLevel changed"
# Calls of one caller sent at once: polkit is asked once for the same action and
# details, and the answers come in the order of the calls.
bus_monitor_start "$T/pk-monitor.log" busctl --system monitor
out=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$BUS_PIPELINE" "set LogLevel notice" "get LogLevel" \
        "set LogLevel debug" "get LogLevel" | paste -sd' ')
assert_eq "1:ok 2:notice 3:ok 4:debug" "$out" "nobody's pipelined writes and reads are answered in order"
bus_monitor_stop
assert_eq 1 "$(grep -c "Member=CheckAuthorization" "$T/pk-monitor.log")" \
        "polkit was asked once for the two writes (the answer is kept for the connection)"
# A new connection's blocking read: the agent asks the bus who the caller is
# once, for authorization and its budget of work alike.
bus_monitor_start "$T/id-monitor.log" busctl --system monitor
out=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups gdbus call --system -d org.hostagent1 -o /org/hostagent1 \
        -m org.hostagent1.Manager.GetHostStats 2>&1)
assert_contains "$out" "memory" "nobody reads the host's statistics"
bus_monitor_stop
assert_eq 1 "$(grep -c "Member=GetConnectionCredentials" "$T/id-monitor.log")" "the agent asked the bus once who nobody is"
assert_eq 0 "$(grep -c "Member=GetConnectionUnixUser" "$T/id-monitor.log")" "and not a second time for the budgets"
out=$(setpriv --reuid=$DAEMON --regid=$DAEMON --clear-groups gdbus call --system -d org.hostagent1 -o /org/hostagent1 \
        -m org.freedesktop.DBus.Properties.Set org.hostagent1.Manager LogLevel "<'info'>" 2>&1)
assert_contains "$out" "AccessDenied" "daemon may not"
assert_contains "$out" "org.hostagent1.host.configure" "naming the action"
assert_eq 's "debug"' "$(prop LogLevel)" "LogLevel unchanged"
assert_eq "()" "$(bus_call /org/hostagent1 org.freedesktop.DBus.Properties.Set org.hostagent1.Manager LogLevel "<'info'>")" \
        "root sets LogLevel back"

# The audit: one entry per mutating call, allowed or not, with who, what, where and how it ended.
entry=$(grep "Audit:" "$T/daemon.log" | grep "METHOD=Pause" | grep "CALLER_PID=$WEB1_PAUSER ")
assert_contains "$entry" "CALLER_UID=65534" "the audit entry of nobody's Pause names the uid"
assert_contains "$entry" "ACTION=org.hostagent1.vm.manage" "the action"
assert_contains "$entry" "OBJECT_PATH=$WEB1" "the object"
assert_contains "$entry" "RESULT=done" "and that it was done"
assert_contains "$entry" "DETAIL_VM=web1" "with the VM's name (for journalctl DETAIL_VM=web1)"
assert_eq 1 "$(grep -c "CALLER_PID=$WEB1_PAUSER " "$T/daemon.log")" "one entry for the call"
assert_contains "$(grep "Audit:" "$T/daemon.log" | grep "CALLER_UID=1 " | grep "METHOD=Resume")" "RESULT=denied" \
        "daemon's refused Resume has its entry, RESULT=denied"
assert_contains "$(grep "Audit:" "$T/daemon.log" | grep "METHOD=SetConsoleTicket")" \
        "RESULT=org.hostagent1.Error.InvalidState" "an allowed call that failed has the error's name"
entry=$(grep "Audit:" "$T/daemon.log" | grep "CALLER_PID=$FIRST_REFUSED ")
assert_contains "$entry" "RESULT=org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" \
        "nobody's first refused call, for want of a prompt, has its entry with the error's name"
assert_contains "$entry" "DETAIL_VM=web1" "and the details"
assert_eq 0 "$(grep "Audit:" "$T/daemon.log" | grep -c "METHOD=Pause.*DETAIL_VM=db1")" \
        "nobody's later refusals of the interval have no entry of their own (they are counted)"
assert_contains "$(grep "Audit:" "$T/daemon.log" | grep "METHOD=CreateVM" | grep "CALLER_UID=0 " | head -1)" "RESULT=done" \
        "root's calls are audited too"

# An owner is the creator's text: a line break in it does not make a line of its own on stderr.
call_as 0 org.hostagent1.vm.create "" /org/hostagent1 org.hostagent1.Manager CreateVM \
        's:{"name":"odd1","memory_mib":64,"type":"test","metadata":{"owner":"x\nCALLER_UID=0 RESULT=done"}}'
assert_eq ok "$RESULT" "root creates a VM whose owner holds a line break"
assert_contains "$(grep "Audit:" "$T/daemon.log" | grep "METHOD=CreateVM" | grep "DETAIL_VM=odd1")" \
        "DETAIL_OWNER=x?CALLER_UID=0 RESULT=done" "its audit entry shows the owner on the entry's own line"
call_as $NOBODY org.hostagent1.vm.manage "" "$(vm_path_of odd1)" $VM_IFACE Start
assert_contains "$RESULT" "InteractiveAuthorizationRequired" "nobody may not start odd1 (its owner is not ops)"
NOBODY_REFUSED=$((NOBODY_REFUSED + 1))
assert_eq 0 "$(grep -c "^CALLER_UID=0 RESULT=done" "$T/daemon.log")" "and no line starts with the owner's text"

# polkitd leaves: root only, said once in the log.
polkit_stop
call_as $NOBODY org.hostagent1.vm.manage "" "$WEB1" $VM_IFACE Resume
assert_contains "$RESULT" "org.freedesktop.DBus.Error.AccessDenied" "without polkitd nobody's Resume (allowed by the rule) is AccessDenied"
assert_contains "$RESULT" "polkit is not running" "saying why"
call_as $NOBODY org.hostagent1.vm.manage "" "$DB1" $VM_IFACE Pause
assert_contains "$RESULT" "org.freedesktop.DBus.Error.AccessDenied" "and so is the next"
NOBODY_REFUSED=$((NOBODY_REFUSED + 2))
assert_eq "()" "$(vm_call "$WEB1" Resume)" "root still may"
assert_eq 's "running"' "$(vm_prop "$WEB1" State)" "web1 runs again"
assert_eq 1 "$(grep -c "polkit is not on the bus" "$T/daemon.log")" "the log says once that polkit is absent"

daemon_stop && ok "SIGTERM ends it with status 0" || fail "hostagentd did not exit cleanly"
# The counts of the interval, told at the stop: every refusal is an entry or in a count.
count=$(grep "Audit: uid 65534 was refused" "$T/daemon.log")
assert_contains "$count" "DENIED_COUNT=$((NOBODY_REFUSED - 1))" "nobody's refusals after its first are counted in one entry"
assert_contains "$count" "RESULT=denied" "RESULT=denied"
for action in vm.manage vm.create-raw storage.manage network.setup; do
        assert_contains "$count" "ACTION=org.hostagent1.$action" "naming the action $action it asked for"
done
assert_eq 1 "$(grep -c "Audit: uid 65534 was refused" "$T/daemon.log")" "in one entry"
count=$(grep "Audit: uid 1 was refused" "$T/daemon.log")
assert_contains "$count" "DENIED_COUNT=1 " "daemon's refused LogLevel write, after its refused Resume, is counted"
assert_contains "$count" "ACTION=org.hostagent1.host.configure" "with its action"
fixture_finish
