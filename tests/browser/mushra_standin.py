"""A stand-in for the listener-facing MUSHRA views, so the front end can be tested on its own.

It speaks the page contract of static/mushra/ (see tests/browser/harness/trials.html): the trials
page, ``trials.json``, opaque audio URLs (generated WAV tones, with HTTP Range support) and the
ratings endpoint, which stores a submission once per idempotency key and records every POST it
receives. Tests can make it answer POSTs with an error status (optionally after storing them, as
when a response is lost), refuse the next POST with a 400, or really close its listening socket
and reopen it on the same port (connection refused meanwhile).

Standard library plus numpy only; one process-local server per test.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import struct
import threading
import wave
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = ROOT / "static"
HARNESS = Path(__file__).resolve().parent / "harness" / "trials.html"
RATE = 48_000
DONE_PAGE = b"<!doctype html><title>Done</title><h1>Thank you</h1>"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


def tone_wav(freq: float, seconds: float = 3.0, noise: float = 0.0) -> bytes:
    """48 kHz mono 16-bit WAV: a sine at ``freq`` (plus optional white noise), faded in/out."""
    t = np.arange(int(RATE * seconds)) / RATE
    signal = 0.4 * np.sin(2 * np.pi * freq * t)
    if noise:
        signal += noise * np.random.default_rng(int(freq)).standard_normal(t.size)
    ramp = np.minimum(1.0, np.minimum(t, seconds - t) / 0.02)  # no click at either end
    pcm = (np.clip(signal * ramp, -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


@dataclass
class Condition:
    id: str
    freq: float
    label: str  # what a scientist would call it; sent only on training trials


@dataclass
class Trial:
    position: int
    training: bool
    title: str
    reference_freq: float
    conditions: list[Condition]
    submitted: bool = False


@dataclass
class Session:
    token: str
    trials: list[Trial]
    rules: dict = field(default_factory=lambda: {"play_all": True, "one_100": True})
    audio: dict[str, bytes] = field(default_factory=dict)  # opaque name -> WAV bytes
    freq_of_audio: dict[str, float] = field(default_factory=dict)
    reference_audio: dict[int, str] = field(default_factory=dict)
    condition_audio: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The session page: the trials while any is unsaved, then the end page (as in Django)."""
        return f"/s/{self.token}/"

    @property
    def finished(self) -> bool:
        return all(trial.submitted for trial in self.trials)

    def add_audio(self, freq: float, seconds: float) -> str:
        name = secrets.token_hex(8)
        self.audio[name] = tone_wav(freq, seconds)
        self.freq_of_audio[name] = freq
        return name

    def trial_bundle(self, position: int) -> bytes:
        """The trial's audio in one response, laid out as the real server's (a count and the
        parts' lengths, big-endian 32-bit, then the reference and each condition in order)."""
        trial = self.trials[position]
        names = [self.reference_audio[position]] + [
            self.condition_audio[c.id] for c in trial.conditions
        ]
        parts = [self.audio[name] for name in names]
        return struct.pack(f">I{len(parts)}I", len(parts), *map(len, parts)) + b"".join(parts)

    def as_json(self) -> dict:
        base = f"/s/{self.token}/audio/"
        trials = []
        for trial in self.trials:
            conditions = []
            for cond in trial.conditions:
                item = {"id": cond.id, "audio": base + self.condition_audio[cond.id]}
                if trial.training:
                    item["label"] = cond.label
                conditions.append(item)
            trials.append(
                {
                    "position": trial.position,
                    "training": trial.training,
                    "submitted": trial.submitted,
                    "title": trial.title,
                    "reference": {"audio": base + self.reference_audio[trial.position]},
                    "conditions": conditions,
                    "audio": f"/s/{self.token}/trials/{trial.position}/audio",
                }
            )
        return {"rules": self.rules, "trials": trials}


LABELS = ["Hidden reference", "Anchor 3.5 kHz", "Anchor 7 kHz", "System A", "System B", "System C"]


