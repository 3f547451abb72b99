# Text a caller sends that an error echoes is cut: about 256 bytes of it, marked "…(cut)", with the
# field named. A 1 MiB name to GetVM or GetStoragePool, a huge LogLevel, an option's key or a
# spec's key gets a short error, not its argument back (issue 14: a 30 MB GetVM argument copied
# into the error took the daemon from 21 MB to 405 MB and filled the bus queue to it).
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

bus_start
daemon_start --libvirt-uri=test:///default
MIB=1048576
CUT_AT=256
MARKER="…(cut)"

# huge BYTES KIND [PATH]: NAME, LENGTH and the message (runs of the filler shown as x{N}).
huge() { "$HUGE_ARG" "$@" 2>&1; }
check() {   # KIND BYTES NAME FIELD DESCRIPTION [PATH]
        local kind=$1 bytes=$2 name=$3 field=$4 what=$5 out len
        out=$(huge "$bytes" "$kind" ${6:-})
        len=$(sed -n 2p <<<"$out")
        assert_eq "$name" "$(sed -n 1p <<<"$out")" "$what: $name"
        [ -n "$len" ] && [ "$len" -lt 1024 ] && ok "$what: the message is short ($len bytes)" \
                || fail "$what: the message is $len bytes long"
        assert_contains "$(sed -n 3p <<<"$out")" "$field" "$what: the message names the field"
        assert_contains "$(sed -n 3p <<<"$out")" "x{$CUT_AT}$MARKER" "$what: the echoed text is cut and marked so"
}

check get-vm $MIB org.hostagent1.Error.NoSuchVM "uuid_or_name: no VM has the UUID or name" "GetVM of a 1 MiB name"
check get-pool $MIB org.hostagent1.Error.NoSuchObject "name: no storage pool is named" \
        "GetStoragePool of a 1 MiB name"
check log-level $MIB org.hostagent1.Error.InvalidArgs "LogLevel: must be one of" "a 1 MiB LogLevel"
check setup-option $MIB org.hostagent1.Error.InvalidArgs "options.x" "SetupNetworks with a 1 MiB option"
check create-vm-key 60000 org.hostagent1.Error.InvalidSpec "x{$CUT_AT}$MARKER: unknown" \
        "CreateVM with a spec key of 60000 bytes"
mkdir -p "$T/pools/p"
manager_call CreateStoragePool "$(gv_string "{\"name\":\"p\",\"type\":\"dir\",\"path\":\"$T/pools/p\"}")" >/dev/null
check create-volume-option $MIB org.hostagent1.Error.InvalidArgs "options.x" "CreateVolume with a 1 MiB option" \
        /org/hostagent1/storage/p

# Short text stays whole: the cut is for what no client needs back.
out=$(huge 200 get-vm)
assert_contains "$(sed -n 3p <<<"$out")" "'x{200}'" "a 200-byte name is echoed whole"
assert_not_contains "$out" "$MARKER" "and not marked"

# A cut that would split a character leaves it out whole: bytes 255 to 257 are one '€', so the
# text keeps 254 bytes (a broken sequence would make sd-bus refuse to send the reply at all).
out=$(gdbus call --system -d org.hostagent1 -o /org/hostagent1 -m org.hostagent1.Manager.GetVM \
        "$(printf 'y%.0s' $(seq 254))€€" 2>&1)
assert_contains "$out" "NoSuchVM" "a name cut inside a character is answered by name"
assert_contains "$out" "y$MARKER'" "the character across the cut is left out whole"
assert_not_contains "$out" "€" "no part of it is kept"

assert_eq "" "$(busctl --system call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping 2>&1)" \
        "the agent still answers"
daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends hostagentd with status 0"
fixture_finish
