# Who a caller is, asked of the bus daemon, is not answered behind a flood (issue 14: under the
# 30 MB GetVM attack root's first call was refused AccessDenied "the caller's identity is unknown"
# after 25 s, as the answer to the agent's question waited in the bus daemon's queue to the agent
# behind every call sent to it). The agent is stopped while a connection's first call (GetVM, which
# waits for the answer), 20,000 one-way Pings (a flood the bus daemon does not bound by pending
# replies) and one Ping expecting a reply queue up for it; once it runs again, GetVM is answered
# (NoSuchVM), and so is the Ping behind the flood, within a caller's default timeout (25 s): the
# answer about the caller came on a connection of its own. Before, the answer came on the agent's
# connection behind the flood, and the Ping was not answered (NoReply).
# Without polkitd: root only.
source "$HOSTAGENT_SOURCE_DIR/tests/lib/fixture.sh"
set +e

: "${REPLY_ORDER:?REPLY_ORDER must name the reply-order helper}"

bus_start
daemon_start --libvirt-uri=test:///default
wait_until 30 sh -c 'busctl --system get-property org.hostagent1 /org/hostagent1 org.hostagent1.Manager Ready | grep -q true'

coproc RO { exec "$REPLY_ORDER" 20000; }
ro_pid=$RO_PID
read -r -u "${RO[0]}" line
assert_eq "ready" "$line" "the helper is connected"
kill -STOP "$DAEMON_PID"
echo go >&"${RO[1]}"
read -r -u "${RO[0]}" line
assert_eq "sent" "$line" "GetVM, the flood and the last Ping are queued for the stopped agent"
# The bus daemon routes what it read a message per turn: let it put them all in the agent's queue.
sleep 3
kill -CONT "$DAEMON_PID"
read -r -u "${RO[0]}" line
assert_contains "$line" "getvm org.hostagent1.Error.NoSuchVM ping - " \
        "root's first call and the Ping behind the flood are answered within a caller's timeout ($line)"
wait "$ro_pid" 2>/dev/null
assert_eq 's "PONG"' "$(busctl --system call org.hostagent1 /org/hostagent1 org.freedesktop.DBus.Peer Ping >/dev/null && echo 's "PONG"')" \
        "the agent answers after the flood"

daemon_stop; rc=$?
assert_eq 0 "$rc" "SIGTERM ends hostagentd with status 0"
fixture_finish
