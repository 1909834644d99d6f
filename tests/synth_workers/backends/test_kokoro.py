"""The kokoro backend with the real Kokoro-82M int8 model and its five Japanese voice packs.

Rendering runs at about real time on a small CPU, so the texts are short and each is rendered
as few times as the claim needs.
"""

import numpy as np
import pytest

from synth_workers.audio import Audio
from synth_workers.audio.metrics.wer import wer_relative
from synth_workers.backends import BackendError, SynthRequest, get_backend
from synth_workers.backends.kokoro import KokoroBackend
from synth_workers.backends.kokoro_model import builtin_model_bytes
from synth_workers.backends.kokoro_text import MAX_PHONEMES, phonemes, token_chunks
from synth_workers.backends.kokoro_voices import (
    builtin_voices_path,
    normalised_distance,
    read_voices,
    sample_voice,
)

from .speech import median_f0, rms

PACKS = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
FOX = "The quick brown fox jumps over the lazy dog."
SHORT = "Hello there, my friend."


@pytest.fixture(scope="module")
def kokoro():
    backend = get_backend("kokoro")()
    backend.load({}, {}, "cpu")
    return backend


@pytest.fixture(scope="module")
def packs():
    return read_voices(builtin_voices_path(), "voices_ja.npz")


def render(backend, **fields) -> Audio:
    return backend.synthesize([SynthRequest(**fields)])[0]


def assert_spoken(audio: Audio, text: str) -> None:
    """24 kHz mono, a plausible length (Kokoro adds ~0.7 s of silence), audible, human pitch."""
    assert audio.sample_rate == 24000 and audio.channels == 1
    assert 0.04 <= (audio.duration - 0.7) / len(text) <= 0.2, f"{audio.duration:.2f} s"
    assert rms(audio) > 0.01
    assert 60 <= median_f0(audio) <= 400


def test_registered_under_its_name_and_describes_the_builtin_system():
    assert get_backend("kokoro") is KokoroBackend
    info = KokoroBackend.describe({}, {})
    assert info.capabilities == {"tts", "multi_speaker", "cross_lingual", "speaker_sampling"}
    assert info.languages == {"ja"}
    assert info.accepted_languages == {"ja", "en", "en-us", "en-gb"}
    assert info.speakers == PACKS
    assert info.controls == ("speed",)
    assert info.sample_rate == 24000 and info.deterministic
    assert "Kokoro-82M int8 (built-in, sha256 6e742170" in info.engine
    KokoroBackend.check_files({}, {"default_voice": "jm_kumo", "sampling": "gaussian"}, False)


def test_a_japanese_voice_speaks_english_that_a_recogniser_understands(kokoro):
    audio = render(kokoro, text=FOX, language="en-us", speaker="jm_kumo")
    assert_spoken(audio, FOX)
    # pocketsphinx on natural speech is far from 0; jm_kumo's English scored 1/9 when written
    result = wer_relative(audio.samples[:, 0], audio.sample_rate, text=FOX, language="en")
    assert result["wer"] < 0.5, result


def test_japanese_text_is_spoken_by_the_default_voice(kokoro):
    text = "こんにちは。今日はいい天気ですね。"
    audio = render(kokoro, text=text)  # no language: the packs' own, Japanese
    assert audio.sample_rate == 24000
    assert 1.5 < audio.duration < 6.0
    assert rms(audio) > 0.01
    assert 120 <= median_f0(audio) <= 400  # jf_alpha is a female voice


def test_english_japanese_and_british_phonemes_come_from_their_own_g2p():
    assert phonemes("Hello there.", "en-us") == ["həlˈO ðˈɛɹ."]
    assert phonemes("Hello there.", "en-gb") == ["həlˈQ ðˈɛː."]
    assert phonemes("Hello there.", "en") == phonemes("Hello there.", "EN_us")
    assert phonemes("こんにちは。", "ja") == ["koɲɲiʨiβa."]


def test_same_sampled_seed_gives_identical_audio_and_another_seed_another_voice(kokoro):
    first = render(kokoro, text=SHORT, language="en", speaker="sampled:7")
    other = render(kokoro, text=SHORT, language="en", speaker="sampled:8")
    again = render(kokoro, text=SHORT, language="en", speaker="sampled:7", seed=3)
    np.testing.assert_array_equal(first.samples, again.samples)
    assert other.frames != first.frames or not np.array_equal(other.samples, first.samples)
    assert rms(first) > 0.01 and rms(other) > 0.01


