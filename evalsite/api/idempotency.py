"""``Idempotency-Key`` on the API's creates: a script that resends a request after a timeout
gets the first answer again, and nothing is made twice.

The key's record is written first, inside the request's transaction: a second request with the
same key waits on the unique index until the first commits, then answers what the first did. A
request that fails (4xx) rolls its record back with everything else, so it may be resent."""

import functools
import json

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from evalsite.errors import InputError
from evalsite.models import IdempotentRequest

HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID): a resent request with it answers as the first did",
)


def idempotent(create):
    @functools.wraps(create)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            return create(self, request, *args, **kwargs)
        if not (key.isascii() and key.isprintable() and 1 <= len(key) <= 100):
            raise InputError("Idempotency-Key must be 1 to 100 printable ASCII characters")
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    user=request.user, key=key, path=request.path[:300]
                )
                response = create(self, request, *args, **kwargs)
                record.status, record.body = response.status_code, json.dumps(response.data)
                record.save(update_fields=["status", "body"])
                return response
        except IntegrityError:
            pass  # the key was used before (or just now, by a request that has committed)
        earlier = IdempotentRequest.objects.get(user=request.user, key=key)
        if earlier.path != request.path[:300]:
            raise InputError("this Idempotency-Key was used for another request") from None
        return Response(json.loads(earlier.body), status=earlier.status)

    return wrapper
