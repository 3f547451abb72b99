# Refusals are logged once per caller per interval, with a count of the rest: an unprivileged
# caller refused many times makes a bounded number of lines (issue 14: 11,738 lines in six
# minutes), every refusal is still counted, and another caller's first refusal meanwhile gets its
# own line. The line is the refused call's audit entry (no second "Denied" line for it); the
# count is one structured entry (CALLER_UID, RESULT=denied, DENIED_COUNT, ACTION). Callers run
# as nobody (65534) and daemon (1) on the test's private bus, without polkitd (root only).
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

bus_start
as_uid() { local uid=$1; shift; setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }
SETS=(); for i in $(seq 16); do SETS+=("set LogLevel debug"); done
# flood UID RUNS: RUNS connections of UID, 16 pipelined LogLevel writes each; prints how many
# were answered AccessDenied.
flood() {
        for i in $(seq "$2"); do as_uid "$1" "$BUS_PIPELINE" "${SETS[@]}"; done |
                grep -c ":org.freedesktop.DBus.Error.AccessDenied$"
}
lines() { grep -c -- "$1" "$T/daemon.log"; }
# The sum of the counts of uid UID's count entries.
counted() { grep -o "Audit: uid $1 was refused [0-9]* more calls" "$T/daemon.log" | awk '{s += $6} END {print s + 0}'; }

# An hour's interval (a test-build knob): what is logged does not depend on the machine's speed;
# the counts are told when the agent stops.
export HOSTAGENT_DENIED_LOG_INTERVAL_SEC=3600
daemon_start --libvirt-uri=test:///default
assert_eq 240 "$(flood 65534 15)" "240 writes of uid 65534 are refused"
assert_eq 16 "$(flood 1 1)" "16 writes of uid 1 meanwhile are refused"
assert_eq 1 "$(lines 'Audit: uid 65534 Set ')" "uid 65534's refusals make one line: the first one's audit entry"
assert_eq 1 "$(lines 'Audit: uid 1 Set ')" "uid 1 gets a line of its own meanwhile"
entry=$(grep 'Audit: uid 65534 Set ' "$T/daemon.log")
assert_contains "$entry" "CALLER_UID=65534" "with the caller's uid as a field"
assert_contains "$entry" "ACTION=org.hostagent1.host.configure" "the action"
assert_contains "$entry" "RESULT=denied" "and the result"
assert_eq 0 "$(lines 'Denied:')" "no second line for the same refusals"
assert_eq 's "info"' "$(busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager LogLevel)" \
        "no refused write changed anything"
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends hostagentd with status 0"
assert_contains "$(cat "$T/daemon.log")" "Audit: uid 65534 was refused 239 more calls" "the stop tells the rest as a count"
assert_contains "$(cat "$T/daemon.log")" "Audit: uid 1 was refused 15 more calls" "for each caller"
count=$(grep 'uid 65534 was refused' "$T/daemon.log")
assert_contains "$count" "DENIED_COUNT=239" "the count is a field too"
assert_contains "$count" "CALLER_UID=65534 RESULT=denied" "with the caller and the result"
assert_contains "$count" "ACTION=org.hostagent1.host.configure" "and the actions refused"

# The ordinary interval: a count is told when its interval ends, without a stop or a later
# denial; every denial is a line or in a count.
unset HOSTAGENT_DENIED_LOG_INTERVAL_SEC
: > "$T/daemon.log"
daemon_start --libvirt-uri=test:///default
assert_eq 48 "$(flood 65534 3)" "48 more writes of uid 65534 are refused"
wait_until 60 grep -q "Audit: uid 65534 was refused" "$T/daemon.log"
assert_contains "$(cat "$T/daemon.log")" "Audit: uid 65534 was refused" "the interval's end tells the count"
assert_eq 48 "$(( $(lines 'Audit: uid 65534 Set ') + $(counted 65534) ))" \
        "every refusal is a line or in a count"
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends hostagentd with status 0"
fixture_finish
