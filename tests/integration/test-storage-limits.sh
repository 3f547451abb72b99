# How many pools and volumes the agent keeps: one limit each, refused by name when a call would
# pass it (nothing changed), and nothing storage-pools.json holds is ever lost. A start that finds
# more pools than the limit keeps them all and says so; an entry of the file this agent cannot
# read stays in it as it is until a pool of that name is made; a file it cannot read at all is
# never overwritten. A pool holding more files than the volumes the agent shows says so once.
# Dir pools under $T. The volume limit (STORAGE_VOLUMES_MAX, 4096) is lowered for the test with
# HOSTAGENT_STORAGE_VOLUMES_MAX: listing 4097 files runs qemu-img 4097 times, minutes under ASan.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

POOLS_MAX=64       # STORAGE_POOLS_MAX
VOLUMES_MAX=8      # HOSTAGENT_STORAGE_VOLUMES_MAX
bus_start
start() { daemon_start --libvirt-uri=test:///default --run-dir="$T/run" "$@"; }
B="busctl --system"
S=/org/hostagent1/storage
STATE=$T/state/storage-pools.json
create_dir_pool() { mkdir -p "$T/pools/$1"; manager_call CreateStoragePool "$(gv_string "{\"name\":\"$1\",\"type\":\"dir\",\"path\":\"$T/pools/$1\"}")"; }
# The names the bus lists, and those the file keeps: one a line, sorted.
bus_pools() { manager_call ListStoragePools | grep -o "'$S/[^']*'" | sed -e "s|'$S/||" -e "s|'||" | sort; }
file_pools() {
        /usr/bin/python3 -c 'import json, sys
for e in json.load(open(sys.argv[1]))["pools"]: print(e.get("spec", {}).get("name", "-"))' "$STATE" | sort
}
names() { for i in $(seq "$1" "$2"); do echo "p$i"; done; }
volumes() {   # POOL: the volumes on the bus
        $B call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.ObjectManager GetManagedObjects --json=short |
                grep -o "\"$S/$1/[^\"]*\"" | sort -u | wc -l
}
log_count() { grep -c -- "$1" "$T/daemon.log"; }

# Volumes: a pool holding one file more than the agent shows.
mkdir -p "$T/pools/many"
(cd "$T/pools/many" && seq -f 'v%04g' 0 "$VOLUMES_MAX" | xargs touch)
HOSTAGENT_STORAGE_VOLUMES_MAX=$VOLUMES_MAX start
assert_contains "$(create_dir_pool many)" "'$S/many'" "a pool of $((VOLUMES_MAX + 1)) files is made"
assert_eq "$VOLUMES_MAX" "$(volumes many)" "it shows $VOLUMES_MAX volumes"
assert_contains "$(cat "$T/daemon.log")" \
        "Storage pool many holds more volumes than the $VOLUMES_MAX the agent shows: 1 are not shown" \
        "the log says the listing was cut"
assert_eq "()" "$(bus_call "$S/many" org.hostagent1.StoragePool.Refresh)" "Refresh"
assert_eq 1 "$(log_count 'Storage pool many holds more volumes')" "a listing cut again is not logged again"
out=$(bus_call "$S/many" org.hostagent1.StoragePool.CreateVolume extra 1048576 raw '{}')
assert_contains "$out" "Error.InvalidArgs: pool many has $VOLUMES_MAX volumes, the most the agent keeps in one pool ($VOLUMES_MAX)" \
        "CreateVolume past the limit is refused by name"
[ ! -e "$T/pools/many/extra" ] && ok "and makes nothing" || fail "a file extra was made"
shown=$($B call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.ObjectManager GetManagedObjects --json=short |
        grep -o "\"$S/many/v[0-9]*\"" | head -1 | tr -d '"')
assert_eq "()" "$(bus_call "$shown" org.hostagent1.Volume.Delete)" "one volume deleted"
assert_eq "()" "$(bus_call "$S/many" org.hostagent1.StoragePool.Refresh)" "Refresh"
assert_eq "$VOLUMES_MAX" "$(volumes many)" "the one left out is shown now"
assert_contains "$(cat "$T/daemon.log")" "Storage pool many: every volume is shown again" "and the log says so"
daemon_stop || fail "hostagentd exited with an error"

# A file holding more pools than the limit, one entry this agent cannot read (a newer agent's
# type), and one without a spec.
mkdir -p $(names 0 $((POOLS_MAX + 1)) | sed "s|^|$T/pools/|")
/usr/bin/python3 - "$T/pools" $((POOLS_MAX + 2)) > "$STATE" <<'PY'
import json, sys
pools = [{"spec": {"name": "p%d" % i, "type": "dir", "path": "%s/p%d" % (sys.argv[1], i)}, "enabled": True}
         for i in range(int(sys.argv[2]))]
pools.insert(3, {"spec": {"name": "future", "type": "ceph", "monitors": ["m1"]}, "enabled": True})
pools.insert(5, {"enabled": True, "comment": "no spec"})
json.dump({"pools": pools}, sys.stdout, indent=1)
PY
cp "$STATE" "$T/written.json"
unreadable() {   # the entries of the state file without a readable dir spec, as JSON texts
        /usr/bin/python3 -c 'import json, sys
for e in json.load(open(sys.argv[1]))["pools"]:
    if e.get("spec", {}).get("type") != "dir": print(json.dumps(e, sort_keys=True))' "$1"
}
kept_entries=$(unreadable "$T/written.json")
start
assert_eq "$(names 0 $((POOLS_MAX + 1)) | sort)" "$(bus_pools)" "a start that finds $((POOLS_MAX + 2)) pools publishes them all"
assert_contains "$(cat "$T/daemon.log")" \
        "holds $((POOLS_MAX + 2)) pools, more than the $POOLS_MAX CreateStoragePool allows: all are kept" \
        "the log says it keeps more than the limit"
assert_contains "$(cat "$T/daemon.log")" "pool 3 future cannot be restored: type: " "the log names the entry it cannot read"
assert_contains "$(cat "$T/daemon.log")" "pool 5 cannot be restored: spec: missing; it stays in the file as it is" \
        "and the one without a spec"
assert_not_contains "$(bus_pools)" "future" "the entry it cannot read is not published"

# At the limit: refused by name, nothing changed.
out=$(create_dir_pool extra)
assert_contains "$out" "Error.InvalidSpec: the agent keeps at most $POOLS_MAX storage pools and has $((POOLS_MAX + 2))" \
        "CreateStoragePool past the limit is refused, naming it"
cmp -s "$T/written.json" "$STATE" && ok "storage-pools.json is unchanged" || fail "storage-pools.json changed"
for i in 0 1 2; do
        assert_eq "()" "$(bus_call "$S/p$i" org.hostagent1.StoragePool.Delete)" "Delete p$i"
done
assert_contains "$(create_dir_pool extra)" "'$S/extra'" "below the limit, CreateStoragePool goes through"
assert_eq "$(names 3 $((POOLS_MAX + 1)) | sort; echo extra)" "$(bus_pools | grep -v extra; echo extra)" \
        "the bus has the $POOLS_MAX pools"
assert_eq "$(printf '%s\n' - extra future $(names 3 $((POOLS_MAX + 1))) | sort)" "$(file_pools)" \
        "storage-pools.json keeps them and the two entries it cannot read"
assert_eq "$kept_entries" "$(unreadable "$STATE")" "as they were"
out=$(create_dir_pool extra2)
assert_contains "$out" "Error.InvalidSpec: the agent keeps at most $POOLS_MAX storage pools and has $POOLS_MAX" \
        "pool $((POOLS_MAX + 1)) is refused by name"
assert_not_contains "$(bus_pools)" "extra2" "and not made"

# A restart reads every one back; a pool made under the unreadable entry's name replaces it.
daemon_stop || fail "hostagentd exited with an error"
start
assert_eq "$(names 3 $((POOLS_MAX + 1)) | sort; echo extra)" "$(bus_pools | grep -v extra; echo extra)" \
        "after a restart all $POOLS_MAX are on the bus"
assert_eq "()" "$(bus_call "$S/p3" org.hostagent1.StoragePool.Delete)" "Delete p3"
assert_contains "$(create_dir_pool future)" "'$S/future'" "a pool named like the unreadable entry is made"
assert_eq "$(printf '%s\n' - extra future $(names 4 $((POOLS_MAX + 1))) | sort)" "$(file_pools)" \
        "storage-pools.json has it in place of the entry it could not read"
assert_eq 1 "$(file_pools | grep -cx future)" "once"
daemon_stop || fail "hostagentd exited with an error"

# A file it cannot read at all is not overwritten: CreateStoragePool is refused, saying why.
echo '{"pools":[{"spec":' > "$STATE"
cp "$STATE" "$T/damaged.json"
start
assert_contains "$(cat "$T/daemon.log")" "$STATE cannot be read (Bad message); it is not overwritten" \
        "the log says the file cannot be read"
out=$(create_dir_pool fresh)
assert_contains "$out" "Error.Failed: $STATE cannot be read (Bad message); it is not overwritten" \
        "CreateStoragePool is refused while storage-pools.json cannot be read"
cmp -s "$T/damaged.json" "$STATE" && ok "and the file is as it was" || fail "storage-pools.json was overwritten"
assert_eq "" "$(bus_pools)" "no pool is published"

daemon_stop && ok "hostagentd exits cleanly" || fail "hostagentd exited with an error"
fixture_finish
