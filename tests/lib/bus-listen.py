# /usr/bin/python3 bus-listen.py --listen PATH COMMAND...: binds a stream
# socket at PATH (mode 0666, as dbus-daemon makes its socket) and execs
# COMMAND with it as socket activation passes it (fd 3, LISTEN_FDS=1,
# LISTEN_PID its own PID, which exec keeps): what dbus-broker-launch needs.
# /usr/bin/python3 bus-listen.py --journal PATH LOG: a datagram socket at
# PATH that takes journal-protocol records (dbus-broker logs only there) and
# appends their MESSAGE fields (every field for warnings and errors) to LOG.
import os
import socket
import sys


def listen(path, argv):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(4096)
    os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.environ.pop("LISTEN_FDNAMES", None)
    os.execvp(argv[0], argv)


def journal(path, log):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(log, "a", buffering=1) as out:
        while True:
            record = s.recv(1 << 20).decode("utf-8", "replace")
            fields = dict(f.split("=", 1) for f in record.split("\n") if "=" in f)
            if fields.get("PRIORITY", "6") <= "4":
                out.write(record.rstrip("\n") + "\n\n")
            else:
                out.write(fields.get("MESSAGE", record).rstrip("\n") + "\n")


if sys.argv[1] == "--listen":
    listen(sys.argv[2], sys.argv[3:])
elif sys.argv[1] == "--journal":
    journal(sys.argv[2], sys.argv[3])
else:
    sys.exit("usage: bus-listen.py --listen PATH COMMAND... | --journal PATH LOG")
