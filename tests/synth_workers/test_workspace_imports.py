"""The scientist's workspace: a project's editors import corpora and pre-rendered audio and register
checkpoints on the site, without the admin. Real database, real files, the real import run (the
worker's step runs here: ``import_run_execute``, what the cpu worker calls for a run)."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from evalsite.errors import InputError
from evalsite.services import member_set, project_create
from synth_workers.backends import joe_voice_files
from synth_workers.models import CheckpointFile, Corpus, ImportRun, System
from synth_workers.services import corpus_import
from synth_workers.services.import_runs import import_run_execute
from synth_workers.services.registration import system_register
from tests.support.audio import write_silence, write_tone
from tests.support.files import manifest_file, stored_checkpoints, upload, zip_of

MANIFEST = "key,text,recording\na,One.,a.wav\nb,Two.,b.wav\n"


@pytest.fixture
def lab(db):
    """Project A (an editor, a second editor, a viewer) and project B (the outsider's)."""
    users = {
        name: get_user_model().objects.create_user(name, password="pw")
        for name in ("owner", "editor", "editor2", "viewer", "outsider")
    }
    a = project_create(name="Lab A", owner=users["owner"])
    b = project_create(name="Lab B", owner=users["outsider"])
    for name in ("editor", "editor2"):
        member_set(project=a, username=name, role="editor")
    member_set(project=a, username="viewer", role="viewer")
    return users, a, b


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def recordings_zip(folder, keys="ab", silent: str = ""):
    write = {k: (write_silence if k == silent else write_tone) for k in keys}
    return zip_of({f"{k}.wav": write[k](folder / f"{k}.wav") for k in keys})


def started_run(response) -> ImportRun:
    """The run a form queued (the redirect to its page), run to its end as a worker would."""
    assert response.status_code == 302, response.content.decode()[:3000]
    run = ImportRun.objects.get()
    assert response.url == f"/synthesis/imports/{run.pk}/"
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def corpus_in(project, folder, name: str = "Corpus A") -> Corpus:
    write_tone(folder / "rec" / "a.wav")
    write_tone(folder / "rec" / "b.wav", seed=1)
    corpus_import(
        name=name,
        manifest_name="manifest.csv",
        manifest_data=MANIFEST.encode(),
        audio_path=folder / "rec",
        project_id=project.pk,
    )
    return Corpus.objects.get(name=name)


def test_a_corpus_imported_from_the_workspace_lands_in_the_project(lab, tmp_path):
    users, a, _ = lab
    client = client_of(users["editor"])
    url = f"/synthesis/projects/{a.pk}/corpora/import/"
    assert 'name="manifest"' in client.get(url).content.decode()
    form = {"name": "Web corpus", "default_language": "en", "manifest": manifest_file(MANIFEST)}
    response = client.post(url, {**form, "audio": recordings_zip(tmp_path)})
    queued = client.get(response.url).content.decode()
    assert "Waiting for a worker" in queued
    run = started_run(response)
    assert (run.status, run.done, run.total) == ("done", 2, 2), (run.message, run.problems)
    corpus = Corpus.objects.get(name="Web corpus")
    assert corpus.project == a and corpus.recordings.project == a
    assert sorted(corpus.utterances.values_list("key", flat=True)) == ["a", "b"]
    assert len([s for s in corpus.recordings.stimuli.all() if not s.is_anchor]) == 2
    state = client.get(f"/synthesis/imports/{run.pk}/progress.json").json()
    assert state["finished"] and state["result_url"] == f"/synthesis/corpora/{corpus.pk}/"
    page = client.get(f"/synthesis/imports/{run.pk}/").content.decode()
    assert f'href="/synthesis/corpora/{corpus.pk}/"' in page and "Open Web corpus" in page


def test_pre_rendered_audio_from_the_workspace_lands_in_the_corpus_project(lab, tmp_path):
    users, a, _ = lab
    corpus = corpus_in(a, tmp_path)
    client = client_of(users["editor"])
    corpus_page = client.get(f"/synthesis/corpora/{corpus.pk}/").content.decode()
    assert f'href="/synthesis/corpora/{corpus.pk}/import-rendered/"' in corpus_page
    url = f"/synthesis/corpora/{corpus.pk}/import-rendered/"
    assert 'name="corpus"' not in client.get(url).content.decode()  # the URL names it
    form = {"system_name": "Gamma-TTS", "pattern": "{key}", "audio": recordings_zip(tmp_path / "r")}
    run = started_run(client.post(url, form))
    assert run.status == "done", (run.message, run.problems)
    gamma = System.objects.get(name="Gamma-TTS")
    assert (gamma.kind, gamma.project) == ("rendered", a)
    assert sorted(gamma.stimuli.values_list("utterance__key", flat=True)) == ["a", "b"]
    state = client.get(f"/synthesis/imports/{run.pk}/progress.json").json()
    assert state["result_url"] == f"/synthesis/systems/{gamma.pk}/"


def test_a_checkpoint_registered_from_the_workspace_lands_in_the_project_hashed(lab):
    users, a, _ = lab
    client = client_of(users["editor"])
    url = f"/synthesis/projects/{a.pk}/systems/register/"
    choices = client.get(url).content.decode()
    for name in ("piper", "espeak-ng", "world-prosody-transfer"):
        assert f"?backend={name}" in choices
    assert "Piper VITS voices exported to ONNX" in choices  # each backend's own summary
    form_page = client.get(url + "?backend=piper").content.decode()
    assert 'name="file_model"' in form_page and 'name="file_config"' in form_page
    assert 'name="trusted"' not in form_page  # superusers only
    files = joe_voice_files()
    response = client.post(
        url + "?backend=piper",
        {
            "name": "Joe (workspace)",
            "config": '{"length_scale": 1.1}',
            "file_model": upload(files["model"], "joe.onnx"),
            "file_config": upload(files["config"], "joe.onnx.json"),
            "trusted": "on",  # not a field for an editor: ignored
        },
        follow=True,
    )
    system = System.objects.get(name="Joe (workspace)")
    assert response.redirect_chain == [(f"/synthesis/systems/{system.pk}/", 302)]
    assert "test sentence" in response.content.decode()  # the page shows what happened
    assert (system.project, system.owner, system.trusted) == (a, users["editor"], False)
    assert not system.usable and system.check_error == "waiting for a worker"
    roles = dict(CheckpointFile.objects.filter(system=system).values_list("role", "sha256"))
    assert set(roles) == {"model", "config"} and all(len(h) == 64 for h in roles.values())


def test_a_bad_manifest_row_is_listed_on_the_run_page_and_nothing_is_imported(lab, tmp_path):
    users, a, _ = lab
    client = client_of(users["editor"])
    manifest = manifest_file(MANIFEST + "c,,c.wav\n")
    response = client.post(
        f"/synthesis/projects/{a.pk}/corpora/import/",
        {"name": "Bad", "default_language": "en", "manifest": manifest,
         "audio": recordings_zip(tmp_path, silent="b")},
    )  # fmt: skip
    run = started_run(response)
    assert run.status == "failed"
    page = client.get(response.url).content.decode()
    assert "corpus &#x27;Bad&#x27; refused; nothing was imported" in page
    assert "manifest.csv, line 3: b.wav:" in page and "silent" in page
    assert "manifest.csv, line 4: empty text for key &#x27;c&#x27;" in page
    assert 'id="import-result" hidden' in page
    assert not Corpus.objects.exists() and not System.objects.exists()


@pytest.mark.parametrize(
    ("page", "form", "message"),
    [
        ("corpus", {"name": "Corpus A"}, "a corpus named &#x27;Corpus A&#x27; already exists"),
        ("corpus", {"name": "Lab\x00corpus"}, "Null characters are not allowed."),
        ("rendered", {"system_name": "Corpus A recordings"}, "a system named &#x27;Corpus A rec"),
        ("rendered", {"system_name": "Gamma\x00"}, "Null characters are not allowed."),
        ("rendered", {"pattern": "x.wav"}, "must contain {key}"),
    ],
)  # fmt: skip
def test_a_refused_import_form_shows_why_and_queues_nothing(lab, tmp_path, page, form, message):
    users, a, _ = lab
    corpus = corpus_in(a, tmp_path)
    if page == "corpus":
        url = f"/synthesis/projects/{a.pk}/corpora/import/"
        form = {"default_language": "en", "manifest": manifest_file(MANIFEST), **form}
    else:
        url = f"/synthesis/corpora/{corpus.pk}/import-rendered/"
        form = {"system_name": "Gamma", "pattern": "{key}", **form}
    response = client_of(users["editor"]).post(url, {**form, "audio": recordings_zip(tmp_path)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportRun.objects.exists()
    assert Corpus.objects.count() == 1 and System.objects.count() == 1  # corpus A's recordings


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "Taken"}, "a system named &#x27;Taken&#x27; already exists"),
        ({"name": "E", "config": "{voice: en}"}, "not valid JSON"),
        ({"name": "E", "config": '{"colour": 1}'}, "unknown config key &#x27;colour&#x27;"),
        ({"name": "E\x00"}, "Null characters are not allowed."),
    ],
)
def test_a_refused_registration_shows_why_and_stores_nothing(lab, form, message):
    users, a, _ = lab
    System.objects.create(name="Taken", slug="taken", kind="rendered", project=a)
    before = stored_checkpoints()
    url = f"/synthesis/projects/{a.pk}/systems/register/?backend=espeak-ng"
    response = client_of(users["editor"]).post(url, {"config": "{}", **form})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert System.objects.count() == 1 and stored_checkpoints() == before


