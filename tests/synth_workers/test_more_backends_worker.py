"""hf-vits, TorchScript and WORLD prosody transfer through a real worker, from registration on."""

import io

import pytest
from django.core.files.base import ContentFile

from evalsite.errors import InputError
from synth_workers import audio
from synth_workers.audio.prosody import f0_correlation
from synth_workers.backends import SynthRequest, get_backend, joe_voice_files
from synth_workers.models import Stimulus
from synth_workers.services.registration import system_register
from synth_workers.services.synthesis import job_create
from tests.support.checkpoints import tiny_torchscript_file, tiny_vits_files
from tests.support.services import wait_for
from tests.support.synthesis import corpus_with, finished, usable_system

pytestmark = pytest.mark.slow


def rendered(system) -> list[audio.Audio]:
    """The raw renderings (sources) of a system's stimuli, by utterance key."""
    stimuli = Stimulus.objects.filter(system=system).order_by("utterance__key")
    clips = []
    for stim in stimuli:
        with stim.source.open("rb") as f:
            clips.append(audio.read_audio(io.BytesIO(f.read())))
    return clips


def run_job(system, corpus, **kwargs):
    job = job_create(system=system, corpus=corpus, **kwargs)
    wait_for(lambda: finished(job), what="the job")
    assert (job.done, job.failed) == (job.total, 0), list(job.items.values_list("error"))
    return job


def test_an_hf_vits_directory_renders_through_the_worker(transactional_db, worker_media, tmp_path):
    system = usable_system(name="vits", backend="hf-vits", files=tiny_vits_files(tmp_path))
    job = run_job(system, corpus_with("Hello there.", "A second line."))
    stimuli = Stimulus.objects.filter(system=system)
    assert stimuli.count() == 2
    assert all(s.provenance["backend"] == "hf-vits" for s in stimuli)
    assert set(stimuli[0].provenance["checkpoints"]) == {
        "config",
        "weights",
        "vocab",
        "tokenizer_config",
    }
    assert all(clip.frames > 0 and clip.samples.any() for clip in rendered(system))
    assert job.items.filter(seconds__isnull=False).count() == 2


def test_torchscript_needs_trust_then_renders(transactional_db, worker_media, tmp_path):
    model = tiny_torchscript_file(tmp_path)
    with pytest.raises(InputError, match="trusted"):
        system_register(name="ts", backend="torchscript", files={"model": model})
    system = usable_system(name="ts", backend="torchscript", files={"model": model}, trusted=True)
    run_job(system, corpus_with("Hello there."))
    assert Stimulus.objects.get(system=system).provenance["backend"] == "torchscript"


def test_world_prosody_transfer_follows_each_reference_melody(
    transactional_db, worker_media, settings
):
    # Sentences whose plain rendering does not already follow the reference's melody (a
    # falling contour matches almost any other falling contour).
    texts = ["It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish."]
    espeak = get_backend("espeak-ng")()
    espeak.load({}, {}, "cpu")
    corpus = corpus_with(*texts)
    references = {}
    for utt in corpus.utterances.order_by("key"):
        ref = espeak.synthesize([SynthRequest(text=utt.text, style="excited")])[0]
        references[utt.key] = ref
        data = audio.encode_audio(ref, fmt="wav")
        utt.prosody_reference.save(f"{utt.key}.wav", ContentFile(data))

    base = usable_system(name="joe", backend="piper", files=joe_voice_files())
    transfer = usable_system(
        name="joe + prosody", backend="world-prosody-transfer", config={"base_system": "joe"}
    )
    assert "prosody_reference" in transfer.capabilities
    # The base cannot take a prosody reference at all: the job is refused before anything runs.
    with pytest.raises(InputError, match="prosody_reference"):
        job_create(system=base, corpus=corpus)
    plain = corpus_with(*texts)
    run_job(base, plain)
    run_job(transfer, corpus)
    for ref, before, after in zip(
        references.values(), rendered(base), rendered(transfer), strict=True
    ):
        assert f0_correlation(after, ref) > f0_correlation(before, ref) + 0.3
