#!/usr/bin/env python3
"""Sends a fixed number of auth_request subrequests to authzd-nginx, the way nginx does: HTTP/1.1
keep-alive connections (nginx's upstream keepalive), one request in flight per connection, with
the headers the shipped authzd-check.conf sets plus what a client's request carries.

    shim_client.py HOST:PORT TOKEN REQUESTS [CONNECTIONS]

Exits non-zero unless every answer is a 200. Used by Benchmarks/shim-profile.sh; its own speed
does not matter there, as only the shim is counted."""
import selectors
import socket
import sys


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    token, total = sys.argv[2], int(sys.argv[3])
    conns = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    request = ("GET /_authz HTTP/1.1\r\nHost: authzd_nginx\r\nX-Original-URI: /api/ok\r\n"
               "X-Original-Method: GET\r\nX-Real-IP: 127.0.0.1\r\nX-Authz-App: hs\r\n"
               "User-Agent: wrk\r\nAccept: */*\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    sent = done = 0
    for _ in range(min(conns, total)):
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(request)
        sent += 1
        sel.register(s, selectors.EVENT_READ, bytearray())
    while done < total:
        for key, _ in sel.select(timeout=30) or [(None, None)]:
            if key is None:
                sys.exit(f"no answer after {done} of {total}")
            s, buf = key.fileobj, key.data
            chunk = s.recv(65536)
            if not chunk:
                sys.exit(f"connection closed after {done} of {total}")
            buf += chunk
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buf[:end]).decode("latin-1").split("\r\n")
                length = 0
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if len(buf) < end + 4 + length:
                    break
                if not head[0].startswith("HTTP/1.1 200"):
                    sys.exit(f"answer {done + 1}: {head[0]}")
                del buf[:end + 4 + length]
                done += 1
                if sent < total:
                    s.sendall(request)
                    sent += 1
    print(f"{done} answers, all 200")


main()
