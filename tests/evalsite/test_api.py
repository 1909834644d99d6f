"""The API under /api/v1/: tokens (named, hashed, revocable, expiring), the access policy on every
resource, one error shape, pagination with a bounded number of queries, and a valid schema."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evalsite.models import ApiToken, Membership
from evalsite.services import token_create
from mushra.models import ListeningTest
from synth_workers.models import Stimulus, SynthesisJob, System
from tests.support.audio import write_tone
from tests.support.roles import ROLES, api_client

RANK = {"viewer": 1, "editor": 2, "owner": 3}
NEEDS = {"view": 1, "change": 2, "manage": 3}


def _stimulus(objects: dict) -> int:
    """A ready stimulus of the project's test system."""
    system = objects["project"].systems.get(name__in=["Alpha-TTS", "Beta-TTS"])
    return system.stimuli.filter(status="ready").values_list("pk", flat=True)[0]


# (name, method, path of the object dict, action needed, body)
RESOURCES = [
    ("test", "get", lambda o: f"/api/v1/tests/{o['test'].pk}/", "view", None),
    ("test progress", "get", lambda o: f"/api/v1/tests/{o['test'].pk}/progress/", "view", None),
    ("job", "get", lambda o: f"/api/v1/jobs/{o['job'].pk}/", "view", None),
    ("job progress", "get", lambda o: f"/api/v1/jobs/{o['job'].pk}/progress/", "view", None),
    ("system", "get", lambda o: f"/api/v1/systems/{o['test'].corpus.recordings_id}/", "view", None),
    ("corpus", "get", lambda o: f"/api/v1/corpora/{o['corpus'].pk}/", "view", None),
    ("project", "get", lambda o: f"/api/v1/projects/{o['project'].pk}/", "view", None),
    ("members", "get", lambda o: f"/api/v1/projects/{o['project'].pk}/members/", "view", None),
    ("stimulus", "get", lambda o: f"/api/v1/stimuli/{_stimulus(o)}/", "view", None),
    ("stimulus audio", "get", lambda o: f"/api/v1/stimuli/{_stimulus(o)}/audio/", "view", None),
    ("cancel job", "post", lambda o: f"/api/v1/jobs/{o['job'].pk}/cancel/", "change", {}),
    (
        "add member",
        "post",
        lambda o: f"/api/v1/projects/{o['project'].pk}/members/",
        "manage",
        {"username": "editor", "role": "viewer"},
    ),
    ("close test", "post", lambda o: f"/api/v1/tests/{o['test'].pk}/close/", "change", {}),
]


def _expected(role: str, whose: str, action: str) -> int:
    if role == "anonymous":
        return 401
    if role == "superuser" or (role == "outsider" and whose == "other"):
        return 200
    if role == "outsider" or whose == "other":
        return 404  # another project's objects do not exist for you
    return 200 if RANK[role] >= NEEDS[action] else 403


@pytest.mark.parametrize("role", ROLES)
def test_every_resource_answers_each_role_for_its_own_and_another_projects_objects(world, role):
    users, objects = world
    client = api_client(users, role)
    for whose in ("own", "other"):
        for name, method, path, action, body in RESOURCES:
            url = path(objects[whose])
            if method == "get":
                response = client.get(url)
            else:
                response = client.post(url, body, content_type="application/json")
            expected = _expected(role, whose, action)
            assert response.status_code == expected, (role, whose, name, response.content[:200])
            if expected != 200:
                assert set(response.json()) == {"error", "problems"}, response.json()
        closed = ListeningTest.objects.get(pk=objects[whose]["test"].pk).status == "closed"
        assert closed == (_expected(role, whose, "change") == 200)
        cancelled = SynthesisJob.objects.get(pk=objects[whose]["job"].pk).status == "cancelled"
        assert cancelled == closed


def test_lists_hold_only_my_projects_objects_and_paginate(world):
    users, objects = world
    client = api_client(users, "viewer")
    for resource, key in [("tests", "test"), ("jobs", "job"), ("corpora", "corpus")]:
        page = client.get(f"/api/v1/{resource}/").json()
        ids = {row["id"] for row in page["results"]}
        assert objects["own"][key].pk in ids and objects["other"][key].pk not in ids, resource
        assert {"count", "next", "previous", "results"} <= set(page)
    projects = client.get("/api/v1/projects/").json()["results"]
    assert [(p["name"], p["role"]) for p in projects] == [("Lab A", "viewer")]
    own = objects["own"]["project"].pk
    systems = client.get(f"/api/v1/systems/?project={own}").json()["results"]
    assert {s["name"] for s in systems} >= {"Alpha-TTS"} and "Beta-TTS" not in str(systems)
    assert all(s["status"] == "usable" for s in systems)
    test = client.get(f"/api/v1/tests/{objects['own']['test'].pk}/").json()
    assert test["listener_link"].endswith("/t/test-own/") and test["status"] == "open"


