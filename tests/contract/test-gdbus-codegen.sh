# A GLib user generates proxies from the contract with gdbus-codegen: it must
# take bus-interfaces/*.xml without a warning, and name every member in C as
# tests/contract/gdbus-names.txt says (ha_vm_get_memory_mib, not
# ha_vm_get_memory_mi_b).
set -euo pipefail
command -v gdbus-codegen >/dev/null || { echo "not ok - gdbus-codegen is missing (libglib2.0-dev-bin)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0
names="$HOSTAGENT_SOURCE_DIR/tests/contract/gdbus-names.txt"

# Warnings are failures: anything on stderr, or a non-zero exit.
if gdbus-codegen --interface-prefix org.hostagent1. --c-namespace Ha --c-generate-object-manager \
                --generate-c-code "$T/ha" "$HOSTAGENT_SOURCE_DIR"/bus-interfaces/*.xml 2>"$T/stderr" \
   && [ ! -s "$T/stderr" ]; then
        echo "ok - gdbus-codegen takes bus-interfaces/*.xml without a warning"
else
        echo "not ok - gdbus-codegen complained:"; cat "$T/stderr"; failed=$((failed + 1))
fi

# Every member of the contract, as "Interface.Member", read by Debian's python3.
/usr/bin/python3 - "$HOSTAGENT_SOURCE_DIR"/bus-interfaces/*.xml >"$T/members" <<'EOF'
import sys, xml.etree.ElementTree as ET
for f in sys.argv[1:]:
    for i in ET.parse(f).getroot().findall('interface'):
        for m in i:
            if m.tag in ('method', 'property', 'signal'):
                print(i.get('name').removeprefix('org.hostagent1.') + '.' + m.get('name'))
EOF
grep -v '^#' "$names" | awk 'NF { print $1 }' | sort >"$T/listed"
sort "$T/members" >"$T/members.sorted"
for m in $(comm -23 "$T/members.sorted" "$T/listed"); do
        echo "not ok - $m is in the contract but has no expected C name in tests/contract/gdbus-names.txt"
        failed=$((failed + 1))
done
for m in $(comm -13 "$T/members.sorted" "$T/listed"); do
        echo "not ok - tests/contract/gdbus-names.txt lists $m, which the contract does not have"
        failed=$((failed + 1))
done

# Each expected function is declared in the generated header.
checked=0
while read -r member function; do
        case "$member" in '#'* | '') continue ;; esac
        checked=$((checked + 1))
        if ! grep -qE "[ *]$function \(" "$T/ha.h"; then
                # The same letters with other word breaks: what it made instead.
                got=$(grep -oE "\bha_[a-z0-9_]+" "$T/ha.h" | sort -u \
                      | awk -v want="${function//_/}" '{ s = $0; gsub("_", "", s) } s == want' | tr '\n' ' ')
                echo "not ok - $member: gdbus-codegen does not make $function (it makes: ${got:-nothing like it})"
                failed=$((failed + 1))
        fi
done <"$names"
echo "ok - $checked expected C names checked against the generated header"
[ "$failed" -eq 0 ]
