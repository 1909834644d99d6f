"""The plan of a webMUSHRA import (``mushra.webmushra_config`` reads it, ``mushra.webmushra_import``
carries it out) and the checks both share: audio paths that stay inside the audio folder, names
and addresses, HTML reduced to text. No database."""

import html
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from django.utils.html import strip_tags
from django.utils.text import slugify

from evalsite.errors import InputError
from mushra import test_types

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
# The recordings' condition in a pair test (ABX), which compares them as one more system.
RECORDINGS_LABEL = "Recordings"


class Item(NamedTuple):
    """One utterance: its key (the page id), its recording and each system's file (paths
    relative to the audio folder, normalised POSIX text)."""

    key: str
    recording: str | None
    stimuli: dict[str, str]


@dataclass(frozen=True)
class ImportPlan:
    """What to build: a draft test of ``test_type`` (its ``options`` go to
    ``listening_test_create`` as they are), its items, and the notes on what was not carried
    over."""

    config_name: str
    test_type: str
    name: str
    slug: str
    language: str
    options: dict
    anchors: tuple[str, ...]
    items: list[Item]
    notes: list[str] = field(default_factory=list)

    @property
    def systems(self) -> list[str]:
        """The stimuli keys, in the order of the first item page."""
        return list(self.items[0].stimuli)

    @property
    def recordings_compared(self) -> bool:
        """Whether the recordings are passed as one of the compared systems: a pair test (ABX)
        compares only the systems it is given, where MUSHRA and ACR add the recordings
        themselves (hidden reference, condition "Recordings")."""
        return test_types.of(self.test_type).pair

    def renamed(self, *, name: str | None = None, slug: str | None = None) -> "ImportPlan":
        """The plan under another test name and/or address (slugified, as ``testId`` is)."""
        problems: list[str] = []
        name = self.name if name is None else name_of(name, "name", problems)
        slug = self.slug if slug is None else slug_of(slug, "slug", problems)
        if problems:
            raise InputError(f"{self.config_name}: cannot rename the test", problems)
        return replace(self, name=name, slug=slug)


def checked_path(root: Path, value) -> tuple[str, Path]:
    """A config's audio path as normalised relative text and as a resolved file inside ``root``
    (itself resolved); ValueError saying why not."""
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise ValueError(f"{str(value)[:60]!r} is not a file path")
    if "://" in value:
        raise ValueError(f"'{value}' is a URL; put the file in the audio folder, give its path")
    text = value.strip().replace("\\", "/")
    if text.startswith("/") or re.match(r"[A-Za-z]:/", text):
        raise ValueError(f"'{value}' is an absolute path; give it relative to the audio folder")
    relative = PurePosixPath(text)
    if ".." in relative.parts:
        raise ValueError(f"'{value}': '..' is not allowed, the file must be in the audio folder")
    if relative.suffix.lower() not in AUDIO_SUFFIXES:
        raise ValueError(f"'{value}': only .wav, .flac and .ogg files are imported")
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root):
        raise ValueError(f"'{value}' links outside the audio folder")
    if not resolved.is_file():
        raise ValueError(f"'{value}' not found in the audio folder")
    return relative.as_posix(), resolved


def html_to_text(value) -> str:
    """webMUSHRA's HTML content as plain text: paragraphs kept (the consent page shows
    blank-line-separated paragraphs), tags dropped, entities decoded."""
    if not isinstance(value, str):
        return ""
    text = re.sub(r"(?i)<br\s*/?>|</li>", "\n", value)
    text = re.sub(r"(?i)</(p|div|h[1-6]|ul|ol|table|blockquote)>", "\n\n", text)
    text = re.sub(r"(?i)<li[^>]*>", "- ", text)
    text = html.unescape(strip_tags(text)).replace("\x00", "")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def has_control(text: str) -> bool:
    return any(not c.isprintable() for c in text)


def name_of(value, field_name: str, problems: list[str]) -> str:
    name = "" if isinstance(value, dict | list) else " ".join(str(value).split())
    if not name or len(name) > 150:
        problems.append(f"{field_name}: {name[:40]!r} must have 1 to 150 characters")
    return name


def slug_of(value, field_name: str, problems: list[str]) -> str:
    slug = "" if isinstance(value, dict | list) else slugify(str(value))
    if not slug or len(slug) > 100:
        problems.append(
            f"{field_name}: {str(value)[:40]!r} gives no address of 1 to 100 letters, digits, "
            "- or _"
        )
    return slug
