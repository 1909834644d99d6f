from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from evalsite.health import run_checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency is up, else 503 with ``down`` naming the failing ones."""
    checks = run_checks()
    down = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ok" if not down else "down", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200)


def landing(request: HttpRequest):
    return render(request, "landing.html")
