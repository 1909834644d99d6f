"""The listener interface in the test's language (``ListeningTest.language``).

Templates and the player's JavaScript are marked for gettext; their catalogues live in
``locale/<lang>/LC_MESSAGES`` (``django.po`` for templates and Python, ``djangojs.po`` for the
player), compiled to .mo by ``manage.py compile_catalogues`` (the Makefile and the Dockerfiles
run it). A scientist's own texts are shown as typed; the defaults they did not change are shown
translated.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import cache_control
from django.views.i18n import JavaScriptCatalog

from mushra.models import DEFAULT_CONSENT, ListeningTest
from mushra.test_types import DEFAULT_QUESTIONS

# Only this project's catalogue (LOCALE_PATHS): "mushra" has no locale folder of its own, and
# naming it keeps Django's and the admin's JavaScript strings out of the listener's download.
_catalog = JavaScriptCatalog.as_view(packages=["mushra"])


def shown_question(test: ListeningTest) -> str:
    """The test's question as the listener reads it: the default one in their language."""
    return gettext(test.question) if test.question in DEFAULT_QUESTIONS else test.question


def shown_consent(test: ListeningTest) -> str:
    """The consent text as the listener reads it: the default one in their language."""
    return gettext(DEFAULT_CONSENT) if test.consent_text == DEFAULT_CONSENT else test.consent_text


@cache_control(public=True, max_age=3600)
def javascript_catalog(request: HttpRequest, lang: str) -> HttpResponse:
    """The player's strings in `lang` (djangojs domain): defines gettext, pgettext, interpolate.

    The language is in the path, not taken from the browser, so the player speaks the test's
    language and the response can be cached per language."""
    try:  # "ja", but also "en-us" → "en"
        lang = translation.get_supported_language_variant(lang)
    except LookupError:
        raise Http404("no such interface language") from None
    with translation.override(lang):
        return _catalog(request)
