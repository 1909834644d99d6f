"""Objective metrics of stimuli on real speech (the bundled Piper voice, espeak-ng) and on
synthetic signals with known answers; no mocks, the models that ship in the packages."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from synth_workers.audio import AudioError
from synth_workers.audio.metrics import (
    METRICS,
    cosine_similarity,
    distinctness,
    dnsmos_quality_proxy,
    f0_distance,
    f0_stats,
    measure,
    normalise_text,
    semitones,
    speaker_embedding,
    speaker_similarity,
    speaking_rate,
    text_units,
    wer_relative,
    word_errors,
)
from synth_workers.backends import get_backend, joe_voice_files
from synth_workers.backends.base import SynthRequest
from tests.support.audio import tone
from tests.support.paths import ROOT

SENTENCE = "It is a nice day today."
OTHER_SENTENCE = "Open the door and close the window."


@pytest.fixture(scope="module")
def joe():
    backend = get_backend("piper")()
    backend.load(joe_voice_files(), {}, "cpu")
    return backend


def render(backend, text: str, **controls) -> tuple[np.ndarray, int]:
    audio = backend.synthesize([SynthRequest(text=text, controls=controls)])[0]
    return audio.samples[:, 0], audio.sample_rate


@pytest.fixture(scope="module")
def sentence(joe):
    return render(joe, SENTENCE)


@pytest.fixture(scope="module")
def espeak_sentence():
    backend = get_backend("espeak-ng")()
    backend.load({}, {}, "cpu")
    audio = backend.synthesize([SynthRequest(text=SENTENCE)])[0]
    return audio.samples[:, 0], audio.sample_rate


# F0


def test_f0_of_a_220_hz_harmonic_tone_is_220_hz_and_voiced_throughout():
    stats = f0_stats(tone(rate=16000, seconds=2.0, freq=220.0)[:, 0], 16000)
    assert stats["median_st"] == pytest.approx(float(semitones(220.0)), abs=0.2)
    assert stats["median_hz"] == pytest.approx(220.0, rel=0.01)
    assert stats["voiced_fraction"] > 0.9
    assert stats["iqr_st"] < 0.3  # a steady tone has no spread
    assert len(stats["values_st"]) == stats["voiced_frames"]


def test_f0_of_silence_is_unvoiced_with_no_statistics():
    stats = f0_stats(np.zeros(16000, dtype=np.float32), 16000)
    assert stats["voiced_fraction"] == 0.0
    assert stats["values_st"] == []
    assert stats["median_st"] is None and stats["sd_st"] is None


def test_f0_of_speech_lies_in_a_male_voice_range(sentence):
    stats = f0_stats(*sentence)
    assert 70 < stats["median_hz"] < 180  # joe is a male voice
    assert 0.2 < stats["voiced_fraction"] < 0.9  # consonants and pauses are unvoiced


def test_f0_distance_is_zero_to_itself_and_about_the_shift_to_a_pitch_shifted_copy(sentence):
    samples, rate = sentence
    values = f0_stats(samples, rate)["values_st"]
    # The same samples played 2 semitones faster: every F0 is 2 st higher.
    shifted = f0_stats(samples, round(rate * 2 ** (2 / 12)))["values_st"]
    same = f0_distance(values, values)
    apart = f0_distance(values, shifted)
    assert same == {"wasserstein_st": 0.0, "jensen_shannon": 0.0}
    assert apart["wasserstein_st"] == pytest.approx(2.0, abs=0.5)
    assert apart["jensen_shannon"] > 0.2


def test_f0_distance_of_an_empty_distribution_is_refused():
    with pytest.raises(AudioError, match="no voiced frames"):
        f0_distance([], [1.0, 2.0])


# Speaker


@pytest.fixture(scope="module")
def embeddings(joe, sentence, espeak_sentence):
    other = render(joe, OTHER_SENTENCE)
    return {
        "joe": speaker_embedding(*sentence)["embedding"],
        "joe_other_sentence": speaker_embedding(*other)["embedding"],
        "espeak": speaker_embedding(*espeak_sentence)["embedding"],
    }


def test_a_speaker_embedding_has_256_unit_length_dimensions(embeddings):
    vector = np.array(embeddings["joe"])
    assert vector.shape == (256,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_the_same_voice_is_more_similar_than_another_voice(embeddings):
    same_sentence = cosine_similarity(embeddings["joe"], embeddings["joe"])
    same_voice = cosine_similarity(embeddings["joe"], embeddings["joe_other_sentence"])
    other_voice = cosine_similarity(embeddings["joe"], embeddings["espeak"])
    assert same_sentence == pytest.approx(1.0, abs=1e-6)
    assert same_voice > 0.8
    assert other_voice < same_voice - 0.1


def test_similarity_to_a_target_speaker_and_distinctness_from_other_voices(embeddings):
    similarity = speaker_similarity(
        [embeddings["joe_other_sentence"], embeddings["espeak"]], [embeddings["joe"]]
    )
    assert similarity["per_item"][0] > similarity["per_item"][1]
    assert similarity["mean"] == pytest.approx(np.mean(similarity["per_item"]))
    result = distinctness(
        embeddings["joe_other_sentence"],
        {"joe": [embeddings["joe"]], "espeak": [embeddings["espeak"]]},
    )
    assert result["nearest_voice"] == "joe"
    assert result["max_similarity"] == result["similarities"]["joe"]


def test_speaker_embedding_of_silence_is_refused():
    with pytest.raises(AudioError, match="silent"):
        speaker_embedding(np.zeros(16000, dtype=np.float32), 16000)


# DNSMOS


def test_dnsmos_rates_clean_speech_above_the_same_speech_in_heavy_noise(sentence):
    samples, rate = sentence
    noise = np.random.default_rng(0).standard_normal(samples.size).astype(np.float32)
    noisy = samples + noise * np.sqrt(np.mean(samples**2) / np.mean(noise**2))  # 0 dB SNR
    noisy = noisy / np.max(np.abs(noisy))
    clean, degraded = dnsmos_quality_proxy(samples, rate), dnsmos_quality_proxy(noisy, rate)
    assert clean["ovrl"] > degraded["ovrl"] + 0.5
    assert clean["bak"] > degraded["bak"] + 1.0
    assert all(1.0 <= clean[k] <= 5.5 for k in ("sig", "bak", "ovrl"))


# Speaking rate


def test_a_faster_rendering_has_a_higher_speaking_rate(joe):
    fast = speaking_rate(*render(joe, OTHER_SENTENCE, length_scale=0.8), text=OTHER_SENTENCE)
    slow = speaking_rate(*render(joe, OTHER_SENTENCE, length_scale=1.2), text=OTHER_SENTENCE)
    assert fast["units"] == slow["units"] == 9 and fast["unit"] == "syllables"
    assert fast["rate_per_s"] > slow["rate_per_s"] * 1.2
    assert fast["speech_s"] <= fast["duration_s"]


def test_syllables_are_vowel_groups_and_other_scripts_count_characters():
    assert text_units("The birch canoe slid on the smooth planks.") == (9, "syllables")
    assert text_units("Made a table.") == (4, "syllables")  # silent e dropped, "-le" kept
    assert text_units("こんにちは、世界", "ja") == (7, "characters")
    with pytest.raises(AudioError, match="no letters"):
        text_units("1, 2, 3!")


def test_speaking_rate_of_silence_has_a_duration_and_no_rate():
    result = speaking_rate(np.zeros(16000, dtype=np.float32), 16000, text=SENTENCE)
    assert result["duration_s"] == 1.0 and result["rate_per_s"] is None


# WER


def test_wer_of_a_clear_sentence_is_low_and_of_an_unrelated_text_near_one(sentence):
    assert wer_relative(*sentence, text=SENTENCE)["wer"] < 0.5
    unrelated = wer_relative(*sentence, text="Quantum physics puzzles seven brilliant students.")
    assert unrelated["wer"] >= 0.8


def test_wer_counts_word_edits_after_normalising_the_text():
    assert normalise_text("Where’s the  train-station? It's 5!") == [
        "where's",
        "the",
        "train",
        "station",
        "it's",
        "5",
    ]
    assert word_errors(["a", "b", "c"], ["a", "x", "c", "d"]) == 2  # one substitution, one insert
    assert word_errors(["a", "b"], []) == 2


def test_wer_refuses_a_language_without_a_model(sentence):
    with pytest.raises(AudioError, match="English model only"):
        wer_relative(*sentence, text="Hola a todos.", language="es")


# Every metric: determinism, provenance, bad input


@pytest.mark.parametrize("name", sorted(METRICS))
def test_each_metric_gives_the_same_values_twice(name, sentence):
    first = measure(name, *sentence, text=SENTENCE, language="en")
    second = measure(name, *sentence, text=SENTENCE, language="en")
    assert first == second
    json.dumps(first)  # plain values, ready to store


def test_each_metric_states_its_version_and_model_hash():
    for name, metric in METRICS.items():
        assert metric.name == name and metric.version()
        if metric.distribution is None:
            assert metric.model_hash() == ""
        else:
            assert metric.distribution in metric.version()
            assert len(metric.model_hash()) == 64


@pytest.mark.parametrize("name", sorted(METRICS))
@pytest.mark.parametrize(
    ("samples", "rate", "words"),
    [
        (np.zeros(0, dtype=np.float32), 16000, "no samples"),
        (np.array([0.1, np.nan] * 8000, dtype=np.float32), 16000, "NaN"),
        (tone(rate=8000)[:, 0], 8000, "8000 Hz is below"),
        (tone(channels=2), 16000, "mono"),
    ],
    ids=["empty", "nan", "8kHz", "stereo"],
)
def test_bad_audio_is_refused_in_plain_words(name, samples, rate, words):
    with pytest.raises(ValueError, match=words) as refusal:
        measure(name, samples, rate, text=SENTENCE)
    assert isinstance(refusal.value, AudioError)


def test_an_unknown_metric_is_refused():
    with pytest.raises(AudioError, match="unknown metric 'mos'"):
        measure("mos", np.zeros(16000, dtype=np.float32), 16000)


# Faithful to the packages' own code, and offline


@pytest.mark.slow  # librosa's numba code compiles on first use (about 15 s)
def test_mel_spectrogram_and_dnsmos_match_the_packages_own_code(sentence):
    import librosa
    import speechmos.dnsmos

    from synth_workers.audio.metrics.base import at_model_rate
    from synth_workers.audio.metrics.speaker import mel_spectrogram

    wav = at_model_rate(*sentence, metric="test")
    theirs = librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400, hop_length=160, n_mels=40)
    np.testing.assert_allclose(mel_spectrogram(wav), theirs.T, rtol=1e-4, atol=1e-6 * theirs.max())
    ours, reference = dnsmos_quality_proxy(wav, 16000), speechmos.dnsmos.run(wav, 16000)
    for key in ("sig", "bak", "ovrl"):
        assert ours[key] == pytest.approx(float(reference[f"{key}_mos"]), abs=1e-6)


OFFLINE_RUN = """
import sys, numpy as np
from synth_workers.audio.metrics import METRICS, measure
from tests.support.audio import tone
for name in METRICS:
    measure(name, tone(seconds=2.0)[:, 0], 16000, text="a nice day")
assert "numba" not in sys.modules, "numba imported: it writes cache files"
print("ok")
"""


@pytest.mark.slow  # a fresh interpreter imports torch and loads every model
def test_every_metric_runs_offline_and_writes_no_cache(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "HF_HUB_OFFLINE": "1",
        "TORCH_HOME": str(home / "torch"),
        "NUMBA_CACHE_DIR": str(home / "numba"),
        # Any attempt to reach the network goes to a closed port and fails.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    out = subprocess.run(
        [sys.executable, "-c", OFFLINE_RUN], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert list(home.rglob("*")) == []
