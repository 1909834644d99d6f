"""The committed OpenAPI schema (evalsite/api/openapi.yaml) is the one the code generates, so a
client generated from it, or a reviewer reading it, sees the API as it is."""

import difflib
from pathlib import Path

import pytest
from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "evalsite" / "api" / "openapi.yaml"
REGENERATE = "python manage.py spectacular --file evalsite/api/openapi.yaml --validate"


def test_the_committed_openapi_schema_is_what_the_code_generates(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated))
    now, committed = generated.read_text(), COMMITTED.read_text()
    if now != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), now.splitlines(), "committed", "generated", lineterm=""
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(f"evalsite/api/openapi.yaml is out of date; run:\n  {REGENERATE}\n{shown}")
