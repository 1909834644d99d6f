"""Corpus manifests: CSV or JSONL rows of key, text, language, speaker, style, prosody_reference,
recording. Parsing reports every bad row by line number instead of stopping at the first."""

import csv
import io
import json
from dataclasses import dataclass
from pathlib import PurePosixPath

from evalsite.errors import InputError

COLUMNS = ("key", "text", "language", "speaker", "style", "prosody_reference", "recording")
REQUIRED = ("key", "text")


@dataclass(frozen=True)
class ManifestRow:
    line: int
    key: str
    text: str
    language: str
    speaker: str = ""
    style: str = ""
    prosody_reference: str = ""
    recording: str = ""


def _records(name: str, data: bytes) -> list[tuple[int, dict]]:
    """(line number, raw record) pairs; structural errors name the file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if name.lower().endswith((".jsonl", ".ndjson")):
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{name}, line {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise InputError(f"{name}, line {number}: expected a JSON object")
            records.append((number, record))
        return records
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{name}: missing column(s) {', '.join(missing)}")
        # DictReader's line_num counts physical lines, so quoted newlines keep numbers right.
        return [(reader.line_num, row) for row in reader]
    raise InputError(f"{name}: a manifest must be .csv or .jsonl")


def _clean(value) -> str:
    return "" if value is None else str(value).strip()


def parse_manifest(
    name: str, data: bytes, default_language: str
) -> tuple[list[ManifestRow], list[str]]:
    """Rows that are well-formed, and one problem per bad row ("manifest.csv, line 7: …")."""
    rows: list[ManifestRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, record in _records(name, data):
        values = {c: _clean(record.get(c)) for c in COLUMNS}
        where = f"{name}, line {line}"
        if unknown := sorted(set(record) - set(COLUMNS)):
            problems.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
            continue
        if any("\x00" in v for v in values.values()):  # PostgreSQL text cannot hold a NUL
            problems.append(f"{where}: contains a NUL character")
            continue
        if not values["key"]:
            problems.append(f"{where}: empty key")
            continue
        if values["key"] in seen:
            problems.append(
                f"{where}: duplicate key '{values['key']}' (first on line {seen[values['key']]})"
            )
            continue
        seen[values["key"]] = line
        if not values["text"]:
            problems.append(f"{where}: empty text for key '{values['key']}'")
            continue
        for column in ("recording", "prosody_reference"):
            if values[column] and not _is_relative_path(values[column]):
                problems.append(f"{where}: {column} '{values[column]}' must be a relative path")
                break
        else:
            values["language"] = values["language"] or default_language
            rows.append(ManifestRow(line=line, **values))
    if not rows and not problems:
        problems.append(f"{name}: no rows")
    return rows, problems


def _is_relative_path(path: str) -> bool:
    parts = PurePosixPath(path.replace("\\", "/")).parts
    return bool(parts) and not path.startswith(("/", "\\")) and ".." not in parts
