"""Imports decode within bounds: a file is refused by its declared length before decoding and
never decoded past the longest accepted duration; a damaged zip entry is refused by name."""

import tracemalloc
import zipfile

import numpy as np
import pytest
import soundfile
from django.core.management import CommandError, call_command

from synth_workers.models import Corpus, System
from tests.support.audio import write_tone

RATE = 16000
HOUR_DECODED = 3600 * RATE * 4  # bytes of float32 samples an hour of mono would take
BOUND = 30 * 2**20  # what checking one file may allocate: 2 × 60 s of samples and the file


def write_hour_of_one_value(path):
    """An hour of a constant: FLAC compresses it to a few hundred kB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with soundfile.SoundFile(path, "w", RATE, 1, format="FLAC", subtype="PCM_16") as f:
        minute = np.full(60 * RATE, 0.25, dtype=np.float32)
        for _ in range(60):
            f.write(minute)
    return path


def hide_length(path):
    """Set STREAMINFO's total samples to 0, which FLAC allows: "length unknown"."""
    data = bytearray(path.read_bytes())
    info = 8  # after "fLaC" and the block header
    data[info + 13] &= 0xF0  # the low 4 bits of this byte and the next 4 bytes: 36 bits
    data[info + 14 : info + 18] = bytes(4)
    path.write_bytes(bytes(data))
    return path


def import_with_peak(tmp_path, audio_name: str) -> tuple[CommandError, int]:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"key,text,recording\nu1,One.,{audio_name}\n")
    tracemalloc.start()
    try:
        with pytest.raises(CommandError) as refused:
            call_command("import_corpus", "c", str(manifest), "--audio", str(tmp_path / "audio"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return refused.value, peak


def test_an_hour_long_flac_is_refused_by_its_header_before_decoding(db, tmp_path):
    path = write_hour_of_one_value(tmp_path / "audio" / "long.flac")
    assert path.stat().st_size < 2 * 2**20
    error, peak = import_with_peak(tmp_path, "long.flac")
    assert error.returncode == 2
    assert "line 2: long.flac: the audio lasts 3600.0 s, longer than the maximum of 60 s" in str(
        error
    )
    assert peak < BOUND < HOUR_DECODED
    assert not Corpus.objects.exists()


def test_a_flac_hiding_its_length_is_decoded_no_further_than_the_maximum(db, tmp_path):
    hide_length(write_hour_of_one_value(tmp_path / "audio" / "long.flac"))
    with soundfile.SoundFile(tmp_path / "audio" / "long.flac") as f:
        assert f.frames > 2**62  # libsndfile: unknown
    error, peak = import_with_peak(tmp_path, "long.flac")
    assert error.returncode == 2
    assert "long.flac: the audio lasts longer than the maximum of 60 s" in str(error)
    assert peak < BOUND < HOUR_DECODED
    assert not Corpus.objects.exists()


def test_a_zip_entry_with_a_bad_crc_is_refused_naming_the_archive_and_the_entry(db, tmp_path):
    wav = write_tone(tmp_path / "u1.wav").read_bytes()
    archive = tmp_path / "audio.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("u1.wav", wav)
        z.writestr("u2.wav", wav)
    data = bytearray(archive.read_bytes())
    at = data.index(wav) + len(wav) // 2  # u1.wav's bytes, stored as they are
    data[at] ^= 0xFF
    archive.write_bytes(bytes(data))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("key,text,recording\nu1,One.,u1.wav\nu2,Two.,u2.wav\n")
    with pytest.raises(CommandError) as refused:
        call_command("import_corpus", "c", str(manifest), "--audio", str(archive))
    assert refused.value.returncode == 2
    assert "manifest.csv, line 2: audio.zip: entry 'u1.wav' is damaged (bad CRC-32" in str(
        refused.value
    )
    assert "u2.wav" not in str(refused.value)
    assert not Corpus.objects.exists() and not System.objects.exists()


def test_a_damaged_zip_archive_is_refused_by_name(db, tmp_path):
    archive = tmp_path / "audio.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("u1.wav", write_tone(tmp_path / "u1.wav").read_bytes())
    data = bytearray(archive.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central : central + 4] = b"XXXX"  # the central directory entry, end record intact
    archive.write_bytes(bytes(data))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("key,text,recording\nu1,One.,u1.wav\n")
    with pytest.raises(CommandError) as refused:
        call_command("import_corpus", "c", str(manifest), "--audio", str(archive))
    assert refused.value.returncode == 2
    assert "audio.zip: damaged zip archive" in str(refused.value)
