"""Folders and zip archives of uploaded audio, read safely.

A zip entry with an absolute path, a ``..`` component or a symlink is refused, and so is a folder
entry that links outside its folder; sizes are bounded per file and in total (the bounds come from
settings), and a zip entry is never read past its bound, whatever its header claims. A damaged
archive or entry (bad CRC, corrupt data) is refused naming the archive and the entry.
"""

import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evalsite.errors import InputError


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_total_bytes: int


class AudioSource:
    """Relative POSIX names → bytes, for one folder or zip. ``refused`` lists unsafe entries."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.refused: list[str] = []
        self._sizes: dict[str, int] = {}

    def names(self) -> list[str]:
        return sorted(self._sizes)

    def __contains__(self, name: str) -> bool:
        return name in self._sizes

    def size(self, name: str) -> int:
        return self._sizes[name]

    def read(self, name: str) -> bytes:
        raise NotImplementedError


class FolderSource(AudioSource):
    def __init__(self, root: Path, limits: Limits) -> None:
        super().__init__(str(root))
        self.root = root.resolve()
        self.limits = limits
        for path in sorted(self.root.rglob("*")):
            rel = path.relative_to(self.root).as_posix()
            if path.is_symlink() and not path.resolve().is_relative_to(self.root):
                self.refused.append(f"{rel}: links outside the folder")
            elif path.is_file():
                self._sizes[rel] = path.stat().st_size

    def read(self, name: str) -> bytes:
        if self._sizes[name] > self.limits.max_file_bytes:
            raise InputError(f"{name}: {_too_big(self._sizes[name], self.limits)}")
        try:
            return (self.root / name).read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None


class ZipSource(AudioSource):
    def __init__(self, archive: zipfile.ZipFile, label: str, limits: Limits) -> None:
        super().__init__(label)
        self.archive = archive
        self.limits = limits
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._read_total = 0
        for info in archive.infolist():
            if info.is_dir():
                continue
            if reason := _unsafe_entry(info):
                self.refused.append(f"{info.filename}: {reason}")
                continue
            name = PurePosixPath(info.filename).as_posix()
            self._infos[name] = info
            self._sizes[name] = info.file_size

    def read(self, name: str) -> bytes:
        """Read at most the per-file bound: a header may lie about the size (zip bombs)."""
        bound = self.limits.max_file_bytes
        try:
            with self.archive.open(self._infos[name]) as entry:
                data = entry.read(bound + 1)  # to its end when in bounds: the CRC is checked
        except DAMAGED_ENTRY as exc:
            raise InputError(f"{self.label}: entry '{name}' is damaged ({_reason(exc)})") from None
        if len(data) > bound:
            raise InputError(f"{name}: {_too_big(len(data), self.limits)}")
        self._read_total += len(data)
        if self._read_total > self.limits.max_total_bytes:
            raise InputError(f"{self.label}: {_total_too_big(self._read_total, self.limits)}")
        return data


# What zipfile raises for a damaged or unreadable entry: a bad CRC or header (BadZipFile), a
# corrupt deflate stream (zlib.error), a cut-short file (EOFError), an unknown compression
# (NotImplementedError), an encrypted entry (RuntimeError).
DAMAGED_ENTRY = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "CRC" in text:
        return "bad CRC-32: its bytes are not the ones archived"
    if "encrypted" in text:
        return "encrypted entries are not accepted"
    return text or type(exc).__name__


def _unsafe_entry(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path refused"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "path with '..' refused"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link refused"
    return None


def _too_big(size: int, limits: Limits) -> str:
    return f"{size / 1e6:.1f} MB is over the limit of {limits.max_file_bytes / 1e6:.1f} MB per file"


@contextmanager
def open_audio_source(path: Path, limits: Limits) -> Iterator[AudioSource]:
    """Open a folder or a .zip; refuse it whole when its total size is over the bound."""
    if path.is_dir():
        source: AudioSource = FolderSource(path, limits)
        yield _checked_total(source, limits)
        return
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path.name}: not a folder or a zip archive")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(f"{path.name}: damaged zip archive ({exc})") from None
    with archive:
        yield _checked_total(ZipSource(archive, path.name, limits), limits)


def _checked_total(source: AudioSource, limits: Limits) -> AudioSource:
    total = sum(source.size(n) for n in source.names())
    if total > limits.max_total_bytes:
        raise InputError(f"{source.label}: {_total_too_big(total, limits)}")
    return source


def _total_too_big(total: int, limits: Limits) -> str:
    return (
        f"{total / 1e6:.1f} MB of files is over the limit of "
        f"{limits.max_total_bytes / 1e6:.1f} MB per import"
    )
