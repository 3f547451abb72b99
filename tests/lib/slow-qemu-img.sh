# slow_qemu_img_install DIR: puts a qemu-img of the tests' own in DIR, to be
# first in the agent's PATH. It reads a copy's source (convert) at 1 MiB/s
# through a throttle group and holds a creation of a volume whose name ends
# in "slowcreate" open once it is made, so that work is still running when a
# test kills the agent; everything else is qemu-img itself.
slow_qemu_img_install() {
        local dir=$1
        mkdir -p "$dir"
        sed "s|@QEMU_IMG@|$(command -v qemu-img)|" > "$dir/qemu-img" <<'SCRIPT'
#!/bin/bash
case "$1" in
convert)
        shift; opts=(); fmt=raw
        while [ $# -gt 0 ]; do
                case $1 in -f) fmt=$2; shift 2 ;; --) shift; break ;; *) opts+=("$1"); shift ;; esac
        done
        src=$1; shift
        exec @QEMU_IMG@ convert "${opts[@]}" --object throttle-group,id=slow,x-bps-read=1048576 \
                --image-opts "driver=throttle,throttle-group=slow,file.driver=$fmt,file.file.filename=$src" "$@" ;;
create)
        case "${*: -2:1}" in
        *slowcreate) @QEMU_IMG@ "$@" && exec -a "qemu-img create (held)" sleep 600 ;;
        esac ;;
esac
exec @QEMU_IMG@ "$@"
SCRIPT
        chmod +x "$dir/qemu-img"
}