def test_the_run_page_is_its_creators_and_superusers_only(lab, tmp_path):
    users, a, _ = lab
    response = client_of(users["editor"]).post(
        f"/synthesis/projects/{a.pk}/corpora/import/",
        {"name": "Mine", "default_language": "en", "manifest": manifest_file(MANIFEST),
         "audio": recordings_zip(tmp_path)},
    )  # fmt: skip
    run = started_run(response)
    pages = [f"/synthesis/imports/{run.pk}/", f"/synthesis/imports/{run.pk}/progress.json"]
    boss = get_user_model().objects.create_superuser("boss", password="pw")
    for url in pages:
        assert client_of(users["editor"]).get(url).status_code == 200
        assert client_of(boss).get(url).status_code == 200
        for other in ("editor2", "owner", "outsider"):  # the same project's others too
            assert client_of(users[other]).get(url).status_code == 404, (other, url)
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous.url.startswith("/accounts/login/")


def test_a_viewer_or_an_outsider_cannot_import_or_register(lab, tmp_path):
    users, a, _ = lab
    corpus = corpus_in(a, tmp_path)
    posts = [
        (f"/synthesis/projects/{a.pk}/corpora/import/",
         {"name": "V", "default_language": "en", "manifest": manifest_file(MANIFEST)}),
        (f"/synthesis/corpora/{corpus.pk}/import-rendered/",
         {"system_name": "V", "pattern": "{key}", "audio": recordings_zip(tmp_path)}),
        (f"/synthesis/projects/{a.pk}/systems/register/?backend=espeak-ng",
         {"name": "V", "config": "{}"}),
    ]  # fmt: skip
    for role, status in (("viewer", 403), ("outsider", 404)):
        for url, form in posts:
            for upload_ in form.values():
                if isinstance(upload_, io.BytesIO):
                    upload_.seek(0)
            assert client_of(users[role]).post(url, form).status_code == status, (role, url)
    assert not ImportRun.objects.exists() and not System.objects.filter(name="V").exists()


