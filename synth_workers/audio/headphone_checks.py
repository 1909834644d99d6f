"""Stimuli of the two standard headphone checks for online listening tests (issue 14): pure,
deterministic per seed, stereo :class:`Audio` clips the platform serves like any other audio.

Both are three-alternative forced-choice trials of three intervals, one of which is the answer;
``*_trial(seed)`` gives the intervals in a seeded order and the answer's index, so a server can
rebuild a listener's trial from its seed instead of storing the audio.

* **Antiphase** (Woods, Siegel, Traer & McDermott 2017, "Headphone screening to facilitate
  web-based auditory experiments", Atten. Percept. Psychophys. 79): three 200 Hz tones; one is
  6 dB quieter, one is played in antiphase (left = −right), one is the plain diotic tone. The
  question is "which is quietest?". Over headphones the −6 dB tone is; over loudspeakers the
  antiphase tone's channels cancel in the air and it sounds quietest instead, so loudspeaker
  listeners choose wrongly.
* **Huggins pitch** (Milne, Bianco, Poole, Zhao, Oxenham, Billig & Chait 2021, "An online
  headphone screening test based on dichotic pitch", Behav. Res. Methods 53): three white-noise
  intervals, identical in both ears except that in one interval a narrow band around 600 Hz is
  phase-inverted in one ear. Only over headphones does that interval carry a faint pitch; the
  question is "which contains a tone?". Loudspeakers mix the ears and the pitch vanishes.

The published tests use 6 trials and pass at ≥ 5 correct (``TRIALS``, ``PASS_AT``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core import Audio
from .loudness import normalise_loudness

RATE = 44_100
TRIALS = 6
PASS_AT = 5
# Antiphase (Woods et al. 2017): 200 Hz, 1 s tones with 100 ms raised-cosine ramps.
TONE_HZ = 200.0
TONE_S = 1.0
RAMP_S = 0.1
QUIETER_DB = -6.0
# Huggins pitch (Milne et al. 2021): 1 s noise, the band 600 Hz ± 6 % inverted in one ear.
HUGGINS_HZ = 600.0
HUGGINS_BANDWIDTH = 0.06  # relative half-width of the inverted band
NOISE_S = 1.0
LEVEL_DBFS = -20.0  # RMS of the loudest interval; the volume calibration sets the listener's level
CALIBRATION_S = 8.0  # looped by the player while the listener sets the volume


@dataclass(frozen=True)
class CheckTrial:
    """The three intervals in the order played, and which one is the right answer (0-2)."""

    intervals: tuple[Audio, Audio, Audio]
    answer: int


def antiphase_trial(seed: int) -> CheckTrial:
    """Woods et al.'s trial: diotic tone, antiphase tone and −6 dB tone in a seeded order; the
    answer is the −6 dB tone (the quietest over headphones)."""
    tone = _ramped(np.sin(2 * np.pi * TONE_HZ * np.arange(int(TONE_S * RATE)) / RATE))
    tone *= _gain(LEVEL_DBFS) / _rms(tone)
    kinds = {
        "diotic": np.column_stack([tone, tone]),
        "antiphase": np.column_stack([tone, -tone]),
        "quieter": np.column_stack([tone, tone]) * _gain(QUIETER_DB),
    }
    return _ordered(kinds, "quieter", seed)


def huggins_trial(seed: int) -> CheckTrial:
    """Milne et al.'s trial: three noise intervals, one with the band around 600 Hz inverted in
    the right ear (the Huggins pitch); the answer is that interval."""
    rng = np.random.default_rng(seed)
    kinds = {}
    for kind in ("noise_a", "noise_b", "huggins"):
        noise = _ramped(rng.standard_normal(int(NOISE_S * RATE)))
        noise *= _gain(LEVEL_DBFS) / _rms(noise)
        right = invert_band(noise, HUGGINS_HZ, HUGGINS_BANDWIDTH) if kind == "huggins" else noise
        kinds[kind] = np.column_stack([noise, right])
    return _ordered(kinds, "huggins", seed)


def calibration_noise(target_lufs: float = -23.0) -> Audio:
    """Pink noise (equal energy per octave, like speech's long-term spectrum falls) at the test's
    loudness, ``target_lufs`` as its stimuli are normalised to: the listener sets a comfortable
    level on it, so the stimuli and the check tones that follow play at that level. Diotic, so it
    also sounds centred over headphones. Deterministic: every listener hears the same noise."""
    rng = np.random.default_rng(0)
    n = int(CALIBRATION_S * RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])  # 1/f power
    spectrum[0] = 0
    noise = _ramped(np.fft.irfft(spectrum, n=n))
    stereo = Audio(np.column_stack([noise, noise]).astype(np.float32) * 0.1, RATE)
    return normalise_loudness(stereo, target_lufs)


def invert_band(signal: np.ndarray, centre_hz: float, half_width: float) -> np.ndarray:
    """``signal`` with the components within centre ± half_width × centre phase-inverted (a sign
    flip of those FFT bins), the rest untouched."""
    spectrum = np.fft.rfft(signal)
    freqs = np.fft.rfftfreq(signal.size, 1 / RATE)
    band = np.abs(freqs - centre_hz) <= half_width * centre_hz
    spectrum[band] *= -1
    return np.fft.irfft(spectrum, n=signal.size)


def passed(correct: int) -> bool:
    return correct >= PASS_AT


def _ordered(kinds: dict[str, np.ndarray], answer_kind: str, seed: int) -> CheckTrial:
    names = list(kinds)
    order = np.random.default_rng([seed, 1]).permutation(len(names))  # not the noise's stream
    chosen = [names[i] for i in order]
    intervals = tuple(Audio(kinds[name].astype(np.float32), RATE) for name in chosen)
    return CheckTrial(intervals=intervals, answer=chosen.index(answer_kind))


def _ramped(signal: np.ndarray) -> np.ndarray:
    """Raised-cosine onset and offset ramps, so no interval starts or ends with a click."""
    n = int(RAMP_S * RATE)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
    out = signal.astype(np.float64).copy()
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def _rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(signal))))


def _gain(db: float) -> float:
    return float(10 ** (db / 20))
