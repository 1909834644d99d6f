"""Reading uploads and writing prepared files that carry no metadata at all."""

import io

import numpy as np
import pytest
import soundfile as sf

from synth_workers.audio import Audio, AudioError, audio_chunks, read_audio, write_audio
from tests.support.audio import sine

# Byte strings that give away software or add descriptive chunks in WAV/FLAC/ID3.
TELLTALES = [b"LIST", b"INFO", b"ISFT", b"bext", b"PEAK", b"id3 ", b"ID3", b"libFLAC", b"reference"]
FORMATS = [("flac", "PCM_16"), ("flac", "PCM_24"), ("wav", "PCM_16"), ("wav", "PCM_24")]
EXPECTED_CHUNKS = {"flac": ["STREAMINFO"], "wav": ["fmt ", "data"]}


def stereo(rate: int = 48000) -> Audio:
    left = sine(440, rate, 0.5, amplitude=0.9)
    right = sine(1234.5, rate, 0.5, amplitude=0.3)
    right[:10] = [-1.0, 1.0, -0.999, 0.5, 0, 1e-7, -1e-7, 0.25, -0.25, 0.9999]  # edges of scale
    return Audio(np.stack([left, right], axis=1), rate)


@pytest.mark.parametrize(("fmt", "subtype"), FORMATS)
def test_written_file_holds_only_the_audio_and_its_format(tmp_path, fmt, subtype):
    path = tmp_path / f"stimulus.{fmt}"
    write_audio(stereo(), path, fmt=fmt, subtype=subtype)
    assert audio_chunks(path) == EXPECTED_CHUNKS[fmt]
    raw = path.read_bytes()
    found = [t for t in TELLTALES if t in raw]
    assert not found, f"metadata markers in the file: {found}"


@pytest.mark.parametrize(("fmt", "subtype"), FORMATS)
def test_samples_read_back_equal_the_input_within_quantisation(tmp_path, fmt, subtype):
    audio = stereo(44100)
    path = tmp_path / f"stimulus.{fmt}"
    write_audio(audio, path, fmt=fmt, subtype=subtype)
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (44100, 2, subtype)
    back = read_audio(path)
    step = 2.0 ** -(15 if subtype == "PCM_16" else 23)
    assert back.frames == audio.frames and back.sample_rate == 44100
    # Half a step of rounding; +1.0 has no code and becomes the top code, one step below.
    np.testing.assert_allclose(back.samples, audio.samples, rtol=0, atol=step * 1.0001)
    interior = np.abs(audio.samples) < 1.0
    assert np.max(np.abs(back.samples - audio.samples)[interior]) <= step / 2 * 1.0001


def test_libsndfile_alone_would_leave_a_vendor_tag_in_flac():
    """Why the FLAC blocks are rewritten: this is what stripping removes."""
    buffer = io.BytesIO()
    sf.write(buffer, stereo().samples, 48000, format="FLAC", subtype="PCM_24")
    assert b"reference libFLAC" in buffer.getvalue()


def test_same_audio_gives_byte_identical_files(tmp_path):
    for name in ("a.flac", "b.flac"):
        write_audio(stereo(), tmp_path / name)
    assert (tmp_path / "a.flac").read_bytes() == (tmp_path / "b.flac").read_bytes()


def test_write_replaces_an_existing_file_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "stimulus.wav"
    path.write_bytes(b"old content")
    write_audio(stereo(), path, fmt="wav", subtype="PCM_16")
    assert read_audio(path).frames == stereo().frames
    assert [p.name for p in tmp_path.iterdir()] == ["stimulus.wav"]


def test_samples_beyond_full_scale_are_refused_not_clipped(tmp_path):
    loud = Audio(sine(440, 48000, 0.5, amplitude=1.2), 48000)
    with pytest.raises(AudioError, match=r"beyond full scale; writing them would clip"):
        write_audio(loud, tmp_path / "x.flac")
    assert list(tmp_path.iterdir()) == []


def test_unknown_output_format_is_refused(tmp_path):
    with pytest.raises(AudioError, match="unknown output format 'mp3'"):
        write_audio(stereo(), tmp_path / "x.mp3", fmt="mp3")
    with pytest.raises(AudioError, match="unknown sample format 'FLOAT'"):
        write_audio(stereo(), tmp_path / "x.wav", fmt="wav", subtype="FLOAT")


def test_audio_chunks_lists_what_other_writers_add(tmp_path):
    path = tmp_path / "tagged.wav"
    with sf.SoundFile(path, "w", 48000, 1, "PCM_16", format="WAV") as f:
        f.title = "system B, seed 7"  # libsndfile stores this in LIST/INFO
        f.write(sine(440, 48000, 0.1))
    assert "LIST" in audio_chunks(path)
    flac = tmp_path / "tagged.flac"
    sf.write(flac, sine(440, 48000, 0.1), 48000, subtype="PCM_16")
    assert "VORBIS_COMMENT" in audio_chunks(flac)


def test_audio_chunks_of_a_non_audio_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not audio")
    with pytest.raises(AudioError, match="not a WAV or FLAC file"):
        audio_chunks(path)


def test_reading_a_non_audio_file_is_refused_in_plain_words(tmp_path):
    path = tmp_path / "upload.wav"
    path.write_text("<html>this is a web page saved with the wrong name</html>")
    with pytest.raises(AudioError, match=r"^cannot read file: not a WAV/FLAC/OGG audio file$"):
        read_audio(path)


def test_reading_a_missing_file_is_refused(tmp_path):
    with pytest.raises(AudioError, match="does not exist"):
        read_audio(tmp_path / "missing.wav")


def test_reading_an_accepted_container_but_other_format_is_refused(tmp_path):
    path = tmp_path / "upload.aiff"
    sf.write(path, sine(440, 48000, 0.3), 48000, format="AIFF")
    with pytest.raises(AudioError, match=r"AIFF .* is not accepted \(use WAV, FLAC or OGG\)"):
        read_audio(path)


def test_reading_from_a_file_object_gives_float32_two_dimensional_audio(tmp_path):
    buffer = io.BytesIO()
    sf.write(buffer, sine(440, 22050, 0.3), 22050, format="OGG", subtype="VORBIS")
    buffer.seek(0)
    audio = read_audio(buffer)
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 2
    assert (audio.channels, audio.sample_rate) == (1, 22050)
    assert audio.duration == pytest.approx(0.3, abs=0.01)


def test_truncated_audio_is_refused(tmp_path):
    good = tmp_path / "good.flac"
    write_audio(stereo(), good)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(good.read_bytes()[:30])
    with pytest.raises(AudioError, match="cannot read file"):
        read_audio(cut)


def test_wav_with_an_odd_number_of_data_bytes_is_padded_and_reads_back(tmp_path):
    audio = Audio(sine(440, 48000, 4801 / 48000), 48000)  # 4801 frames × 3 bytes: odd
    path = tmp_path / "odd.wav"
    write_audio(audio, path, fmt="wav", subtype="PCM_24")
    assert audio_chunks(path) == ["fmt ", "data"]
    assert path.stat().st_size % 2 == 0
    np.testing.assert_allclose(read_audio(path).samples, audio.samples, atol=2.0**-23)


def test_reading_garbage_from_a_file_object_is_refused():
    with pytest.raises(AudioError, match="^cannot read file: not a WAV/FLAC/OGG audio file$"):
        read_audio(io.BytesIO(b"\x00\x01garbage" * 100))
