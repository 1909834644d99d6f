"""Typed readers of environment variables for the settings (and the launcher).

Each reader returns the default when the variable is unset or empty, and otherwise either a value
of its type or ImproperlyConfigured naming the variable: a mistyped ``DEBUG=ture`` must stop the
start, not quietly mean False. URL readers never repeat the value in their message, because URLs
carry passwords and messages end up in logs.
"""

import math
import os
import re
from collections.abc import Collection
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name).lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a boolean: use 1/0, true/false, yes/no or on/off"
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    return _env_number(name, default, int, "a whole number", minimum)


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    return _env_number(name, default, float, "a finite number", minimum)


def _env_number(name: str, default, convert, what: str, minimum):
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = convert(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not {what}") from None
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name}={raw!r} is not {what}")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below its minimum, {minimum}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    """Comma-separated values, blanks dropped: ``a, b,`` is ``["a", "b"]``."""
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


def env_choice(name: str, default: str, choices: Collection[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def env_match(name: str, default: str, pattern: str, what: str) -> str:
    """A value that must match ``pattern`` whole; ``what`` says in words what is expected."""
    value = env_str(name, default)
    if not re.fullmatch(pattern, value):
        raise ImproperlyConfigured(f"{name}={value!r} is not {what}")
    return value


def env_url(name: str, default: str, *, schemes: Collection[str]) -> str:
    """A ``scheme://…`` URL whose scheme (before any ``+driver``) is one of ``schemes``."""
    value = env_str(name, default)
    scheme = value.partition("://")[0].partition("+")[0] if "://" in value else ""
    if not scheme:
        raise ImproperlyConfigured(f"{name} is not a URL of the form scheme://…")
    if scheme.lower() not in {s.lower() for s in schemes}:
        raise ImproperlyConfigured(
            f"{name} has the scheme {scheme!r}; known schemes: {', '.join(sorted(schemes))}"
        )
    try:
        urlsplit(value).port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a port that is not a number") from None
    return value


def env_database(name: str, default: str, **options) -> dict:
    """Django's DATABASES entry from a URL (dj-database-url), e.g. ``postgres://u:p@host/db``."""
    import dj_database_url

    value = env_str(name, default)
    try:
        config = dj_database_url.parse(value, **options)
    except ValueError as err:  # an unknown scheme, or no URL (e.g. a port that is no number)
        what = (
            "has an unknown scheme"
            if isinstance(err, dj_database_url.UnknownSchemeError)
            else "is not a valid URL"
        )
        raise ImproperlyConfigured(
            f"{name} {what}: use e.g. postgres://user:password@host:5432/name "
            "or sqlite:////absolute/path.sqlite3"
        ) from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database (the path after the host)")
    return config
