"""Who may do what to which object: the one access policy of pages, API and admin (DESIGN.md §10).

Every system, corpus, synthesis job and listening test belongs to a project; a user's role in it
decides what they may do:

    view    viewer, editor, owner   read pages, progress, results and audio
    change  editor, owner           register, import, synthesize, build, open and close tests
    manage  owner                   add and remove members, change roles

Superusers operate the installation and may do everything. Objects of a project the user is not
a member of do not exist for them: ``get_or_404`` answers 404 whatever the action, so nobody
learns what another project holds. A member whose role is too low for an action gets 403 (they
can see the object, so its existence is no secret).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from evalsite.models import Membership, Project

Role = Membership.Role
ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}
NEEDS = {"view": Role.VIEWER, "change": Role.EDITOR, "manage": Role.OWNER}


def role_in(user, project_id: int) -> str | None:
    """The user's role in the project (an owner's for a superuser); None for a non-member."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.OWNER
    return (
        Membership.objects.filter(user=user, project_id=project_id)
        .values_list("role", flat=True)
        .first()
    )


def may(user, action: str, project_id: int) -> bool:
    role = role_in(user, project_id)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[NEEDS[action]]


def projects_for(user, action: str = "view") -> QuerySet[Project]:
    """The projects in which the user may do `action`."""
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    roles = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[NEEDS[action]]]
    return Project.objects.filter(memberships__user=user, memberships__role__in=roles)


def visible(user, queryset: QuerySet, action: str = "view", via: str = "project") -> QuerySet:
    """The objects of `queryset` the user may do `action` to; `via` is the path from the model
    to its project (``"project"``, e.g. ``"system__project"`` for a stimulus, or ``"id"`` for
    projects themselves)."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return queryset
    return queryset.filter(**{f"{via}__in": projects_for(user, action)})


def get_or_404(user, queryset: QuerySet, action: str = "view", via: str = "project", **lookup):
    """The object, if the user may see it and do `action` to it.

    404 when it does not exist or belongs to a project the user is not a member of; 403 when
    they are a member whose role does not allow `action`."""
    try:
        obj = visible(user, queryset, "view", via).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"no such {queryset.model._meta.verbose_name}") from None
    require(user, action, project_of(obj, via))
    return obj


def require(user, action: str, project_id: int) -> None:
    """PermissionDenied (403) unless the user may do `action` in the project."""
    if not may(user, action, project_id):
        raise PermissionDenied(f"your role in this project does not allow this ({action})")


def project_of(obj: Model, via: str = "project") -> int:
    """The project id of `obj` along `via` (``"id"``: `obj` is the project)."""
    *steps, last = via.split("__")
    for step in steps:
        obj = getattr(obj, step)
    return obj.pk if last == "id" else getattr(obj, f"{last}_id")
