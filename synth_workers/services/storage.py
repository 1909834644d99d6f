"""Audio sources in storage: content-addressed, so identical files share one copy and no stored
name says anything about a system or an uploaded file name."""

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


@dataclass(frozen=True)
class CheckedAudio:
    """An audio file that passed validation, ready to store."""

    data: bytes
    sha256: str
    suffix: str

    @classmethod
    def of(cls, data: bytes) -> "CheckedAudio":
        return cls(data, hashlib.sha256(data).hexdigest(), suffix_of(data))


def suffix_of(data: bytes) -> str:
    """The stored suffix comes from the content, never from the uploaded name."""
    return {b"RIFF": ".wav", b"fLaC": ".flac", b"OggS": ".ogg"}.get(data[:4], ".audio")


class NewFiles:
    """Stores sources by content hash and remembers which files it created.

    The stored name says nothing about the system or the uploaded name, and identical files
    share one copy. A failed import removes only what it created: storage is left as it was.
    """

    def __init__(self) -> None:
        self.created: list[str] = []

    def store(self, checked: CheckedAudio) -> str:
        name = f"sources/{checked.sha256[:2]}/{checked.sha256}{checked.suffix}"
        if not default_storage.exists(name):
            self.created.append(default_storage.save(name, ContentFile(checked.data)))
        return name


@contextmanager
def new_files_removed_on_error() -> Iterator[NewFiles]:
    files = NewFiles()
    try:
        yield files
    except BaseException:
        for name in files.created:
            default_storage.delete(name)
        raise


def store_whole(name: str, data: bytes) -> None:
    """Put ``data`` at ``name`` all at once: a reader sees no file or the whole file.

    Prepared stimuli are content-addressed and may be written by two tasks at once; writing to
    a temporary file beside the target and renaming it over means neither a listener nor the
    other task ever reads a half-written file, and a task killed mid-write leaves no truncated
    file that would later be taken for a finished one. An object storage (DESIGN.md §4) has no
    local path, and its put is atomic by itself.
    """
    try:
        target = default_storage.path(name)
    except NotImplementedError:
        default_storage.save(name, ContentFile(data))
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
