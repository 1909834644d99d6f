"""Audio sources in storage: content-addressed, so identical files share one copy and no stored
name says anything about a system or an uploaded file name."""

import hashlib
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
