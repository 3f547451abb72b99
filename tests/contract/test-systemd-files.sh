# The unit, activation file and policy as installed: systemd-analyze accepts the
# unit, the activation file names the unit and the installed binary, and the
# policy is well-formed and opens every interface the daemon serves.
set -euo pipefail
failed=0
pass() { echo "ok - $*"; }
flunk() { echo "not ok - $*"; failed=$((failed + 1)); }
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT

unit="$HOSTAGENT_BUILD_DIR/systemd/hostagentd.service"
exec_path=$(sed -n 's/^ExecStart=//p' "$unit")
# Verify the unit as it will be installed, pointing ExecStart at the build.
sed "s|^ExecStart=.*|ExecStart=$HOSTAGENTD|" "$unit" > "$d/hostagentd.service"
if out=$(systemd-analyze verify "$d/hostagentd.service" 2>&1) && [ -z "$out" ]; then
        pass "systemd-analyze verify accepts hostagentd.service"
else
        flunk "systemd-analyze verify: $out"
fi
for key in Type=notify BusName=org.hostagent1 Restart=on-failure; do
        grep -qx "$key" "$unit" && pass "unit has $key" || flunk "unit lacks $key"
done
grep -q '^WatchdogSec=' "$unit" && pass "unit has a watchdog" || flunk "unit lacks WatchdogSec="

act="$HOSTAGENT_BUILD_DIR/systemd/org.hostagent1.service"
grep -qx 'Name=org.hostagent1' "$act" && pass "activation file names org.hostagent1" || flunk "activation Name="
grep -qx 'SystemdService=hostagentd.service' "$act" && pass "activation file hands over to systemd" \
        || flunk "activation SystemdService="
grep -qx "Exec=$exec_path" "$act" && pass "activation Exec= is the unit's ExecStart ($exec_path)" \
        || flunk "activation Exec= differs from ExecStart=$exec_path"

policy="$HOSTAGENT_SOURCE_DIR/systemd/org.hostagent1.conf"
if xmllint --noout "$policy" 2>/dev/null || python3 -c "import sys,xml.dom.minidom as m; m.parse(sys.argv[1])" "$policy"; then
        pass "policy is well-formed XML"
else
        flunk "policy is not well-formed"
fi
for iface in $("$HOSTAGENTD" --bus-introspect=list); do
        grep -q "send_interface=\"$iface\"" "$policy" && pass "policy lets callers reach $iface" \
                || flunk "policy does not open $iface"
done
[ "$failed" -eq 0 ]
