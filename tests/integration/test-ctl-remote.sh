# hostagentctl with a real QEMU guest (a private libvirtd): created from a spec, shut down with
# --timeout waiting for the job that forces it off, and the same agent driven from "another host":
# an sshd of the test's own in a network namespace, key authentication for root, its session
# bridged by systemd-stdio-bridge to the test's private bus, and `hostagentctl -H root@192.0.2.1`.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/vm.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ctl.sh"
source "$HOSTAGENT_SOURCE_DIR/tests/lib/ssh-bridge.sh"
set +e

libvirtd_start
bus_start
VIRSH="virsh -q -c $LIBVIRT_QEMU_URI"
# The first QEMU connection probes the emulator (seconds on a cold cache).
$VIRSH list --all >/dev/null || { fail "libvirtd's QEMU driver does not answer"; fixture_finish; exit 1; }
daemon_start --libvirt-uri="$LIBVIRT_QEMU_URI"
wait_until 60 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

# A guest with no OS: SeaBIOS finds nothing to boot and ignores ACPI.
ctl_run create - <<<'{"name":"g1","type":"qemu","memory_mib":128,"vcpus":1,"graphics":{"type":"vnc"},"start":true}'
assert_eq 0 "$CTL_RC" "create starts a real QEMU guest"
G1=$OUT
pid=$(cat "$LV/run/libvirt/qemu/g1.pid" 2>/dev/null)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ok "its QEMU process runs (pid $pid)" || fail "no QEMU process"
assert_contains "$(ctl show g1 | tr -s ' ')" "Console: vnc on 127.0.0.1:" "show: the console and where it listens"
ctl_run console-ticket g1 --ttl=30
assert_eq 0 "$CTL_RC" "console-ticket without a password exits 0"
[[ "$OUT" =~ ^[A-Za-z0-9]{8}$ ]] && ok "and prints the random password it set" || fail "console-ticket printed: $OUT"
ctl_run console-ticket g1 --password=toolongpw
assert_eq "1 hostagentctl: g1: cannot set a console ticket: password: a VNC console takes at most 8 characters (InvalidArgs)" \
        "$CTL_RC $OUT" "a password the console cannot take, in one line"
assert_eq 0 "$(ctl_rc pause g1)" "pause a real guest"
assert_eq "paused" "$($VIRSH domstate g1)" "QEMU is paused"
assert_eq 0 "$(ctl_rc resume g1)" "resume it"

# shutdown --timeout waits for the job: the guest ignores ACPI, so it is forced off after 2 s.
ctl_run shutdown g1 --timeout=2
assert_eq 0 "$CTL_RC" "shutdown --timeout=2 exits 0 once the job has ended"
assert_contains "$OUT" ": forced" "and says the guest was forced off"
assert_eq 's "shutoff"' "$(vm_prop "$G1" State)" "the VM is off when it returns"
wait_until 20 sh -c "! kill -0 $pid 2>/dev/null" && ok "its QEMU process is gone" || fail "QEMU still runs"
ctl_run shutdown g1
assert_eq "1 hostagentctl: g1: cannot shut down: the VM is not running (InvalidState)" "$CTL_RC $OUT" \
        "shutdown of a VM that is off"

# -H: an sshd in a network namespace of our own, reachable at 192.0.2.1 inside it only
# (tests/lib/ssh-bridge.sh; the ssh that sd_bus_open_system_remote() runs, "ssh -xT -- HOST
# systemd-stdio-bridge", is found first on PATH, with our key and the host key we made).
netns_start ctlssh || exit 1
ip -n "$NETNS" addr add 192.0.2.1/24 dev lo
ssh_bridge_start "$NETNS" 192.0.2.1 "$DBUS_SYSTEM_BUS_ADDRESS" && ok "sshd listens on 192.0.2.1" ||
        fail "sshd did not start: $(cat "$SSH_BRIDGE_LOG")"
remote() {   # ARGS...: hostagentctl -H root@192.0.2.1 ARGS, inside the namespace; output into OUT
        OUT=$(ip netns exec "$NETNS" env -u DBUS_SYSTEM_BUS_ADDRESS PATH="$SSH_BRIDGE_PATH:$PATH" \
                "$HOSTAGENTCTL" -H root@192.0.2.1 "$@" 2>&1)
        CTL_RC=$?
}
remote list
assert_eq 0 "$CTL_RC" "hostagentctl -H root@192.0.2.1 list answers"
assert_contains "$(tr -s ' ' <<<"$OUT" | cut -d" " -f1,2,4,5)" "g1 shutoff 1 128M" "with the guest of that host"
assert_contains "$(cat "$SSH_BRIDGE_LOG")" "Accepted publickey for root from 192.0.2.1" "through sshd, with the test's key"
remote --json=short list
assert_eq "$G1" "$(json_py '[v["path"] for v in d["vms"] if v["name"] == "g1"][0]' <<<"$OUT")" "-H with --json: the same VM's path"
remote start g1
assert_eq 0 "$CTL_RC" "start over -H"
assert_eq 's "running"' "$(vm_prop "$G1" State)" "the guest runs"
remote pause nosuch
assert_eq "4 hostagentctl: nosuch: no such VM (NoSuchVM)" "$CTL_RC $OUT" "errors and exit codes come back over -H"
remote destroy g1
assert_eq 0 "$CTL_RC" "destroy over -H"
remote -H root@192.0.2.99 list
assert_eq 1 "$CTL_RC" "a host that does not answer exits 1"

daemon_stop && ok "the daemon exits cleanly" || fail "daemon exit status"
fixture_finish
