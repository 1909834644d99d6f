"""Manifests: every bad row is reported by line number; good rows parse with defaults."""

import json
import re

import pytest

from evalsite.errors import InputError
from synth_workers.manifest import parse_manifest


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_csv_rows_parse_with_the_default_language():
    rows, problems = parse_manifest(
        "m.csv",
        csv_bytes(
            "key,text,language,speaker,recording",
            "a1,Hello there.,,p229,a1.wav",
            "a2,Bonjour.,fr,,",
        ),
        default_language="en",
    )
    assert problems == []
    assert [(r.key, r.language, r.speaker, r.recording, r.line) for r in rows] == [
        ("a1", "en", "p229", "a1.wav", 2),
        ("a2", "fr", "", "", 3),
    ]


def test_bad_rows_are_reported_by_line_number():
    rows, problems = parse_manifest(
        "m.csv",
        csv_bytes(
            "key,text,recording",
            "a1,One.,a1.wav",
            "a1,Again.,x.wav",
            "a3,,a3.wav",
            ",Keyless.,k.wav",
            "a5,Escape.,../../etc/passwd",
            "a6,Fine.,",
        ),
        default_language="en",
    )
    assert [r.key for r in rows] == ["a1", "a6"]
    assert problems == [
        "m.csv, line 3: duplicate key 'a1' (first on line 2)",
        "m.csv, line 4: empty text for key 'a3'",
        "m.csv, line 5: empty key",
        "m.csv, line 6: recording '../../etc/passwd' must be a relative path",
    ]


def test_jsonl_manifest_reports_unknown_fields_and_bad_json():
    data = "\n".join(
        [
            json.dumps({"key": "k1", "text": "Hi.", "style": "newscaster"}),
            json.dumps({"key": "k2", "text": "Hi.", "emotion": "sad"}),
        ]
    ).encode()
    rows, problems = parse_manifest("m.jsonl", data, default_language="de")
    assert [(r.key, r.style, r.language) for r in rows] == [("k1", "newscaster", "de")]
    assert problems == ["m.jsonl, line 2: unknown field(s) emotion"]
    with pytest.raises(InputError, match=r"m.jsonl, line 1: not valid JSON"):
        parse_manifest("m.jsonl", b"{not json", default_language="en")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("m.csv", b"key,words\nk,hello\n", "m.csv: missing column(s) text"),
        ("m.txt", b"key,text\n", "m.txt: a manifest must be .csv or .jsonl"),
        ("m.csv", b"key,text\n\xff\xfe,x\n", "m.csv: not UTF-8 text"),
    ],
)
def test_unusable_manifest_files_are_refused_with_the_file_named(name, data, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_manifest(name, data, default_language="en")


def test_a_nul_character_is_a_problem_of_its_row_in_csv_and_jsonl():
    rows, problems = parse_manifest("m.csv", b"key,text\nk1,fine\nk2,he\x00llo\n", "en")
    assert [r.key for r in rows] == ["k1"] and problems == [
        "m.csv, line 3: contains a NUL character"
    ]
    data = b'{"key": "k1", "text": "a\\u0000b"}\n'
    rows, problems = parse_manifest("m.jsonl", data, default_language="en")
    assert rows == [] and problems == ["m.jsonl, line 1: contains a NUL character"]
