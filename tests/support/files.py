"""Uploads as a browser sends them: named in-memory files, zips of audio, stored checkpoints."""

import io
import zipfile
from pathlib import Path

from django.core.files.storage import default_storage


def upload(path_or_bytes, name: str) -> io.BytesIO:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def zip_of(files: dict[str, object]) -> io.BytesIO:
    """A zip upload named audio.zip: archive name → path of the file to put there."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, path in files.items():
            zf.write(path, name)
    buffer.seek(0)
    buffer.name = "audio.zip"
    return buffer


def manifest_file(text: str) -> io.BytesIO:
    return upload(text.encode(), "manifest.csv")


def stored_checkpoints() -> list[str]:
    return (
        default_storage.listdir("checkpoints")[1] if default_storage.exists("checkpoints") else []
    )
