"""The attention check's degraded copy: band-limited, noisy, as loud as the reference, and always
the same bytes for the same reference."""

import io

import numpy as np
import pytest
import soundfile
from scipy import signal

from synth_workers.audio import Audio, AudioError, encode_audio, integrated_loudness, read_audio
from synth_workers.audio.catch import CUTOFF_HZ, catch_copy, catch_copy_flac
from synth_workers.audio.containers import container_chunks
from tests.support.audio import speech_like

RATE = 48_000


def reference(seconds: float = 2.0) -> Audio:
    return Audio(speech_like(RATE, seconds, seed=3, level=0.3), RATE)


def band_share_db(audio: Audio, low: float, high: float = np.inf) -> float:
    """Share of the power between `low` and `high` Hz, in dB of the whole (Welch, Hann)."""
    f, p = signal.welch(audio.samples[:, 0].astype(np.float64), RATE, nperseg=4096)
    return float(10 * np.log10(p[(f >= low) & (f < high)].sum() / p.sum()))


def snr_db(clean: Audio, other: Audio) -> float:
    """How much of `other` is `clean` (best-scaled) against the rest, in dB."""
    x, y = clean.samples[:, 0].astype(np.float64), other.samples[:, 0].astype(np.float64)
    scale = np.dot(x, y) / np.dot(x, x)
    return float(10 * np.log10(np.sum((scale * x) ** 2) / np.sum((y - scale * x) ** 2)))


def test_the_copy_keeps_nothing_above_its_band_and_buries_the_speech_in_noise():
    ref = reference()
    copy = catch_copy(ref)
    assert copy.frames == ref.frames and copy.sample_rate == RATE
    # The reference has a tenth or so of its power above 2 kHz; the copy none worth naming.
    assert band_share_db(ref, 2000) > -15
    assert band_share_db(copy, 2000) < -80
    # Within its band the speech is as strong as the noise (0 dB SNR) ...
    band = Audio(
        signal.sosfiltfilt(signal.butter(8, CUTOFF_HZ, fs=RATE, output="sos"), ref.samples, axis=0),
        RATE,
    )
    assert snr_db(band, copy) == pytest.approx(0.0, abs=1.0)
    # ... and against the whole reference, the copy is mostly something else.
    assert snr_db(ref, copy) < 0


def test_the_copy_is_as_loud_as_the_reference_and_fits_under_full_scale():
    ref = reference()
    copy = catch_copy(ref)
    assert integrated_loudness(copy) == pytest.approx(integrated_loudness(ref), abs=0.05)
    assert np.max(np.abs(copy.samples)) < 1.0


def test_a_loud_reference_gives_a_quieter_copy_rather_than_a_clipped_one():
    loud = Audio(speech_like(RATE, 2.0, seed=4, level=0.99), RATE)
    copy = catch_copy(loud)
    assert np.max(np.abs(copy.samples)) <= 10 ** (-1 / 20) + 1e-6
    assert integrated_loudness(copy) <= integrated_loudness(loud) + 0.05


def test_the_same_reference_always_gives_the_same_flac_in_its_own_sample_format():
    for subtype in ("PCM_24", "PCM_16"):
        data = encode_audio(reference(1.0), "flac", subtype)
        first, second = catch_copy_flac(data), catch_copy_flac(data)
        assert first == second
        assert container_chunks(first) == container_chunks(data) == ["STREAMINFO"]
        info = soundfile.info(io.BytesIO(first))
        assert (info.subtype, info.samplerate, info.frames) == (subtype, RATE, RATE)
        assert read_audio(io.BytesIO(first)).frames == RATE


def test_audio_it_cannot_degrade_is_refused_in_plain_words():
    with pytest.raises(AudioError, match="sample rate above"):
        catch_copy(Audio(np.ones(4000, dtype=np.float32) * 0.1, 4000))
    with pytest.raises(AudioError, match="too short"):
        catch_copy(Audio(np.ones(10, dtype=np.float32) * 0.1, RATE))
    with pytest.raises(AudioError, match="cannot read"):
        catch_copy_flac(b"not audio at all")
