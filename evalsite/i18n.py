"""The interface language of a request: English, unless a listener's page activates its test's.

Django keeps the active language per thread (per context under ASGI) and never resets it between
requests, so a language a listener's view activated would otherwise leak into whatever request
the same worker serves next — a scientist's page in Japanese. This middleware starts every request
in ``LANGUAGE_CODE`` and drops the activation once the response is built. Unlike Django's
LocaleMiddleware it reads nothing from the browser: the scientist side is English by design.
"""

from django.conf import settings
from django.utils import translation


class DefaultLanguageMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(settings.LANGUAGE_CODE)
        try:
            return self.get_response(request)
        finally:
            translation.deactivate()
