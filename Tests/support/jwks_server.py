#!/usr/bin/env python3
"""A JWKS provider for authzd's tests: an HTTPS server whose behaviour the test controls through
files, plus a key and token minter. Only needs the `cryptography` package.

  jwks_server.py serve --dir DIR
      Makes DIR/cert.pem and DIR/key.pem (self-signed for 127.0.0.1 and localhost) if missing,
      listens on 127.0.0.1 on a free port, prints "PORT <n>" and serves until stdin closes.
      Per request it reads:
        DIR/mode     ok (default) | 500 | garbage | hang | big
        DIR/jwks.json   the body served at /jwks.json
        DIR/headers.json  optional {"Name": "value"} added to the answer (e.g. Cache-Control)
      and appends one line per request for /jwks.json to DIR/requests.log.
        DIR/openid-configuration.json  served at any path ending in /.well-known/openid-configuration
                                       (404 when absent); each such request appends a line to
                                       DIR/discovery.log.
      /echo (GET or POST) answers {"method", "headers", "body"} with what it was sent.
      /redirect answers 302 to /jwks.json; /redirect-loop redirects to itself.

  jwks_server.py batch < REQUEST.json
      {"dir": DIR, "keys": [{"kid": "k1", "alg": "RS256", "bits": 2048, "jwk": {extra members}}],
       "tokens": [{"key": "k1", "alg": "RS256", "kid": "k1" or null, "claims": {...},
                   "header": {extra header members}, "hmac_with_public_of": "k1"}]}
      Keys are kept as DIR/keys/KID.pem and reused when they exist. Prints
      {"jwks": {kid: public JWK}, "pem": {kid: public PEM}, "tokens": [token, ...]}.
"""
import base64
import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import socketserver
import ssl
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
CURVES = {"ES256": (ec.SECP256R1, "P-256", 32), "ES384": (ec.SECP384R1, "P-384", 48),
          "ES512": (ec.SECP521R1, "P-521", 66)}


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n, width=None):
    width = width or max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(width, "big")


# ---------------------------------------------------------------- keys and tokens

def generate(alg, bits):
    if alg.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=bits or 2048)
    if alg in CURVES:
        return ec.generate_private_key(CURVES[alg][0]())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise SystemExit("unknown alg " + alg)


def load_or_make(directory, spec):
    path = os.path.join(directory, "keys", spec["kid"] + ".pem")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), password=None)
    key = generate(spec["alg"], spec.get("bits"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return key


def public_jwk(key, kid, alg):
    pub = key.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        jwk = {"kty": "RSA", "n": b64u(int_bytes(nums.n)), "e": b64u(int_bytes(nums.e))}
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        _, crv, width = CURVES[alg] if alg in CURVES else next(
            v for v in CURVES.values() if v[0].name == pub.curve.name)
        nums = pub.public_numbers()
        jwk = {"kty": "EC", "crv": crv, "x": b64u(int_bytes(nums.x, width)), "y": b64u(int_bytes(nums.y, width))}
    else:
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    jwk["kid"] = kid
    jwk["use"] = "sig"
    jwk["alg"] = alg
    return jwk


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key, alg, message):
    if alg.startswith("HS"):
        return hmac.new(key, message, getattr(hashlib, "sha" + alg[2:])).digest()
    if alg.startswith("RS"):
        return key.sign(message, padding.PKCS1v15(), HASHES[alg[2:]]())
    if alg.startswith("PS"):
        h = HASHES[alg[2:]]()
        return key.sign(message, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if alg in CURVES:
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(HASHES[alg[2:]]())))
        width = CURVES[alg][2]
        return int_bytes(r, width) + int_bytes(s, width)
    if alg == "EdDSA":
        return key.sign(message)
    raise SystemExit("unknown alg " + alg)


