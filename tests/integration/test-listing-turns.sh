# Listings take turns: two unprivileged callers pulling GetManagedObjects and ListVMs of 400 VMs
# (16 calls outstanding each) do not hold up anyone else. Another caller's Ping, sent after its own
# listings, is answered before them (they wait their turn, it does not), and its listings are all
# answered, each the same as a fresh read. A flooder that leaves with calls waiting takes only its
# own replies with it; the flooder that stays gets every reply it asked for, complete and the same
# as a fresh read. The agent is told to let a listing wait as soon as anything is on its way to
# the bus (--reply-backlog=0), so the turns are taken on any machine, and first without a rate.
# With a rate per unprivileged caller (--listing-rate), a caller past it waits while another (root,
# never paced) is answered.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

: "${LISTING_FLOOD:?LISTING_FLOOD must name the listing-flood client}"
VMS=400
F=$T/flood

as_uid() { local uid=$1; shift; setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }
ready() { busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true; }
vm_count() { busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs | awk '{print $2}'; }
first_reply() { grep -qx "reply 1" "$1"; }
# replies_as_fresh OUT WHAT: every reply OUT saw is one of the fresh read's.
replies_as_fresh() {
        local other
        other=$(grep -E '^(GetManagedObjects|ListVMs|Ping) ' "$1" | grep -vxF -f "$F/fresh")
        assert_eq "" "$other" "$2: every reply is complete and the same as a fresh read"
        assert_eq "2" "$(grep -cE '^(GetManagedObjects|ListVMs) ' "$1")" "$2: both listings were answered"
}
field() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# define_vms: VMS domains in libvirt's test driver (its state lives while a connection is open),
# all listed by the agent.
define_vms() {
        mkdir -p "$T/domains"
        for i in $(seq "$VMS"); do
                printf "<domain type='test'><name>turn-%d</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>\n" \
                        "$i" > "$T/domains/$i.xml"
                echo "define $T/domains/$i.xml"
        done | virsh -q -c "$LIBVIRT_TEST_URI" >/dev/null
        wait_until 60 sh -c "[ \"\$(busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager ListVMs \
                | awk '{print \$2}')\" -ge $VMS ]" || fail "the agent did not list the $VMS VMs"
}

libvirtd_start
bus_start
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI" --reply-backlog=0 --listing-rate=0
wait_until 30 ready || fail "the agent never became Ready"
define_vms

mkdir -p "$F"
"$LISTING_FLOOD" read "$F/read"
grep -E '^(GetManagedObjects|ListVMs) [0-9a-f]{16}$' "$F/read" > "$F/fresh"
assert_eq 2 "$(wc -l < "$F/fresh")" "a fresh read of both listings"

# Two flooders as uid 65534, each on its own connection.
cp "$LISTING_FLOOD" "$F/listing-flood"
chown -R 65534:65534 "$F"
for i in 1 2; do
        as_uid 65534 "$F/listing-flood" flood 16 "$F/stop-$i" "$F/flood-$i" &
        eval "FLOOD_$i=\$!"
        fixture_track $!
done
wait_until 120 first_reply "$F/flood-1" && wait_until 120 first_reply "$F/flood-2" \
        || fail "the flooders got no reply"

# Another caller, while both flood: its Pings overtake its listings, which are still answered.
"$LISTING_FLOOD" victim 20 "$F/victim"
assert_eq 0 $? "the other caller's 20 rounds of listings and Ping are all answered"
ahead=$(field "$F/victim" ping-first)
[ "${ahead:-0}" -ge 1 ] && ok "its Ping is answered before the listings it sent first ($ahead of 20 rounds)" \
        || fail "its Ping waited behind its listings in every round"
assert_eq 60 "$(field "$F/victim" answered)" "60 calls answered"
replies_as_fresh "$F/victim" "the other caller"

# The first flooder leaves with calls waiting; another round of the other caller's is answered.
"$LISTING_FLOOD" victim 10 "$F/victim-2" &
VICTIM=$!
fixture_track $VICTIM
kill -KILL "$FLOOD_1"
wait "$FLOOD_1" 2>/dev/null
wait "$VICTIM"
assert_eq 0 $? "a flooder leaving loses nobody else's reply"
assert_eq 30 "$(field "$F/victim-2" answered)" "all 30 calls answered"
replies_as_fresh "$F/victim-2" "after the flooder left"

# The second flooder stops: every one of its listings is answered, as fresh.
touch "$F/stop-2"
wait "$FLOOD_2"
assert_eq 0 $? "the staying flooder ends"
sent=$(field "$F/flood-2" sent)
assert_eq "$sent" "$(field "$F/flood-2" answered)" "the staying flooder got an answer to each of its $sent listings"
replies_as_fresh "$F/flood-2" "the staying flooder"

out=$(busctl --system call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)
assert_eq "" "$out" "the agent answers after the floods"
daemon_stop; assert_eq 0 $? "the agent exits cleanly"

# A rate of 1 KiB/s per caller (a burst of 4 KiB): callers that had one listing now wait for their
# next one (minutes), and meanwhile another caller's listings are answered at once; one waiting
# caller leaves with its call waiting, then the agent stops with the other's: nothing leaks.
daemon_start --libvirt-uri="$LIBVIRT_TEST_URI" --listing-rate=1
wait_until 60 ready || fail "the agent never became Ready again"
define_vms
for i in 3 4; do
        as_uid 65534 "$F/listing-flood" flood 2 "$F/stop-$i" "$F/flood-$i" &
        eval "FLOOD_$i=\$!"
        fixture_track $!
        wait_until 60 first_reply "$F/flood-$i" || fail "paced caller $i's first listing was not answered"
done
"$LISTING_FLOOD" read "$F/read-2"
assert_eq 2 "$(grep -cE '^(GetManagedObjects|ListVMs) [0-9a-f]{16}$' "$F/read-2")" \
        "another caller's listings are answered"
assert_eq "1 1" "$(grep -c '^reply ' "$F/flood-3") $(grep -c '^reply ' "$F/flood-4")" \
        "meanwhile the paced callers' next listings still wait"
timeout 120 "$LISTING_FLOOD" victim 3 "$F/root-rounds"
assert_eq 0 $? "root is not paced: 3 rounds of listings on one connection are answered"
kill -KILL "$FLOOD_3"
wait "$FLOOD_3" 2>/dev/null
out=$(busctl --system call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)
assert_eq "" "$out" "the agent answers once a paced caller left"
# The agent stops with the other's call waiting.
daemon_stop; assert_eq 0 $? "the agent exits cleanly (nothing of the paced callers' left behind)"
fixture_finish
