# A host's agent driven from another host the systemd way, over SSH: an sshd of the test's own
# in a network namespace, key authentication for root, whose every session is
# systemd-stdio-bridge on a bus of the test's (ForceCommand), and the client side's ssh, found
# first on PATH, as sd_bus_open_system_remote() runs it (`hostagentctl -H`, `busctl --host`).
# Sourced after fixture.sh.
#
# ssh_bridge_start NS ADDR BUS [ALIAS]: sshd in NS listening on ADDR:22, bridging to BUS; then
#   SSH_BRIDGE_PATH   a directory to put first on PATH: its ssh has the key and knows the host
#                     key, for ADDR and ALIAS (a host name for ADDR, e.g. hostB)
#   SSH_BRIDGE_LOG    sshd's log
ssh_bridge_start() {
        local ns=$1 addr=$2 bus=$3 alias=${4:-} S
        S=$(mktemp -d "$T/ssh.XXXXXX")
        mkdir -p "$S/bin"
        ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" || return 1
        ssh-keygen -q -t ed25519 -N '' -f "$S/id" || return 1
        cp "$S/id.pub" "$S/authorized_keys"
        cat > "$S/sshd_config" <<CONF
ListenAddress $addr
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
# The far side: its system bus is the test's private one.
ForceCommand /usr/bin/systemd-stdio-bridge --bus-path=$bus
CONF
        # sshd's privilege separation directory, /run/sshd, in a /run of its own.
        ip netns exec "$ns" unshare --mount --propagation private -- sh -c \
                "mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f $S/sshd_config" \
                2>"$S/sshd.log" &
        fixture_track $!
        SSH_BRIDGE_LOG=$S/sshd.log
        wait_until 10 sh -c "ip netns exec $ns ss -ltn | grep -q '$addr:22 '" || return 1
        echo "$addr${alias:+,$alias} $(cat "$S/host_key.pub")" > "$S/known_hosts"
        cat > "$S/ssh_config" <<CONF
Host $addr $alias
  HostName $addr
  IdentityFile $S/id
  IdentitiesOnly yes
  UserKnownHostsFile $S/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
CONF
        printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$S/ssh_config" > "$S/bin/ssh"
        chmod +x "$S/bin/ssh"
        SSH_BRIDGE_PATH=$S/bin
}
