# A call on a pool that is deleted while the call runs is answered NoSuchObject naming the pool,
# not ShuttingDown (issue 14's fuzzing: the pool's removal was told as -ECANCELED, which the
# error table names "hostagentd is shutting down" while the agent ran on). Test-build holds keep
# the Delete's and then the Refresh's work on their workers until the test lets them go: the
# Refresh starts while the Delete runs and ends after it.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/storage.sh"
set +e

bus_start
export HOSTAGENT_STORAGE_RELEASE_HOLD="$T/release-go" HOSTAGENT_STORAGE_REFRESH_HOLD="$T/refresh-go"
daemon_start --libvirt-uri=test:///default --run-dir="$T/run"
mkdir -p "$T/pool"
P=/org/hostagent1/storage/gone1
assert_contains "$(create_pool "{\"name\":\"gone1\",\"type\":\"dir\",\"path\":\"$T/pool\"}")" "'$P'" "CreateStoragePool gone1"

pool_call "$P" Delete > "$T/delete.out" &
delete_pid=$!
wait_until 60 test -e "$T/release-go.held" && ok "the Delete is under way" || fail "the Delete never started"
pool_call "$P" Refresh > "$T/refresh.out" &
refresh_pid=$!
wait_until 60 test -e "$T/refresh-go.held" && ok "a Refresh runs meanwhile" || fail "the Refresh never started"
touch "$T/release-go"
wait "$delete_pid"
assert_eq "()" "$(cat "$T/delete.out")" "the Delete ends first"
touch "$T/refresh-go"
wait "$refresh_pid"
refresh=$(cat "$T/refresh.out")
assert_contains "$refresh" "org.hostagent1.Error.NoSuchObject" "the Refresh is answered NoSuchObject"
assert_contains "$refresh" "storage pool gone1 was deleted meanwhile" "naming the pool ($refresh)"
assert_not_contains "$refresh" "ShuttingDown" "not ShuttingDown: the agent runs on"
assert_contains "$(manager_call GetStoragePool gone1)" "org.hostagent1.Error.NoSuchObject" "the pool is gone"
assert_eq "true" "$(busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | cut -d' ' -f2)" \
        "and the agent still serves"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends hostagentd with status 0"
fixture_finish
