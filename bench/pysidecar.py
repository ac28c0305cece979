#!/usr/bin/env python3
"""A minimal authorization sidecar in Python (asyncio + PyJWT) speaking authzd's socket protocol
(SPEC section 3: one JSON object per line, pipelined, answers in request order), with the chain
the HS256 benchmark uses: an IP allowlist, then an HS256 JWT checked against a shared secret.

It is the baseline authzd is compared with, written the way one would write it in Python with a
fair amount of care: reads in large chunks, answers a whole chunk with one write, no per-line
await. It does not cache verified tokens (PyJWT has no such cache).

  pysidecar.py --socket PATH --app NAME --secret S [--allow CIDR ...]

Runs until SIGTERM or SIGINT.
"""
import argparse
import asyncio
import ipaddress
import json
import os
import signal

import jwt


def answer(rid, allow, status, reason, plugin=None):
    out = {}
    if rid is not None:
        out["id"] = rid
    out["allow"] = allow
    out["status"] = status
    out["reason"] = reason
    if plugin:
        out["plugin"] = plugin
    return json.dumps(out, separators=(",", ":")).encode() + b"\n"


class Sidecar:
    def __init__(self, app, secret, networks):
        self.app = app
        self.secret = secret.encode()
        self.networks = networks

    def decide(self, line):
        try:
            req = json.loads(line)
        except ValueError:
            return answer(None, False, 400, "bad_request")
        if not isinstance(req, dict):
            return answer(None, False, 400, "bad_request")
        rid = req.get("id")
        if req.get("op") == "ping":
            return json.dumps({"id": rid, "ok": True} if rid is not None else {"ok": True}).encode() + b"\n"
        app = req.get("app")
        if not isinstance(app, str):
            return answer(rid, False, 400, "bad_request")
        if app != self.app:
            return answer(rid, False, 403, "unknown_app")
        try:
            addr = ipaddress.ip_address(req.get("remote_addr", ""))
        except ValueError:
            return answer(rid, False, 403, "ip_not_allowed", "ip_allowlist")
        if not any(addr in n for n in self.networks):
            return answer(rid, False, 403, "ip_not_allowed", "ip_allowlist")
        headers = req.get("headers") or {}
        token = None
        for name, value in headers.items():
            if name.lower() == "authorization":
                token = value[7:] if value[:7].lower() == "bearer " else value
        if not token:
            return answer(rid, False, 401, "no_token", "jwt_hmac")
        try:
            jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            return answer(rid, False, 401, "token_expired", "jwt_hmac")
        except jwt.InvalidSignatureError:
            return answer(rid, False, 401, "bad_signature", "jwt_hmac")
        except jwt.InvalidTokenError:
            return answer(rid, False, 401, "malformed_token", "jwt_hmac")
        return answer(rid, True, 200, "ok", "jwt_hmac")

    async def serve_connection(self, reader, writer):
        pending = b""
        try:
            while True:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    break
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                writer.write(b"".join(self.decide(line) for line in lines))
                if writer.transport.get_write_buffer_size() > (1 << 20):
                    await writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            pass
        finally:
            writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--allow", action="append", default=[])
    args = parser.parse_args()
    networks = [ipaddress.ip_network(a, strict=False) for a in (args.allow or ["127.0.0.1", "::1"])]
    sidecar = Sidecar(args.app, args.secret, networks)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server = await asyncio.start_unix_server(sidecar.serve_connection, path=args.socket, limit=1 << 20,
                                             backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
