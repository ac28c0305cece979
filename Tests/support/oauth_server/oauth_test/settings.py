"""Settings of the throwaway OAuth 2.0 server (django-oauth-toolkit) for authzd's tests.

Everything it writes (the sqlite database, the OIDC signing key) lives in OAUTH_TEST_DIR, a
temporary directory the test creates and removes. OAUTH_TEST_ISSUER is the OIDC issuer URL
(http://127.0.0.1:PORT/o), known once the server has its port.
"""
import os

DATA_DIR = os.environ["OAUTH_TEST_DIR"]

SECRET_KEY = os.urandom(32).hex()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "oauth2_provider",
    "oauth_test",
]
MIDDLEWARE = [
    "oauth_test.controls.ControlMiddleware",
]
ROOT_URLCONF = "oauth_test.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(DATA_DIR, "oauth.sqlite3"),
        # Several request threads share the file; wait for a writer instead of failing.
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING_CONFIG = None

with open(os.path.join(DATA_DIR, "oidc.key")) as f:
    _OIDC_KEY = f.read()

OAUTH2_PROVIDER = {
    "SCOPES": {
        "broadcast:read": "read broadcasts",
        "broadcast:write": "change broadcasts",
        "introspection": "introspect tokens",
        "openid": "OpenID Connect",
    },
    "DEFAULT_SCOPES": ["broadcast:read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _OIDC_KEY,
    "OIDC_ISS_ENDPOINT": os.environ["OAUTH_TEST_ISSUER"],
    # The test reads the plaintext secrets it chose; hashing them changes nothing for it.
    "PKCE_REQUIRED": False,
}
