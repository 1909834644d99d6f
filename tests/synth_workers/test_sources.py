"""Folders and zips of uploads: unsafe entries refused, sizes bounded, nothing read past a bound."""

import os
import stat
import zipfile

import pytest

from evalsite.errors import InputError
from synth_workers.sources import Limits, open_audio_source

ROOMY = Limits(max_file_bytes=1_000_000, max_total_bytes=10_000_000)


def make_zip(path, entries: dict[str, bytes], symlink: str | None = None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def test_zip_entries_escaping_their_folder_are_refused(tmp_path):
    archive = make_zip(
        tmp_path / "a.zip",
        {
            "good/a1.wav": b"RIFF",
            "/abs.wav": b"x",
            "../up.wav": b"x",
            "d/../../up2.wav": b"x",
        },
        symlink="link.wav",
    )
    with open_audio_source(archive, ROOMY) as source:
        assert source.names() == ["good/a1.wav"]
        assert source.read("good/a1.wav") == b"RIFF"
        assert sorted(source.refused) == [
            "../up.wav: path with '..' refused",
            "/abs.wav: absolute path refused",
            "d/../../up2.wav: path with '..' refused",
            "link.wav: symbolic link refused",
        ]


def test_a_zip_over_the_total_bound_is_refused_whole(tmp_path):
    archive = make_zip(tmp_path / "big.zip", {f"f{i}.wav": b"\0" * 600 for i in range(3)})
    with pytest.raises(InputError, match=r"big.zip: 0.0 MB of files is over the limit"):
        with open_audio_source(archive, Limits(max_file_bytes=1000, max_total_bytes=1500)):
            pass


def test_a_zip_entry_over_the_file_bound_is_never_read_whole(tmp_path):
    # Highly compressible: a zip bomb in miniature. Reading stops one byte past the bound.
    archive = make_zip(tmp_path / "bomb.zip", {"bomb.wav": b"\0" * 5_000_000})
    with open_audio_source(archive, Limits(max_file_bytes=1000, max_total_bytes=10**9)) as source:
        with pytest.raises(InputError, match=r"bomb.wav: 0.0 MB is over the limit"):
            source.read("bomb.wav")


def test_folder_links_pointing_outside_are_refused(tmp_path):
    folder = tmp_path / "audio"
    folder.mkdir()
    (folder / "a1.wav").write_bytes(b"RIFF")
    os.symlink("/etc/hostname", folder / "sneaky.wav")
    with open_audio_source(folder, ROOMY) as source:
        assert source.names() == ["a1.wav"]
        assert source.refused == ["sneaky.wav: links outside the folder"]


def test_something_that_is_neither_folder_nor_zip_is_refused(tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    with pytest.raises(InputError, match="notes.txt: not a folder or a zip archive"):
        with open_audio_source(stray, ROOMY):
            pass
