"""The prepared audio the tests share (tests/support/prepared_audio.py) is what preparation makes:
a stimulus made ready from the session's copy has the bytes, the row and the anchors that the
real ``stimulus_prepare`` gives the same source under the same policy."""

from synth_workers.audio.anchors import LOW_ANCHOR, MID_ANCHOR
from synth_workers.models import Stimulus, System
from synth_workers.services.preparation import stimulus_prepare
from tests.support.factories import ReadyStimulusFactory
from tests.support.listening import imported_corpus
from tests.support.prepared_audio import PreparedAudio

# What differs between two corpora by construction, whatever the preparation.
OWN = {"id", "system_id", "utterance_id", "created_at", "prepared_at", "provenance"}


def as_prepared(corpus, media_root) -> dict:
    """Each stimulus' row, provenance and file, by (recording or system, utterance, condition)."""
    rows = {}
    for stim in Stimulus.objects.filter(utterance__corpus=corpus).select_related("utterance"):
        fields = {
            f.attname: str(getattr(stim, f.attname)) if f.attname in ("source", "audio") else
            getattr(stim, f.attname)
            for f in Stimulus._meta.concrete_fields
            if f.attname not in OWN
        }  # fmt: skip
        provenance = {k: v for k, v in stim.provenance.items() if k != "anchor_of"}
        role = "recording" if stim.system_id == corpus.recordings_id else "system"
        data = (media_root / stim.audio.name).read_bytes()
        rows[(role, stim.utterance.key, stim.condition_key)] = (fields, provenance, data)
    return rows


def test_a_copy_of_the_prepared_audio_is_what_preparation_makes(db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "real"  # each corpus in a media folder of its own
    real = imported_corpus(tmp_path / "a", n_items=2, name="Real", system_names=("Real-TTS",))
    for pk in Stimulus.objects.filter(utterance__corpus=real).values_list("pk", flat=True):
        assert stimulus_prepare(stimulus_id=pk) == "prepared"
    expected = as_prepared(real, tmp_path / "real")
    assert len(expected) == 2 * 4  # per item: the recording, its two anchors, the system's
    assert all(fields["status"] == "ready" for fields, _, _ in expected.values())

    shared = PreparedAudio()
    settings.MEDIA_ROOT = tmp_path / "first"
    first = imported_corpus(tmp_path / "b", n_items=2, name="First", system_names=("First-TTS",))
    shared.make_ready(Stimulus.objects.filter(utterance__corpus=first))
    assert shared.copied == 0 and len(shared.kept) == 4  # prepared for real, and kept
    settings.MEDIA_ROOT = tmp_path / "copied"
    copied = imported_corpus(tmp_path / "c", n_items=2, name="Copied", system_names=("Copy-TTS",))
    shared.make_ready(Stimulus.objects.filter(utterance__corpus=copied))
    assert shared.copied == 4  # two recordings (with their anchors) and two renderings

    assert as_prepared(first, tmp_path / "first") == expected
    assert as_prepared(copied, tmp_path / "copied") == expected
    anchors = Stimulus.objects.filter(utterance__corpus=copied, condition__has_key="anchor")
    recordings = {s.pk for s in Stimulus.objects.filter(system=copied.recordings, condition={})}
    assert {a.provenance["anchor_of"] for a in anchors} == recordings


def test_the_factorys_ready_recording_is_prepared_with_its_two_anchors(db):
    stim = ReadyStimulusFactory(system__kind=System.Kind.RECORDING, freq=200.0)
    assert stim.status == "ready" and stim.sample_rate == 48000 and stim.sha256
    assert stim.audio.storage.exists(stim.audio.name)
    anchors = Stimulus.objects.filter(system=stim.system, condition__has_key="anchor")
    assert {a.condition["anchor"] for a in anchors if a.status == "ready"} == {
        LOW_ANCHOR,
        MID_ANCHOR,
    }
    rendered = ReadyStimulusFactory(freq=200.0)  # the same source, a rendered system
    assert (rendered.audio.name, rendered.sha256) == (stim.audio.name, stim.sha256)
    assert not Stimulus.objects.filter(system=rendered.system).exclude(pk=rendered.pk).exists()
