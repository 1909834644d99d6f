"""Prosody transfer with the WORLD vocoder, and the measure of how well it worked.

Why: the ``world-prosody-transfer`` backend is the platform's built-in baseline for prosody-transfer
experiments. It is the classic analysis-modification-synthesis recipe, chosen because every step
can be checked: WORLD (pyworld) splits a rendering into F0, spectral envelope and aperiodicity;
dynamic time warping (DTW) on spectral features finds which frame of the rendering says what each
frame of the reference says; the rendering's envelope, aperiodicity and voicing are re-timed to
the reference, and its F0 replaced by the reference's contour shifted in log frequency to the
rendering's own median, so the target speaker keeps their register. ``f0_correlation`` (log-F0
correlation after the same alignment) is what the tests use to show the contour was transferred.

Everything is float64 for pyworld; audio comes in and goes out as ``Audio``. Work is bounded:
references longer than ``MAX_REFERENCE_SECONDS`` are refused, and DTW runs inside a band.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import numpy as np
from scipy.ndimage import median_filter

from .core import Audio, AudioError
from .edit import downmix
from .resample import resample

FRAME_PERIOD_MS = 5.0
F0_FLOOR_HZ = 60.0  # below most creaky male voices' modal F0
F0_CEIL_HZ = 700.0  # above an excited child's
MAX_REFERENCE_SECONDS = 30.0  # bounds the work: a 30 s reference takes ~35 s, 0.5 GB
MIN_REFERENCE_SECONDS = 0.1
FEATURE_DIMENSIONS = 24  # coded (mel-cepstrum-like) spectral envelope used by DTW
BAND_FRACTION = 0.2  # DTW band half-width, as a fraction of the longer sequence
MIN_BAND_SECONDS = 0.3  # ... but at least this much, so short pauses can differ
MIN_VOICED_FRAMES = 10  # fewer give no contour worth transferring or correlating
PERIODICITY = 0.5  # see _reliable_f0
PERIODICITY_WINDOW_S = 0.04
JUMP_WINDOW = 61  # voiced frames (about 300 ms of voicing): see _without_jumps
JUMP_RATIO = 1.5
VOICED_BELOW_HZ = 1000.0  # see _voiced_like
VOICED_LEVEL_DB = 35.0
REFINE_RATIO = 1.25  # see _voiced_f0
# DTW steps, as the cells passed going back from where they end (i in a, j in b).
DIAGONAL, A_ONLY, B_ONLY, A_TWICE, B_TWICE = range(5)
MOVES = (
    ((1, 1),),  # DIAGONAL
    ((1, 0),),  # A_ONLY
    ((0, 1),),  # B_ONLY
    ((1, 0), (1, 1)),  # A_TWICE: from (i - 2, j - 1) through (i - 1, j)
    ((0, 1), (1, 1)),  # B_TWICE: from (i - 1, j - 2) through (i, j - 1)
)


class World(NamedTuple):
    """WORLD's analysis of one signal, one row per FRAME_PERIOD_MS frame."""

    x: np.ndarray  # the mono float64 samples analysed
    times: np.ndarray  # frame centres, s
    f0: np.ndarray  # Harvest's F0, Hz; 0 where unvoiced
    sp: np.ndarray  # CheapTrick's spectral envelope (power), frames x bins


@cache
def pyworld() -> ModuleType:
    """The pyworld module. pyworld 0.3.5's ``__init__`` imports ``pkg_resources`` only to read its
    version, and setuptools >= 81 no longer ships that module: then the compiled extension inside
    the package is loaded directly (it is the whole API)."""
    try:
        return importlib.import_module("pyworld")
    except ModuleNotFoundError as exc:
        if exc.name != "pkg_resources":
            raise
    spec = importlib.util.find_spec("pyworld")
    folder = Path(next(iter(spec.submodule_search_locations)))
    library = next(folder.glob("pyworld*.so"), None) or next(folder.glob("pyworld*.pyd"))
    ext_spec = importlib.util.spec_from_file_location("pyworld.pyworld", library)
    module = importlib.util.module_from_spec(ext_spec)
    ext_spec.loader.exec_module(module)
    return module


