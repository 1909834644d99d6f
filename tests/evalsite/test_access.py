"""Who may do what: every scientist page × every role × an object of one's own project and of
another's (DESIGN.md §10). Objects of a project one is not a member of answer 404; a role too low
for an action answers 403; anonymous visitors are sent to sign in."""

import pytest

from evalsite.errors import InputError
from evalsite.models import Membership, Project
from evalsite.services import member_remove, member_set, project_create
from mushra.models import ListeningTest
from synth_workers.models import SynthesisJob
from tests.support.roles import ROLES, login_client

# (name, method, url of the object dict, action needed, status when allowed)
ENDPOINTS = [
    ("progress page", "get", lambda o: f"/mushra/tests/{o['test'].pk}/", "view", 200),
    ("progress json", "get", lambda o: f"/mushra/tests/{o['test'].pk}/progress.json", "view", 200),
    ("results json", "get", lambda o: f"/mushra/tests/{o['test'].pk}/results.json", "view", 200),
    ("planning page", "get", lambda o: f"/mushra/tests/{o['test'].pk}/planning", "view", 200),
    (
        "planning json",  # no plan of these values yet: its state says so
        "get",
        lambda o: (
            f"/mushra/tests/{o['test'].pk}/planning.json?difference=5&power=0.8"
            "&alpha=0.05&simulations=10"
        ),
        "view",
        200,
    ),
    (
        "ratings.csv",
        "get",
        lambda o: f"/mushra/tests/{o['test'].pk}/results/ratings.csv",
        "view",
        302,  # no ratings yet: back to the test's page, which says so
    ),
    (
        "sessions.csv",  # crowd ids for payments: served with no ratings yet
        "get",
        lambda o: f"/mushra/tests/{o['test'].pk}/results/sessions.csv",
        "view",
        200,
    ),
    ("job page", "get", lambda o: f"/synthesis/jobs/{o['job'].pk}/", "view", 200),
    ("job json", "get", lambda o: f"/synthesis/jobs/{o['job'].pk}/progress.json", "view", 200),
    (
        "synthesize page",  # the recordings system: a page saying why it cannot synthesize
        "get",
        lambda o: f"/synthesis/systems/{o['corpus'].recordings_id}/synthesize/",
        "change",
        200,
    ),
    (
        "system page",
        "get",
        lambda o: f"/synthesis/systems/{o['corpus'].recordings_id}/",
        "view",
        200,
    ),
    ("corpus page", "get", lambda o: f"/synthesis/corpora/{o['corpus'].pk}/", "view", 200),
    (
        "audition grid",
        "get",
        lambda o: f"/synthesis/corpora/{o['corpus'].pk}/audition/",
        "view",
        200,
    ),
    ("stimulus audio", "get", lambda o: f"/synthesis/stimuli/{_stimulus(o)}/audio", "view", 200),
    (
        "stimulus provenance",
        "get",
        lambda o: f"/synthesis/stimuli/{_stimulus(o)}/provenance.json",
        "view",
        200,
    ),
    ("members page", "get", lambda o: f"/projects/{o['project'].pk}/members/", "view", 200),
    (
        "corpus import page",
        "get",
        lambda o: f"/synthesis/projects/{o['project'].pk}/corpora/import/",
        "change",
        200,
    ),
    (
        "rendered import page",
        "get",
        lambda o: f"/synthesis/corpora/{o['corpus'].pk}/import-rendered/",
        "change",
        200,
    ),
    (
        "register page",
        "get",
        lambda o: f"/synthesis/projects/{o['project'].pk}/systems/register/",
        "change",
        200,
    ),
    (
        "register form",
        "get",
        lambda o: f"/synthesis/projects/{o['project'].pk}/systems/register/?backend=piper",
        "change",
        200,
    ),
    (
        "test metrics json",
        "get",
        lambda o: f"/mushra/tests/{o['test'].pk}/metrics.json",
        "view",
        200,
    ),
    (
        "corpus metrics json",
        "get",
        lambda o: f"/synthesis/corpora/{o['corpus'].pk}/metrics.json",
        "view",
        200,
    ),
    ("preview", "post", lambda o: f"/mushra/tests/{o['test'].pk}/preview", "change", 302),
    ("measure test", "post", lambda o: f"/mushra/tests/{o['test'].pk}/metrics", "change", 302),
    (
        "measure corpus",
        "post",
        lambda o: f"/synthesis/corpora/{o['corpus'].pk}/metrics",
        "change",
        302,
    ),
    ("add member", "post", lambda o: f"/projects/{o['project'].pk}/members/change", "manage", 302),
    ("close test", "post", lambda o: f"/mushra/tests/{o['test'].pk}/close", "change", 302),
    ("cancel job", "post", lambda o: f"/synthesis/jobs/{o['job'].pk}/cancel", "change", 302),
]
RANK = {"viewer": 1, "editor": 2, "owner": 3}


