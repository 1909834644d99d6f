"""Rows with unique names and slugs, created so that a clash is a refusal (InputError), never an
IntegrityError: not after a check that another request overtook, nor on a slug nobody chose.

The pattern, for every service that creates a row with a unique field:

1. ``check_free`` before any expensive work, so the usual case gets its message early;
2. ``create_unique`` inserts inside a savepoint; on IntegrityError it checks again — a
   concurrent request inserted the same value between our check and our insert — and names what
   clashed. A slug is derived, never the user's: the first free of ``base``, ``base-2``, … is
   taken, and a slug lost to a concurrent insert moves on to the next.
"""

from __future__ import annotations

import itertools

from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from evalsite.errors import InputError

SLUG_ATTEMPTS = 5  # slugs lost to concurrent inserts before giving up (each loss is a race)


def check_free(model: type[models.Model], taken: dict[str, str], **values) -> None:
    """InputError with ``taken[field]`` when a row already has ``values[field]``."""
    if message := _clash(model, taken, values):
        raise InputError(message)


def create_unique(
    model: type[models.Model],
    *,
    taken: dict[str, str],
    slug_from: str | None = None,
    max_slug: int = 100,
    **fields,
) -> models.Model:
    """``model.objects.create(**fields)`` (plus a free ``slug`` made from ``slug_from``).

    ``taken`` maps each unique field of ``fields`` to the message given when its value is used.
    Runs in a savepoint, so a caller's enclosing transaction survives a refused insert.
    """
    check_free(model, taken, **fields)
    for _ in range(SLUG_ATTEMPTS):
        row = dict(fields)
        if slug_from is not None:
            row["slug"] = free_slug(model, slug_from, max_slug)
        try:
            with transaction.atomic():
                return model._default_manager.create(**row)
        except IntegrityError:
            if message := _clash(model, taken, fields):
                raise InputError(message) from None
            if slug_from is None or not _exists(model, slug=row["slug"]):
                raise  # not a clash we know how to name: a bug, not bad input
    raise InputError(f"no free slug for '{slug_from}'; try again")


def free_slug(model: type[models.Model], text: str, max_length: int = 100) -> str:
    """The first of ``base``, ``base-2``, ``base-3`` … no row of ``model`` has (one query)."""
    base = slugify(text)[: max_length - 8] or model._meta.model_name
    used = set(model._default_manager.filter(slug__startswith=base).values_list("slug", flat=True))
    return next(
        slug
        for slug in itertools.chain([base], (f"{base}-{n}" for n in itertools.count(2)))
        if slug not in used
    )


def _clash(model: type[models.Model], taken: dict[str, str], values: dict) -> str | None:
    for field, message in taken.items():
        if _exists(model, **{field: values[field]}):
            return message
    return None


def _exists(model: type[models.Model], **lookup) -> bool:
    return model._default_manager.filter(**lookup).exists()
