# hostagentctl as the tests run it, and JSON read back with Python. Sourced after fixture.sh.
: "${HOSTAGENTCTL:?HOSTAGENTCTL must name the hostagentctl binary under test}"

# ctl ARGS...: hostagentctl's stdout and stderr together, for $(...).
ctl() { "$HOSTAGENTCTL" "$@" 2>&1; }
# ctl_run ARGS...: the same into OUT, its exit status into CTL_RC (a pipe into it runs here too).
shopt -s lastpipe
ctl_run() { OUT=$("$HOSTAGENTCTL" "$@" 2>&1); CTL_RC=$?; }
# ctl_rc ARGS...: only the exit status.
ctl_rc() { "$HOSTAGENTCTL" "$@" >/dev/null 2>&1; echo $?; }

# json_py EXPR: EXPR evaluated with d = the JSON text on stdin (and json, sys imported); printed.
json_py() { /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# busctl_json ARGS...: busctl --json=short's "data" of a call or property, as JSON text.
busctl_json() { busctl --system --json=short "$@" | json_py 'json.dumps(d["data"])'; }
