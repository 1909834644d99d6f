"""The hf-vits backend with tiny random-init VitsModels (tests/support/checkpoints.py).

Their audio is noise-like, so these tests measure what random weights still show: lengths,
ranges, seeds, batching, speakers and durations; the file checks use real saved files.
"""

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synth_workers.backends import BackendError, SynthRequest, get_backend, hf_vits_files
from tests.support.checkpoints import TINY_SAMPLE_RATE, tiny_vits_files

HfVits = get_backend("hf-vits")
TEXTS = ["hello world, this is a test.", "hi", "the quick brown fox jumps over the lazy dog"]


@pytest.fixture(scope="module")
def vits_files(tmp_path_factory):
    return tiny_vits_files(tmp_path_factory.mktemp("vits"))


@pytest.fixture(scope="module")
def trio_files(tmp_path_factory):
    return tiny_vits_files(tmp_path_factory.mktemp("vits-trio"), num_speakers=3, seed=1)


@pytest.fixture(scope="module")
def vits(vits_files):
    backend = HfVits()
    backend.load(vits_files, {}, "cpu")
    return backend


@pytest.fixture(scope="module")
def trio(trio_files):
    backend = HfVits()
    backend.load(trio_files, {}, "cpu")
    return backend


def render(backend, text=TEXTS[0], **fields):
    return backend.synthesize([SynthRequest(text, **fields)])[0]


def with_file(files, role, folder, content):
    """The files with one role replaced by ``content`` (bytes, or an object written as JSON)."""
    path = Path(folder) / f"replaced-{role}"
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    path.write_bytes(data)
    return {**files, role: path}


def edited_json(files, role, folder, **changes):
    return with_file(files, role, folder, {**json.loads(files[role].read_text()), **changes})


