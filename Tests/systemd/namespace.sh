#!/usr/bin/env bash
# A throwaway machine for the systemd tier: a real systemd as PID 1 of private pid, mount, cgroup,
# UTS, IPC and network namespaces, on an overlay of / whose writes land in a tmpfs. Nothing of
# the host changes: /etc/passwd, /etc/group, /etc/systemd, /usr/local, /var/lib/dpkg are the
# overlay's copies; /run, /tmp, /dev/shm and /var/log/journal are private tmpfs; /proc/sys and
# /sys are read-only; CAP_SYS_TIME and CAP_SYS_MODULE are dropped. Sourced by run.sh.
#
#   ns_boot DIR     boots the machine (state in DIR); sets NS_PID, the host pid of its PID 1
#   ns CMD...       runs CMD inside it (its root, its namespaces), as root
#   ns_root         prints a host path to its root (/proc/NS_PID/root), for copying files in
#   ns_halt         powers it off (SIGKILL if it does not stop), removes its cgroup

# Units that must not run in the throwaway machine: tmpfiles would clean /tmp and /var/tmp
# (dangerous on a host whose /tmp is shared), the rest need hardware or a login console, or set
# kernel state (sysctl, modules, binfmt, clock).
NS_MASKED_UNITS="systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service
systemd-tmpfiles-clean.service systemd-tmpfiles-clean.timer
systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service
systemd-logind.service getty@.service console-getty.service serial-getty@.service getty.target
systemd-sysctl.service systemd-modules-load.service systemd-binfmt.service
proc-sys-fs-binfmt_misc.automount systemd-timesyncd.service systemd-firstboot.service
systemd-machine-id-commit.service systemd-pstore.service systemd-repart.service systemd-remount-fs.service
kmod-static-nodes.service dev-hugepages.mount dev-mqueue.mount sys-fs-fuse-connections.mount
sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
systemd-journald-audit.socket dbus.socket"

# Stage 1, in a private mount namespace of its own (run.sh starts it with unshare): the overlay,
# the cgroup, then the other namespaces and systemd.
ns_stage1() {
    local dir=$1 root=$1/root
    mkdir -p "$dir/layers" "$root" "$dir/cgroup2"
    mount -t tmpfs -o mode=0755 tmpfs "$dir/layers"
    mkdir -p "$dir/layers/upper" "$dir/layers/work"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/layers/upper,workdir=$dir/layers/work" "$root"

    mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/var/tmp"
    if [ -d "$root/var/log/journal" ]; then mount -t tmpfs -o mode=2755 tmpfs "$root/var/log/journal"; fi
    # A minimal /dev: the host's device nodes that services need, a private devpts and shm.
    mount -t tmpfs -o mode=0755,nosuid tmpfs "$root/dev"
    local node
    for node in null zero full random urandom tty; do
        touch "$root/dev/$node"
        mount --bind "/dev/$node" "$root/dev/$node"
    done
    mkdir -p "$root/dev/pts" "$root/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
    ln -s pts/ptmx "$root/dev/ptmx"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
    ln -s /proc/self/fd "$root/dev/fd"
    ln -s /proc/self/fd/0 "$root/dev/stdin"
    ln -s /proc/self/fd/1 "$root/dev/stdout"
    ln -s /proc/self/fd/2 "$root/dev/stderr"
    # systemd's own console output, kept for the report when something fails.
    : > "$dir/console.log"
    touch "$root/dev/console"
    mount --bind "$dir/console.log" "$root/dev/console"

    # A cgroup of our own below the one we are in, as the root of the new cgroup namespace:
    # systemd manages that subtree only, and it is removed afterwards.
    mount -t cgroup2 cgroup2 "$dir/cgroup2"
    local current
    current=$(sed -n 's/^0:://p' /proc/self/cgroup)
    local cgroup="$dir/cgroup2${current%/}/authzd-systemd-tier.$$"
    mkdir "$cgroup"
    echo "${current%/}/authzd-systemd-tier.$$" > "$dir/cgroup.path"

    # Units: masks and the target the machine boots into.
    mkdir -p "$root/run/systemd/system"
    local unit
    for unit in $NS_MASKED_UNITS; do ln -s /dev/null "$root/run/systemd/system/$unit"; done
    cat > "$root/run/systemd/system/authzd-tier.target" <<'EOF'
[Unit]
Description=The systemd tier's machine is up
DefaultDependencies=no
Wants=sysinit.target sockets.target systemd-journald.service
After=sysinit.target sockets.target systemd-journald.service
EOF

    # Only the machine enters the cgroup (this shell stays out, so the cgroup can be removed).
    bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$cgroup" \
    unshare --pid --fork --cgroup --uts --ipc --net --root="$root" --wd=/ -- /bin/sh -c '
        mount -t proc -o nosuid,nodev,noexec proc /proc
        mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
        mount --bind /proc/sysrq-trigger /proc/sysrq-trigger && mount -o remount,bind,ro /proc/sysrq-trigger
        mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
        mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
        ip link set lo up
        hostname authzd-tier
        exec setpriv --bounding-set=-sys_time,-sys_module,-wake_alarm -- \
            env -i container=authzd-tier PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            /lib/systemd/systemd --system --unit=authzd-tier.target
    ' </dev/null >"$dir/stage1.log" 2>&1 &
    local unshare_pid=$!
    # The forked child of unshare is the new namespace's PID 1 (systemd after its exec).
    local child=""
    for _ in $(seq 1 100); do
        child=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | awk '{print $1}')
        [ -n "$child" ] && break
        sleep 0.1
    done
    echo "${child:-0}" > "$dir/pid"
    # ns_halt sends TERM when the machine cannot be reached: kill everything in its cgroup.
    trap 'echo 1 > "$cgroup/cgroup.kill" 2>/dev/null || true' TERM INT
    while kill -0 "$unshare_pid" 2>/dev/null; do wait "$unshare_pid" || true; done
    echo 1 > "$cgroup/cgroup.kill" 2>/dev/null || true
    # PID 1 is gone and with it every process of the machine: remove its cgroups, deepest first.
    for _ in $(seq 1 50); do
        find "$cgroup" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        [ -d "$cgroup" ] || break
        sleep 0.1
    done
    [ -d "$cgroup" ] && echo "warning: could not remove cgroup $cgroup" >&2
    return 0
}

