"""Stimuli over the API (/api/v1/stimuli/): filters that narrow the list and refuse malformed
values with a 400, the detail with its provenance, the prepared FLAC to any member; and a
system's pre-rendered audio imported as a run into its corpus' project."""

import io
import zipfile

import pytest
from django.test import Client

from evalsite.services import token_create
from synth_workers.models import ImportRun, Stimulus, System
from synth_workers.services.import_runs import import_run_execute
from synth_workers.services.preparation import stimulus_key
from tests.support.audio import write_tone


def api(users, role: str) -> Client:
    _, secret = token_create(user=users[role], name=f"{role}'s script")
    return Client(HTTP_AUTHORIZATION=f"Token {secret}")


def ids(client: Client, query: str = "") -> set[int]:
    response = client.get(f"/api/v1/stimuli/?{query}")
    assert response.status_code == 200, (query, response.json())
    body = response.json()
    assert body["next"] is None, "the test world fits one page"
    return {row["id"] for row in body["results"]}


def styled(system: System, condition: dict) -> Stimulus:
    """A pending stimulus of `system` under `condition` (as a synthesis job makes them)."""
    return Stimulus.objects.create(
        system=system,
        utterance=system.project.corpora.get().utterances.get(key="item0"),
        condition=condition,
        condition_key=stimulus_key(condition),
        policy_key="api-test",
    )


def test_the_list_holds_my_projects_stimuli_with_system_utterance_and_audio_link(world):
    users, objects = world
    own, other = objects["own"]["project"], objects["other"]["project"]
    client = api(users, "viewer")
    assert ids(client) == set(
        Stimulus.objects.filter(system__project=own).values_list("pk", flat=True)
    )
    assert not ids(client) & set(
        Stimulus.objects.filter(system__project=other).values_list("pk", flat=True)
    )
    alpha = Stimulus.objects.filter(system__name="Alpha-TTS", utterance__key="item0").get()
    row = client.get(f"/api/v1/stimuli/?system={alpha.system_id}&utterance=item0").json()
    (item,) = row["results"]
    assert item["system"] == {"id": alpha.system_id, "name": "Alpha-TTS"}
    assert item["utterance"] == {
        "id": alpha.utterance_id,
        "key": "item0",
        "text": "Sentence number 0.",
    }
    assert (item["status"], item["sha256"], item["condition"]) == ("ready", alpha.sha256, {})
    assert item["audio"] == f"http://testserver/api/v1/stimuli/{alpha.pk}/audio/"
    assert "provenance" not in item
    detail = client.get(f"/api/v1/stimuli/{alpha.pk}/").json()
    assert detail["provenance"] == alpha.provenance and detail["provenance"]


def test_each_filter_narrows_the_list(world):
    users, objects = world
    own = objects["own"]
    client = api(users, "owner")
    alpha = System.objects.get(name="Alpha-TTS")
    mine = Stimulus.objects.filter(system__project=own["project"])
    dj = styled(alpha, {"style": "dj", "speed": 1.5})
    news = styled(alpha, {"style": "news", "speed": 1.5})
    styled(System.objects.get(name="Beta-TTS"), {"style": "dj"})  # another project's

    def pks(queryset) -> set[int]:
        return set(queryset.values_list("pk", flat=True))

    assert ids(client, f"project={own['project'].pk}") == pks(mine)
    assert ids(client, f"project={objects['other']['project'].pk}") == set()
    assert ids(client, f"corpus={own['corpus'].pk}") == pks(mine)
    assert ids(client, f"system={alpha.pk}") == pks(mine.filter(system=alpha))
    item1 = own["corpus"].utterances.get(key="item1")
    assert ids(client, "utterance=item1") == pks(mine.filter(utterance=item1)) != set()
    assert ids(client, f"utterance={item1.pk}") == pks(mine.filter(utterance=item1))
    assert ids(client, "status=pending") == {dj.pk, news.pk}
    assert ids(client, "status=ready") == pks(mine.filter(status="ready"))
    assert ids(client, "condition=style=dj") == {dj.pk}
    assert ids(client, "condition=style=dj,speed=1.5") == {dj.pk}
    assert ids(client, "condition=style=news&condition=speed=1.5") == {news.pk}
    assert ids(client, "condition=speed=1.5") == {dj.pk, news.pk}  # the number 1.5 in JSON
    assert ids(client, "condition=style=dj,speed=2") == set()
    anchors = pks(mine.filter(condition__has_key="anchor"))
    assert (
        ids(client, "condition=anchor=anchor_35")
        == pks(mine.filter(condition__anchor="anchor_35"))
        != set()
    )
    assert anchors > ids(client, "condition=anchor=anchor_35")
    assert ids(client, f"system={alpha.pk}&status=ready&utterance=item0") == pks(
        mine.filter(system=alpha, status="ready", utterance__key="item0")
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("project=abc", "project must be an id"),
        ("project=99999999999999999999", "project must be an id"),
        ("project=2147483648", "project must be an id"),
        ("project=1%00", "project must be an id"),
        ("corpus=-1", "corpus must be an id"),
        ("system=0", "system must be an id"),
        ("system=%EF%BC%91", "system must be an id"),  # a full-width digit one
        ("utterance=item%00", "utterance must be 1 to 200 printable characters"),
        ("utterance=", "utterance must be 1 to 200 printable characters"),
        ("status=done", "status must be one of pending, ready, failed"),
        ("condition=style", "condition must be key=value pairs"),
        ("condition==dj", "condition must be key=value pairs"),
        ("condition=0=x", "condition must be key=value pairs"),
        ("condition=st%00yle=dj", "condition must be key=value pairs"),
        ("condition=style=d%00j", "condition style must be 1 to 200 printable characters"),
        ("condition=" + ",".join(f"k{i}=v" for i in range(11)), "condition: at most 10"),
    ],
)
def test_a_malformed_filter_is_a_400_that_names_it(world, query, message):
    users, _ = world
    response = api(users, "viewer").get(f"/api/v1/stimuli/?{query}")
    assert response.status_code == 400, (query, response.content[:300])
    assert response.json()["error"].startswith(message), response.json()


