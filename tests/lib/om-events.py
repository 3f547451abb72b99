#!/usr/bin/python3
# om-events.py FILE: the ObjectManager signals in a `busctl monitor --json=short`
# capture, in order, one line each, as a client library would read them:
#   added PATH IFACE,IFACE,...     (interfaces sorted)
#   prop PATH IFACE.NAME=VALUE     (each property carried by that InterfacesAdded)
#   removed PATH IFACE,IFACE,...
import json
import sys

OM = "org.freedesktop.DBus.ObjectManager"

for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("type") != "signal" or msg.get("interface") != OM:
        continue
    path, what = msg["payload"]["data"]
    if msg["member"] == "InterfacesAdded":
        print("added", path, ",".join(sorted(what)))
        for iface in sorted(what):
            for name, value in sorted(what[iface].items()):
                print("prop", path, "%s.%s=%s" % (iface, name, json.dumps(value["data"])))
    elif msg["member"] == "InterfacesRemoved":
        print("removed", path, ",".join(sorted(what)))
