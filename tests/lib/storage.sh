# Storage pools and volumes as the tests reach them: by a pool's object path and a volume's name
# (escaped into its path as the agent does). Sourced after fixture.sh.
vol_path() { echo "$1/$(bus_path_escape "$2")"; }
pool_call() { local p=$1 m=$2; shift 2; bus_call "$p" "org.hostagent1.StoragePool.$m" "$@"; }
vol_call() { local p=$1 v=$2 m=$3; shift 3; bus_call "$(vol_path "$p" "$v")" "org.hostagent1.Volume.$m" "$@"; }
pool_prop() { busctl --system get-property org.hostagent1 "$1" org.hostagent1.StoragePool "$2" 2>&1; }
vol_prop() { busctl --system get-property org.hostagent1 "$(vol_path "$1" "$2")" org.hostagent1.Volume "$3" 2>&1; }
# create_pool SPEC: Manager.CreateStoragePool with the JSON SPEC.
create_pool() { manager_call CreateStoragePool "$(gv_string "$1")"; }
