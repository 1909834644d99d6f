"""The degraded copy an attention check (a catch trial, issue 14) plays in place of one system.

A catch trial is an ordinary MUSHRA trial in which one system's signal is replaced by a copy of
that system's own stimulus so plainly damaged that any listener who is listening rates it far
below the hidden reference; a listener who rates it at or near the reference is not listening
(``mushra.attention`` scores it). The copy is made from the system's stimulus rather than from the
reference so that a catch trial's signals have exactly the durations of an ordinary trial's. The
damage must be unmistakable, far worse than the BS.1534-3 low anchor (3.5 kHz), and yet the copy
must not stand out by anything but its sound:

* **band-limited to 1 kHz**: the source through a zero-phase Butterworth low-pass (8th order,
  run forwards and backwards: 16th-order magnitude, about 96 dB down per octave), which takes
  away every consonant's energy: muffled far beyond the 3.5 kHz anchor;
* **noise at 0 dB SNR**: Gaussian noise through the same low-pass, as strong as the band-limited
  speech (mean power over the whole signal, pauses included, so the pauses are filled with a
  rumble as loud as the speech);
* **loudness-matched** to its source (ITU-R BS.1770 integrated loudness, as the anchors are
  matched to the test's target in ``pipeline.prepare_anchors``), so it is not louder or quieter
  than the other signals; where that gain would put the true peak above −1 dBTP, the gain stops
  there (a slightly quieter copy is still a copy no one can mistake);
* the same length, sample rate, channels and sample format as its source, encoded by the same
  encoder (``io.encode_audio``), so its FLAC header looks like every other signal's.

Pure and deterministic: the noise comes from a fixed seed, so the same source always gives
byte-identical copies (a server may cache them, or make them again in another process).
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
import soundfile as sf
from scipy import signal

from .core import Audio, AudioError
from .io import SUBTYPE_BITS, encode_audio, read_audio
from .loudness import GATE_BLOCK_SECONDS, integrated_loudness, true_peak

CUTOFF_HZ = 1000.0
FILTER_ORDER = 8  # per pass; sosfiltfilt applies it twice
SNR_DB = 0.0
PEAK_CEILING_DBTP = -1.0
SEED = 1534  # fixed: the copy is a function of its source alone


def catch_copy(audio: Audio, seed: int = SEED) -> Audio:
    """The source low-passed at 1 kHz plus low-passed noise at 0 dB SNR, at its loudness."""
    if audio.sample_rate <= 4 * CUTOFF_HZ:
        raise AudioError(
            f"a catch copy needs a sample rate above {4 * CUTOFF_HZ:.0f} Hz, got "
            f"{audio.sample_rate} Hz"
        )
    sos = _lowpass(audio.sample_rate)
    if audio.frames <= 3 * (2 * len(sos) + 1):
        raise AudioError(f"the audio is too short for a catch copy ({audio.frames} samples)")
    x = audio.samples.astype(np.float64)
    speech = signal.sosfiltfilt(sos, x, axis=0)
    noise = signal.sosfiltfilt(sos, np.random.default_rng(seed).standard_normal(x.shape), axis=0)
    speech_power = float(np.mean(speech**2))
    if speech_power == 0.0:
        raise AudioError("the stimulus has no energy below 1 kHz to make a catch copy of")
    noise *= np.sqrt(speech_power / float(np.mean(noise**2)) * 10 ** (-SNR_DB / 10))
    copy = audio.with_samples(speech + noise)
    gain_db = _level(audio) - _level(copy)
    gain_db = min(gain_db, PEAK_CEILING_DBTP - true_peak(copy))
    return copy.with_samples(copy.samples.astype(np.float64) * 10 ** (gain_db / 20))


def catch_copy_flac(data: bytes, seed: int = SEED) -> bytes:
    """``catch_copy`` of an encoded stimulus (FLAC or WAV), as FLAC in the stimulus' sample
    format (16 or 24-bit), so its header matches the other signals of its trial."""
    try:
        subtype = sf.info(io.BytesIO(data)).subtype
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"cannot read the stimulus for a catch copy ({exc})") from exc
    if subtype not in SUBTYPE_BITS:
        subtype = "PCM_24"
    return encode_audio(catch_copy(read_audio(io.BytesIO(data)), seed), "flac", subtype)


def _level(audio: Audio) -> float:
    """Integrated loudness in LUFS; the RMS level (dBFS) of audio too short to gate."""
    if audio.duration >= GATE_BLOCK_SECONDS:
        try:
            return integrated_loudness(audio)
        except AudioError:  # too quiet to gate: fall back to the plain level
            pass
    rms = float(np.sqrt(np.mean(audio.samples.astype(np.float64) ** 2)))
    return 20 * np.log10(max(rms, 1e-12))


@lru_cache(maxsize=16)
def _design(sample_rate: int) -> np.ndarray:
    return signal.butter(FILTER_ORDER, CUTOFF_HZ, fs=sample_rate, output="sos")


def _lowpass(sample_rate: int) -> np.ndarray:
    return _design(int(sample_rate)).copy()
