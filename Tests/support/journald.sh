#!/usr/bin/env bash
# Starts and stops a standalone systemd-journald for tests, on machines (containers, CI) where
# systemd is not PID 1 and so nothing else runs journald.
#
#   journald.sh start   Make sure a journald answers on /run/systemd/journal/socket. If one already
#                       does (the host's, or one this script started), nothing is started; otherwise
#                       stale sockets left by a dead journald are removed and
#                       /lib/systemd/systemd-journald is started in the background (it creates its
#                       sockets itself and writes a volatile journal under /run/log/journal, which
#                       `journalctl` reads as usual). Returns once the sockets accept connections,
#                       or fails after about 10 s with journald's own output.
#   journald.sh stop    Undo one `start`. Calls are counted, so concurrent test suites can share one
#                       journald: the journald this script started is stopped (SIGTERM, its pid
#                       only) when the last `start` is undone, and its sockets are removed so the
#                       next `start` is not fooled. A journald the script did not start is never
#                       stopped.
#   journald.sh status  Exit 0 if a journald answers, 1 otherwise.
#
# Needs root (journald binds under /run/systemd). State (pid, count, journald's output) is kept in
# $AUTHZD_JOURNALD_STATE, default /run/authzd-test-journald; calls are serialized with flock(1).
set -euo pipefail

JOURNALD=${JOURNALD:-/lib/systemd/systemd-journald}
SOCKET_DIR=/run/systemd/journal
STATE=${AUTHZD_JOURNALD_STATE:-/run/authzd-test-journald}

# True when a journald accepts connections. systemd-cat connects to journald's stdout stream
# socket; it fails with "Connection refused" when the socket file outlived its journald.
alive() {
    [[ -S $SOCKET_DIR/socket ]] && systemd-cat -t authzd-journald-probe true 2>/dev/null
}

owned_pid() {
    local pid
    pid=$(cat "$STATE/pid" 2>/dev/null) || return 1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

count() { cat "$STATE/count" 2>/dev/null || echo 0; }

start() {
    if alive; then
        # Count the start only if the running journald is ours; the host's needs no stop.
        if owned_pid >/dev/null; then echo $(( $(count) + 1 )) >"$STATE/count"; fi
        echo "journald already running"
        return 0
    fi
    [[ -x $JOURNALD ]] || { echo "journald.sh: $JOURNALD not found (install systemd)" >&2; return 1; }
    rm -f "$SOCKET_DIR/socket" "$SOCKET_DIR/stdout" "$SOCKET_DIR/dev-log" "$SOCKET_DIR/io.systemd.journal"
    mkdir -p "$SOCKET_DIR"
    # setsid: the journald must not die with the shell or test process that asked for it.
    setsid "$JOURNALD" </dev/null >"$STATE/journald.log" 2>&1 9>&- &
    echo $! >"$STATE/pid"
    echo 1 >"$STATE/count"
    local i
    for ((i = 0; i < 200; i++)); do
        if alive; then echo "journald started (pid $(cat "$STATE/pid"))"; return 0; fi
        if ! owned_pid >/dev/null; then break; fi
        sleep 0.05
    done
    echo "journald.sh: journald did not come up; its output:" >&2
    cat "$STATE/journald.log" >&2 || true
    stop_owned
    return 1
}

stop_owned() {
    local pid i
    if pid=$(owned_pid); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        rm -f "$SOCKET_DIR/socket" "$SOCKET_DIR/stdout" "$SOCKET_DIR/dev-log" "$SOCKET_DIR/io.systemd.journal"
    fi
    rm -f "$STATE/pid" "$STATE/count"
}

stop() {
    if ! owned_pid >/dev/null; then
        rm -f "$STATE/pid" "$STATE/count"
        echo "journald not started by this script; left alone"
        return 0
    fi
    local n
    n=$(( $(count) - 1 ))
    if (( n > 0 )); then
        echo "$n" >"$STATE/count"
        echo "journald still in use ($n)"
        return 0
    fi
    stop_owned
    echo "journald stopped"
}

mkdir -p "$STATE"
exec 9>"$STATE/lock"
flock 9

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) alive ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
