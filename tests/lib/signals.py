#!/usr/bin/python3
# Reads `busctl monitor --json=short` output and prints the agent's signals
# that tell a migration, one per line, in the order they came:
#   phase <job> <Phase>            Migration.Phase changed
#   data <job> <DataProcessedBytes>
#   state <vm> <state>/<reason>    VM.StateChanged
#   added <path> / removed <path>  InterfacesAdded / InterfacesRemoved
#                                  (a job announced with its Migration interface:
#                                  also phase <job> <Phase>, the phase it starts in;
#                                  a VM: also state <vm> <state>/<reason>, as published)
#   jobremoved <job> <result>      Manager.JobRemoved
import json
import sys


def value(v):
    return v.get("data") if isinstance(v, dict) else v


for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("type") != "signal":
        continue
    member, path = m.get("member"), m.get("path")
    data = (m.get("payload") or {}).get("data") or []
    if member == "PropertiesChanged" and data and data[0] == "org.hostagent1.Migration":
        props = data[1]
        if "Phase" in props:
            print("phase", path, value(props["Phase"]))
        if "DataProcessedBytes" in props:
            print("data", path, value(props["DataProcessedBytes"]))
    elif member == "StateChanged" and m.get("interface") == "org.hostagent1.VM":
        print("state", path, "%s/%s" % (data[0], data[1]))
    elif member == "InterfacesAdded":
        print("added", data[0])
        migration = data[1].get("org.hostagent1.Migration") if len(data) > 1 else None
        if migration and "Phase" in migration:
            print("phase", data[0], value(migration["Phase"]))
        vm = data[1].get("org.hostagent1.VM") if len(data) > 1 else None
        if vm and "State" in vm and "StateReason" in vm:
            print("state", data[0], "%s/%s" % (value(vm["State"]), value(vm["StateReason"])))
    elif member == "InterfacesRemoved":
        print("removed", data[0])
    elif member == "JobRemoved":
        print("jobremoved", data[0], data[1])