def check_reference(reference: Audio) -> None:
    """Refuse a prosody reference that is empty, too short, too long or not finite."""
    if reference.frames == 0:
        raise AudioError("the prosody reference is empty")
    if reference.duration < MIN_REFERENCE_SECONDS:
        raise AudioError(
            f"the prosody reference is {reference.duration:.3f} s long; "
            f"it must be at least {MIN_REFERENCE_SECONDS} s"
        )
    if reference.duration > MAX_REFERENCE_SECONDS:
        raise AudioError(
            f"the prosody reference is {reference.duration:.1f} s long; "
            f"the limit is {MAX_REFERENCE_SECONDS:.0f} s"
        )
    if not np.all(np.isfinite(reference.samples)):
        raise AudioError("the prosody reference contains NaN or infinite samples")


def f0_contour(
    audio: Audio, frame_period_ms: float = FRAME_PERIOD_MS
) -> tuple[np.ndarray, np.ndarray]:
    """(times in s, F0 in Hz) every frame_period_ms by WORLD's Harvest; F0 is 0 when unvoiced."""
    f0, times = pyworld().harvest(
        _mono64(audio), audio.sample_rate, F0_FLOOR_HZ, F0_CEIL_HZ, frame_period_ms
    )
    return times, f0


def align(features_a: np.ndarray, features_b: np.ndarray) -> np.ndarray:
    """DTW path between two feature sequences (frames, dims): int array (steps, 2) of (i_a, i_b),
    from (0, 0) to (last, last), every frame of both on it, both indices never decreasing.

    Euclidean frame distance, symmetric weights (no direction favoured), inside a Sakoe-Chiba
    band around the straight line between the corners, so memory and time grow with length x
    band. Local slopes are kept between 1/2 and 2 (see _accumulate_sloped) unless the lengths
    are too far apart for that; then any slope is allowed.
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or not len(a) or not len(b):
        raise AudioError(f"cannot align features shaped {a.shape} and {b.shape}")
    lo, hi = _band(len(a), len(b))
    steps = _accumulate_sloped(a, b, lo, hi) or _accumulate_free(a, b, lo, hi)
    return _backtrack(steps, lo)


def transfer_prosody(source: Audio, reference: Audio, *, shift_to_median: bool = True) -> Audio:
    """``source`` re-spoken with ``reference``'s timing and F0 contour, mono at source's rate.

    The source's spectral envelope, aperiodicity and voicing are time-warped so the output lasts
    as long as the reference and says each sound when the reference does. In the output's voiced
    frames F0 is the reference's contour (its reliable frames, see _reliable_f0, interpolated in
    log F0 across the rest) and, with shift_to_median, moved so that the output's median F0 is
    the source's.
    """
    check_reference(reference)
    rate = source.sample_rate
    ref = _analyse(reference, rate)
    ref_f0 = _reliable_f0(ref, rate)  # the reference first: refusing it costs least
    if np.count_nonzero(ref_f0) < MIN_VOICED_FRAMES:
        raise AudioError("the reference has no voiced speech to take an F0 contour from")
    src = _analyse(source, rate)
    if np.count_nonzero(src.f0) < MIN_VOICED_FRAMES:
        raise AudioError("the rendering has no voiced speech to give an F0 contour to")
    src_f0, sp, ap = _synthesis_parameters(src, rate)
    path = align(_features(src.sp, rate), _features(ref.sp, rate))
    index = _source_frame_for_each(path, len(ref_f0))
    log_f0 = _continuous(np.log(np.where(ref_f0 > 0, ref_f0, 1.0)), ref_f0 > 0)
    voiced = src_f0[index] > 0
    if shift_to_median and voiced.any():  # the output's median F0 becomes the source's
        log_f0 += np.median(np.log(src_f0[src_f0 > 0])) - np.median(log_f0[voiced])
    f0 = np.where(voiced, np.exp(log_f0), 0.0)
    out = pyworld().synthesize(
        f0, np.ascontiguousarray(sp[index]), np.ascontiguousarray(ap[index]), rate, FRAME_PERIOD_MS
    )
    return Audio(_within_full_scale(_fit_length(out, len(ref.x))), rate)


def f0_correlation(a: Audio, b: Audio) -> float:
    """Pearson correlation of log F0 of ``a`` and ``b`` over DTW-aligned frame pairs with a
    reliable F0 in both (b is first resampled to a's rate). 1: the same contour shape, whatever
    the register; about 0: unrelated contours; flat contours (a few % of spread) measure low.

    Reliable frames (see _reliable_f0) leave octave errors of the tracker out: a handful of them
    would otherwise outweigh contours that span half an octave.
    """
    rate = a.sample_rate
    x, y = _analyse(a, rate), _analyse(b, rate)
    path = align(_features(x.sp, rate), _features(y.sp, rate))
    fa, fb = _reliable_f0(x, rate)[path[:, 0]], _reliable_f0(y, rate)[path[:, 1]]
    both = (fa > 0) & (fb > 0)
    if both.sum() < MIN_VOICED_FRAMES:
        raise AudioError(f"only {both.sum()} aligned frames have a reliable F0 in both signals")
    return float(np.corrcoef(np.log(fa[both]), np.log(fb[both]))[0, 1])


# -- WORLD analysis and features ---------------------------------------------------------------
def _mono64(audio: Audio) -> np.ndarray:
    return np.ascontiguousarray(downmix(audio).samples[:, 0], dtype=np.float64)


def _analyse(audio: Audio, rate: int) -> World:
    """Harvest F0 and CheapTrick envelope of the audio, mono at ``rate``."""
    x = _mono64(resample(downmix(audio), rate))
    if len(x) < rate * 2 * FRAME_PERIOD_MS / 1000:
        raise AudioError(f"{len(x)} samples are too short to analyse")
    world = pyworld()
    f0, times = world.harvest(x, rate, F0_FLOOR_HZ, F0_CEIL_HZ, FRAME_PERIOD_MS)
    return World(x, times, f0, world.cheaptrick(x, f0, times, rate, f0_floor=F0_FLOOR_HZ))


def _voiced_f0(world: World, rate: int) -> np.ndarray:
    """Harvest's F0, plus the rough (creaky, breathy) voicing it leaves out, as in the Piper
    voice joe: frames that are loud and carry most energy below 1 kHz count as voiced too.

    Their F0 is Harvest's contour interpolated across them, refined by StoneMask (which moves an
    estimate to the nearby harmonic structure; on joe it agrees with the cepstrum within a few
    Hz), kept unrefined where StoneMask wanders more than REFINE_RATIO away.
    """
    known = world.f0 > 0
    if not known.any():
        return world.f0.copy()
    voiced = known | _voiced_like(world.sp, rate)
    guess = np.where(voiced, np.exp(_continuous(np.log(np.where(known, world.f0, 1.0)), known)), 0)
    refined = pyworld().stonemask(world.x, guess, world.times, rate)
    near = (refined > guess / REFINE_RATIO) & (refined < guess * REFINE_RATIO)
    return np.where(known, world.f0, np.where(near, refined, guess))


def _synthesis_parameters(world: World, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F0, envelope, aperiodicity) to resynthesise ``world`` from. With Harvest's voicing only,
    WORLD would whisper rough voicing; see _voiced_f0."""
    module, f0 = pyworld(), _voiced_f0(world, rate)
    sp = module.cheaptrick(world.x, f0, world.times, rate, f0_floor=F0_FLOOR_HZ)
    fft_size = module.get_cheaptrick_fft_size(rate, F0_FLOOR_HZ)
    return f0, sp, module.d4c(world.x, f0, world.times, rate, fft_size=fft_size)


