"""The imports in Django admin: a worker runs them with progress; problems are listed per line."""

import pytest
from django.contrib.auth.models import Permission

from evalsite.models import Membership
from synth_workers.models import Corpus, ImportRun, System
from tests.support.audio import write_silence, write_tone
from tests.support.files import manifest_file, zip_of
from tests.support.services import wait_for


def finished_run(response) -> ImportRun:
    """Follow the redirect to the run's progress page and wait for the worker to finish it."""
    assert response.status_code == 302, response.content.decode()[:2000]
    run_id = int(response.url.rstrip("/").split("/")[-2])
    assert response.url == f"/admin/synth_workers/importrun/{run_id}/progress/"
    wait_for(lambda: ImportRun.objects.get(pk=run_id).finished, what="the import run")
    return ImportRun.objects.get(pk=run_id)


@pytest.mark.slow
def test_scientist_imports_a_corpus_and_a_system_from_admin(
    transactional_db, worker_media, admin_client, tmp_path
):
    audio = {f"{k}.wav": write_tone(tmp_path / f"{k}.wav", seed=i) for i, k in enumerate("ab")}
    resp = admin_client.post(
        "/admin/synth_workers/corpus/import/",
        {
            "name": "web",
            "default_language": "en",
            "manifest": manifest_file("key,text,recording\na,One.,a.wav\nb,Two.,b.wav\n"),
            "audio": zip_of(audio),
        },
    )
    run = finished_run(resp)
    assert (run.status, run.done, run.total) == ("done", 2, 2), (run.message, run.problems)
    corpus = Corpus.objects.get(name="web")
    # The worker may already have prepared them and added their anchors: count recordings only.
    assert len([s for s in corpus.recordings.stimuli.all() if not s.is_anchor]) == 2
    page = admin_client.get(resp.url).content.decode()
    assert "Imported 2 audio file(s) as &#x27;web&#x27;; preparation queued." in page
    state = admin_client.get(resp.url.replace("progress/", "progress.json")).json()
    assert state["finished"] and state["problems"] == []
    assert not (worker_media / run.folder).exists()  # the uploads are gone once it ran

    rendered = {f"{k}.wav": write_tone(tmp_path / "r" / f"{k}.wav", seed=5) for k in "ab"}
    resp = admin_client.post(
        "/admin/synth_workers/system/import/",
        {
            "corpus": corpus.pk,
            "system_name": "TTS-web",
            "pattern": "{key}",
            "audio": zip_of(rendered),
        },
    )
    assert finished_run(resp).status == "done"
    assert System.objects.get(name="TTS-web").stimuli.count() == 2  # systems get no anchors


@pytest.mark.slow
def test_admin_import_lists_each_problem_and_imports_nothing(
    transactional_db, worker_media, admin_client, tmp_path
):
    audio = {"a.wav": write_tone(tmp_path / "a.wav"), "b.wav": write_silence(tmp_path / "b.wav")}
    resp = admin_client.post(
        "/admin/synth_workers/corpus/import/",
        {
            "name": "web",
            "default_language": "en",
            "manifest": manifest_file("key,text,recording\na,One.,a.wav\nb,Two.,b.wav\nc,,c.wav\n"),
            "audio": zip_of(audio),
        },
    )
    run = finished_run(resp)
    assert run.status == "failed"
    page = admin_client.get(resp.url).content.decode()
    assert "corpus &#x27;web&#x27; refused; nothing was imported" in page
    assert "manifest.csv, line 3: b.wav:" in page and "silent" in page
    assert "manifest.csv, line 4: empty text for key &#x27;c&#x27;" in page
    assert not Corpus.objects.exists()
    assert not (worker_media / run.folder).exists()


def test_a_form_error_is_shown_at_once_and_queues_nothing(admin_client):
    resp = admin_client.post(
        "/admin/synth_workers/corpus/import/",
        {"name": "", "default_language": "en", "manifest": manifest_file("key,text\na,One.\n")},
    )
    assert resp.status_code == 200
    assert "This field is required" in resp.content.decode()
    assert not ImportRun.objects.exists()


def test_only_superusers_can_trust_a_system(client, django_user_model, db):
    system = System.objects.create(name="ckpt", slug="ckpt", kind="checkpoint", backend="piper")
    staff = django_user_model.objects.create_user("staff", password="pw-123456", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_system"))
    Membership.objects.create(project=system.project, user=staff, role="editor")
    client.force_login(staff)
    url = f"/admin/synth_workers/system/{system.pk}/change/"
    assert 'name="trusted"' not in client.get(url).content.decode()  # shown read-only
    form = {
        "name": "ckpt",
        "slug": "ckpt",
        "kind": "checkpoint",
        "backend": "piper",
        "description": "edited by staff",
        "backend_config": "{}",
        "capabilities": "[]",
        "trusted": "on",
        "files-TOTAL_FORMS": "0",
        "files-INITIAL_FORMS": "0",
    }
    resp = client.post(url, form)
    assert resp.status_code == 302, resp.context["adminform"].form.errors
    system.refresh_from_db()
    assert system.description == "edited by staff"  # the form was saved …
    assert system.trusted is False  # … without the field staff may not set
