# VMs as the tests reach them: by object path, found by UUID or name. Sourced after fixture.sh.
vm_path() { echo "/org/hostagent1/vm/$(bus_path_escape "$1")"; }   # by UUID, without asking
vm_path_of() { busctl --system call org.hostagent1 /org/hostagent1 org.hostagent1.Manager GetVM s "$1" | awk '{print $2}' | tr -d '"'; }
vm_prop() { busctl --system get-property org.hostagent1 "$1" org.hostagent1.VM "$2"; }
vm_call() { local p=$1 m=$2; shift 2; bus_call "$p" "org.hostagent1.VM.$m" "$@"; }
vm_state_is() { vm_prop "$1" State | grep -qx "s \"$2\""; }
job_prop() { busctl --system get-property org.hostagent1 "$1" org.hostagent1.Job "$2" 2>&1; }
