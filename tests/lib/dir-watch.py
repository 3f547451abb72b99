# dir-watch.py DIR OUT: appends to OUT the name of each entry created in or
# moved into DIR (inotify), one a line, until killed; OUT.ready once watching.
# Shows what a test must never see made, even for a moment (a copy begun and
# then removed again).
import ctypes
import os
import struct
import sys

IN_CREATE, IN_MOVED_TO = 0x100, 0x80
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_CLOEXEC)
if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(sys.argv[1]), IN_CREATE | IN_MOVED_TO) < 0:
    sys.exit("inotify: " + os.strerror(ctypes.get_errno()))
with open(sys.argv[2], "a", buffering=1) as out:
    open(sys.argv[2] + ".ready", "w").close()
    while True:
        buf = os.read(fd, 65536)
        i = 0
        while i < len(buf):
            _, _, _, n = struct.unpack_from("iIII", buf, i)
            out.write(buf[i + 16:i + 16 + n].rstrip(b"\0").decode(errors="replace") + "\n")
            i += 16 + n
