"""The real case: the codec-mushra data set imported and prepared through a real worker.

Its 16 `ref.wav` become the recordings of a corpus, each codec's files a rendered system. After
preparation every stimulus (anchors included) has one sample rate and a loudness within 0.1 LU
of the target, and no stored file name says which system it belongs to.
"""

import csv
import io
import re
import time

import pytest
from django.core.files.storage import default_storage

from synth_workers import audio
from synth_workers.models import Stimulus, System
from synth_workers.services import corpus_import, rendered_import
from synth_workers.tasks import prepare_stimulus
from tests.support.paths import SHARED_DATASETS
from tests.support.services import need_shared_data

pytestmark = pytest.mark.slow
DATASET = SHARED_DATASETS / "codec-mushra"


def codec_manifest() -> bytes:
    """key = the item folder, text = the data set's signal id (it ships no transcripts)."""
    with open(DATASET / "ratings_formated.csv", newline="") as f:
        signal_of = {  # rows of the reference and anchor conditions name no file
            row["file"].split("/")[0]: row["signal"] for row in csv.DictReader(f) if row["file"]
        }
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["key", "text", "recording"])
    for key in sorted(signal_of):
        writer.writerow([key, signal_of[key], f"{key}/ref.wav"])
    return out.getvalue().encode()


def wait_until_prepared(timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while Stimulus.objects.filter(status=Stimulus.Status.PENDING).exists():
        assert time.monotonic() < deadline, "preparation did not finish"
        time.sleep(0.5)


def test_codec_mushra_imports_and_prepares_to_one_rate_and_loudness(
    transactional_db, worker_media, settings
):
    need_shared_data()
    audio_dir = DATASET / "audio"
    report = corpus_import(
        name="codec-mushra",
        manifest_name="manifest.csv",
        manifest_data=codec_manifest(),
        audio_path=audio_dir,
    )
    assert report.created == 16 and report.skipped == []
    codecs = sorted({p.stem for p in audio_dir.glob("*/*.wav")} - {"ref"})
    for codec in codecs:
        rendered = rendered_import(
            corpus=report.corpus,
            system_name=codec,
            audio_path=audio_dir,
            pattern=f"{{key}}/{codec}.wav",
        )
        assert rendered.created == 16
    wait_until_prepared()

    stimuli = list(Stimulus.objects.select_related("system"))
    failed = [(str(s), s.error) for s in stimuli if s.status != Stimulus.Status.READY]
    assert failed == []
    anchors = [s for s in stimuli if s.is_anchor]
    assert len(anchors) == 32 and {s.condition["anchor"] for s in anchors} == {
        "anchor_35",
        "anchor_70",
    }
    assert len(stimuli) == 16 * (1 + len(codecs)) + 32
    target = settings.STIMULUS_POLICY["target_lufs"]
    for stim in stimuli:
        assert stim.sample_rate == settings.STIMULUS_POLICY["sample_rate"]
        assert stim.channels == 1
        assert abs(stim.loudness_lufs - target) <= 0.1, stim
        with default_storage.open(stim.audio.name, "rb") as f:  # re-measured from the file
            assert abs(audio.integrated_loudness(audio.read_audio(f)) - target) <= 0.1

    # Stored names are hashes and nothing else, so no system name can reach them.
    names = {s.audio.name for s in stimuli} | {s.source.name for s in stimuli}
    for name in names:
        assert re.fullmatch(r"(stimuli|sources)/[0-9a-f]+/[0-9a-f]{40,64}\.(flac|wav)", name), name
    for system in System.objects.all():
        assert not any(system.slug in name or system.name in name for name in names)


def test_preparing_a_stimulus_again_changes_nothing(transactional_db, worker_media):
    need_shared_data()
    manifest = b"key,text,recording\nstim_01,One.,stim_01/ref.wav\n"
    corpus_import(
        name="one", manifest_name="m.csv", manifest_data=manifest, audio_path=DATASET / "audio"
    )
    wait_until_prepared()
    before = {s.pk: (s.audio.name, s.sha256, s.prepared_at) for s in Stimulus.objects.all()}
    files = {p: p.stat().st_mtime_ns for p in worker_media.rglob("*.flac")}
    for pk in before:  # a re-delivered task: same rows, same files, nothing rewritten
        assert prepare_stimulus.delay(pk).get(timeout=60) == "skipped"
    after = {s.pk: (s.audio.name, s.sha256, s.prepared_at) for s in Stimulus.objects.all()}
    assert after == before and len(before) == 3  # the recording and its two anchors
    assert {p: p.stat().st_mtime_ns for p in worker_media.rglob("*.flac")} == files


def test_a_stimulus_whose_file_went_missing_is_prepared_again_to_the_same_name(
    transactional_db, worker_media
):
    need_shared_data()
    manifest = b"key,text,recording\nstim_02,Two.,stim_02/ref.wav\n"
    corpus_import(
        name="two", manifest_name="m.csv", manifest_data=manifest, audio_path=DATASET / "audio"
    )
    wait_until_prepared()
    stim = Stimulus.objects.get(condition_key="")
    default_storage.delete(stim.audio.name)
    assert prepare_stimulus.delay(stim.pk).get(timeout=60) == "prepared"
    again = Stimulus.objects.get(pk=stim.pk)
    assert (again.audio.name, again.sha256) == (stim.audio.name, stim.sha256)  # deterministic
