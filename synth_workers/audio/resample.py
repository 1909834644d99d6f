"""Sample-rate conversion: a polyphase Kaiser-windowed sinc, flat to 95 % of the lower Nyquist."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import signal

from .core import Audio, AudioError

# Pass band up to 95 % of the lower rate's Nyquist, stop band from 100 % (nothing aliases into
# the audio band), 100 dB down there: below 16-bit quantisation and inaudible, with pass-band
# ripple of the order of 1e-4 dB. Similar to sox `rate -v` in bandwidth, shorter in rejection.
PASSBAND = 0.95
STOPBAND_ATTENUATION_DB = 100.0


def resample(audio: Audio, rate: int) -> Audio:
    """Convert to `rate` Hz; the result has exactly round(frames * rate / sample_rate) frames.

    The same rate returns the audio unchanged. The filter is linear phase and its delay is
    compensated by scipy's resample_poly, so the output stays time-aligned with the input.
    """
    if int(rate) != rate or rate <= 0:
        raise AudioError(f"target sample rate must be a positive whole number, got {rate}")
    rate = int(rate)
    if rate == audio.sample_rate:
        return audio
    up, down = _ratio(audio.sample_rate, rate)
    out = polyphase(audio.samples, up, down)
    expected = round(audio.frames * rate / audio.sample_rate)
    return Audio(_fit_length(out, expected), rate)


def polyphase(samples: np.ndarray, up: int, down: int) -> np.ndarray:
    """Resample (frames, channels) float samples by up/down along the frames axis."""
    if up == down:
        return samples.copy()
    taps = _lowpass_taps(up, down)
    if down == 1:
        return upsample(samples, up, taps)
    return signal.resample_poly(samples, up, down, axis=0, window=taps)


def upsample(samples: np.ndarray, up: int, taps: np.ndarray) -> np.ndarray:
    """Exactly resample_poly(samples, up, 1, axis=0, window=taps) for odd-length taps, but faster.

    Output sample q*up + p is input convolved with every up-th tap starting at p, so `up`
    FFT (overlap-add) convolutions replace upfirdn's direct loop, which is about ten times
    slower for the long filters used here (integer ratios such as 16 or 24 kHz -> 48 kHz).
    """
    frames = samples.shape[0]
    if frames == 0:
        return np.zeros((0, samples.shape[1]), dtype=np.result_type(samples, taps))
    half_len = (len(taps) - 1) // 2  # the filter's delay, removed as resample_poly does
    phases = [
        signal.oaconvolve(samples, (taps[p::up] * up)[:, np.newaxis], axes=0) for p in range(up)
    ]
    rows = max(len(phase) for phase in phases)
    full = np.zeros((rows, up, samples.shape[1]), dtype=np.result_type(samples, taps))
    for p, phase in enumerate(phases):
        full[: len(phase), p] = phase
    full = full.reshape(rows * up, samples.shape[1])
    return full[half_len : half_len + frames * up]


def _ratio(source_rate: int, target_rate: int) -> tuple[int, int]:
    g = math.gcd(source_rate, target_rate)
    return target_rate // g, source_rate // g


@lru_cache(maxsize=32)
def _lowpass_taps(up: int, down: int) -> np.ndarray:
    """The anti-imaging/anti-aliasing FIR at the upsampled rate, designed once per ratio.

    Frequencies are relative to the Nyquist of the upsampled rate (up x source rate), where the
    lower of the two Nyquists sits at 1/max(up, down).
    """
    nyquist = 1.0 / max(up, down)
    width = (1.0 - PASSBAND) * nyquist
    numtaps, beta = signal.kaiserord(STOPBAND_ATTENUATION_DB, width)
    numtaps |= 1  # odd length: a whole-sample delay that resample_poly removes exactly
    cutoff = (1.0 + PASSBAND) / 2 * nyquist
    taps = signal.firwin(numtaps, cutoff, window=("kaiser", beta))
    taps.setflags(write=False)  # shared through the cache
    return taps


def _fit_length(samples: np.ndarray, frames: int) -> np.ndarray:
    """Trim or zero-pad the tail so the length is exactly `frames` (they differ by one at most)."""
    if samples.shape[0] >= frames:
        return samples[:frames]
    pad = np.zeros((frames - samples.shape[0], samples.shape[1]), dtype=samples.dtype)
    return np.concatenate([samples, pad])
