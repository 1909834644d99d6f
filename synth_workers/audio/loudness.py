"""Loudness (ITU-R BS.1770-4 integrated, LUFS), true peak (dBTP) and loudness normalisation."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyloudnorm
from scipy import signal

from .core import Audio, AudioError
from .resample import upsample

GATE_BLOCK_SECONDS = 0.4  # BS.1770 gating block: shorter audio has no loudness
TRUE_PEAK_OVERSAMPLING = 4  # BS.1770-4 Annex 2
# Annex 2's interpolator has 12 taps per phase; 24 per phase with a Kaiser window (beta 8, about
# 80 dB) is flat to about 75 % of Nyquist, which is where speech and music peaks live.
TRUE_PEAK_TAPS_PER_PHASE = 24
# The gain is exact in theory (integrated loudness scales with gain), but gating blocks near the
# -70 LUFS absolute gate can flip; one re-measure and correction step settles that.
NORMALISE_TOLERANCE_LU = 0.01


def integrated_loudness(audio: Audio) -> float:
    """Integrated gated loudness in LUFS per ITU-R BS.1770-4 (pyloudnorm's K-weighted meter)."""
    min_frames = int(np.ceil(GATE_BLOCK_SECONDS * audio.sample_rate))
    if audio.frames < min_frames:
        raise AudioError(
            f"the audio lasts {audio.duration:.3f} s; loudness (ITU-R BS.1770) needs at least "
            f"{GATE_BLOCK_SECONDS:g} s"
        )
    if not np.all(np.isfinite(audio.samples)):
        raise AudioError("cannot measure loudness: the audio contains NaN or infinite samples")
    meter = pyloudnorm.Meter(audio.sample_rate)
    lufs = float(meter.integrated_loudness(audio.samples.astype(np.float64)))
    if not np.isfinite(lufs):
        raise AudioError("the audio is too quiet to measure: no part of it is above -70 LUFS")
    return lufs


def true_peak(audio: Audio) -> float:
    """Maximum true-peak level in dBTP: the peak of the 4x oversampled signal (BS.1770-4 Annex 2).

    Never below the sample peak. Returns -inf for digital silence.
    """
    if audio.frames == 0:
        return float("-inf")
    # float32 throughout: about 4x faster than float64, and errors near 1e-6 relative (-120 dB)
    # do not matter for a peak level reported to 0.1 dB.
    upsampled = upsample(audio.samples, TRUE_PEAK_OVERSAMPLING, _peak_taps())
    peak = max(float(np.max(np.abs(upsampled))), float(np.max(np.abs(audio.samples))))
    if peak == 0.0:
        return float("-inf")
    return float(20 * np.log10(peak))


def normalise_loudness(
    audio: Audio, target_lufs: float = -23.0, true_peak_ceiling: float = 0.0
) -> Audio:
    """Apply one gain so the integrated loudness is target_lufs (within 0.01 LU).

    If that gain would put the true peak above true_peak_ceiling, this refuses (AudioError)
    instead of limiting or compressing: in a listening test every stimulus must differ only by
    what the systems did, and a limiter applied to some stimuli but not others would add an
    audible, system-dependent distortion nobody asked for. The remedy is a lower target for the
    whole test, which keeps all stimuli linear.
    """
    measured = integrated_loudness(audio)
    gain_db = target_lufs - measured
    _refuse_above_ceiling(true_peak(audio) + gain_db, measured, target_lufs, true_peak_ceiling)
    out = _apply_gain(audio, gain_db)
    error = integrated_loudness(out) - target_lufs
    if abs(error) > NORMALISE_TOLERANCE_LU:
        out = _apply_gain(out, -error)
        _refuse_above_ceiling(true_peak(out), measured, target_lufs, true_peak_ceiling)
    return out


def _refuse_above_ceiling(peak: float, measured: float, target: float, ceiling: float) -> None:
    if peak > ceiling:
        raise AudioError(
            f"normalising from {measured:.1f} to {target:g} LUFS would peak at {peak:.1f} dBTP, "
            f"above the ceiling of {ceiling:g} dBTP; lower the loudness target"
        )


@lru_cache(maxsize=1)
def _peak_taps() -> np.ndarray:
    numtaps = 2 * TRUE_PEAK_TAPS_PER_PHASE * TRUE_PEAK_OVERSAMPLING + 1
    taps = signal.firwin(numtaps, 1.0 / TRUE_PEAK_OVERSAMPLING, window=("kaiser", 8.0))
    taps = taps.astype(np.float32)
    taps.setflags(write=False)
    return taps


def _apply_gain(audio: Audio, gain_db: float) -> Audio:
    factor = 10 ** (gain_db / 20)
    return audio.with_samples(audio.samples.astype(np.float64) * factor)
