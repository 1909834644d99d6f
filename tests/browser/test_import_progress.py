"""An admin import in a real browser: the upload returns at once and the page follows the worker.

The progress page is rendered while the run is still queued, so the final message can only come
from its polling script: this catches a broken script, not just a broken view.
"""

import zipfile

import pytest

from synth_workers.models import Corpus, ImportRun
from tests.support.audio import write_silence, write_tone

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(chromium_browser, live_server, worker_media, django_user_model):
    django_user_model.objects.create_superuser("ops", "ops@example.org", "pw-for-tests")
    context = chromium_browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/synth_workers/corpus/import/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.wait_for_selector("#import-form")
    yield page
    context.close()


def upload_files(tmp_path, silent: str | None = None):
    manifest = tmp_path / "manifest.csv"
    keys = ["a", "b", "c"]
    manifest.write_text("key,text,recording\n" + "".join(f"{k},Line {k}.,{k}.wav\n" for k in keys))
    archive = tmp_path / "audio.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, key in enumerate(keys):
            path = tmp_path / f"{key}.wav"
            if key == silent:
                write_silence(path)
            else:
                write_tone(path, seed=i)
            zf.write(path, f"{key}.wav")
    return manifest, archive


def start_import(page, tmp_path, name: str, silent: str | None = None) -> None:
    manifest, archive = upload_files(tmp_path, silent)
    page.fill("#id_name", name)
    page.set_input_files("#id_manifest", str(manifest))
    page.set_input_files("#id_audio", str(archive))
    page.click("#import-form input[type=submit]")
    page.wait_for_selector("#import-run")


def test_the_progress_page_follows_the_worker_to_the_end(page, tmp_path):
    start_import(page, tmp_path, "browser corpus")
    page.wait_for_selector("#import-message:not([hidden])", timeout=60_000)
    assert "Imported 3 audio file(s)" in page.inner_text("#import-message")
    assert page.eval_on_selector("#import-bar", "b => [b.value, b.max]") == [3, 3]
    assert page.inner_text("#import-counts") == "3 / 3 files checked"
    assert page.is_visible("#import-corpora")
    assert Corpus.objects.filter(name="browser corpus").exists()


def test_a_refused_import_lists_its_problems_on_the_page(page, tmp_path):
    start_import(page, tmp_path, "bad corpus", silent="b")
    page.wait_for_selector("#import-problems.errorlist li", timeout=60_000)
    assert "nothing was imported" in page.inner_text("#import-message")
    assert "b.wav" in page.inner_text("#import-problems")
    assert ImportRun.objects.get().status == "failed"
    assert not Corpus.objects.exists()