def test_list_endpoints_cost_the_same_queries_for_one_row_or_many(world):
    users, objects = world
    client = api_client(users, "owner")
    project = objects["own"]["project"]
    counts = {}
    utterance = objects["own"]["corpus"].utterances.first()
    for n in (0, 6):
        for i in range(n):
            system = System.objects.create(
                name=f"Extra {i}", slug=f"extra-{i}", kind="rendered", project=project
            )
            Stimulus.objects.create(system=system, utterance=utterance, policy_key="p")
        counts[n] = {}
        for resource in ("projects", "systems", "corpora", "jobs", "tests", "stimuli"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"/api/v1/{resource}/").status_code == 200
            counts[n][resource] = len(queries)
    assert counts[0] == counts[6], counts
    assert max(counts[6].values()) <= 8, counts


def test_tokens_are_named_hashed_revocable_and_expire(world, client):
    users, _ = world
    client.force_login(users["editor"])
    page = client.post("/tokens/", {"name": "training cluster", "days": "30"}).content.decode()
    secret = page.split('id="token-secret">')[1].split("<")[0]
    token = ApiToken.objects.get(user=users["editor"])
    assert token.name == "training cluster" and secret not in (token.digest + token.token_key)
    assert timedelta(days=29) < token.expiry - timezone.now() <= timedelta(days=30)
    script = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    assert script.get("/api/v1/projects/").status_code == 200
    assert "training cluster" in client.get("/tokens/").content.decode()
    assert secret not in client.get("/tokens/").content.decode()  # shown once only
    client.post("/tokens/", {"revoke": token.token_key})
    refused = script.get("/api/v1/projects/")
    assert refused.status_code == 401 and refused.json()["error"]
    _, old = token_create(user=users["editor"], name="old", days=1)
    ApiToken.objects.filter(name="old").update(expiry=timezone.now() - timedelta(minutes=1))
    assert Client(HTTP_AUTHORIZATION=f"Token {old}").get("/api/v1/projects/").status_code == 401
    bad = client.post("/tokens/", {"name": "x", "days": "forever"}).content.decode()
    assert "1 to 3650 days" in bad and not ApiToken.objects.filter(name="x").exists()
    # Someone else's token key revokes nothing.
    _, theirs = token_create(user=users["viewer"], name="viewer's")
    client.post("/tokens/", {"revoke": ApiToken.objects.get(name="viewer's").token_key})
    assert ApiToken.objects.filter(name="viewer's").exists()


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token " + "0" * 500, "Token abc\x00def", "Token zzzz", "Token éé"],
)
def test_a_malformed_token_is_a_401_never_an_error(db, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/projects/")
    assert response.status_code == 401 and "error" in response.json()


def test_errors_name_the_field_and_the_services_message(world):
    users, objects = world
    client = api_client(users, "owner")
    missing = client.post("/api/v1/projects/", {}, content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["problems"] == ["name: This field is required."]
    taken = client.post("/api/v1/projects/", {"name": "Lab A"}, content_type="application/json")
    assert (
        taken.status_code == 400
        and taken.json()["error"] == "a project named 'Lab A' already exists"
    )
    made = client.post("/api/v1/projects/", {"name": "Lab C"}, content_type="application/json")
    assert made.status_code == 201 and made.json()["role"] == "owner"
    reopen = client.post(f"/api/v1/tests/{objects['own']['test'].pk}/open/")
    assert reopen.status_code == 400 and "only a draft can be opened" in reopen.json()["error"]
    role = client.post(
        f"/api/v1/projects/{objects['own']['project'].pk}/members/",
        {"username": "viewer", "role": "admin"},
        content_type="application/json",
    )
    assert role.status_code == 400 and role.json()["problems"][0].startswith("role: ")
    assert Membership.objects.get(user=users["viewer"]).role == "viewer"
    # A body of a type the operation does not read: a 415 naming what it reads (documented).
    typed = client.post("/api/v1/corpora/", "key,text", content_type="text/csv")
    assert typed.status_code == 415 and typed.json()["error"] == (
        "the request body's Content-Type (text/csv) is not one this operation reads; "
        "send multipart/form-data or application/json"
    )


def test_the_schema_is_valid_openapi_and_the_docs_are_served_without_a_cdn(db, tmp_path, client):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert text.startswith("openapi: 3") and "/api/v1/tests/{id}/open/" in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()


def test_a_test_is_built_from_a_json_spec_opened_and_refused_outside_ones_projects(world):
    users, objects = world
    editor, outsider = api_client(users, "editor"), api_client(users, "outsider")
    corpus = objects["own"]["corpus"]
    alpha = System.objects.get(name="Alpha-TTS")
    spec = {
        "name": "Alpha again",
        "slug": "alpha-again",
        "corpus": corpus.pk,
        "systems": [{"system": alpha.pk, "label": "Alpha"}],
        "anchors": ["low"],
        "trials_per_session": 2,
        "training": False,
    }
    made = editor.post("/api/v1/tests/", spec, content_type="application/json")
    assert made.status_code == 201, made.json()
    assert made.json()["status"] == "draft" and made.json()["project"] == corpus.project_id
    test = ListeningTest.objects.get(slug="alpha-again")
    assert sorted(test.conditions.values_list("label", flat=True)) == sorted(
        ["Alpha", "Hidden reference", "Low anchor (3.5 kHz)"]
    )
    opened = editor.post(f"/api/v1/tests/{test.pk}/open/")
    assert opened.status_code == 200 and opened.json()["status"] == "open"
    again = editor.post("/api/v1/tests/", spec, content_type="application/json")
    assert again.status_code == 400 and "already exists" in again.json()["error"]
    stranger = outsider.post(
        "/api/v1/tests/", {**spec, "slug": "theirs"}, content_type="application/json"
    )
    assert stranger.status_code == 400 and "none of your projects" in stranger.json()["error"]
    beta = System.objects.get(name="Beta-TTS")
    mixed = editor.post(
        "/api/v1/tests/",
        {**spec, "slug": "mixed", "systems": [{"system": beta.pk}]},
        content_type="application/json",
    )
    assert mixed.status_code == 400 and "not in the corpus' project" in mixed.json()["error"]
    empty = editor.post("/api/v1/tests/", {"name": "x"}, content_type="application/json")
    assert "systems: This field is required." in empty.json()["problems"]
    viewer = api_client(users, "viewer").post(
        "/api/v1/tests/", {**spec, "slug": "viewer"}, content_type="application/json"
    )
    assert viewer.status_code == 400  # a viewer builds nothing
    assert not ListeningTest.objects.filter(slug__in=["theirs", "mixed", "viewer"]).exists()


def test_jobs_are_refused_with_the_services_message_and_results_say_when_there_are_none(world):
    users, objects = world
    editor = api_client(users, "editor")
    own = objects["own"]
    job = {"system": own["test"].corpus.recordings_id, "corpus": own["corpus"].pk}
    refused = editor.post("/api/v1/jobs/", job, content_type="application/json")
    assert refused.status_code == 400 and "nothing to synthesize" in refused.json()["error"]
    other = {"system": objects["other"]["test"].corpus.recordings_id, "corpus": own["corpus"].pk}
    assert editor.post("/api/v1/jobs/", other, content_type="application/json").status_code == 400
    test = own["test"].pk
    none_yet = editor.get(f"/api/v1/tests/{test}/results/analysis.json")
    assert none_yet.status_code == 400 and none_yet.json()["error"].startswith("no results: ")
    assert none_yet.json()["error"].endswith("has no ratings yet")
    unknown = editor.get(f"/api/v1/tests/{test}/results/secret.txt")
    assert unknown.status_code == 400 and "report.html" in unknown.json()["error"]
    theirs = editor.get(f"/api/v1/tests/{objects['other']['test'].pk}/results/analysis.json")
    assert theirs.status_code == 404


def test_a_create_resent_with_its_idempotency_key_answers_the_same_and_makes_nothing_twice(
    world,
):
    users, _ = world
    client = api_client(users, "editor")
    first = client.post(
        "/api/v1/projects/", {"name": "Lab D"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="run-42",
    )  # fmt: skip
    again = client.post(
        "/api/v1/projects/", {"name": "Lab D"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="run-42",
    )  # fmt: skip
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Membership.objects.filter(project__name="Lab D").count() == 1
    # Without the key the same request is a new one, refused because the name is taken.
    plain = client.post("/api/v1/projects/", {"name": "Lab D"}, content_type="application/json")
    assert plain.status_code == 400
    # A failed request keeps no record: fixed and resent with its key, it succeeds.
    failed = client.post(
        "/api/v1/projects/", {"name": ""}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="run-43",
    )  # fmt: skip
    fixed = client.post(
        "/api/v1/projects/", {"name": "Lab E"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="run-43",
    )  # fmt: skip
    assert failed.status_code == 400 and fixed.status_code == 201
    elsewhere = client.post(
        "/api/v1/tests/", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="run-42"
    )
    assert elsewhere.status_code == 400 and "another request" in elsewhere.json()["error"]
    bad = client.post(
        "/api/v1/projects/", {"name": "Lab F"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="x" * 101,
    )  # fmt: skip
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()["error"]


def test_a_checkpoint_is_registered_by_upload_and_bounded(world, settings):
    from synth_workers.backends.piper import joe_voice_files

    users, objects = world
    client = api_client(users, "editor")
    own = objects["own"]["project"].pk
    files = joe_voice_files()
    form = {"project": own, "name": "Joe", "backend": "piper", "config": "{}"}
    with files["model"].open("rb") as model, files["config"].open("rb") as config:
        made = client.post("/api/v1/systems/", {**form, "file.model": model, "file.config": config})
    assert made.status_code == 201, made.json()
    system = System.objects.get(name="Joe")
    assert made.json()["status"] == "checking" and system.project_id == own
    assert sorted(system.files.values_list("role", flat=True)) == ["config", "model"]
    assert system.files.get(role="model").size == files["model"].stat().st_size
    with files["config"].open("rb") as config:
        missing = client.post("/api/v1/systems/", {**form, "name": "Half", "file.config": config})
    assert missing.status_code == 400 and not System.objects.filter(name="Half").exists()
    viewer = api_client(users, "viewer").post("/api/v1/systems/", {**form, "name": "Viewer's"})
    assert viewer.status_code == 400 and "not an editor" in viewer.json()["error"]
    settings.SYNTH_MAX_CHECKPOINT_BYTES = 1000
    with files["model"].open("rb") as model:
        big = client.post("/api/v1/systems/", {**form, "name": "Big", "file.model": model})
    assert big.status_code == 413 and not System.objects.filter(name="Big").exists()


def test_a_corpus_is_imported_as_a_run_whose_progress_its_maker_follows(world, tmp_path):
    import io
    import zipfile

    from synth_workers.models import Corpus
    from synth_workers.services.import_runs import import_run_execute

    users, objects = world
    client = api_client(users, "editor")
    own = objects["own"]["project"].pk
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(2):
            write_tone(tmp_path / f"r{i}.wav", seconds=1.0, freq=200 + 50 * i, seed=i)
            zf.write(tmp_path / f"r{i}.wav", f"r{i}.wav")
    manifest = io.BytesIO(b"key,text,recording\nu0,One.,r0.wav\nu1,Two.,r1.wav\n")
    manifest.name, archive.name = "manifest.csv", "audio.zip"
    archive.seek(0)
    form = {"project": own, "name": "API corpus", "manifest": manifest, "audio": archive}
    queued = client.post("/api/v1/corpora/", form)
    assert queued.status_code == 202 and queued.json()["status"] == "queued", queued.json()
    run_id = queued.json()["id"]
    import_run_execute(run_id=run_id)  # what the cpu worker runs for it
    run = client.get(f"/api/v1/imports/{run_id}/").json()
    assert run["status"] == "done" and run["done"] == run["total"] == 2, run
    corpus = Corpus.objects.get(name="API corpus")
    assert corpus.project_id == own and corpus.recordings.project_id == own
    assert api_client(users, "viewer").get(f"/api/v1/imports/{run_id}/").status_code == 404
    viewer = api_client(users, "viewer").post("/api/v1/corpora/", {"project": own, "name": "x"})
    assert viewer.status_code == 400


def test_a_spec_names_the_test_type_and_an_unknown_one_is_refused(world):
    users, objects = world
    editor = api_client(users, "editor")
    alpha = System.objects.get(name="Alpha-TTS")
    spec = {
        "name": "Alpha MOS",
        "slug": "alpha-mos",
        "test_type": "acr",
        "corpus": objects["own"]["corpus"].pk,
        "systems": [{"system": alpha.pk, "label": "Alpha"}],
    }
    made = editor.post("/api/v1/tests/", spec, content_type="application/json")
    assert made.status_code == 201 and made.json()["test_type"] == "acr", made.json()
    test = ListeningTest.objects.get(slug="alpha-mos")
    assert sorted(test.conditions.values_list("role", "label")) == [
        ("reference", "Recordings"),
        ("system", "Alpha"),
    ]  # ACR: no hidden reference, no anchors unless asked for
    unknown = editor.post(
        "/api/v1/tests/", {**spec, "slug": "x", "test_type": "bws"}, content_type="application/json"
    )
    assert unknown.status_code == 400 and any(
        p.startswith("test_type:") for p in unknown.json()["problems"]
    )
    assert not ListeningTest.objects.filter(slug="x").exists()
