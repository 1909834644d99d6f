"""Two projects with a test and a job each, and a user of every role: the world the tests of the
access policy (pages and API) look at, and clients acting as each role."""

from django.contrib.auth import get_user_model
from django.test import Client

from evalsite.services import member_set, project_create, token_create
from synth_workers.models import SynthesisJob
from tests.support.listening import open_test

ROLES = ["anonymous", "viewer", "editor", "owner", "outsider", "superuser"]


def build_world(folder) -> tuple[dict, dict]:
    """Projects A and B, each with an open test and a job; a user for each role. The outsider
    owns B and nothing of A. Returns (users by role, objects by "own"/"other")."""
    users = {name: get_user_model().objects.create_user(name, password="pw") for name in ROLES[1:]}
    users["superuser"].is_superuser = True
    users["superuser"].save()
    a = project_create(name="Lab A", owner=users["owner"])
    b = project_create(name="Lab B", owner=users["outsider"])
    member_set(project=a, username="viewer", role="viewer")
    member_set(project=a, username="editor", role="editor")
    objects = {}
    for project, tag, names in [(a, "own", ("Alpha-TTS",)), (b, "other", ("Beta-TTS",))]:
        test = open_test(
            folder / tag,
            n_items=2,
            slug=f"test-{tag}",
            system_names=names,
            project_id=project.pk,
            training=False,
        )
        job = SynthesisJob.objects.create(
            system=test.corpus.recordings, corpus=test.corpus, project=project
        )
        objects[tag] = {"project": project, "test": test, "job": job, "corpus": test.corpus}
    return users, objects


def login_client(users, role) -> Client:
    """A browser's client, logged in as ``role`` (none for "anonymous")."""
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    return client


def api_client(users, role) -> Client:
    """A client that authenticates the way a script does: with a token of its own."""
    if role == "anonymous":
        return Client()
    _, secret = token_create(user=users[role], name=f"{role}'s script")
    return Client(HTTP_AUTHORIZATION=f"Token {secret}")