def make_session(n_real: int = 2, n_conditions: int = 4, training: bool = True) -> Session:
    """A session with one practice trial (if ``training``) and ``n_real`` real trials.

    Every signal is a distinct tone (reference 1000 Hz; condition k of a trial 300 + 200·k Hz)
    and the lengths differ by a few milliseconds, as real renderings do.
    """
    specs = ([(True, "Practice")] if training else []) + [
        (False, f"Trial {i + 1} of {n_real}") for i in range(n_real)
    ]
    session = Session(token=secrets.token_urlsafe(12), trials=[])
    for position, (is_training, title) in enumerate(specs):
        conds = [
            Condition(id=secrets.token_hex(6), freq=300 + 200 * k, label=LABELS[k % len(LABELS)])
            for k in range(n_conditions)
        ]
        trial = Trial(position, is_training, title, 1000.0, conds)
        session.trials.append(trial)
        session.reference_audio[position] = session.add_audio(1000.0, 3.0)
        for k, cond in enumerate(conds):
            session.condition_audio[cond.id] = session.add_audio(cond.freq, 3.0 - 0.004 * k)
    return session


class StandIn:
    """The server: start(), then sessions via add(); posts/stored record what arrived."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.posts: list[dict] = []  # every POST body that arrived, parsed, in order
        self.stored: dict[str, dict] = {}  # idempotency key -> body (stored once)
        self.fail_posts: int | None = None  # answer POSTs with this status instead
        self.lose_answers = False  # with fail_posts: store first, then fail (a lost response)
        self.reject_next: str | None = None  # answer the next POST 400 with this message
        self.lock = threading.Lock()
        self.port = 0
        self.httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> StandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        # A short poll interval makes close() (which waits for the loop to notice) quick.
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self) -> None:
        """Really stop listening: the browser gets "connection refused" until reopen()."""
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def reopen(self) -> None:
        self.start()  # same port: ThreadingHTTPServer sets SO_REUSEADDR

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- sessions and what arrived -----------------------------------------------------------
    def add(self, session: Session) -> Session:
        self.sessions[session.token] = session
        return session

    def stored_for(self, session: Session) -> list[dict]:
        with self.lock:
            return [b for b in self.stored.values() if b.get("_token") == session.token]

    def posts_for(self, session: Session) -> list[dict]:
        with self.lock:
            return [b for b in self.posts if b.get("_token") == session.token]

    def receive(self, token: str, body: dict) -> tuple[int, dict]:
        session = self.sessions[token]
        with self.lock:
            self.posts.append({**body, "_token": token})
            if self.fail_posts and not self.lose_answers:
                return self.fail_posts, {"error": "unavailable"}
            if self.reject_next:
                message, self.reject_next = self.reject_next, None
                return 400, {"error": message}
            error = _validate(session, body)
            if error:
                return 400, {"error": error}
            key = body["key"]
            if key not in self.stored:  # idempotency: a repeated key is stored once
                self.stored[key] = {**body, "_token": token}
                session.trials[body["trial"]].submitted = True
            if self.fail_posts:  # stored, but the answer never reaches the listener
                return self.fail_posts, {"error": "unavailable"}
            return 200, {"saved": True}


def _validate(session: Session, body: dict) -> str | None:
    """The checks the real view makes; the UI should never let these through."""
    try:
        trial = session.trials[int(body["trial"])]
        ratings = body["ratings"]
        if not isinstance(body["key"], str) or not body["key"]:
            return "Missing idempotency key."
    except (KeyError, IndexError, TypeError, ValueError):
        return "Malformed submission."
    if set(ratings) != {c.id for c in trial.conditions}:
        return "Ratings do not match this trial's samples."
    for r in ratings.values():
        if not (isinstance(r.get("score"), int) and 0 <= r["score"] <= 100):
            return "Scores must be whole numbers from 0 to 100."
    return None


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.0"  # one request per connection: close() leaves nothing open

    def log_message(self, format, *args):  # noqa: A002 - quiet test output
        pass

    def send_body(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, data: dict) -> None:
        self.send_body(status, json.dumps(data).encode(), "application/json")

    def do_HEAD(self):  # noqa: N802
        self.do_GET()

    def do_GET(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/favicon.ico":
            return self.send_body(204, b"", "image/x-icon")
        if path.startswith("/static/"):
            return self.serve_static(path[len("/static/") :])
        m = re.fullmatch(r"/s/([\w-]+)/(trials\.json|audio/(\w+)|trials/(\d+)/audio)?", path)
        session = self.standin.sessions.get(m.group(1)) if m else None
        if not session:
            return self.send_body(404, b"not found", "text/plain")
        if m.group(2) is None:  # the session page, which is also done_url
            if session.finished:
                return self.send_body(200, DONE_PAGE, "text/html; charset=utf-8")
            return self.serve_page(session)
        if m.group(2) == "trials.json":
            return self.send_json(200, session.as_json())
        if m.group(4) is not None:
            if int(m.group(4)) >= len(session.trials):
                return self.send_body(404, b"not found", "text/plain")
            return self.send_body(
                200, session.trial_bundle(int(m.group(4))), "application/octet-stream"
            )
        audio = session.audio.get(m.group(3))
        if audio is None:
            return self.send_body(404, b"not found", "text/plain")
        return self.serve_ranged(audio, "audio/wav")

    def do_POST(self):  # noqa: N802
        m = re.fullmatch(r"/s/([\w-]+)/ratings", self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not m or m.group(1) not in self.standin.sessions:
            return self.send_body(404, b"not found", "text/plain")
        try:
            body = json.loads(raw)
        except ValueError:
            return self.send_json(400, {"error": "Malformed submission."})
        status, answer = self.standin.receive(m.group(1), body)
        self.send_json(status, answer)

    def serve_page(self, session: Session) -> None:
        config = {
            "session": session.token,
            "trials_url": session.url + "trials.json",
            "submit_url": session.url + "ratings",
            "done_url": session.url,
            "question": "How natural does each sample sound?",
            "strings": {},
        }
        # What Django's json_script produces: <, >, & escaped so the JSON cannot end the tag.
        text = json.dumps(config).translate({60: "\\u003C", 62: "\\u003E", 38: "\\u0026"})
        html = re.sub(
            r'(<script id="mushra-config" type="application/json">).*?(</script>)',
            lambda mm: mm.group(1) + text + mm.group(2),
            HARNESS.read_text(),
            flags=re.S,
        )
        self.send_body(200, html.encode(), "text/html; charset=utf-8")

    def serve_static(self, rel: str) -> None:
        target = (STATIC_DIR / rel).resolve()
        if STATIC_DIR not in target.parents or not target.is_file():
            return self.send_body(404, b"not found", "text/plain")
        ctype = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
        self.send_body(200, target.read_bytes(), ctype)

    def serve_ranged(self, data: bytes, ctype: str) -> None:
        """Single byte ranges (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``), as media servers do."""
        extra = {"Accept-Ranges": "bytes"}
        spec = self.headers.get("Range", "")
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", spec.strip())
        if not m or not (m.group(1) or m.group(2)):
            return self.send_body(200, data, ctype, extra)
        size = len(data)
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        else:
            start, end = max(0, size - int(m.group(2))), size - 1
        if start >= size or start > end:
            extra["Content-Range"] = f"bytes */{size}"
            return self.send_body(416, b"", ctype, extra)
        extra["Content-Range"] = f"bytes {start}-{end}/{size}"
        return self.send_body(206, data[start : end + 1], ctype, extra)


if __name__ == "__main__":  # manual try-out: python tests/browser/mushra_standin.py
    server = StandIn().start()
    demo = server.add(make_session())
    print(f"Open {server.origin}{demo.url}")
    threading.Event().wait()
