#!/usr/bin/env python3
"""A stand-in for Ant Media Server's REST API in authzd's nginx tests: every request is answered
200 with a JSON body describing what arrived, so a test can see what nginx passed upstream.

  echo_upstream.py [--host 127.0.0.1]
      Listens on a free port, prints "PORT <n>" and serves until it is signalled (SIGTERM).
      Body: {"method": ..., "path": ..., "headers": [[name, value], ...], "body_length": n}
      Headers are listed as received, repeated names included, so a test can tell an
      overwritten header from a duplicated one.

Only the standard library; HTTP/1.1 with keep-alive, since nginx keeps upstream connections open.
"""
import http.server
import json
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_length": length,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Many parallel clients through nginx: don't refuse connections under a burst.
    request_queue_size = 256


def main():
    host = "127.0.0.1"
    if len(sys.argv) == 3 and sys.argv[1] == "--host":
        host = sys.argv[2]
    server = Server((host, 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
