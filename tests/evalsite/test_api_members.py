"""Owners remove members over the API, as on the members page; nobody else can, and the last
owner stays."""

from evalsite.models import Membership
from tests.support.roles import api_client


def _members(project) -> dict[str, str]:
    return dict(project.memberships.values_list("user__username", "role"))


def test_an_owner_removes_a_member_and_cannot_remove_the_last_owner(world):
    users, objects = world
    project = objects["own"]["project"]
    owner = api_client(users, "owner")
    assert owner.delete(f"/api/v1/projects/{project.pk}/members/viewer/").status_code == 204
    assert "viewer" not in _members(project)
    again = owner.delete(f"/api/v1/projects/{project.pk}/members/viewer/")
    assert again.status_code == 400
    assert again.json()["error"] == "that account is not a member of this project"
    last = owner.delete(f"/api/v1/projects/{project.pk}/members/owner/")
    assert last.status_code == 400 and "only owner" in last.json()["error"]
    assert _members(project)["owner"] == Membership.Role.OWNER


def test_only_owners_remove_members_and_another_projects_members_do_not_exist(world):
    users, objects = world
    own, other = objects["own"]["project"], objects["other"]["project"]
    for role, expected in [("viewer", 403), ("editor", 403), ("anonymous", 401)]:
        response = api_client(users, role).delete(f"/api/v1/projects/{own.pk}/members/editor/")
        assert response.status_code == expected, role
        assert set(response.json()) == {"error", "problems"}
    outsider = api_client(users, "owner").delete(f"/api/v1/projects/{other.pk}/members/outsider/")
    assert outsider.status_code == 404
    assert _members(own)["editor"] == "editor" and _members(other)["outsider"] == "owner"