def _stimulus(objects) -> int:
    """A ready stimulus of the object dict's corpus (its recordings')."""
    return (
        objects["corpus"].recordings.stimuli.filter(status="ready").values_list("pk", flat=True)[0]
    )


NEEDS = {"view": 1, "change": 2, "manage": 3}


def _expected(role: str, whose: str, action: str, allowed: int) -> int:
    if role == "anonymous":
        return 302  # to the sign-in page
    if role == "superuser":
        return allowed
    if role == "outsider":  # owner of the other project, stranger to ours
        return allowed if whose == "other" else 404
    if whose == "other":
        return 404
    return allowed if RANK[role] >= NEEDS[action] else 403


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_for_its_own_and_another_projects_objects(world, role):
    users, objects = world
    client = login_client(users, role)
    for whose in ("own", "other"):
        target = objects[whose]
        for name, method, url, action, allowed in ENDPOINTS:
            data = {"username": "editor", "role": "viewer"} if name == "add member" else {}
            response = getattr(client, method)(url(target), data)
            expected = _expected(role, whose, action, allowed)
            assert response.status_code == expected, (role, whose, name, response.status_code)
            if expected == 302 and role == "anonymous":
                assert response.url.startswith("/accounts/login/")
        test = ListeningTest.objects.get(pk=target["test"].pk)
        closed = _expected(role, whose, "change", 302) == 302 and role != "anonymous"
        assert (test.status == "closed") == closed, (role, whose)
        job = SynthesisJob.objects.get(pk=target["job"].pk)
        assert (job.status == "cancelled") == closed, (role, whose)  # the same rights
        viewers = Membership.objects.filter(project=target["project"], role="viewer")
        if _expected(role, whose, "manage", 302) != 302 or role == "anonymous":
            assert not viewers.filter(user__username="editor").exists()


@pytest.mark.parametrize("role", ROLES)
def test_the_dashboard_shows_each_role_only_the_projects_it_is_a_member_of(world, role):
    users, objects = world
    response = login_client(users, role).get("/dashboard/")
    if role == "anonymous":
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
        return
    page = response.content.decode()
    for whose in ("own", "other"):
        project, job = objects[whose]["project"], objects[whose]["job"]
        shown = _expected(role, whose, "view", 200) == 200
        assert (f'data-project="{project.name}"' in page) == shown, (role, whose)
        assert (f'href="/synthesis/jobs/{job.pk}/"' in page) == shown, (role, whose)


@pytest.mark.parametrize("role", ROLES)
def test_the_new_test_page_offers_only_corpora_the_user_may_build_on(world, role):
    users, objects = world
    client = login_client(users, role)
    for whose in ("own", "other"):
        response = client.get(f"/mushra/new/?corpus={objects[whose]['corpus'].pk}")
        if role == "anonymous":
            assert response.status_code == 302
            continue
        may = _expected(role, whose, "change", 200) == 200
        assert response.status_code == 200
        # The form names the corpus only where the user may build a test on it.
        assert (b'name="conditions"' in response.content) == may, (role, whose)
        assert (objects[whose]["corpus"].name.encode() in response.content) == may