ns_boot() {
    NS_DIR=$1
    NS_PID=""
    unshare --mount --propagation private -- bash -c "source '$NS_SCRIPT'; ns_stage1 '$NS_DIR'" &
    NS_STAGE1=$!
    for _ in $(seq 1 100); do
        [ -s "$NS_DIR/pid" ] && break
        sleep 0.1
    done
    NS_PID=$(cat "$NS_DIR/pid" 2>/dev/null || echo 0)
    if [ "$NS_PID" = 0 ] || ! kill -0 "$NS_PID" 2>/dev/null; then
        echo "the machine did not start:"; cat "$NS_DIR/stage1.log" "$NS_DIR/console.log" 2>/dev/null
        return 1
    fi
    # Wait until systemd answers and its boot jobs are done.
    local state=""
    for _ in $(seq 1 600); do
        state=$(ns systemctl is-system-running 2>/dev/null || true)
        case "$state" in running|degraded) break ;; esac
        sleep 0.2
    done
    case "$state" in
        running) ;;
        degraded) echo "note: the machine booted degraded; failed units:"; ns systemctl --failed --no-legend || true ;;
        *) echo "systemd did not finish booting (state: ${state:-none})"; tail -n 50 "$NS_DIR/console.log"; return 1 ;;
    esac
}

ns() {
    nsenter --target "$NS_PID" --mount --uts --ipc --net --pid --root --wd -- \
        env SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

ns_root() { echo "/proc/$NS_PID/root"; }

ns_halt() {
    if [ -n "${NS_PID:-}" ] && [ "$NS_PID" != 0 ] && kill -0 "$NS_PID" 2>/dev/null; then
        # SIGRTMIN+4 asks systemd to power off; in a pid namespace that ends the namespace only.
        kill -s RTMIN+4 "$NS_PID" 2>/dev/null || true
        for _ in $(seq 1 150); do kill -0 "$NS_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$NS_PID" 2>/dev/null || true
    fi
    if [ -n "${NS_STAGE1:-}" ]; then
        # Stage 1 ends with the machine; if it does not, it kills what is left in the cgroup.
        for _ in $(seq 1 50); do kill -0 "$NS_STAGE1" 2>/dev/null || break; sleep 0.2; done
        kill -TERM "$NS_STAGE1" 2>/dev/null || true
        wait "$NS_STAGE1" 2>/dev/null || true
    fi
    NS_PID=""
    NS_STAGE1=""
}
