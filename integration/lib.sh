# Shared helpers for the integration tests: a throwaway "pod" on loopback with real keys, a
# real k8pshd and real stubs. Each test script sources this, then calls pod_start.
set -u
K8PSH_BIN=${K8PSH_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/k8psh}
[ -x "$K8PSH_BIN" ] || { echo "k8psh binary not found at $K8PSH_BIN (build first)" >&2; exit 1; }

# Under emulation (qemu-user, tools/test --arch) everything k8psh does is several times slower:
# K8PSH_TIME_SCALE (an integer, default 1) multiplies the waiting limits below and those the
# tests take from scaled(). Natively nothing changes.
K8PSH_TIME_SCALE=${K8PSH_TIME_SCALE:-1}
# scaled N: N seconds (or milliseconds) times K8PSH_TIME_SCALE.
scaled() { echo $(($1 * K8PSH_TIME_SCALE)); }

# K8PSH_EMULATED=1 (tools/test-arch sets it): the binary runs under qemu-user, which runs a
# vfork as a fork (so the server cannot report a failed exec: the child's plain exit 127
# arrives instead of 126 and the message) and keeps a process's own title out of
# /proc/PID/cmdline. Assertions on those skip there, saying so; a native ARM node has neither.
K8PSH_EMULATED=${K8PSH_EMULATED:-}
# emulated REASON: true (and says what is skipped) under emulation.
emulated() {
    [ -n "$K8PSH_EMULATED" ] || return 1
    echo "skip - $1 (qemu-user)"
}

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
    [ -n "${K8PSH_IT_KEEP:-}" ] && cp -a "$T" "$K8PSH_IT_KEEP" 2>/dev/null; rm -rf "$T"
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
    # With reuse off, no stub of this test may have started a master (it idles for 30 s, so one
    # started by any stub here is still there).
    if [ "${K8PSH_IT_REUSE_MS:-}" = 0 ] && [ -n "${PORT:-}" ] &&
        ! emulated "K8PSH_IT_REUSE_MS=0: no reuse master (found by its process title)"; then
        local port ports masters=""
        ports=$( (echo "$PORT"; sed -n 's/^ *\[ *[^]:]*: *\([0-9][0-9]*\) *\].*/\1/p' "$T"/*.conf) | sort -u)
        for port in $ports; do
            masters+=$(pgrep -f "^k8psh-reuse master for .* at 127\.0\.0\.1:$port( |\$)")
        done
        [ -n "$masters" ] && fail "K8PSH_IT_REUSE_MS=0, yet a reuse master was started" ||
            pass "K8PSH_IT_REUSE_MS=0: no reuse master"
    fi
    # Sanitizer builds: a report in any server log fails the test (stubs' reports show up in
    # the output the assertions compare).
    if grep -lE "runtime error|Sanitizer" "$T"/*.log >/dev/null 2>&1; then
        fail "sanitizer report in a server log:"
        grep -hE -A20 "runtime error|Sanitizer" "$T"/*.log | head -60
    fi
    echo "$PASSES passed, $FAILURES failed"
    [ "$FAILURES" -eq 0 ]
    exit $?
}

# Unique to this test's run among those running now (its shell's pid): tests find their remote
# commands by command line (pgrep -f), and other tests, or another checkout's, may run the same
# command at the same time. Appended to sleep durations, matched with an anchored pattern.
RUN_ID=$(printf %05d $(($$ % 100000)))

# free_port: a TCP port on loopback that nothing holds now, below the kernel's ephemeral range.
# A test restarts its servers on the same port; a port from the ephemeral range could meanwhile
# become the source port of any connection on the machine (other tests', another checkout's),
# and the restarted server would fail to bind it.
free_port() {
    python3 - 2>/dev/null <<'PY' || echo $((10000 + RANDOM % 20000))
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    port = random.randrange(10000, max(low, 10001))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit(1)
PY
}

# pod_install DIR: the init container's step, into DIR/bin (keys in DIR/bin/keys).
pod_install() {
    "$K8PSH_BIN" --install "$1/bin/k8pshd" >/dev/null
}

# pod_start: installs into $T/pod, writes $T/k8psh.conf from stdin (PORT is replaced by a free
# port), starts the server named "srv" in the background (-b returns once it listens) and
# writes the client's stubs into $T/stubs.
# K8PSH_IT_REUSE_MS (CMakeLists.txt sets it for the *.no_reuse copies of core tests): the
# connectionReuseMs the configuration gets unless it sets its own, so the same assertions run
# once through the reuse master and once with every stub on its own connection.
# it_settings: the common settings pod_start adds, for configurations a test writes itself.
it_settings() {
    [ -z "${K8PSH_IT_REUSE_MS:-}" ] || echo "connectionReuseMs = $K8PSH_IT_REUSE_MS"
}
pod_start() {
    PORT=$(free_port)
    mkdir -p "$T/client" "$T/server"
    pod_install "$T/pod"
    sed "s/PORT/$PORT/g" > "$T/k8psh.conf"
    if [ -n "${K8PSH_IT_REUSE_MS:-}" ] && ! grep -q '^ *connectionReuseMs' "$T/k8psh.conf"; then
        sed -i "1i connectionReuseMs = $K8PSH_IT_REUSE_MS" "$T/k8psh.conf"
    fi
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

# --- a real terminal, driven through tmux -----------------------------------------------
# tmux_start: a private tmux server running bash in a 100x30 terminal, with the pod's
# environment and cwd. Skips (77) when tmux is not installed.
tmux_start() {
    command -v tmux >/dev/null || { echo "skip: tmux not installed"; exit 77; }
    TMUX_SOCKET="$T/tmux.sock"
    tmux -S "$TMUX_SOCKET" new-session -d -s t -x 100 -y 30 \
        "env PS1='$ ' K8PSH_CONFIG='$K8PSH_CONFIG' K8PSH_KEYS='$K8PSH_KEYS' bash --norc --noprofile"
    tmux -S "$TMUX_SOCKET" set-option -t t status off >/dev/null
    tmux_type "cd '$T'"
}
# tmux_wait_raw: until the pane's terminal is in raw mode (a PTY stub has taken it over).
tmux_wait_raw() {
    local tty deadline=$((SECONDS + $(scaled 10)))
    tty=$(tmux -S "$TMUX_SOCKET" display-message -p -t t '#{pane_tty}')
    until stty -F "$tty" -a | grep -q -- '-icanon'; do
        [ $SECONDS -lt $deadline ] || { fail "terminal never went raw"; return 1; }
        sleep 0.02
    done
}
tmux_stop() { tmux -S "$TMUX_SOCKET" kill-server 2>/dev/null; }
tmux_type() { tmux -S "$TMUX_SOCKET" send-keys -t t -l "$1"; tmux -S "$TMUX_SOCKET" send-keys -t t Enter; }
tmux_keys() { tmux -S "$TMUX_SOCKET" send-keys -t t "$@"; }
tmux_screen() { tmux -S "$TMUX_SOCKET" capture-pane -p -t t "$@"; }
# tmux_save_screen LABEL [capture-pane ARGS…]: appends the screen to $K8PSH_SCREENS when set,
# headed by $K8PSH_SCREENS_LABEL (before/after records of a change, kept out of the repository).
tmux_save_screen() {
    [ -n "${K8PSH_SCREENS:-}" ] || return 0
    local label=$1
    shift
    { echo "=== ${K8PSH_SCREENS_LABEL:-} $label"; tmux_screen "$@" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; } >> "$K8PSH_SCREENS"
}
# tmux_wait_for PATTERN [SECONDS]: until the screen matches (grep -E), or fail after SECONDS.
tmux_wait_for() {
    local deadline=$((SECONDS + $(scaled "${2:-10}")))
    while [ $SECONDS -lt $deadline ]; do
        tmux_screen | grep -qE -- "$1" && return 0
        sleep 0.05
    done
    fail "timed out waiting for [$1] on the terminal; screen:"
    tmux_screen | sed 's/^/    /'
    return 1
}

# wait_until SECONDS CMD…: polls CMD until it succeeds; false after SECONDS. For conditions no
# process can tell us about (a process that is not our child ending, a file appearing): a bound,
# never the synchronisation itself.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.02
    done
}

# wait_child SECONDS PID: `wait PID` for a child of this shell, but one still running after
# SECONDS is killed (SIGKILL) first, so a hung child fails its test instead of hanging it.
wait_child() {
    wait_until "$1" exited "$2" || kill -KILL "$2" 2>/dev/null
    wait "$2"
}
# exited PID: the process is gone or a zombie waiting for `wait` (a child that has ended).
exited() { [ ! -e "/proc/$1/stat" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]; }

# wait_for_process PATTERN [SECONDS]: until pgrep -f finds it (the remote side has started).
# 60 s by default: only a failure waits that long, and under two sanitizer CI runs at once a
# remote command once took more than 10 s to appear.
wait_for_process() {
    local deadline=$((SECONDS + $(scaled "${2:-60}")))
    while ! pgrep -f -- "$1" >/dev/null; do
        [ $SECONDS -lt $deadline ] || { fail "process [$1] never started"; return 1; }
        sleep 0.02
    done
}
# wait_gone PATTERN [SECONDS]: until pgrep -f no longer finds it; false after SECONDS (30 by
# default, for the same reason).
wait_gone() {
    local deadline=$((SECONDS + $(scaled "${2:-30}")))
    while pgrep -f -- "$1" >/dev/null; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}
# master_listening: true while a reuse master listens in $TMPDIR's reuse directory.
master_listening() { ss -xlH | grep -qF -- " $TMPDIR/k8psh-$(id -u)/"; }
# wait_listening: until a reuse master listens in $TMPDIR's reuse directory (its process alone
# may not have bound its socket yet, and a stub finding no socket connects itself).
wait_listening() {
    local deadline=$((SECONDS + $(scaled 10)))
    until master_listening; do
        [ $SECONDS -lt $deadline ] || { fail "no master ever listened in $TMPDIR"; return 1; }
        sleep 0.02
    done
}
