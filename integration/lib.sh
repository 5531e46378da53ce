# Shared helpers for the integration tests: a throwaway "pod" on loopback with real keys, a
# real k8pshd and real stubs. Each test script sources this, then calls pod_start.
set -u
K8PSH_BIN=${K8PSH_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/k8psh}
[ -x "$K8PSH_BIN" ] || { echo "k8psh binary not found at $K8PSH_BIN (build first)" >&2; exit 1; }

T=$(mktemp -d /tmp/k8psh-it.XXXXXX)
FAILURES=0
PASSES=0
SERVER_PIDFILES=()

cleanup() {
    local pidfile
    for pidfile in "${SERVER_PIDFILES[@]}"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null
    done
    for pidfile in "${SERVER_PIDFILES[@]}"; do
        while [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; do sleep 0.05; done
    done
    rm -rf "$T"
}
trap cleanup EXIT

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILURES=$((FAILURES + 1)); echo "FAIL - $*"; }

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
    case "$3" in
        *"$2"*) pass "$1" ;;
        *) fail "$1: expected to contain [$2], got [$3]" ;;
    esac
}

finish() {
    echo "$PASSES passed, $FAILURES failed"
    [ "$FAILURES" -eq 0 ]
    exit $?
}

# A free TCP port on loopback, chosen by the kernel.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 20000))
}

# pod_install DIR: the init container's step, into DIR/bin (keys in DIR/bin/keys).
pod_install() {
    "$K8PSH_BIN" --install "$1/bin/k8pshd" >/dev/null
}

# pod_start: installs into $T/pod, writes $T/k8psh.conf from stdin (PORT is replaced by a free
# port), starts the server named "srv" in the background (-b returns once it listens) and
# writes the client's stubs into $T/stubs.
pod_start() {
    PORT=$(free_port)
    mkdir -p "$T/client" "$T/server"
    pod_install "$T/pod"
    sed "s/PORT/$PORT/g" > "$T/k8psh.conf"
    export K8PSH_CONFIG="$T/k8psh.conf" K8PSH_KEYS="$T/pod/bin/keys"
    server_start srv
    "$T/pod/bin/k8pshd" -n client -e "$T/stubs"
    S="$T/stubs"  # stubs are called by path: the harness itself uses cat, sort, sh…
    cd "$T" || exit 1
}

# server_start NAME [ARGS…]: a background server whose pid file is $T/NAME.pid.
server_start() {
    local name=$1
    shift
    "$T/pod/bin/k8pshd" -n "$name" -b -p "$T/$name.pid" -d "$@" 2>>"$T/$name.log"
    SERVER_PIDFILES+=("$T/$name.pid")
}

server_stop() {
    local pidfile="$T/$1.pid" pid
    pid=$(cat "$pidfile")
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}
