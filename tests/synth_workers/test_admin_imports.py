"""The imports in Django admin: same checks as the commands, problems shown on the form."""

import io
import zipfile

from django.contrib.auth.models import Permission

from synth_workers.models import Corpus, System
from tests.synth_workers.audio_files import write_silence, write_tone


def zip_of(files: dict[str, object]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, path in files.items():
            zf.write(path, name)
    buffer.seek(0)
    buffer.name = "audio.zip"
    return buffer


def manifest_file(text: str) -> io.BytesIO:
    data = io.BytesIO(text.encode())
    data.name = "manifest.csv"
    return data


def test_scientist_imports_a_corpus_and_a_system_from_admin(admin_client, tmp_path):
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
    assert resp.status_code == 302, resp.content.decode()[:2000]
    corpus = Corpus.objects.get(name="web")
    assert corpus.recordings.stimuli.count() == 2
    listing = admin_client.get(resp.url).content.decode()  # where the scientist lands
    assert '<progress value="0" max="2"></progress> 0 / 2' in listing

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
    assert resp.status_code == 302
    assert System.objects.get(name="TTS-web").stimuli.count() == 2


def test_admin_import_lists_each_problem_and_imports_nothing(admin_client, tmp_path):
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
    page = resp.content.decode()
    assert resp.status_code == 200
    assert "corpus &#x27;web&#x27; refused; nothing was imported" in page
    assert "manifest.csv, line 3: b.wav:" in page and "silent" in page
    assert "manifest.csv, line 4: empty text for key &#x27;c&#x27;" in page
    assert not Corpus.objects.exists()


def test_only_superusers_can_trust_a_system(client, django_user_model, db):
    system = System.objects.create(name="ckpt", slug="ckpt", kind="checkpoint", backend="piper")
    staff = django_user_model.objects.create_user("staff", password="pw-123456", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_system"))
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
