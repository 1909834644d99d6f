"""MUSHRA anchors (ITU-R BS.1534-3): the reference low-passed at 3.5 kHz and at 7 kHz.

The BS.1534-3 mask for the 3.5 kHz anchor: pass band flat within ±0.1 dB up to the cutoff,
at least 25 dB down at 4 kHz and 50 dB down at 4.5 kHz. The 7 kHz anchor scales the same mask
(8 kHz, 9 kHz), i.e. stop-band points at cutoff × 8/7 and cutoff × 9/7.

Design: an elliptic IIR (the steepest filter for its order) run forwards and backwards with
sosfiltfilt, so the anchor has zero phase and stays sample-aligned with the hidden reference.
Running it twice squares the magnitude: dB attenuation doubles and pass-band ripple doubles,
so one pass is designed for 0.04 dB ripple (0.08 dB after both) and 40 dB from cutoff × 8/7
(80 dB after both, well beyond both mask points).

Low sample rates: the mask reaches up to cutoff × 9/7. When that frequency is not below the
Nyquist frequency (a 7 kHz anchor at 16 kHz or below, a 3.5 kHz anchor at 8 kHz), the filter
cannot be checked against the mask and would remove almost nothing: at 16 kHz the "7 kHz
anchor" would differ from the reference only between 7 and 8 kHz. An anchor that sounds like
the reference breaks BS.1534-3 post-screening (listeners rating the mid anchor above 90 get
excluded), so lowpass_anchor refuses with AudioError. Prepare such a test at a higher rate
(e.g. 48 kHz; a 7 kHz anchor needs more than 18 kHz) or use only the 3.5 kHz anchor.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from .core import Audio, AudioError

# The anchors' names in a stimulus' condition ({"anchor": LOW_ANCHOR}): the one spelling of each.
LOW_ANCHOR = "anchor_35"
MID_ANCHOR = "anchor_70"
LOW_ANCHOR_HZ = 3500.0
MID_ANCHOR_HZ = 7000.0
# Mask points relative to the cutoff: 4 kHz and 4.5 kHz for the 3.5 kHz anchor.
FIRST_STOP_RATIO = 8 / 7
LAST_STOP_RATIO = 9 / 7
# One pass of the filter; sosfiltfilt applies it twice.
PASS_RIPPLE_DB = 0.04
STOP_ATTENUATION_DB = 40.0


def low_anchor(audio: Audio) -> Audio:
    """The BS.1534-3 low anchor: low-passed at 3.5 kHz."""
    return lowpass_anchor(audio, LOW_ANCHOR_HZ)


def mid_anchor(audio: Audio) -> Audio:
    """The BS.1534-3 mid anchor: low-passed at 7 kHz (needs a sample rate above 18 kHz)."""
    return lowpass_anchor(audio, MID_ANCHOR_HZ)


def lowpass_anchor(audio: Audio, cutoff_hz: float) -> Audio:
    """Zero-phase elliptic low-pass meeting the BS.1534-3 mask scaled to cutoff_hz.

    Raises AudioError when the sample rate is too low for the mask (see the module docstring):
    the sample rate must exceed 2 × cutoff × 9/7.
    """
    min_rate = minimum_rate(cutoff_hz)
    if audio.sample_rate <= min_rate:
        raise AudioError(
            f"a {cutoff_hz / 1000:g} kHz anchor needs a sample rate above {min_rate:.0f} Hz "
            f"(its BS.1534-3 filter mask reaches {cutoff_hz * LAST_STOP_RATIO / 1000:g} kHz), "
            f"but this audio is at {audio.sample_rate} Hz; prepare the test at a higher rate "
            "such as 48000 Hz, or use only the 3.5 kHz anchor"
        )
    sos = anchor_filter(float(cutoff_hz), audio.sample_rate)
    # sosfiltfilt extends each end by 3 × (2 × sections + 1) samples and needs more than that.
    if audio.frames <= 3 * (2 * len(sos) + 1):
        raise AudioError(f"the audio is too short to filter ({audio.frames} samples)")
    filtered = signal.sosfiltfilt(sos, audio.samples.astype(np.float64), axis=0)
    return audio.with_samples(filtered)


def minimum_rate(cutoff_hz: float) -> float:
    """The sample rate an anchor at cutoff_hz must exceed: twice its highest mask frequency."""
    return 2 * cutoff_hz * LAST_STOP_RATIO


def anchor_filter(cutoff_hz: float, sample_rate: int) -> np.ndarray:
    """Second-order sections of the one-pass elliptic low-pass (apply it with sosfiltfilt)."""
    return _design(float(cutoff_hz), int(sample_rate)).copy()  # scipy's sosfilt wants writable


@lru_cache(maxsize=32)
def _design(cutoff_hz: float, sample_rate: int) -> np.ndarray:
    stop_hz = cutoff_hz * FIRST_STOP_RATIO
    order, natural = signal.ellipord(
        cutoff_hz, stop_hz, PASS_RIPPLE_DB, STOP_ATTENUATION_DB, fs=sample_rate
    )
    sos = signal.ellip(
        order, PASS_RIPPLE_DB, STOP_ATTENUATION_DB, natural, fs=sample_rate, output="sos"
    )
    return sos
