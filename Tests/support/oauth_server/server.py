#!/usr/bin/env python3
"""A real OAuth 2.0 authorization server (django-oauth-toolkit) for authzd's tests.

  server.py DATA_DIR --client ID SECRET [--client ID SECRET ...] [--template-dir DIR]

Binds a free port on 127.0.0.1, writes an RSA key for OpenID Connect into DATA_DIR, migrates a
sqlite database there, creates each client as a confidential client-credentials application,
prints "PORT <n>" and serves until signalled. With --template-dir, a migrated database is kept
there (named after the Django and django-oauth-toolkit versions) and copied instead of migrating
from scratch each time, which is most of the start-up time; migrate still runs and finds nothing
or little to do. Endpoints (django-oauth-toolkit's):
  /o/token/           client-credentials tokens (RFC 6749 §4.4)
  /o/introspect/      RFC 7662 introspection (HTTP Basic client authentication)
  /o/revoke_token/    RFC 7009 revocation
  /o/.well-known/openid-configuration, /o/.well-known/jwks.json   OIDC discovery and keys
plus the test controls in oauth_test/views.py under /test/.
"""
import argparse
import os
import shutil
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        # Request lines would show tokens passed in query strings; keep the log to errors.
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--client", nargs=2, action="append", metavar=("ID", "SECRET"), required=True)
    parser.add_argument("--template-dir")
    args = parser.parse_args()

    server = ThreadingServer(("127.0.0.1", 0), QuietHandler)
    port = server.server_address[1]

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(os.path.join(args.data_dir, "oidc.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.environ["OAUTH_TEST_DIR"] = args.data_dir
    os.environ["OAUTH_TEST_ISSUER"] = "http://127.0.0.1:%d/o" % port
    os.environ["DJANGO_SETTINGS_MODULE"] = "oauth_test.settings"
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    import django
    import oauth2_provider
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    database = os.path.join(args.data_dir, "oauth.sqlite3")
    template = None
    if args.template_dir:
        os.makedirs(args.template_dir, exist_ok=True)
        template = os.path.join(args.template_dir, "oauth-django%s-dot%s.sqlite3"
                                % (django.__version__, oauth2_provider.__version__))
        if os.path.exists(template):
            shutil.copyfile(template, database)
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    if template and not os.path.exists(template):
        from django.db import connection
        connection.close()
        partial = "%s.%d" % (template, os.getpid())
        shutil.copyfile(database, partial)
        os.replace(partial, template)
    flat = []
    for client_id, secret in args.client:
        flat += ["--client", client_id, secret]
    call_command("create_test_clients", *flat)

    server.set_app(get_wsgi_application())
    print("PORT %d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
