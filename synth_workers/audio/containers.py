"""Byte-level FLAC and WAV container handling: list chunks, strip FLAC tags, build plain WAV.

Blinding: a listener (or a curious browser console) must not learn which system made a stimulus
from its file. Encoders leave traces (libFLAC's vendor string, LIST/INFO chunks, PEAK chunks
with timestamps), so prepared files carry audio and the format description, nothing else.
"""

from __future__ import annotations

import struct

import numpy as np

from .core import AudioError

FLAC_MARKER = b"fLaC"
FLAC_BLOCK_NAMES = {
    0: "STREAMINFO",
    1: "PADDING",
    2: "APPLICATION",
    3: "SEEKTABLE",
    4: "VORBIS_COMMENT",
    5: "CUESHEET",
    6: "PICTURE",
}
# STREAMINFO is required to decode; SEEKTABLE only holds frame offsets (no text, no software id).
FLAC_KEPT_BLOCKS = {0, 3}


def flac_blocks(data: bytes) -> list[tuple[int, bytes]]:
    """The metadata blocks of a FLAC stream as (type, body), and where the audio frames start."""
    blocks, _ = _parse_flac(data)
    return blocks


def _parse_flac(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    if not data.startswith(FLAC_MARKER):
        raise AudioError("not a FLAC stream: the 'fLaC' marker is missing")
    pos, blocks, last = 4, [], False
    while not last:
        if pos + 4 > len(data):
            raise AudioError("damaged FLAC file: metadata ends before the last-block flag")
        header = data[pos]
        last, block_type = bool(header & 0x80), header & 0x7F
        length = int.from_bytes(data[pos + 1 : pos + 4], "big")
        body = data[pos + 4 : pos + 4 + length]
        if len(body) != length:
            raise AudioError("damaged FLAC file: a metadata block is cut short")
        blocks.append((block_type, body))
        pos += 4 + length
    return blocks, pos


def strip_flac_metadata(data: bytes) -> bytes:
    """Keep STREAMINFO (and SEEKTABLE), drop every other block, and set the last-block flag."""
    blocks, audio_start = _parse_flac(data)
    kept = [(t, body) for t, body in blocks if t in FLAC_KEPT_BLOCKS]
    if not kept or kept[0][0] != 0:
        raise AudioError("damaged FLAC file: STREAMINFO is not the first metadata block")
    out = bytearray(FLAC_MARKER)
    for i, (block_type, body) in enumerate(kept):
        last_flag = 0x80 if i == len(kept) - 1 else 0
        out.append(last_flag | block_type)
        out += len(body).to_bytes(3, "big")
        out += body
    out += data[audio_start:]
    return bytes(out)


def wav_bytes(pcm: np.ndarray, sample_rate: int, bits: int) -> bytes:
    """A RIFF/WAVE file with only a `fmt ` (PCM, format tag 1) and a `data` chunk.

    pcm holds integers already quantised to `bits` (16 or 24), shape (frames, channels).
    Written by hand because libsndfile may add chunks (PEAK, LIST) we would then have to strip.
    """
    frames, channels = pcm.shape
    width = bits // 8
    if bits == 16:
        payload = pcm.astype("<i2").tobytes()
    else:  # 24-bit: the low three bytes of each little-endian int32
        payload = pcm.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    fmt = struct.pack(
        "<HHIIHH",
        1,  # WAVE_FORMAT_PCM
        channels,
        sample_rate,
        sample_rate * channels * width,  # byte rate
        channels * width,  # block align
        bits,
    )
    pad = b"\x00" if len(payload) % 2 else b""  # RIFF chunks are word-aligned
    body = b"WAVE" + _chunk(b"fmt ", fmt) + _chunk(b"data", payload) + pad
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _chunk(chunk_id: bytes, body: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(body)) + body


def riff_chunks(data: bytes) -> list[str]:
    """Chunk ids at the top level of a RIFF/WAVE file, in file order."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("not a WAV file: the RIFF/WAVE header is missing")
    ids, pos = [], 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        ids.append(chunk_id.decode("latin-1"))
        pos += 8 + length + (length % 2)
    return ids


def container_chunks(data: bytes) -> list[str]:
    """RIFF chunk ids of a WAV, or metadata block names of a FLAC (after any leading ID3 tag)."""
    if data[:4] == b"RIFF":
        return riff_chunks(data)
    names = []
    if data[:3] == b"ID3" and len(data) >= 10:
        # ID3v2 size is "syncsafe": 4 bytes of 7 bits each, after a 10-byte header.
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        names.append("ID3")
        data = data[10 + size :]
    if data[:4] == FLAC_MARKER:
        return names + [FLAC_BLOCK_NAMES.get(t, f"TYPE_{t}") for t, _ in flac_blocks(data)]
    raise AudioError("not a WAV or FLAC file: no RIFF header and no 'fLaC' marker")


# A listener's copy of a FLAC stimulus: marker, STREAMINFO, PADDING, audio frames.
_LISTENER_OVERHEAD = 4 + (4 + 34) + 4


def flac_listener_size(data: bytes) -> int:
    """The smallest size `flac_for_listeners` can give this FLAC (an empty PADDING block)."""
    _, audio_start = _parse_flac(data)
    return _LISTENER_OVERHEAD + len(data) - audio_start


def flac_for_listeners(data: bytes, size: int) -> bytes:
    """The FLAC's audio frames behind a STREAMINFO that says nothing of compressibility, padded
    to exactly `size` bytes.

    Blinding: a compressed file's size, its frame sizes and its seek points tell how compressible
    the signal is, and a low-passed anchor compresses better than speech. Served padded to the
    largest file of a trial, every signal has the same size; STREAMINFO's min/max frame sizes
    are set to 0 ("unknown", as the format allows) and SEEKTABLE is dropped. The frames are
    copied, not re-encoded.
    """
    blocks, audio_start = _parse_flac(data)
    if not blocks or blocks[0][0] != 0 or len(blocks[0][1]) != 34:
        raise AudioError("damaged FLAC file: STREAMINFO is not the first metadata block")
    info = bytearray(blocks[0][1])
    info[4:10] = bytes(6)  # min_framesize, max_framesize (24 bits each): unknown
    padding = size - _LISTENER_OVERHEAD - (len(data) - audio_start)
    if not 0 <= padding < 2**24:
        raise AudioError(f"cannot pad this FLAC to {size} bytes")
    out = bytearray(FLAC_MARKER)
    out += bytes([0]) + (34).to_bytes(3, "big") + info  # STREAMINFO, not last
    out += bytes([0x80 | 1]) + padding.to_bytes(3, "big") + bytes(padding)  # PADDING, last
    out += memoryview(data)[audio_start:]
    return bytes(out)
