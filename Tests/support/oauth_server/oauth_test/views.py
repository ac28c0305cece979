"""Controls only a test server has: expire a token in the database, slow the server down, count
introspection calls, and sign a JWT with the server's OIDC key (the key its JWKS endpoint
publishes)."""
import hashlib
import json
import time
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from jwcrypto import jwk, jwt
from oauth2_provider.models import get_access_token_model

from .controls import introspection_count, set_delay


@csrf_exempt
def expire(request):
    """POST token=… [seconds=N]: the token expires N seconds from now (default: it expired a
    minute ago)."""
    token = request.POST["token"]
    seconds = int(request.POST.get("seconds", "-60"))
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    model = get_access_token_model()
    changed = model.objects.filter(token_checksum=checksum).update(
        expires=timezone.now() + timedelta(seconds=seconds))
    return HttpResponse(status=204 if changed == 1 else 404)


@csrf_exempt
def delay(request):
    """POST seconds=N: every later /o/ request waits N seconds."""
    set_delay(float(request.POST["seconds"]))
    return HttpResponse(status=204)


def introspections(request):
    """GET: how many introspection calls the server has received."""
    return JsonResponse({"count": introspection_count()})


@csrf_exempt
def mint_jwt(request):
    """POST a JSON object of claims: answers a compact RS256 JWT signed with the OIDC key, with
    the kid the JWKS endpoint gives that key; iss defaults to the server's issuer, iat and exp
    (an hour) are added when absent."""
    claims = json.loads(request.body or b"{}")
    now = int(time.time())
    claims.setdefault("iss", settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"])
    claims.setdefault("iat", now)
    claims.setdefault("exp", now + 3600)
    key = jwk.JWK.from_pem(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode("utf-8"))
    token = jwt.JWT(header={"alg": "RS256", "typ": "JWT", "kid": key.thumbprint()}, claims=claims)
    token.make_signed_token(key)
    return JsonResponse({"token": token.serialize()})