def test_projects_list_shows_only_mine_with_my_role(world):
    users, objects = world
    client = login_client(users, "viewer")
    page = client.get("/projects/").content.decode()
    assert "Lab A" in page and "Lab B" not in page and "viewer" in page
    response = client.post("/projects/", {"name": "Lab C"})
    assert response.status_code == 302
    assert Membership.objects.get(project__name="Lab C", user=users["viewer"]).role == "owner"
    assert (
        "already exists"
        in client.post("/projects/", {"name": "Lab A"}, follow=True).content.decode()
    )


def test_a_project_keeps_an_owner_and_roles_are_checked(world):
    users, objects = world
    a = objects["own"]["project"]
    with pytest.raises(InputError, match="only owner"):
        member_set(project=a, username="owner", role="editor")
    with pytest.raises(InputError, match="only owner"):
        member_remove(project=a, user_id=users["owner"].pk)
    with pytest.raises(InputError, match="unknown role"):
        member_set(project=a, username="viewer", role="admin")
    with pytest.raises(InputError, match="no account"):
        member_set(project=a, username="nobody\x00", role="viewer")
    member_set(project=a, username="editor", role="owner")
    member_set(project=a, username="owner", role="viewer")  # another owner is left
    assert a.memberships.get(user=users["owner"]).role == "viewer"
    with pytest.raises(InputError, match="1 to 200"):
        project_create(name="\x00", owner=users["viewer"])
    assert Project.objects.filter(name="Lab A").count() == 1


def test_a_staff_account_sees_only_its_projects_in_the_admin(world):
    users, objects = world
    from django.contrib.auth.models import Permission

    editor = users["editor"]
    editor.is_staff = True
    editor.save()
    editor.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = login_client(users, "editor")
    listing = client.get("/admin/mushra/listeningtest/").content.decode()
    own, other = objects["own"]["test"].pk, objects["other"]["test"].pk
    assert f"/listeningtest/{own}/change/" in listing
    assert f"/listeningtest/{other}/change/" not in listing
    assert client.get(f"/admin/mushra/listeningtest/{own}/change/").status_code == 200
    assert client.get(f"/admin/mushra/listeningtest/{other}/change/").status_code == 302
    jobs = client.get("/admin/synth_workers/synthesisjob/").content.decode()
    assert f"job {objects['own']['job'].pk}:" in jobs
    assert f"job {objects['other']['job'].pk}:" not in jobs
    assert client.get("/admin/synth_workers/importrun/").status_code == 403


def test_a_test_or_job_cannot_mix_projects(world):
    users, objects = world
    from mushra.services import SystemCondition, listening_test_create
    from synth_workers.models import System

    stranger = System.objects.get(name="Beta-TTS")
    with pytest.raises(InputError, match="another project"):
        listening_test_create(
            name="Mixed",
            slug="mixed",
            corpus=objects["own"]["corpus"],
            systems=[SystemCondition(stranger)],
        )
    assert not ListeningTest.objects.filter(slug="mixed").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/synthesis/systems/{}/",
        "/synthesis/systems/{}/synthesize/",
        "/synthesis/corpora/{}/",
        "/synthesis/corpora/{}/audition/",
        "/synthesis/stimuli/{}/audio",
        "/synthesis/stimuli/{}/provenance.json",
        "/synthesis/jobs/{}/",
        "/synthesis/imports/{}/",
        "/synthesis/corpora/{}/import-rendered/",
        "/synthesis/projects/{}/corpora/import/",
        "/synthesis/projects/{}/systems/register/",
        "/mushra/tests/{}/",
        "/projects/{}/members/",
        "/api/v1/stimuli/{}/",
    ],
)
def test_an_id_beyond_a_32_bit_column_is_a_404_not_an_error(world, url):
    """PostgreSQL refuses a number its integer column cannot hold: no page may pass one on."""
    users, _ = world
    client = login_client(users, "superuser")
    for number in (2**31, 10**30):
        assert client.get(url.format(number)).status_code == 404, (url, number)
