"""Small pieces of the production security settings that need code (see settings "Security")."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, for throttling logins (django-axes' AXES_CLIENT_IP_CALLABLE).

    Without proxies it is REMOTE_ADDR. Behind ``PROXY_COUNT`` proxies each one appends the address
    it was reached from to X-Forwarded-For, so the client is the PROXY_COUNT-th entry from the
    right; entries further left come from the client itself and could be forged.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.PROXY_COUNT <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < settings.PROXY_COUNT:
        return remote  # not (fully) proxied: do not trust what the header says
    return forwarded[-settings.PROXY_COUNT]