def _reliable_f0(world: World, rate: int) -> np.ndarray:
    """_voiced_f0 where the signal repeats after one period, and not better after two or half
    of one (normalised cross-correlation of PERIODICITY_WINDOW_S around the frame), then without
    jumps. A doubled F0 repeats better after two of its periods, a halved one after half."""
    f0, x, half = _voiced_f0(world, rate), world.x, round(PERIODICITY_WINDOW_S * rate / 2)
    for i in np.flatnonzero(f0 > 0):
        centre, period = round(world.times[i] * rate), rate / f0[i]
        one, two, half_one = (
            _nccf(x, centre, half, lag) for lag in (period, 2 * period, period / 2)
        )
        if one < PERIODICITY or two > one + 0.1 or half_one > one - 0.05:
            f0[i] = 0.0
    return _without_jumps(f0)


def _nccf(x: np.ndarray, centre: int, half: int, lag: float) -> float:
    """Normalised cross-correlation of x around centre with x `lag` samples later."""
    lag = round(lag)
    start, stop = max(0, centre - half), min(len(x) - lag, centre + half)
    if stop - start < lag:
        return 0.0
    a, b = x[start:stop], x[start + lag : stop + lag]
    norm = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / norm) if norm > 0 else 0.0


def _without_jumps(f0: np.ndarray) -> np.ndarray:
    """f0 with frames far from the median of their JUMP_WINDOW voiced neighbours set to 0.

    F0 trackers can lock on to twice or half F0 for a few frames (voiced fricatives, creak).
    """
    voiced = np.flatnonzero(f0 > 0)
    if len(voiced) == 0:
        return f0
    log_f0 = np.log(f0[voiced])
    local = median_filter(log_f0, size=JUMP_WINDOW, mode="mirror")  # edges: no padded copies
    out = f0.copy()
    out[voiced[np.abs(log_f0 - local) > np.log(JUMP_RATIO)]] = 0.0
    return out


