"""Writes at platform level (accounts, projects and their members). Each service runs in one
transaction."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from evalsite.errors import InputError
from evalsite.models import ApiToken, Membership, Project

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


# --- Projects and members (DESIGN.md §10) --------------------------------------------------------


def project_create(*, name: str, owner) -> Project:
    """A new project with `owner` as its first owner."""
    name = " ".join(str(name).split())
    if not name or "\x00" in name or len(name) > 200:
        raise InputError("a project needs a name of 1 to 200 characters")
    base = slugify(name)[:90] or "project"
    with transaction.atomic():
        if Project.objects.filter(name=name).exists():
            raise InputError(f"a project named '{name}' already exists")
        for n in range(1, 1000):
            slug = base if n == 1 else f"{base}-{n}"
            try:
                with transaction.atomic():
                    project = Project.objects.create(name=name, slug=slug)
                break
            except IntegrityError:
                if Project.objects.filter(name=name).exists():
                    raise InputError(f"a project named '{name}' already exists") from None
        Membership.objects.create(project=project, user=owner, role=Membership.Role.OWNER)
    return project


def member_set(*, project: Project, username: str, role: str) -> Membership:
    """Add `username` to the project with `role`, or change their role. A project keeps at least
    one owner."""
    if role not in Membership.Role.values:
        raise InputError(f"unknown role '{role}': use {', '.join(Membership.Role.values)}")
    username = str(username)
    # A NUL cannot reach a PostgreSQL text column (DataError): no account has one anyway.
    user = (
        None if "\x00" in username else get_user_model().objects.filter(username=username).first()
    )
    if user is None:
        raise InputError(f"no account is named '{username.replace(chr(0), '')}'")
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)  # one member change at a time
        membership = Membership.objects.filter(project=project, user=user).first()
        if membership is None:
            return Membership.objects.create(project=project, user=user, role=role)
        if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER:
            _keep_an_owner(project, user)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def member_remove(*, project: Project, user_id: int) -> None:
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        membership = Membership.objects.filter(project=project, user_id=user_id).first()
        if membership is None:
            raise InputError("that account is not a member of this project")
        if membership.role == Membership.Role.OWNER:
            _keep_an_owner(project, membership.user)
        membership.delete()


def _keep_an_owner(project: Project, leaving) -> None:
    others = Membership.objects.filter(project=project, role=Membership.Role.OWNER)
    if not others.exclude(user=leaving).exists():
        raise InputError(f"'{leaving}' is the project's only owner: make someone else owner first")


# --- API tokens ----------------------------------------------------------------------------------

MAX_TOKEN_DAYS = 3650


def token_create(*, user, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A named API token of `user`, expiring after `days` (None: never); (token, secret). The
    secret is shown once: only its digest is stored."""
    name = " ".join(str(name).split())
    if not name or "\x00" in name or len(name) > 100:
        raise InputError("a token needs a name of 1 to 100 characters")
    if days is not None and not (isinstance(days, int) and 1 <= days <= MAX_TOKEN_DAYS):
        raise InputError(f"a token expires after 1 to {MAX_TOKEN_DAYS} days, or never")
    expiry = timedelta(days=days) if days else None
    return ApiToken.objects.create(user=user, expiry=expiry, name=name)


def token_revoke(*, user, token_key: str) -> None:
    """Revoke one of `user`'s tokens (by the key its page shows); others' tokens are not found."""
    key = str(token_key)
    found = ApiToken.objects.filter(user=user, token_key=key) if key.isalnum() else None
    if found is None or not key.isascii() or not found.delete()[0]:
        raise InputError("no such token")
