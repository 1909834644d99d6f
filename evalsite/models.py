"""Projects and who may do what in them (DESIGN.md §10).

A project is a lab's or a study's space: every system, corpus, synthesis job and listening test
belongs to exactly one. A membership gives a user one role in a project. What each role may do
is decided in one place, ``evalsite.access``; this module only stores it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from knox.models import AbstractAuthToken

DEFAULT_PROJECT_SLUG = "default"


class Project(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        # In rising order of what they allow (evalsite.access.ROLE_RANK).
        VIEWER = "viewer", "Viewer: reads everything, downloads results"
        EDITOR = "editor", "Editor: also registers, imports, synthesizes, runs tests"
        OWNER = "owner", "Owner: also manages members"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_once"),
            models.CheckConstraint(
                name="membership_role_valid", condition=Q(role__in=["viewer", "editor", "owner"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.project} ({self.role})"


def default_project_id() -> int:
    """The project that work without one lands in: command-line imports and registrations,
    and everything that existed before projects did. Made on first use."""
    project, _ = Project.objects.get_or_create(
        slug=DEFAULT_PROJECT_SLUG, defaults={"name": "Default project"}
    )
    return project.pk


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox's, stored as its SHA-512 digest) with the name its owner
    gave it, so a scientist can tell "training cluster" from "laptop" when revoking one."""

    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class IdempotentRequest(models.Model):
    """An API create made with an ``Idempotency-Key``, and its answer (evalsite.api.idempotency)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(default="null")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.key} → {self.status}"
