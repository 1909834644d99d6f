import secrets

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from evalsite.health import health


def given_health_token(request: HttpRequest) -> str:
    """The token sent as ``Authorization: Bearer <token>`` or ``?token=<token>`` ("" if none)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.GET.get("token", "")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency is up, else 503 with ``down`` naming the failing ones.

    Everyone gets the public answer (the web process lives, the database answers); staff and
    holders of HEALTH_TOKEN get every check with its detail. A wrong token is refused (403) rather
    than quietly answered in public, so a misconfigured monitor notices.
    """
    token = given_health_token(request)
    if token:
        expected = settings.HEALTH_TOKEN.encode()
        if not expected or not secrets.compare_digest(token.encode(), expected):
            return JsonResponse({"error": "invalid health token"}, status=403)
    full = bool(token) or request.user.is_staff
    body = health(full=full) | {"view": "full" if full else "public"}
    return JsonResponse(body, status=503 if body["down"] else 200)


def landing(request: HttpRequest):
    return render(request, "landing.html")
