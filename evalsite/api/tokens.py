"""Token authentication for scripts: ``Authorization: Token <secret>``.

django-rest-knox stores only each token's digest. Its parser is guarded here so that a header
with a stray byte (a NUL, non-UTF-8, a thousand characters) is a 401, not a database error."""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from rest_framework import exceptions

_TOKEN = re.compile(rb"[0-9a-f]{16,128}")


class NamedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        if not _TOKEN.fullmatch(token):
            raise exceptions.AuthenticationFailed("invalid token")
        return super().authenticate_credentials(token)


class NamedTokenScheme(OpenApiAuthenticationExtension):
    """How the schema (and Swagger UI's "Authorize") describes these tokens."""

    target_class = NamedTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