def test_a_stimulus_audio_is_its_stored_flac_under_a_neutral_name(world):
    users, objects = world
    stimulus = Stimulus.objects.filter(system__name="Alpha-TTS", status="ready").first()
    response = api(users, "viewer").get(
        f"/api/v1/stimuli/{stimulus.pk}/audio/", HTTP_ACCEPT="audio/flac"
    )
    assert response.status_code == 200 and response["Content-Type"] == "audio/flac"
    assert response["Content-Disposition"] == f'attachment; filename="stimulus-{stimulus.pk}.flac"'
    with stimulus.audio.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


def test_a_stimulus_not_ready_has_no_audio_and_says_why(world):
    users, _ = world
    client = api(users, "viewer")
    pending = styled(System.objects.get(name="Alpha-TTS"), {"style": "dj"})
    listed = client.get("/api/v1/stimuli/?status=pending").json()["results"]
    assert [(row["id"], row["audio"]) for row in listed] == [(pending.pk, None)]
    response = client.get(f"/api/v1/stimuli/{pending.pk}/audio/")
    assert response.status_code == 404
    assert response.json() == {
        "error": f"stimulus {pending.pk} is not prepared yet",
        "problems": [],
    }
    Stimulus.objects.filter(pk=pending.pk).update(status="failed", error="the file is silent")
    failed = client.get(f"/api/v1/stimuli/{pending.pk}/audio/").json()["error"]
    assert failed == f"stimulus {pending.pk} could not be prepared: the file is silent"


def _rendered_zip(folder, keys: list[str]) -> io.BytesIO:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for i, key in enumerate(keys):
            write_tone(folder / f"{key}.wav", seconds=1.0, freq=400 + 30 * i, seed=i)
            zf.write(folder / f"{key}.wav", f"{key}.wav")
    archive.name = "rendered.zip"
    archive.seek(0)
    return archive


def test_rendered_audio_is_imported_as_a_run_into_the_corpus_project(world, tmp_path):
    users, objects = world
    client = api(users, "editor")
    corpus = objects["own"]["corpus"]
    form = {"corpus": corpus.pk, "name": "Gamma-TTS", "skip_bad": "false"}
    queued = client.post(
        "/api/v1/systems/rendered/",
        {**form, "audio": _rendered_zip(tmp_path, ["item0", "item1"])},
        HTTP_IDEMPOTENCY_KEY="gamma-1",
    )
    assert queued.status_code == 202 and queued.json()["kind"] == "rendered", queued.json()
    again = client.post(
        "/api/v1/systems/rendered/",
        {**form, "audio": _rendered_zip(tmp_path, ["item0", "item1"])},
        HTTP_IDEMPOTENCY_KEY="gamma-1",
    )
    assert again.json()["id"] == queued.json()["id"] and ImportRun.objects.count() == 1
    run_id = queued.json()["id"]
    import_run_execute(run_id=run_id)  # what the cpu worker runs for it
    run = client.get(f"/api/v1/imports/{run_id}/").json()
    assert run["status"] == "done" and run["done"] == run["total"] == 2, run
    gamma = System.objects.get(name="Gamma-TTS")
    assert gamma.kind == "rendered" and gamma.project_id == corpus.project_id
    listed = client.get(f"/api/v1/stimuli/?system={gamma.pk}").json()["results"]
    assert sorted(row["utterance"]["key"] for row in listed) == ["item0", "item1"]
    assert {row["status"] for row in listed} <= {"pending", "ready"}


def test_a_rendered_import_is_refused_outside_the_users_editor_projects(world, tmp_path):
    users, objects = world
    own, other = objects["own"]["corpus"], objects["other"]["corpus"]

    def post(role: str, **form) -> dict:
        body = {"name": "Delta-TTS", "audio": _rendered_zip(tmp_path, ["item0"]), **form}
        response = api(users, role).post("/api/v1/systems/rendered/", body)
        assert response.status_code == 400, response.content[:300]
        return response.json()

    theirs = post("editor", corpus=other.pk)["error"]
    assert theirs == f"corpus {other.pk}: none of your projects (as editor) has it"
    assert "none of your projects" in post("viewer", corpus=own.pk)["error"]
    elsewhere = objects["other"]["project"].pk
    assert post("editor", corpus=own.pk, project=elsewhere)["error"] == (
        f"corpus {own.pk} is not in project {elsewhere}"
    )
    taken = post("editor", corpus=own.pk, name="Alpha-TTS")["error"]
    assert taken == "a system named 'Alpha-TTS' already exists"
    assert "must contain {key}" in post("editor", corpus=own.pk, pattern="x.wav")["error"]
    assert post("editor", corpus=own.pk, audio="")["problems"][0].startswith("audio: ")
    assert not ImportRun.objects.exists() and not System.objects.filter(name="Delta-TTS").exists()
