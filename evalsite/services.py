"""Writes at platform level (accounts). Each service runs in one transaction."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

SCIENTISTS_GROUP = "Scientists"


@dataclass
class AdminAccount:
    username: str
    created: bool
    password: str | None  # set only when it was created or reset now, so it can be shown once


@transaction.atomic
def admin_account_ensure(*, username: str, password: str = "") -> AdminAccount:
    """Make sure a scientist admin account exists; idempotent.

    A new account gets ``password`` or, when empty, a random one. An existing account keeps its
    password unless ``password`` is given, so running the demo twice never locks anybody out.
    """
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username)
    user.is_staff = user.is_superuser = True
    shown = None
    if created or password:
        shown = password or secrets.token_urlsafe(12)
        user.set_password(shown)
    user.save()
    group, _ = Group.objects.get_or_create(name=SCIENTISTS_GROUP)
    user.groups.add(group)
    return AdminAccount(username=username, created=created, password=shown)
