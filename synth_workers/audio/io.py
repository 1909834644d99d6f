"""Reading any WAV/FLAC/OGG the scientists upload; writing prepared files with no metadata."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from .containers import container_chunks, strip_flac_metadata, wav_bytes
from .core import Audio, AudioError
from .validate import ValidationLimits, too_long, validate_header

# libsndfile's names for the containers we accept; it can read more (AIFF, MP3, …) but the
# platform promises WAV/FLAC/OGG and should not depend on how libsndfile was built.
ACCEPTED_FORMATS = {"WAV", "WAVEX", "FLAC", "OGG"}
WRITE_FORMATS = {"flac": "FLAC", "wav": "WAV"}
SUBTYPE_BITS = {"PCM_16": 16, "PCM_24": 24}
BLOCK_FRAMES = 1 << 16  # decoded per read when bounded: 256 KiB per channel
UNKNOWN_FRAMES = 2**62  # libsndfile reports SF_COUNT_MAX for a stream of undeclared length


def read_audio(source: str | Path | BinaryIO, limits: ValidationLimits | None = None) -> Audio:
    """Decode a WAV, FLAC or OGG file (path or binary file object) to float32 (frames, channels).

    With ``limits`` (uploaded files), what the header declares — rate, channels, length — is
    checked before anything is decoded, and samples are decoded in blocks, never past the
    maximum duration: a small file that declares (or holds) an hour of audio is refused with
    memory bounded by the limits, not by the file.
    """
    if isinstance(source, str | Path) and not Path(source).is_file():
        raise AudioError(f"cannot read file: {source} does not exist")
    try:
        with sf.SoundFile(source) as f:
            if f.format not in ACCEPTED_FORMATS:
                raise AudioError(
                    f"cannot read file: {f.format_info} audio is not accepted "
                    "(use WAV, FLAC or OGG)"
                )
            rate = f.samplerate
            if limits is None:
                samples = f.read(dtype="float32", always_2d=True)
            else:
                declared = f.frames if 0 <= f.frames < UNKNOWN_FRAMES else None
                validate_header(rate, f.channels, declared, limits)
                samples = _read_bounded(f, int(limits.max_duration * rate), limits)
    except AudioError:
        raise
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError, OSError, EOFError) as exc:
        # libsndfile's messages ("Format not recognised") mean little to a scientist.
        raise AudioError("cannot read file: not a WAV/FLAC/OGG audio file") from exc
    return Audio(samples, rate)


def _read_bounded(f: sf.SoundFile, max_frames: int, limits: ValidationLimits) -> np.ndarray:
    blocks, frames = [], 0
    while True:
        block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
        if not len(block):
            break
        frames += len(block)
        if frames > max_frames:  # the header did not say how long: stop decoding here
            raise AudioError(too_long(None, limits))
        blocks.append(block)
    if not blocks:
        return np.zeros((0, f.channels), dtype=np.float32)
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def write_audio(audio: Audio, path: str | Path, fmt: str = "flac", subtype: str = "PCM_24") -> None:
    """Write ``encode_audio``'s bytes atomically (temp file in the same folder, then
    os.replace): a reader never sees half a file."""
    _atomic_write(Path(path), encode_audio(audio, fmt, subtype))


def encode_audio(audio: Audio, fmt: str = "flac", subtype: str = "PCM_24") -> bytes:
    """FLAC or WAV (16 or 24-bit PCM) bytes carrying nothing but the audio and its format.

    FLAC keeps only STREAMINFO (and SEEKTABLE if the encoder wrote one): libsndfile's
    VORBIS_COMMENT holds a vendor string ("reference libFLAC 1.x") that would identify software.
    WAV is built by hand with only `fmt ` and `data`. Samples are rounded to the nearest step
    without dither so that the same input always gives byte-identical files (idempotent tasks).
    Samples beyond full scale are refused rather than clipped.
    """
    if fmt not in WRITE_FORMATS:
        raise AudioError(f"unknown output format {fmt!r}; use one of {sorted(WRITE_FORMATS)}")
    if subtype not in SUBTYPE_BITS:
        raise AudioError(f"unknown sample format {subtype!r}; use one of {sorted(SUBTYPE_BITS)}")
    bits = SUBTYPE_BITS[subtype]
    pcm = _quantise(audio.samples, bits)
    if fmt == "wav":
        return wav_bytes(pcm, audio.sample_rate, bits)
    return strip_flac_metadata(_flac_bytes(pcm, audio.sample_rate, bits))


def audio_chunks(path: str | Path) -> list[str]:
    """RIFF chunk ids of a WAV (e.g. ['fmt ', 'data']) or block names of a FLAC (['STREAMINFO'])."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AudioError(f"cannot read file: {path} ({exc.strerror})") from exc
    return container_chunks(data)


def _quantise(samples: np.ndarray, bits: int) -> np.ndarray:
    """Float in [-1, 1] to `bits`-bit integers; beyond full scale is refused, not clipped."""
    if not np.all(np.isfinite(samples)):
        raise AudioError("cannot write audio containing NaN or infinite samples")
    peak = float(np.max(np.abs(samples), initial=0.0))
    if peak > 1.0:
        raise AudioError(
            f"samples reach {20 * np.log10(peak):+.2f} dBFS, beyond full scale; "
            "writing them would clip (normalise the audio first)"
        )
    scale = 2 ** (bits - 1)
    # +1.0 has no exact code (the top code is scale-1): that one step is the only clip allowed.
    return np.clip(np.rint(samples.astype(np.float64) * scale), -scale, scale - 1).astype(np.int32)


def _flac_bytes(pcm: np.ndarray, sample_rate: int, bits: int) -> bytes:
    buffer = io.BytesIO()
    # Hand libsndfile integers so the quantisation above is the only one: it maps int16 to
    # 16-bit and the top 24 bits of int32 to 24-bit FLAC without further rounding.
    data = pcm.astype(np.int16) if bits == 16 else (pcm << 8).astype(np.int32)
    sf.write(buffer, data, sample_rate, format="FLAC", subtype=f"PCM_{bits}")
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; prepared media must be servable
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