# -- checks before loading ------------------------------------------------------------------------
def test_good_files_are_accepted_and_described_without_torch(vits_files):
    """The web process checks and describes registrations: neither may import torch."""
    script = (
        "import sys, json; from pathlib import Path\n"
        "from synth_workers.backends.hf_vits import HfVitsBackend as B\n"
        "files = {k: Path(v) for k, v in json.loads(sys.argv[1]).items()}\n"
        "B.check_files(files, {}, trusted=False)\n"
        "info = B.describe(files, {'language': 'en_US'})\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
        "print(info.sample_rate, sorted(info.languages), sorted(info.capabilities))\n"
    )
    arg = json.dumps({k: str(v) for k, v in vits_files.items()})
    done = subprocess.run(
        [sys.executable, "-c", script, arg], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["16000", "['en-us']", "['tts']"]


def test_describe_multi_speaker_model(trio_files):
    info = HfVits.describe(trio_files, {"language": "de"})
    assert info.capabilities == {"tts", "multi_speaker", "speaker_sampling"}
    assert info.speakers == ("0", "1", "2")
    assert info.languages == {"de"}
    assert info.sample_rate == TINY_SAMPLE_RATE
    assert {"speaking_rate", "speed", "noise_scale", "noise_scale_duration"} <= set(info.controls)
    assert info.engine.startswith("transformers ") and ", torch " in info.engine


class Marker:
    """Unpickling this creates the marker file: proof that a loader executed the pickle."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.mark.parametrize("trusted", [False, True])
def test_a_pickle_named_model_safetensors_is_refused_without_running_it(
    vits_files, tmp_path, trusted
):
    marker = tmp_path / "pickle-ran"
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(pickle.dumps(Marker(marker), protocol=4))
    files = {**vits_files, "weights": weights}
    message = "pickle-based checkpoint" if not trusted else "'model.safetensors' is not a safet"
    with pytest.raises(BackendError, match=message):
        HfVits.check_files(files, {}, trusted=trusted)
    with pytest.raises(BackendError, match="pickle-based checkpoint"):
        HfVits().load(files, {}, "cpu")
    assert not marker.exists()


@pytest.mark.parametrize(
    "content",
    [b"hello, not weights", b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}", b""],
)
def test_a_file_that_is_not_safetensors_is_refused(vits_files, tmp_path, content):
    files = with_file(vits_files, "weights", tmp_path, content)
    with pytest.raises(BackendError, match="weights file 'replaced-weights' is not a safetensors"):
        HfVits.check_files(files, {}, trusted=True)


def test_truncated_safetensors_is_refused(vits_files, tmp_path):
    content = vits_files["weights"].read_bytes()[:-100]
    files = with_file(vits_files, "weights", tmp_path, content)
    with pytest.raises(BackendError, match="out-of-file entry in the safetensors header"):
        HfVits.check_files(files, {}, trusted=False)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"num_speakers": 3}, "no tensor 'embed_speaker.weight', which config .*num_speakers 3"),
        (
            {"vocab_size": 50},
            "vocab_size 50 and hidden_size 16.* does not fit .*shape \\[35, 16\\]",
        ),
        ({"model_type": "speecht5"}, "model_type 'vits'.*got model_type 'speecht5'"),
        ({"sampling_rate": 12}, "sampling_rate 12 is not a plausible sample rate"),
        ({"noise_scale": "high"}, "noise_scale must be a number >= 0"),
    ],
)
def test_config_that_does_not_fit_is_refused(vits_files, tmp_path, changes, message):
    files = edited_json(vits_files, "config", tmp_path, **changes)
    with pytest.raises(BackendError, match=message):
        HfVits.check_files(files, {}, trusted=False)


def test_fewer_speakers_in_the_config_than_in_the_weights_is_refused(trio_files, tmp_path):
    files = edited_json(trio_files, "config", tmp_path, num_speakers=1)
    with pytest.raises(BackendError, match="num_speakers is 1, but .* embedding .* for 3 speakers"):
        HfVits.check_files(files, {}, trusted=False)


def test_weights_missing_a_tensor_are_refused(vits_files, tmp_path):
    from safetensors.numpy import load_file, save_file

    tensors = load_file(vits_files["weights"])
    del tensors["text_encoder.embed_tokens.weight"]
    path = tmp_path / "model.safetensors"
    save_file(tensors, path)
    with pytest.raises(BackendError, match="has no tensor 'text_encoder.embed_tokens.weight'"):
        HfVits.check_files({**vits_files, "weights": path}, {}, trusted=False)
    flow_less = {k: v for k, v in tensors.items() if not k.startswith("flow.")}
    save_file(flow_less, path)
    with pytest.raises(BackendError, match="has no 'flow' tensors; it is not a VitsModel"):
        HfVits.check_files({**vits_files, "weights": path}, {}, trusted=False)


def test_a_missing_decoder_tensor_is_refused_at_load_rather_than_left_random(vits_files, tmp_path):
    from safetensors.numpy import load_file, save_file

    tensors = load_file(vits_files["weights"])
    del tensors["decoder.conv_pre.bias"]
    save_file(tensors, tmp_path / "w.safetensors")
    files = {**vits_files, "weights": tmp_path / "w.safetensors"}
    HfVits.check_files(files, {}, trusted=False)  # the header check looks at key tensors only
    with pytest.raises(BackendError, match="tensors missing .*e.g. decoder.conv_pre.bias"):
        HfVits().load(files, {}, "cpu")


@pytest.mark.parametrize(
    "vocab, message",
    [
        ({"a": 99}, "'a' has id 99, but the config's vocab_size is 35 \\(ids 0 to 34\\)"),
        ({"a": "1"}, "the id of 'a' must be a whole number"),
        (["a", "b"], "must be a non-empty JSON object"),
    ],
)
def test_bad_vocabularies_are_refused(vits_files, tmp_path, vocab, message):
    with pytest.raises(BackendError, match=message):
        HfVits.check_files(with_file(vits_files, "vocab", tmp_path, vocab), {}, trusted=False)


def test_phonemizing_tokenizer_needs_the_phonemizer_package(vits_files, tmp_path, monkeypatch):
    monkeypatch.setattr(hf_vits_files, "_phonemizer_available", lambda: False)
    files = edited_json(vits_files, "tokenizer_config", tmp_path, phonemize=True)
    with pytest.raises(BackendError, match="sets phonemize .*'phonemizer' package is not inst"):
        HfVits.check_files(files, {}, trusted=False)
    config = json.loads(vits_files["tokenizer_config"].read_text())
    del config["phonemize"]  # VitsTokenizer's default is to phonemize
    with pytest.raises(BackendError, match="phonemizer"):
        HfVits.check_files(with_file(files, "tokenizer_config", tmp_path, config), {}, False)


def test_missing_role_unknown_key_and_bad_defaults_are_refused(vits_files):
    without_vocab = {k: v for k, v in vits_files.items() if k != "vocab"}
    with pytest.raises(BackendError, match="needs a 'vocab' file"):
        HfVits.check_files(without_vocab, {}, trusted=False)
    with pytest.raises(BackendError, match="unknown config key 'pitch'"):
        HfVits.check_files(vits_files, {"pitch": 2}, trusted=False)
    with pytest.raises(BackendError, match="'speaking_rate' is 50"):
        HfVits.check_files(vits_files, {"speaking_rate": 50}, trusted=False)
    with pytest.raises(BackendError, match="config key 'language' must be str"):
        HfVits.check_files(vits_files, {"language": 3}, trusted=False)


# -- loaded ---------------------------------------------------------------------------------------
def test_renders_finite_mono_float32_at_the_config_rate(vits):
    assert vits.info.deterministic is True
    audio = render(vits)
    assert audio.sample_rate == TINY_SAMPLE_RATE and audio.channels == 1
    assert audio.samples.dtype == np.float32
    assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() > 0.01
    assert np.abs(audio.samples).max() <= 1.0
    assert 0.02 < audio.duration < 10  # 16 samples per frame, a few frames per symbol


def test_files_under_arbitrary_stored_names_load(vits_files, vits, tmp_path):
    stored = {}
    for role, path in vits_files.items():
        stored[role] = tmp_path / "checkpoints" / f"{role}-{len(role) * 'ab'}.bin"
        stored[role].parent.mkdir(exist_ok=True)
        shutil.copyfile(path, stored[role])
    backend = HfVits()
    backend.load(stored, {}, "cpu")
    np.testing.assert_array_equal(render(backend, seed=4).samples, render(vits, seed=4).samples)


def test_a_batch_renders_each_item_as_if_it_were_alone(vits):
    """Per-item seeded noise and masked decoder padding: batch neighbours do not matter."""
    batch = [
        SynthRequest(TEXTS[0], seed=1),
        SynthRequest(TEXTS[1], seed=2, controls={"speaking_rate": 2.0}),
        SynthRequest(TEXTS[2], seed=3),
        SynthRequest(TEXTS[1], seed=4),
    ]
    together = vits.synthesize(batch)
    for request, audio in zip(batch, together, strict=True):
        alone = vits.synthesize([request])[0]
        assert audio.frames == alone.frames
        np.testing.assert_allclose(audio.samples, alone.samples, atol=1e-5)


def test_same_batch_and_seeds_give_identical_samples_and_leave_torch_rng_alone(vits):
    import torch

    batch = [SynthRequest(text, seed=7 + i) for i, text in enumerate(TEXTS)]
    torch.manual_seed(123)
    first = vits.synthesize(batch)
    after = torch.rand(3)
    torch.manual_seed(123)
    again = vits.synthesize(batch)
    assert torch.equal(after, torch.rand(3))  # the global generator was not used
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.samples, b.samples)


def test_seeds_change_the_rendition_unless_there_is_no_noise(vits):
    a, b = render(vits, seed=1), render(vits, seed=2)
    assert a.frames != b.frames or not np.allclose(a.samples, b.samples)
    quiet = {"noise_scale": 0.0, "noise_scale_duration": 0.0}
    a, b = render(vits, seed=1, controls=quiet), render(vits, seed=2, controls=quiet)
    np.testing.assert_array_equal(a.samples, b.samples)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_slower_speaking_rate_gives_longer_audio(vits, seed):
    slow = render(vits, seed=seed, controls={"speaking_rate": 0.5}).frames
    fast = render(vits, seed=seed, controls={"speaking_rate": 2.0}).frames
    assert slow > 1.5 * fast
    assert render(vits, seed=seed, controls={"speed": 0.5}).frames == slow


def test_registration_defaults_apply(vits_files, vits):
    slow = HfVits()
    slow.load(vits_files, {"speaking_rate": 0.5, "language": "en-GB"}, "cpu")
    assert slow.info.languages == {"en-gb"}
    assert render(slow, seed=3).frames > 1.5 * render(vits, seed=3, controls={"speed": 2}).frames


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"controls": {"pitch": 3}}, "unknown control 'pitch'"),
        ({"controls": {"noise_scale": 3}}, "'noise_scale' is 3; it must be between 0.0 and 2.0"),
        ({"controls": {"speed": 1, "speaking_rate": 1}}, "either control 'speed' or 'speaking"),
        ({"speaker": 0}, "lacks the capability multi_speaker"),
        ({"text": "%%% 123 ###"}, "text '%%% 123 ###' has no characters this model's vocab"),
        ({"language": "fr"}, "cross_lingual"),
    ],
)
def test_requests_it_cannot_honour_are_refused(vits, fields, message):
    with pytest.raises(BackendError, match=message):
        vits.synthesize([SynthRequest(**{"text": TEXTS[0], **fields})])


def test_speakers_by_id_or_digit_string_and_unknown_ones_refused(trio):
    by_int = render(trio, speaker=2, seed=5)
    np.testing.assert_array_equal(by_int.samples, render(trio, speaker="2", seed=5).samples)
    other = render(trio, speaker=1, seed=5)
    assert other.frames != by_int.frames or not np.allclose(other.samples, by_int.samples)
    np.testing.assert_array_equal(
        render(trio, seed=5).samples, render(trio, speaker=0, seed=5).samples
    )
    for unknown in (3, "3", -1, "anna", True):
        with pytest.raises(BackendError, match=f"unknown speaker {unknown!r}; .*ids 0 to 2"):
            trio.synthesize([SynthRequest(TEXTS[1], speaker=unknown)])


def test_a_batch_of_several_speakers_matches_one_at_a_time(trio):
    batch = [SynthRequest(TEXTS[i % 3], speaker=i % 3, seed=i) for i in range(5)]
    for request, audio in zip(batch, trio.synthesize(batch), strict=True):
        np.testing.assert_allclose(audio.samples, trio.synthesize([request])[0].samples, atol=1e-5)


def test_devices(vits_files):
    import torch

    with pytest.raises(BackendError, match="device must be 'cpu', 'cuda' or 'cuda:N'"):
        HfVits().load(vits_files, {}, "tpu")
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the CPU fallback cannot be shown here")
    backend = HfVits()
    backend.load(vits_files, {}, "cuda:0")  # warns and uses the CPU
    assert render(backend).frames > 0


# -- sampled speakers ("sampled:<seed>") ----------------------------------------------------------
def sampled(backend, seed, text=TEXTS[0], noise_seed=5):
    return render(backend, text, speaker=f"sampled:{seed}", seed=noise_seed)


def test_a_sampled_speaker_is_the_same_voice_for_the_same_seed(trio, trio_files):
    first = sampled(trio, 7)
    np.testing.assert_array_equal(first.samples, sampled(trio, 7).samples)
    fresh = HfVits()  # another load: the same fit, the same draw
    fresh.load(trio_files, {}, "cpu")
    np.testing.assert_array_equal(first.samples, sampled(fresh, 7).samples)
    np.testing.assert_array_equal(trio.sampled_voice(7).embedding, fresh.sampled_voice(7).embedding)


def test_different_seeds_are_different_voices_and_none_is_a_training_speaker(trio):
    table = trio._model.embed_speaker.weight.detach().double().numpy()
    embeddings = [trio.sampled_voice(seed).embedding for seed in range(6)]
    for i, a in enumerate(embeddings):
        assert np.abs(table - a).max(axis=1).min() > 1e-3
        for b in embeddings[i + 1 :]:
            assert np.abs(a - b).max() > 1e-3
    a, b = sampled(trio, 1), sampled(trio, 2)
    assert a.frames != b.frames or not np.allclose(a.samples, b.samples)


def test_a_drawn_voice_stays_within_the_training_speakers_radius(trio):
    space = trio._speaker_space
    assert space.rank == 2  # 3 speakers span a plane of the 8-dimensional table
    assert space.radius_limit == max(space.training_radii)
    clipped = 0
    for seed in range(200):
        voice = trio.sampled_voice(seed)
        radius = space.radii(voice.embedding)[0]
        assert radius == pytest.approx(voice.radius, abs=1e-9)
        assert radius <= space.radius_limit + 1e-9
        clipped += voice.drawn_radius > space.radius_limit
    assert 0 < clipped < 200  # the guard trims the tail, it does not pin every voice to it


def test_real_speakers_render_exactly_as_before_a_sampled_one(trio):
    weights = trio._model.embed_speaker.weight.detach().clone()
    before = [render(trio, TEXTS[i], speaker=i, seed=3).samples for i in range(3)]
    sampled(trio, 11)
    trio.synthesize([SynthRequest(TEXTS[1], speaker="sampled:12"), SynthRequest(TEXTS[2])])
    after = [render(trio, TEXTS[i], speaker=i, seed=3).samples for i in range(3)]
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert torch_equal(weights, trio._model.embed_speaker.weight)
    assert not trio._model.embed_speaker._forward_hooks


def test_a_batch_mixing_sampled_and_real_speakers_matches_one_at_a_time(trio):
    speakers = ["sampled:1", 0, "sampled:2", 2, "sampled:1", "sampled:3", None]
    batch = [
        SynthRequest(TEXTS[i % 3], speaker=speaker, seed=i) for i, speaker in enumerate(speakers)
    ]
    together = trio.synthesize(batch)
    for request, audio in zip(batch, together, strict=True):
        alone = trio.synthesize([request])[0]
        assert audio.frames == alone.frames
        np.testing.assert_allclose(audio.samples, alone.samples, atol=1e-5)


def test_a_failed_pass_leaves_no_sampled_voice_behind(trio, monkeypatch):
    before = render(trio, speaker=1, seed=2).samples
    monkeypatch.setattr(trio._model.decoder, "forward", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        sampled(trio, 4)
    monkeypatch.undo()
    assert not trio._model.embed_speaker._forward_hooks
    np.testing.assert_array_equal(before, render(trio, speaker=1, seed=2).samples)


def test_provenance_records_the_seed_and_the_nearest_training_speaker(trio):
    request = SynthRequest(TEXTS[0], speaker="sampled:7")
    trio.synthesize([request])
    voice = trio.request_provenance(request)["sampled_voice"]
    assert voice["seed"] == 7 and voice["method"] == "gaussian"
    assert voice["nearest_training_speaker"] in (0, 1, 2)
    assert -1 <= voice["cosine_to_nearest"] <= 1
    assert 0 <= voice["radius"] <= voice["radius_limit"]
    json.dumps(voice)  # stored in a JSONField
    assert trio.request_provenance(SynthRequest(TEXTS[0], speaker=1)) == {}
    assert trio.request_provenance(SynthRequest(TEXTS[0])) == {}


def test_a_single_speaker_checkpoint_cannot_sample_a_speaker(vits, vits_files):
    assert "speaker_sampling" not in HfVits.describe(vits_files, {}).capabilities
    assert "speaker_sampling" not in vits.info.capabilities
    with pytest.raises(
        BackendError,
        match=r"lacks the capability speaker_sampling needed by this request "
        r"\(sampled speaker 'sampled:3'\)",
    ):
        render(vits, speaker="sampled:3")


@pytest.mark.parametrize("speaker", ["sampled:x", "sampled:", "sampled:-1", "sampled:2147483648"])
def test_a_malformed_sampled_speaker_is_refused(trio, speaker):
    with pytest.raises(BackendError, match="the seed after 'sampled:' must be a whole number"):
        render(trio, speaker=speaker)


def test_a_job_renders_sampled_speakers_of_a_multi_speaker_system_only(db, trio_files, vits_files):
    from evalsite.errors import InputError
    from synth_workers.models import Corpus, Stimulus, System, Utterance
    from synth_workers.services.registration import system_register
    from synth_workers.services.synthesis import batch_run, job_create

    corpus = Corpus.objects.create(name="sampling")
    Utterance.objects.create(corpus=corpus, key="u0", text=TEXTS[0], language="en")
    grid = {"speaker": ["sampled:1", "sampled:2"]}
    trio_system = system_register(name="trio", backend="hf-vits", files=trio_files)
    assert "speaker_sampling" in trio_system.capabilities
    System.objects.filter(pk=trio_system.pk).update(usable=True, check_error="")
    trio_system.refresh_from_db()
    job = job_create(system=trio_system, corpus=corpus, grid=grid)
    assert sorted(i["speaker"] for i in job.items.values_list("condition", flat=True)) == [
        "sampled:1",
        "sampled:2",
    ]
    batch_run(job_id=job.pk, item_ids=list(job.items.values_list("pk", flat=True)))
    stimuli = Stimulus.objects.filter(system=trio_system).order_by("condition_key")
    seeds = sorted(s.provenance["sampled_voice"]["seed"] for s in stimuli)
    assert seeds == [1, 2] and all(s.status != "failed" for s in stimuli)
    with pytest.raises(InputError, match="the seed after 'sampled:' must be a whole number"):
        job_create(system=trio_system, corpus=corpus, grid={"speaker": ["sampled:one"]})
    solo = system_register(name="solo", backend="hf-vits", files=vits_files)
    System.objects.filter(pk=solo.pk).update(usable=True, check_error="")
    solo.refresh_from_db()
    with pytest.raises(InputError, match="backend 'hf-vits' cannot do speaker_sampling"):
        job_create(system=solo, corpus=corpus, grid=grid)


def torch_equal(a, b):
    import torch

    return torch.equal(a, b)