def test_convex_sampling_records_weights_that_are_a_distribution(kokoro, packs):
    record = kokoro.request_provenance(SynthRequest(SHORT, speaker="sampled:7"))["sampled_voice"]
    assert record["seed"] == 7 and record["method"] == "convex"
    weights = record["weights"]
    assert list(weights) == list(PACKS)
    assert all(w >= 0 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(1.0)
    voice, again = sample_voice(packs, 7, "convex")
    assert again == record
    blend = sum(weights[name] * packs[name].astype(np.float64) for name in PACKS)
    np.testing.assert_allclose(voice, blend, rtol=1e-5, atol=1e-6)
    assert kokoro.request_provenance(SynthRequest(SHORT, speaker="jm_kumo")) == {}
    assert kokoro.request_provenance(SynthRequest(SHORT)) == {}


def test_gaussian_guard_clips_an_extreme_draw_onto_the_farthest_pack(packs):
    stack = np.stack([packs[name] for name in PACKS]).astype(np.float64)
    mean, sd = stack.mean(axis=0), stack.std(axis=0, ddof=1)
    bound = max(normalised_distance(p, mean, sd) for p in stack)
    voice, record = sample_voice(packs, 5, "gaussian", spread=3.0)
    assert record["clipped"] and record["distance"] > 2 * bound
    assert record["bound"] == pytest.approx(bound, abs=1e-6)
    assert normalised_distance(voice, mean, sd) == pytest.approx(bound, rel=1e-3)
    tame, tame_record = sample_voice(packs, 5, "gaussian", spread=0.5)
    assert not tame_record["clipped"]
    assert normalised_distance(tame, mean, sd) == pytest.approx(tame_record["distance"], rel=1e-3)
    same = [sample_voice(packs, 5, "gaussian")[0] for _ in range(2)]
    np.testing.assert_array_equal(*same)


def test_gaussian_sampled_voice_renders_and_records_its_guard():
    backend = get_backend("kokoro")()
    backend.load({}, {"sampling": "gaussian", "spread": 3.0}, "cpu")  # the session is shared
    request = SynthRequest(SHORT, language="en-us", speaker="sampled:11")
    (audio,) = backend.synthesize([request])
    assert rms(audio) > 0.01
    record = backend.request_provenance(request)["sampled_voice"]
    assert record["method"] == "gaussian" and record["clipped"] and record["spread"] == 3.0


def test_speed_control_changes_the_duration(kokoro):
    normal = render(kokoro, text=SHORT, language="en", speaker="jm_kumo")
    fast = render(kokoro, text=SHORT, language="en", speaker="jm_kumo", controls={"speed": 2.0})
    assert fast.duration < 0.75 * normal.duration


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"speaker": "af_heart"}, r"unknown speaker 'af_heart'; the voice packs are jf_alpha"),
        ({"speaker": 3}, "unknown speaker 3"),
        ({"language": "de"}, "no language 'de'"),
        ({"controls": {"speed": 3.0}}, "'speed' is 3.0; it must be between 0.5 and 2.0"),
        ({"controls": {"pitch": 1.0}}, "unknown control 'pitch'"),
        ({"speaker": "sampled:x"}, "must be a whole number"),
        (
            {"text": "word " * 190},
            rf"sentence 1 has \d+ phonemes; Kokoro reads at most {MAX_PHONEMES}",
        ),
    ],
)
def test_requests_it_cannot_honour_are_refused(kokoro, fields, message):
    with pytest.raises(BackendError, match=message):
        kokoro.synthesize([SynthRequest(**{"text": SHORT, "language": "en", **fields})])


def test_sentences_are_packed_into_runs_of_at_most_510_phonemes():
    sentence = "The quick brown fox jumps over the lazy dog."
    chunks = token_chunks(phonemes(" ".join([sentence] * 30), "en-us"))
    assert len(chunks) > 1 and all(len(c) <= MAX_PHONEMES for c in chunks)
    assert len(token_chunks(phonemes(f"{sentence} {sentence}", "en-us"))) == 1


