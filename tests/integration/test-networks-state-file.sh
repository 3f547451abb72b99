# What networks.json keeps is never lost. How many networks the agent keeps: one limit, refused
# by name when a change would pass it (nothing touched), and every kept network read back at the
# next start, even a file that holds more than the limit (written by hand, or by an older agent):
# none is dropped, none erased from networks.json by the next change. An entry this agent cannot
# read stays in the file as it is; a file it cannot read at all is never overwritten. Bridges
# without uplinks in a namespace of the test's own.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

LIMIT=64   # NET_MAX_NETWORKS
netns_start netlimit || exit 1
bus_start
DAEMON_PREFIX=(ip netns exec "$NETNS")
start() { daemon_start --libvirt-uri=test:///default --ovsdb="unix:$T/no-ovsdb.sock" "$@"; }
start
B="busctl --system"
N=/org/hostagent1/network
setup() { bus_call /org/hostagent1 org.hostagent1.Manager.SetupNetworks "$(gv_string "$1")" "${2:-{\}}"; }
# The networks as a client sees them, and as the state file keeps them: one name a line, sorted.
bus_networks() {
        $B call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.ObjectManager GetManagedObjects --json=short |
                grep -o "\"$N/[a-z0-9]*\"" | sed -e "s|\"$N/||" -e 's/"$//' | sort -u
}
file_networks() {
        /usr/bin/python3 -c 'import json, sys; print("\n".join(sorted(json.load(open(sys.argv[1]))["networks"])))' \
                "$T/state/networks.json"
}
bridges() { ip -n "$NETNS" -o link show type bridge | awk -F': ' '{print $2}' | sort; }
names() { for i in $(seq "$1" "$2"); do echo "lim$i"; done | sort; }
desired() {   # FIRST LAST: {"networks":{"limFIRST":{},...,"limLAST":{}}}
        local i sep="" out='{"networks":{'
        for i in $(seq "$1" "$2"); do out+="$sep\"lim$i\":{}"; sep=,; done
        echo "$out}}"
}

# Up to the limit, in one change.
out=$(setup "$(desired 0 $((LIMIT - 1)))")
assert_contains "$out" '"create bridge","link":"lim63"' "SetupNetworks makes $LIMIT networks"
assert_eq "$(names 0 $((LIMIT - 1)))" "$(bus_networks)" "all $LIMIT are on the bus"
assert_eq "$(names 0 $((LIMIT - 1)))" "$(file_networks)" "and kept in networks.json"

# One more is refused by name, and nothing changes: not the file, not the kernel, not the bus.
cp "$T/state/networks.json" "$T/kept.json"
out=$(setup '{"networks":{"lim64":{}}}')
assert_contains "$out" "Error.InvalidSpec: networks: the agent keeps at most $LIMIT networks; it has $LIMIT and this change would make 65" \
        "network $((LIMIT + 1)) is refused, naming the limit"
assert_contains "$(setup '{"networks":{"lim64":{}}}' "{'dry_run': <true>}")" "at most $LIMIT networks" \
        "a dry run of it too"
cmp -s "$T/kept.json" "$T/state/networks.json" && ok "networks.json is unchanged" || fail "networks.json changed"
assert_not_contains "$(bridges)" "lim64" "no bridge was made"
assert_eq "" "$(bus_networks | grep -x lim64)" "no object was published"
# A change that does not add to the count still goes through: one out, another in.
out=$(setup '{"networks":{"lim0":{"remove":true},"lim64":{}}}')
assert_contains "$out" '"create bridge","link":"lim64"' "replacing a network at the limit is allowed"
assert_eq "$(names 1 $LIMIT)" "$(file_networks)" "networks.json has the $LIMIT networks"

# A restart reads back every one.
daemon_stop || fail "hostagentd exited with an error"
start
assert_eq "$(names 1 $LIMIT)" "$(bus_networks)" "after a restart all $LIMIT are on the bus"
assert_eq "$(names 1 $LIMIT)" "$(file_networks)" "and in networks.json"

# A file that holds more than the limit: all are kept, and it says so.
daemon_stop || fail "hostagentd exited with an error"
desired 0 $((LIMIT + 1)) > "$T/state/networks.json"
start
wait_until 20 sh -c "ip -n $NETNS link show lim65 >/dev/null 2>&1"
assert_eq "$(names 0 $((LIMIT + 1)))" "$(bus_networks)" "a start that finds $((LIMIT + 2)) networks publishes them all"
assert_contains "$(bridges)" "$(names 0 $((LIMIT + 1)))" "and brings back all their bridges"
assert_contains "$(cat "$T/daemon.log")" "holds $((LIMIT + 2)) networks, more than the $LIMIT SetupNetworks allows: all are kept" \
        "the log says it keeps more than the limit"
assert_contains "$(setup '{"networks":{"extra":{}}}')" "at most $LIMIT networks; it has $((LIMIT + 2)) and this change would make" \
        "a change that adds one more is refused"
out=$(setup '{"networks":{"lim0":{"remove":true}}}')
assert_contains "$out" '"delete link","link":"lim0"' "removing one goes through"
assert_eq "$(names 1 $((LIMIT + 1)))" "$(file_networks)" "and networks.json keeps all the others"
assert_eq "$(names 1 $((LIMIT + 1)))" "$(bus_networks)" "as the bus does"

# An entry this agent cannot read (a newer agent's key, a hand edit) stays in the file as it is.
daemon_stop || fail "hostagentd exited with an error"
echo '{"networks":{"k1":{},"future":{"switch":"linux","colour":"red"}}}' > "$T/state/networks.json"
start
assert_contains "$(cat "$T/daemon.log")" "network future cannot be restored: networks.future.colour: unknown key; it stays in the file as it is" \
        "the log names the entry it cannot restore"
assert_eq "k1" "$(bus_networks)" "the others are restored"
setup '{"networks":{"k2":{}}}' >/dev/null
assert_eq "$(printf 'future\nk1\nk2')" "$(file_networks)" "the next change keeps the unreadable entry in networks.json"
assert_contains "$(tr -d ' \n' < "$T/state/networks.json")" '"future":{"switch":"linux","colour":"red"}' "as it was"
setup '{"networks":{"future":{}}}' >/dev/null
assert_contains "$(tr -d ' \n' < "$T/state/networks.json")" '"future":{"switch":"linux"}' "a network set up under its name replaces it"
setup '{"networks":{"future":{"remove":true}}}' >/dev/null
assert_eq "$(printf 'k1\nk2')" "$(file_networks)" "and once that is removed, the old entry does not come back"

# A file it cannot read at all is not overwritten: changes are refused, saying why.
daemon_stop || fail "hostagentd exited with an error"
echo '{"networks":{"k1":{},' > "$T/state/networks.json"
cp "$T/state/networks.json" "$T/kept.json"
start
out=$(setup '{"networks":{"k3":{}}}')
assert_contains "$out" "Error.Failed: $T/state/networks.json cannot be read (Bad message); it is not overwritten" \
        "a change is refused while networks.json cannot be read"
cmp -s "$T/kept.json" "$T/state/networks.json" && ok "and the file is as it was" || fail "networks.json was overwritten"
assert_not_contains "$(bridges)" "k3" "nothing was made"

# A journal of a change cut short that the agent cannot trust is not acted on: undoing steps read
# wrong could delete links the change never made. It is logged, kept aside for a person to read,
# and the kept networks come back as at every start. A link named "(null)", which a null read as
# "(null)" would have the rollback delete, stays.
daemon_stop || fail "hostagentd exited with an error"
echo '{"networks":{"k1":{}}}' > "$T/state/networks.json"
ip -n "$NETNS" link add "(null)" type bridge
J=$T/state/networks-journal.json
step() { echo "{\"kind\":0,\"link\":$1,\"arg\":\"\",\"old_arg\":\"\",\"value\":0,\"old_value\":0}"; }
step_named() { step "\"$1\""; }
while IFS='|' read -r why journal; do
        [ -n "$why" ] || continue
        eval "journal=\"$journal\""
        echo "$journal" > "$J"
        rm -f "$J.damaged"
        : > "$T/daemon.log"
        start
        wait_until 20 grep -q "is damaged" "$T/daemon.log"
        kill -0 "$DAEMON_PID" 2>/dev/null && ok "a journal with $why: the agent runs" || fail "a journal with $why: the agent died"
        assert_contains "$(cat "$T/daemon.log")" "$J is damaged ($why); nothing is rolled back, and it is kept as $J.damaged" \
                "the log says what is wrong with it"
        assert_eq "$journal" "$(cat "$J.damaged" 2>&1)" "it is kept aside as it was"
        [ ! -e "$J" ] && ok "and a new change can journal again" || fail "the damaged journal is still in place"
        assert_eq "k1" "$(bus_networks)" "the kept network is restored"
        assert_contains "$(ip -n "$NETNS" -o link show)" "(null)" "the link named (null) is untouched"
        daemon_stop || fail "hostagentd exited with an error"
done <<'JOURNALS'
phase: must be "applying" or "awaiting-confirm"|{\"phase\":null,\"done\":0,\"plan\":[]}
plan: not steps this agent writes|{\"phase\":\"awaiting-confirm\",\"done\":1,\"plan\":[$(step null)]}
done: must count steps of the plan|{\"phase\":\"applying\",\"done\":100000,\"plan\":[$(step_named zz)]}
JOURNALS
start

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