def test_base_system_choices_hold_only_the_projects_usable_checkpoints(lab):
    users, a, b = lab

    def checkpoint(name, project, usable=True):
        return System.objects.create(
            name=name, slug=name.lower(), kind="checkpoint", backend="piper",
            usable=usable, project=project,
        )  # fmt: skip

    ours = checkpoint("Ours", a)
    checkpoint("Ours, unchecked", a, usable=False)
    theirs = checkpoint("Theirs", b)
    url = f"/synthesis/projects/{a.pk}/systems/register/?backend=world-prosody-transfer"
    client = client_of(users["editor"])
    field = client.get(url).context["form"].fields["base_system"]
    assert list(field.queryset) == [ours]
    refused = client.post(url, {"name": "Borrowed", "config": "{}", "base_system": theirs.pk})
    assert "Select a valid choice" in refused.content.decode()
    assert not System.objects.filter(name="Borrowed").exists()


def test_a_base_system_of_another_project_is_refused_by_the_service(lab):
    """The API passes ``base_system`` by name in its config: the service checks the project."""
    users, a, b = lab
    base = system_register(name="Joe B", backend="piper", files=joe_voice_files(), project_id=b.pk)
    System.objects.filter(pk=base.pk).update(usable=True, check_error="")
    with pytest.raises(InputError, match="no checkpoint system named 'Joe B' in this project"):
        system_register(
            name="Joe + prosody",
            backend="world-prosody-transfer",
            config={"base_system": "Joe B"},
            project_id=a.pk,
        )
    assert not System.objects.filter(name="Joe + prosody").exists()


def test_the_dashboard_links_the_workspace_pages_for_editors_only(lab, tmp_path):
    users, a, _ = lab
    corpus = corpus_in(a, tmp_path)
    links = [
        f'href="/synthesis/projects/{a.pk}/corpora/import/"',
        f'href="/synthesis/projects/{a.pk}/systems/register/"',
        f'href="/synthesis/corpora/{corpus.pk}/import-rendered/"',
    ]
    editor = client_of(users["editor"]).get("/dashboard/").content.decode()
    viewer = client_of(users["viewer"]).get("/dashboard/").content.decode()
    assert all(link in editor for link in links)
    assert not any(link in viewer for link in links)
    assert "Import pre-rendered audio" not in (
        client_of(users["viewer"]).get(f"/synthesis/corpora/{corpus.pk}/").content.decode()
    )


def test_the_new_test_page_points_an_editor_without_corpora_to_the_workspace_import(lab):
    users, a, _ = lab
    page = client_of(users["editor"]).get("/mushra/new/").content.decode()
    assert f'href="/synthesis/projects/{a.pk}/corpora/import/"' in page
    assert "/admin/" not in page
