#!/usr/bin/python3
# A stand-in ovsdb-server for tests: listens on a unix socket (argv[1]) and answers what the agent
# sends with the messages of a script, so a test can send what a broken or hostile server would.
# Every message received is appended, one JSON text a line, to argv[2].
#   fake-ovsdb.py SOCKET RECEIVED-LOG
# To a "monitor" request it sends {"method": null, ...} (a message with a null method), the
# monitor's reply, then an echo request with id "after-null": a reader that survived the first
# answers the echo. Transactions get an error reply (Open vSwitch "not there").
import json, os, socket, sys, threading

path, log = sys.argv[1], sys.argv[2]
lock = threading.Lock()


def record(msg):
    with lock, open(log, "a") as f:
        f.write(json.dumps(msg, separators=(",", ":")) + "\n")


def send(conn, msg):
    conn.sendall(json.dumps(msg).encode())


def serve(conn):
    decoder, buf = json.JSONDecoder(), ""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data.decode()
        while buf.strip():
            try:
                msg, end = decoder.raw_decode(buf.lstrip())
            except ValueError:
                break   # the rest of the message is still coming
            buf = buf.lstrip()[end:]
            record(msg)
            if msg.get("method") == "monitor":
                send(conn, {"method": None, "params": [], "id": None})
                send(conn, {"id": msg.get("id"), "result": {}, "error": None})
                send(conn, {"method": "echo", "params": ["after-null"], "id": "after-null"})
            elif msg.get("method") is not None:
                send(conn, {"id": msg.get("id"), "result": None, "error": "not-here"})


server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(16)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