def _voiced_like(sp: np.ndarray, rate: int) -> np.ndarray:
    """Frames within VOICED_LEVEL_DB of the loudest whose energy is mostly below 1 kHz."""
    freqs = np.arange(sp.shape[1]) * rate / (2 * (sp.shape[1] - 1))
    energy = sp.sum(axis=1)
    low = sp[:, freqs < VOICED_BELOW_HZ].sum(axis=1) / energy
    loud = energy > energy.max() * 10 ** (-VOICED_LEVEL_DB / 10)
    return loud & (low > 0.5)


def _features(sp: np.ndarray, rate: int) -> np.ndarray:
    """WORLD's coded (mel-cepstrum-like) envelope with its utterance mean removed: cepstral mean
    normalisation takes out most of what differs between two voices and recording channels.
    Scaling each dimension by its spread as well made cross-voice alignments less consistent."""
    coded = pyworld().code_spectral_envelope(sp, rate, FEATURE_DIMENSIONS)
    return coded - coded.mean(axis=0)


def _continuous(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """values where known; linear interpolation between known frames, held flat at the ends."""
    frames = np.arange(len(values))
    return np.interp(frames, frames[known], values[known])


def _source_frame_for_each(path: np.ndarray, frames_b: int) -> np.ndarray:
    """For each frame of b, the (mean, rounded) frame of a that the path pairs it with."""
    sums = np.bincount(path[:, 1], weights=path[:, 0], minlength=frames_b)
    counts = np.bincount(path[:, 1], minlength=frames_b)
    return np.rint(sums / counts).astype(np.intp)  # every b frame is on the path: counts >= 1


def _fit_length(x: np.ndarray, frames: int) -> np.ndarray:
    return x[:frames] if len(x) >= frames else np.pad(x, (0, frames - len(x)))


def _within_full_scale(x: np.ndarray) -> np.ndarray:
    """WORLD can overshoot where the source was near full scale: scale down then, never clip."""
    peak = float(np.max(np.abs(x), initial=0.0))
    return x / peak if peak > 1.0 else x


# -- DTW ---------------------------------------------------------------------------------------
def _band(frames_a: int, frames_b: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row i of a, the columns [lo, hi) of b it may pair with."""
    centre = np.arange(frames_a) * ((frames_b - 1) / max(frames_a - 1, 1))
    minimum = MIN_BAND_SECONDS * 1000 / FRAME_PERIOD_MS
    radius = max(BAND_FRACTION * max(frames_a, frames_b), minimum, frames_b / frames_a + 1)
    lo = np.clip(np.floor(centre - radius), 0, frames_b - 1).astype(np.intp)
    hi = np.clip(np.ceil(centre + radius) + 1, 1, frames_b).astype(np.intp)
    return lo, hi


def _costs(row: np.ndarray, b: np.ndarray, start: int, stop: int) -> np.ndarray:
    return np.sqrt(np.sum((b[start:stop] - row) ** 2, axis=1))


def _accumulate_sloped(
    a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> list[np.ndarray] | None:
    """Best step into every band cell, with steps (1, 1), (1, 2) and (2, 1) weighted as Sakoe and
    Chiba's symmetric P = 1: the local slope stays between 1/2 and 2, so neither signal can stall
    while the other runs on (free alignments of two voices do, in pauses and at unlike sounds).
    No step depends on its own row, so each row is one vectorised pass. None when the corners
    cannot be joined so (one sequence more than about twice the other)."""
    width = len(b) + 2  # columns shifted by 2: index j + 2 is column j, the first two are inf
    d1, d2, c1 = np.full(width, np.inf), np.full(width, np.inf), np.full(width, np.inf)
    codes = np.array([DIAGONAL, B_TWICE, A_TWICE], dtype=np.int8)
    steps = []
    for i in range(len(a)):
        start, stop = lo[i], hi[i]
        c = np.full(width, np.inf)
        c[start + 2 : stop + 2] = _costs(a[i], b, start, stop)
        here, left = c[start + 2 : stop + 2], c[start + 1 : stop + 1]
        options = np.stack(
            [
                d1[start + 1 : stop + 1] + 2 * here,
                d1[start:stop] + 2 * left + here,
                d2[start + 1 : stop + 1] + 2 * c1[start + 2 : stop + 2] + here,
            ]
        )
        if i == 0:
            options[0, 0] = here[0]  # the path starts at (0, 0)
        choice = np.argmin(options, axis=0)
        d = np.full(width, np.inf)
        d[start + 2 : stop + 2] = np.take_along_axis(options, choice[np.newaxis], 0)[0]
        steps.append(codes[choice])
        d2, d1, c1 = d1, d, c
    return steps if np.isfinite(d1[-1]) else None


def _accumulate_free(
    a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> list[np.ndarray]:
    """Best step into every band cell with steps (1, 1) (weight 2), (1, 0) and (0, 1): any slope.

    Within a row D[j] = min(m[j], D[j-1] + c[j]), where m[j] is the best of the up and diagonal
    steps; unrolled, D[j] = S[j] + min over k <= j of (m[k] - S[k]) with S the running sum of c,
    so a cumulative minimum replaces the sequential recursion and each row is one pass.
    """
    previous = np.full(len(b) + 1, np.inf)  # previous[j + 1] is D[i - 1, j]; previous[0] = inf
    steps = []
    for i in range(len(a)):
        start, stop = lo[i], hi[i]
        cost = _costs(a[i], b, start, stop)
        up = previous[start + 1 : stop + 1] + cost
        diagonal = previous[start:stop] + 2 * cost
        if i == 0:
            diagonal[0] = cost[0]  # the path starts at (0, 0); start is always 0 in row 0
        best = np.minimum(up, diagonal)
        step = np.where(diagonal <= up, DIAGONAL, A_ONLY).astype(np.int8)
        running = np.cumsum(cost)
        offset = best - running
        lowest = np.minimum.accumulate(offset)
        step[offset > lowest] = B_ONLY  # an earlier cell of this row reaches here more cheaply
        previous = np.full(len(b) + 1, np.inf)
        previous[start + 1 : stop + 1] = running + lowest
        steps.append(step)
    return steps


def _backtrack(steps: list[np.ndarray], lo: np.ndarray) -> np.ndarray:
    """The path from (0, 0) to the last cell, every cell a step passes through included."""
    i, j = len(steps) - 1, int(lo[-1]) + len(steps[-1]) - 1
    path = [(i, j)]
    while i or j:
        for back_i, back_j in MOVES[steps[i][j - lo[i]]]:
            i, j = i - back_i, j - back_j
            path.append((i, j))
    return np.array(path[::-1], dtype=np.intp)
