"""pymushra's side: its webMUSHRA folder, its TinyDB file (prefilled or empty), its results.

pymushra serves a webMUSHRA folder statically and stores what `/service/write.php` receives in
TinyDB (one JSON file; one document per trial). The folder made here holds a stand-in page, a
webMUSHRA YAML config of the same 10 items x 6 signals, and the same WAV bytes our server sends.
"""

import json
import shutil
from pathlib import Path

from listenerload import servers

TEST_ID = "bench"
CONFIG = "bench.yaml"
PAGE = """<!doctype html><title>webMUSHRA</title>
<p>Stand-in for webMUSHRA's page: the benchmark's listeners read the config and audio directly.
"""
SHIPPED_APP = "pymushra.wsgi:application"  # pymushra's own WSGI entry point, as shipped
LOCKED_APP = "pymushra_locked:application"  # the same app, its insert under a lock


def make_folder(root: Path, audio: Path, signals: dict[str, list[str]]) -> Path:
    """root/webmushra (page, config, audio) and root/db, as pymushra's wsgi.py expects."""
    web = root / "webmushra"
    shutil.copytree(audio, web / "audio", dirs_exist_ok=True)
    (web / "configs").mkdir(parents=True, exist_ok=True)
    (web / "index.html").write_text(PAGE)
    (web / "configs" / CONFIG).write_text(config_yaml(signals))
    (root / "db").mkdir(exist_ok=True)
    return root


def config_yaml(signals: dict[str, list[str]]) -> str:
    """One MUSHRA page per item; the anchors are files (ours are made server-side too)."""
    lines = [
        f"testname: Listener load benchmark\ntestId: {TEST_ID}\nbufferSize: 2048",
        "stopOnErrors: true\nremoteService: service/write.php\nlanguage: en\npages:",
    ]
    for item, names in signals.items():
        lines += [
            f"  - type: mushra\n    id: {item}\n    name: Item\n    content: Rate.",
            f"    reference: audio/{item}/reference.wav\n    createAnchor35: false",
            "    createAnchor70: false\n    stimuli:",
        ]
        lines += [f"      {n}: audio/{item}/{n}.wav" for n in names if n != "reference"]
    lines.append("  - type: finish\n    name: Thanks\n    content: Send.\n    questionnaire: []")
    return "\n".join(lines) + "\n"


def db_path(root: Path) -> Path:
    return root / "db" / "webmushra.json"


def reset_db(root: Path, stored_sessions: int, signals: dict[str, list[str]]) -> None:
    """The TinyDB file holding `stored_sessions` finished sessions (10 trial documents each,
    as pymushra's collect stores them)."""
    docs, doc_id = {}, 0
    for session in range(stored_sessions):
        questionnaire = {"age": 30, "headphones": "closed", "uuid": f"prefill-{session}"}
        for item, names in signals.items():
            doc_id += 1
            docs[str(doc_id)] = {
                "id": item,
                "type": "mushra",
                "responses": [
                    {"stimulus": n, "score": 80, "time": 12000, "comment": ""} for n in names
                ],
                "config": f"configs/{CONFIG}",
                "testId": TEST_ID,
                "date": "2026-01-01 12:00:00.000000",
                "questionaire": questionnaire,
            }
    db_path(root).write_text(json.dumps({TEST_ID: docs}))


def stored_ratings(root: Path) -> int | None:
    """Responses stored in the TinyDB file; None when the file no longer parses."""
    try:
        data = json.loads(db_path(root).read_text() or "{}")
    except (OSError, ValueError):
        return None
    return sum(len(doc.get("responses", [])) for doc in data.get(TEST_ID, {}).values())


def command(port: int, app: str, flags: list[str]) -> list[str]:
    return servers.pymushra_command(port, app, flags, Path(__file__).resolve().parent)