def mint(keys, spec):
    alg = spec["alg"]
    header = {"alg": alg, "typ": "JWT"}
    kid = spec.get("kid", spec.get("key"))
    if kid is not None:
        header["kid"] = kid
    header.update(spec.get("header", {}))
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64u(json.dumps(spec.get("claims", {}), separators=(",", ":")).encode())).encode()
    if "hmac_with_public_of" in spec:
        key = public_pem(keys[spec["hmac_with_public_of"]]).encode()
    else:
        key = keys[spec["key"]]
    return signing_input.decode() + "." + b64u(sign(key, alg, signing_input))


def batch():
    req = json.load(sys.stdin)
    directory = req["dir"]
    keys, out = {}, {"jwks": {}, "pem": {}, "tokens": []}
    for spec in req.get("keys", []):
        key = load_or_make(directory, spec)
        keys[spec["kid"]] = key
        jwk = public_jwk(key, spec["kid"], spec["alg"])
        jwk.update(spec.get("jwk", {}))
        out["jwks"][spec["kid"]] = {k: v for k, v in jwk.items() if v is not None}
        out["pem"][spec["kid"]] = public_pem(key)
    for spec in req.get("tokens", []):
        out["tokens"].append(mint(keys, spec))
    json.dump(out, sys.stdout)


# ---------------------------------------------------------------- the server

def make_cert(directory):
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authzd test JWKS")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def read(directory, name, default=None):
    try:
        with open(os.path.join(directory, name), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return default


class Handler(http.server.BaseHTTPRequestHandler):
    directory = "."
    log_lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, content_type="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (ssl.SSLError, OSError):
            pass  # the client gave up (a size cap or a timeout): expected in these tests

    def echo(self):
        """Answers with what was asked: method, headers (names lowercased) and body."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = {"method": self.command,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("latin-1")}
        self.answer(200, json.dumps(seen).encode())

    def discovery(self):
        """An OpenID discovery document for any issuer path, as the test wrote it."""
        d = self.directory
        with self.log_lock:
            with open(os.path.join(d, "discovery.log"), "a") as f:
                f.write("%f %s\n" % (time.time(), self.path))
        body = read(d, "openid-configuration.json")
        if body is None:
            self.answer(404, b'{"error":"not found"}')
        else:
            self.answer(200, body)

    def do_POST(self):
        if self.path == "/echo":
            self.echo()
        else:
            self.answer(404, b'{"error":"not found"}')

    def do_GET(self):
        d = self.directory
        if self.path == "/echo":
            self.echo()
            return
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/jwks.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/redirect-loop":
            self.send_response(302)
            self.send_header("Location", "/redirect-loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.endswith("/.well-known/openid-configuration"):
            self.discovery()
            return
        if self.path != "/jwks.json":
            self.answer(404, b'{"error":"not found"}')
            return
        with self.log_lock:
            with open(os.path.join(d, "requests.log"), "a") as f:
                f.write("%f %s\n" % (time.time(), self.path))
        mode = (read(d, "mode", b"ok") or b"ok").decode().strip()
        extra = json.loads(read(d, "headers.json", b"{}"))
        if mode == "500":
            self.answer(500, b'{"error":"internal"}', extra=extra)
        elif mode == "garbage":
            self.answer(200, b"<html>this is not a key set", content_type="text/html", extra=extra)
        elif mode == "hang":
            time.sleep(float((read(d, "hang_seconds", b"30") or b"30").decode()))
            self.answer(200, read(d, "jwks.json", b'{"keys":[]}'), extra=extra)
        elif mode == "big":
            self.answer(200, b'{"keys":[' + b" " * (4 << 20) + b"]}", extra=extra)
        else:
            self.answer(200, read(d, "jwks.json", b'{"keys":[]}'), extra=extra)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(directory):
    cert, key = make_cert(directory)
    Handler.directory = directory
    server = Server(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("PORT %d" % server.server_address[1], flush=True)
    # Lives as long as the test holds our stdin open, so a crashed test leaves no server behind.
    sys.stdin.read()
    server.shutdown()


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    if args[0] == "serve" and len(args) == 3 and args[1] == "--dir":
        serve(args[2])
    elif args[0] == "batch":
        batch()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