@pytest.mark.parametrize(
    "config, message",
    [
        ({"default_voice": "af_heart"}, "config 'default_voice' is 'af_heart'; the voice packs"),
        ({"sampling": "uniform"}, "config 'sampling' is 'uniform'; use convex or gaussian"),
        ({"spread": 0}, "config 'spread' is 0"),
        ({"pitch": 1}, "unknown config key 'pitch'"),
    ],
)
def test_bad_configs_are_refused(config, message):
    with pytest.raises(BackendError, match=message):
        KokoroBackend.check_files({}, config, trusted=False)


@pytest.fixture(scope="module")
def own_files(tmp_path_factory, packs):
    """A scientist's upload: the same model as a file, and two packs in both accepted shapes."""
    folder = tmp_path_factory.mktemp("own-kokoro")
    (folder / "model.onnx").write_bytes(builtin_model_bytes())
    np.savez(folder / "voices.npz", af_one=packs["jm_kumo"][:, None, :], bf_two=packs["jf_alpha"])
    return {"model": folder / "model.onnx", "voices": folder / "voices.npz"}


def test_an_uploaded_model_and_voices_are_checked_described_and_rendered(own_files):
    KokoroBackend.check_files(own_files, {}, trusted=False)
    info = KokoroBackend.describe(own_files, {})
    assert info.speakers == ("af_one", "bf_two")
    assert info.languages == {"en-us", "en-gb"}  # from Kokoro's name prefixes
    assert "built-in" not in info.engine
    backend = KokoroBackend()
    backend.load(own_files, {"default_voice": "bf_two"}, "cpu")
    audio = render(backend, text="Good morning.")  # default language: the first, en-gb
    assert rms(audio) > 0.01 and 0.8 < audio.duration < 4.0


def test_a_model_without_voices_or_voices_without_names_are_refused(own_files, tmp_path):
    with pytest.raises(BackendError, match="needs a 'voices' file"):
        KokoroBackend.check_files({"model": own_files["model"]}, {}, trusted=False)
    with pytest.raises(BackendError, match="takes no files .* or both"):
        KokoroBackend.describe({"voices": own_files["voices"]}, {})
    np.savez(tmp_path / "v.npz", alice=np.zeros((510, 1, 256), np.float32))
    files = {**own_files, "voices": tmp_path / "v.npz"}
    with pytest.raises(BackendError, match="set config 'language'"):
        KokoroBackend.describe(files, {})
    info = KokoroBackend.describe(files, {"language": "en-US"})
    assert info.languages == {"en-us"} and info.capabilities == {"tts", "cross_lingual"}


def test_a_model_that_is_not_kokoro_is_refused(own_files, joe_files):
    with pytest.raises(BackendError, match="'en_US-joe-medium.onnx' is not a Kokoro model"):
        KokoroBackend.check_files({**own_files, "model": joe_files["model"]}, {}, trusted=False)


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"not a zip") and p, "'voices.npz' is not an .npz archive"),
        (lambda p: _npz(p, a=np.zeros((510, 2, 256), np.float32)), r"voice 'a': shape \(510, 2"),
        (lambda p: _npz(p, a=np.zeros((510, 128), np.float32)), r"voice 'a': shape \(510, 128\)"),
        (lambda p: _npz(p, a=np.zeros((510, 256), np.int32)), "dtype int32 is not floating"),
        (lambda p: _npz(p, a=np.full((5, 256), np.nan, np.float32)), "NaN or infinite"),
        (lambda p: _npz(p), "holds no voice packs"),
        (lambda p: _npz(p, **{"a b": np.zeros((5, 256))}), "voice name 'a b' must be"),
    ],
)
def test_malformed_voices_files_are_refused_naming_the_file(own_files, tmp_path, make, message):
    path = make(tmp_path / "voices.npz")
    with pytest.raises(BackendError, match=message):
        KokoroBackend.check_files({**own_files, "voices": path}, {"language": "ja"}, trusted=False)


def test_pickled_voices_are_refused_even_on_a_trusted_system(own_files, tmp_path):
    path = _npz(tmp_path / "voices.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(BackendError, match="pickle-based"):
        KokoroBackend.check_files({**own_files, "voices": path}, {}, trusted=False)
    with pytest.raises(BackendError, match="cannot be read as .npz"):
        KokoroBackend.check_files({**own_files, "voices": path}, {}, trusted=True)
