"""A scientist's projects: the dashboard, the list (and a new one), each project's members, and
API tokens.

Thin: every write goes through ``evalsite.services``; who may do what is ``evalsite.access``'s.
Members see a project's member list; only owners change it. Another project is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from evalsite import access, selectors, services
from evalsite.errors import InputError
from evalsite.models import ApiToken, Membership, Project


@login_required
def dashboard(request: HttpRequest):
    """Each of my projects with what it holds, linked to their pages."""
    return render(
        request, "projects/dashboard.html", {"projects": selectors.dashboard(request.user)}
    )


@login_required
def project_list(request: HttpRequest):
    """My projects with my role in each, and a form for a new one (whose owner I become)."""
    if request.method == "POST":
        try:
            project = services.project_create(name=request.POST.get("name", ""), owner=request.user)
        except InputError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Project '{project}' created; you are its owner.")
            return redirect("project-members", project_id=project.pk)
    roles = dict(Membership.objects.filter(user=request.user).values_list("project_id", "role"))
    projects = [(p, roles.get(p.pk, "owner")) for p in access.projects_for(request.user)]
    return render(request, "projects/list.html", {"projects": projects})


@login_required
def members(request: HttpRequest, project_id: int):
    project = _project(request, project_id, "view")
    context = {
        "project": project,
        "members": project.memberships.select_related("user").order_by("user__username"),
        "roles": Membership.Role.choices,
        "can_manage": access.may(request.user, "manage", project.pk),
    }
    return render(request, "projects/members.html", context)


@login_required
@require_POST
def member_change(request: HttpRequest, project_id: int):
    """Add a member or change a role (``username`` and ``role``), or remove one (``remove``)."""
    project = _project(request, project_id, "manage")
    try:
        if remove := request.POST.get("remove"):
            services.member_remove(project=project, user_id=_int(remove))
            messages.success(request, "Member removed.")
        else:
            username = request.POST.get("username", "")
            role = request.POST.get("role", "")
            services.member_set(project=project, username=username, role=role)
            messages.success(request, f"'{username}' is now {role} of this project.")
    except InputError as exc:
        messages.error(request, exc.message)
    return redirect("project-members", project_id=project.pk)


def _project(request: HttpRequest, project_id: int, action: str) -> Project:
    return access.get_or_404(request.user, Project.objects.all(), action, via="id", pk=project_id)


def _int(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 10 else 0


@login_required
def tokens(request: HttpRequest):
    """My API tokens: make a named one (its secret shown this once), or revoke one."""
    secret = None
    if request.method == "POST":
        try:
            if revoke := request.POST.get("revoke"):
                services.token_revoke(user=request.user, token_key=revoke)
                messages.success(
                    request, "Token revoked: scripts using it are refused from now on."
                )
            else:
                days = request.POST.get("days", "").strip()
                _, secret = services.token_create(
                    user=request.user,
                    name=request.POST.get("name", ""),
                    days=(_int(days) or -1) if days else None,  # -1: refused, with the range
                )
        except InputError as exc:
            messages.error(request, exc.message)
    context = {"tokens": ApiToken.objects.filter(user=request.user), "secret": secret}
    return render(request, "projects/tokens.html", context)
