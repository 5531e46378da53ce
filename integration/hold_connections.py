"""Holds COUNT connections to 127.0.0.1:PORT open without authenticating, for
integration/server_limits.test. MODE silent: connect and say nothing; MODE banner: send a client
banner and stall, so the server sits in its key exchange. Prints "opened COUNT", waits for a line
on stdin, then prints how many of them the server had cut by then ("cut N")."""
import socket
import sys

port, count, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "banner":
        s.sendall(b"SSH-2.0-stalled\r\n")
    socks.append(s)
print("opened %d" % count, flush=True)
sys.stdin.readline()


def closed_by_server(s):
    s.setblocking(False)
    try:
        while True:
            data = s.recv(65536)  # the server's banner may come first
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


print("cut %d" % sum(1 for s in socks if closed_by_server(s)), flush=True)
for s in socks:
    s.close()
