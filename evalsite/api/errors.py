"""Every API error in one shape, ``{"error": message, "problems": [...]}``, with the messages the
pages and the command line give (``InputError``), and a status that says what went wrong."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from evalsite.errors import InputError


def exception_handler(exc, context):
    if isinstance(exc, InputError):
        return Response({"error": exc.message, "problems": exc.problems}, status=400)
    if isinstance(exc, Http404):
        return Response({"error": "not found", "problems": []}, status=404)
    if isinstance(exc, PermissionDenied):
        return Response({"error": str(exc) or "not allowed", "problems": []}, status=403)
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        problems = _flatten(exc.detail)
        body = {"error": "the request is not valid", "problems": problems}
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        body = {"error": _media_type_message(context), "problems": []}
    else:
        body = {"error": str(getattr(exc, "detail", exc)), "problems": []}
    response.data = body
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = response.get("WWW-Authenticate", "Token")
    return response


def _media_type_message(context) -> str:
    request, view = context.get("request"), context.get("view")
    sent = (request.content_type if request is not None else "") or "none"
    accepted = [p.media_type for p in getattr(view, "parser_classes", ())]
    return (
        f"the request body's Content-Type ({sent.split(';')[0]}) is not one this operation "
        f"reads; send {' or '.join(accepted) or 'no body'}"
    )


def _flatten(detail, field: str = "") -> list[str]:
    """DRF's nested error detail as 'field: message' lines."""
    if isinstance(detail, dict):
        return [p for key, value in detail.items() for p in _flatten(value, _join(field, key))]
    if isinstance(detail, list):
        return [p for value in detail for p in _flatten(value, field)]
    return [f"{field}: {detail}" if field and field != "non_field_errors" else str(detail)]


def _join(field: str, key) -> str:
    return f"{field}.{key}" if field else str(key)
