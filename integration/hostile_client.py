"""Hostile SSH clients for integration/hostile.test: each case misbehaves in one way and
prints one line saying what the server did. Run with Debian's python3 (paramiko)."""
import socket
import sys
import threading
import time

import paramiko

HOST = "127.0.0.1"


def raw(port, payload, timeout=30.0):
    """Sends payload (or nothing), returns (seconds until the server closed, bytes received)."""
    s = socket.create_connection((HOST, port))
    start = time.monotonic()
    if payload:
        s.sendall(payload)
    s.settimeout(timeout)
    received = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return time.monotonic() - start, received


def transport(port, key_path, authenticate=True):
    t = paramiko.Transport((HOST, port))
    t.connect()
    if authenticate:
        key = paramiko.Ed25519Key.from_private_key_file(key_path)
        t.auth_publickey("k8psh", key)
    return t


def run(chan, command, stdin=b""):
    chan.exec_command(command)
    if stdin:
        chan.sendall(stdin)
    chan.shutdown_write()
    out = b""
    while True:
        data = chan.recv(65536)
        if not data:
            break
        out += data
    err = b""
    while chan.recv_stderr_ready():
        err += chan.recv_stderr(65536)
    return chan.recv_exit_status(), out, err


def main():
    case, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if case == "garbage-banner":
        seconds, data = raw(port, b"GET / HTTP/1.1\r\n\r\n" * 10)
        print("closed after %.1fs" % seconds)
    elif case == "silent":
        seconds, data = raw(port, None)
        print("closed after %.1fs" % seconds)
    elif case == "many-silent":
        count = int(sys.argv[4])
        socks = [socket.create_connection((HOST, port)) for _ in range(count)]
        print("opened %d" % count)
        sys.stdout.flush()
        sys.stdin.readline()  # the test runs a legitimate stub meanwhile
        for s in socks:
            s.close()
    elif case == "no-auth":
        t = transport(port, key, authenticate=False)
        start = time.monotonic()
        while t.is_active() and time.monotonic() - start < 30:
            time.sleep(0.05)
        print("closed after %.1fs" % (time.monotonic() - start))
    elif case in ("none-auth", "password-auth", "kbd-auth"):
        t = transport(port, key, authenticate=False)
        try:
            if case == "none-auth":
                t.auth_none("k8psh")
            elif case == "password-auth":
                t.auth_password("k8psh", "k8psh")
            else:
                t.auth_interactive("k8psh", lambda *a: ["x"] * len(a[2]))
            print("accepted")
        except paramiko.BadAuthenticationType as e:
            print("refused, allowed=%s" % ",".join(e.allowed_types))
        except paramiko.AuthenticationException:
            print("refused")
    elif case == "exec":
        # argv[4]: command string (may hold anything); prints exit status and output.
        t = transport(port, key)
        status, out, err = run(t.open_session(), sys.argv[4].encode("utf-8", "surrogateescape"))
        print("status=%d out=%r err=%r" % (status, out[:200], err[:300]))
    elif case == "huge-exec":
        t = transport(port, key)
        try:
            status, out, err = run(t.open_session(), "echo " + "x" * (1 << 20))
            print("status=%d" % status)
        except Exception as e:  # the server may cut the connection: that is bounded too
            print("cut: %s" % type(e).__name__)
    elif case == "nul-exec":
        t = transport(port, key)
        status, out, err = run(t.open_session(), b"echo a\x00b")
        print("status=%d out=%r" % (status, out))
    elif case == "env-flood":
        t = transport(port, key)
        chan = t.open_session()
        for i in range(10000):
            chan.set_environment_variable("V%d" % i, "x" * 100)
        chan.set_environment_variable("LD_PRELOAD", "/tmp/evil.so")
        chan.set_environment_variable("PATH", "/evil")
        status, out, err = run(chan, "env")
        print("status=%d out=%r" % (status, out))
    elif case == "winch-flood":
        t = transport(port, key)
        chan = t.open_session()
        chan.get_pty(term="xterm", width=80, height=24)
        chan.exec_command("cat")
        for i in range(20000):
            chan.resize_pty(width=1 + i % 500, height=1 + i % 300)
        chan.sendall(b"\x04")
        status = chan.recv_exit_status()
        print("status=%d" % status)
    elif case == "forwarding":
        t = transport(port, key)
        results = []
        try:
            t.request_port_forward("127.0.0.1", 0)
            results.append("tcpip-forward=accepted")
        except paramiko.SSHException:
            results.append("tcpip-forward=refused")
        try:
            t.open_channel("direct-tcpip", ("127.0.0.1", 9), ("127.0.0.1", 1))
            results.append("direct-tcpip=accepted")
        except paramiko.ChannelException:
            results.append("direct-tcpip=refused")
        chan = t.open_session()
        try:
            chan.request_x11()
            results.append("x11=sent")
        except paramiko.SSHException:
            results.append("x11=refused")
        try:
            chan.invoke_subsystem("sftp")
            status = chan.recv_exit_status()
            results.append("subsystem=exit%d" % status)
        except paramiko.SSHException:
            results.append("subsystem=refused")
        try:
            # Another channel on the same connection is served under the same rules: an
            # unconfigured command line is refused with 127.
            other = t.open_session()
            other.exec_command("/bin/sh -c id")
            second = "second-session=exit%d" % other.recv_exit_status()
        except (paramiko.SSHException, paramiko.ChannelException, EOFError):
            second = "second-session=refused"
        results.append(second)
        print(" ".join(results))
    else:
        sys.exit("unknown case " + case)


if __name__ == "__main__":
    main()
