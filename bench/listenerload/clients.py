"""Simulated listeners: the whole flow over HTTP, one aiohttp client (and cookie jar) each.

A load-generator process (`run_shard`) runs many listeners in one asyncio loop. Each listener
starts sessions one after another until the window closes (capacity) or does one session at
human pace (launch). No listener starts a request once its stop time has passed, so every run
ends by itself; a run's hard stop cancels whatever is still open (counted as an error).

What a listener counts:
  post_ms   latency of each ratings POST (ours: one per trial; pymushra: one per session)
  start_ms  latency of starting a session (ours: POST of the entry form, redirect to the consent
            page followed; pymushra: webMUSHRA's page and its config), over the whole run
  acked     ratings the server acknowledged ({"saved": true}; pymushra: {"error": false}),
            practice trials left out; `acked_in_window` only those answered inside the window
"""

import asyncio
import json
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SESSION_PATH = re.compile(r"/s/([^/]+)/$")
TIMEOUT = aiohttp.ClientTimeout(total=60)
QUESTIONNAIRE = {
    "age_band": "25-34",
    "headphones": "closed headphones",
    "native_language": "English",
    "comment": "",
}


@dataclass
class Shard:
    """What one load-generator process runs; times are time.monotonic() values."""

    system: str  # "ours" or "pymushra"
    base: str  # http://127.0.0.1:PORT
    listeners: int
    seed: int
    go: float  # the first listener starts
    duration_s: float = 20.0  # capacity: how long the window stays open
    warmup_s: float = 4.0  # capacity: the window opens no earlier (listeners arrive meanwhile)
    max_warmup_s: float = 40.0  # capacity: and no later, ready or not
    fixed_window: tuple[float, float] | None = None  # launch: from go to its time limit
    arrival_s: float = 0.0  # listeners arrive uniformly over this many seconds
    once: bool = False  # one session per listener (launch) instead of back to back
    think_s: tuple[float, float] | None = None  # per trial; pages get a third of it
    slug: str = ""  # ours
    participant_ids: bool = True  # ours: Prolific-style ids in the entry URL
    signals: dict[str, list[str]] = field(default_factory=dict)  # pymushra: item -> names


@dataclass
class Tally:
    post_ms: list[float] = field(default_factory=list)
    start_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    acked: int = 0
    acked_in_window: int = 0
    sessions_done: int = 0
    sessions_cut: int = 0  # launch: sessions still under way when the time limit came
    tokens: list[str] = field(default_factory=list)
    windows_forced: int = 0  # processes whose window opened at max_warmup_s, not ready
    cpu: list[float] = field(default_factory=list)  # per load-generator process: CPU s / wall s
    by_label: dict[str, list[float]] = field(default_factory=dict)  # every request's latency

    def merge(self, other: "Tally") -> "Tally":
        self.post_ms += other.post_ms
        self.start_ms += other.start_ms
        self.errors.update(other.errors)
        self.acked += other.acked
        self.acked_in_window += other.acked_in_window
        self.sessions_done += other.sessions_done
        self.sessions_cut += other.sessions_cut
        self.windows_forced += other.windows_forced
        self.cpu += other.cpu
        self.tokens += other.tokens
        for label, values in other.by_label.items():
            self.by_label.setdefault(label, []).extend(values)
        return self


class Failed(Exception):
    """A request that did not get the answer the flow needs; the listener gives up."""


class Stopped(Exception):
    """The stop time has passed: the listener starts no more requests."""


class Window:
    """When one process counts. Capacity: the window opens once the warm-up is over and half of
    its listeners have had ratings acknowledged (past the opening burst: without think time a
    session can outlast the window), at the latest after max_warmup_s ("forced"), and closes
    duration_s later. Each process keeps its own window of the same length, so rates add up."""

    def __init__(self, shard: Shard):
        self.shard, self.acked_by = shard, set()
        self.start, self.end = shard.fixed_window or (None, None)
        self.forced = False
        limit = shard.fixed_window[1] if shard.fixed_window else shard.go + shard.max_warmup_s
        self.hard_stop = limit + shard.duration_s * (not shard.fixed_window) + 70

    def note_ack(self, listener: int) -> None:
        self.acked_by.add(listener)
        self.update()

    def update(self) -> None:
        if self.start is not None:
            return
        now, s = time.monotonic(), self.shard
        ready = 2 * len(self.acked_by) >= s.listeners and now >= s.go + s.warmup_s
        if ready or now >= s.go + s.max_warmup_s:
            self.start, self.end, self.forced = now, now + s.duration_s, not ready

    def contains(self, at: float) -> bool:
        return self.start is not None and self.start <= at <= self.end

    def closed(self) -> bool:
        self.update()
        return self.end is not None and time.monotonic() >= self.end


@dataclass
class Listener:
    """One session of one simulated listener (a new one for each session)."""

    shard: Shard
    tally: Tally
    window: Window
    number: int  # the listener's, across its sessions
    rng: random.Random
    http: aiohttp.ClientSession

    def in_window(self, at: float) -> bool:
        return self.window.contains(at)

    async def request(self, label: str, method: str, url: str, *, expect=200, **kwargs):
        """(elapsed ms, body bytes, final URL path); Failed for anything but `expect`."""
        if self.window.closed():
            raise Stopped
        t0 = time.monotonic()
        try:
            async with self.http.request(method, url, **kwargs) as resp:
                body = await resp.read()
                if resp.status != expect:
                    raise Failed(f"{label}: HTTP {resp.status}")
                ms = (time.monotonic() - t0) * 1000
                self.record(self.tally.by_label.setdefault(label, []), ms)
                return ms, body, resp.url.path
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Failed(f"{label}: {type(exc).__name__}") from None

    async def think(self, share: float = 1.0) -> None:
        if self.shard.think_s:
            await asyncio.sleep(self.rng.uniform(*self.shard.think_s) * share)

    def count_ack(self, ratings: int) -> None:
        self.tally.acked += ratings
        self.window.note_ack(self.number)
        if self.in_window(time.monotonic()):
            self.tally.acked_in_window += ratings

    def record(self, series: list[float], ms: float, whole_run: bool = False) -> None:
        """Keep a latency answered inside the window (or anywhere in the run)."""
        if whole_run or self.in_window(time.monotonic()):
            series.append(ms)

    def scores(self, ids: list[str]) -> dict[str, int]:
        """Slider values with one 100 (the 'one_100' rule; the hidden reference is unknown)."""
        scores = {i: self.rng.randrange(0, 100) for i in ids}
        scores[self.rng.choice(ids)] = 100
        return scores


class OurListener(Listener):
    async def session(self) -> None:
        entry, csrf = await self.entry_page()
        token = await self.start(entry, csrf)
        form = {"csrfmiddlewaretoken": csrf}
        await self.think(1 / 3)
        await self.request("consent", "POST", f"/s/{token}/consent", data=form)
        await self.think(1 / 3)
        await self.request("begin", "POST", f"/s/{token}/begin", data=form)
        _, body, _ = await self.request("trials.json", "GET", f"/s/{token}/trials.json")
        for trial in json.loads(body)["trials"]:
            if not trial.get("submitted"):
                await self.trial(token, trial)
        await self.think(1 / 3)
        answers = form | QUESTIONNAIRE
        await self.request("questionnaire", "POST", f"/s/{token}/questionnaire", data=answers)
        self.tally.sessions_done += 1

    async def entry_page(self) -> tuple[str, str]:
        query = ""
        if self.shard.participant_ids:
            pid = uuid.uuid4().hex
            query = f"?PROLIFIC_PID={pid}&STUDY_ID=bench&SESSION_ID={uuid.uuid4().hex}"
        entry = f"/t/{self.shard.slug}/{query}"
        _, body, _ = await self.request("entry page", "GET", entry)
        found = CSRF.search(body.decode())
        if not found:
            raise Failed("entry page: no CSRF token")
        return entry, found[1]

    async def start(self, entry: str, csrf: str) -> str:
        data = {"csrfmiddlewaretoken": csrf}
        ms, _, path = await self.request("session start", "POST", entry, data=data)
        found = SESSION_PATH.search(path)
        if not found:
            raise Failed("session start: not sent to a session page")
        # Over the whole run: without think time a session outlasts the window, so most
        # listeners start theirs in the opening burst, which is the crowd's arrival.
        self.record(self.tally.start_ms, ms, whole_run=True)
        self.tally.tokens.append(found[1])
        return found[1]

    async def trial(self, token: str, trial: dict) -> None:
        # As the player does: the reference and every signal in one response.
        await self.request("audio", "GET", trial["audio"])
        await self.think()
        ids = [c["id"] for c in trial["conditions"]]
        ratings = {
            i: {"score": s, "plays": 1, "listening_ms": 3000} for i, s in self.scores(ids).items()
        }
        body = {"trial": trial["position"], "key": uuid.uuid4().hex, "ratings": ratings}
        ms, answer, _ = await self.request("ratings", "POST", f"/s/{token}/ratings", json=body)
        if json.loads(answer).get("saved") is not True:
            raise Failed("ratings: not saved")
        self.record(self.tally.post_ms, ms)
        if not trial["training"]:
            self.count_ack(len(ids))


class PymushraListener(Listener):
    """webMUSHRA in a browser: page and config, all audio up front, one POST at the end."""

    async def session(self) -> None:
        from listenerload.pymushra_side import CONFIG, TEST_ID

        ms, _, _ = await self.request("page", "GET", f"/index.html?config={CONFIG}")
        config_ms, _, _ = await self.request("config", "GET", f"/configs/{CONFIG}")
        self.record(self.tally.start_ms, ms + config_ms, whole_run=True)
        for item, names in self.shard.signals.items():
            for name in names:
                await self.request("audio", "GET", f"/audio/{item}/{name}.wav")
        trials = []
        for item, names in self.shard.signals.items():
            await self.think()
            responses = [
                {"stimulus": n, "score": s, "time": 12000, "comment": ""}
                for n, s in self.scores(names).items()
            ]
            trials.append({"id": item, "type": "mushra", "responses": responses})
        await self.think(1 / 3)
        payload = {
            "testId": TEST_ID,
            "uuid": str(uuid.uuid4()),
            "config": f"configs/{CONFIG}",
            "participant": {"name": list(QUESTIONNAIRE), "response": list(QUESTIONNAIRE.values())},
            "trials": trials,
        }
        data = {"sessionJSON": json.dumps(payload)}
        ms, answer, _ = await self.request("collect", "POST", "/service/write.php", data=data)
        answer = json.loads(answer)
        if answer.get("error") is not False:
            raise Failed(f"collect: {str(answer.get('message'))[:60]}")
        self.record(self.tally.post_ms, ms)
        self.count_ack(sum(len(t["responses"]) for t in trials))
        self.tally.sessions_done += 1


async def one_listener(shard: Shard, tally: Tally, window: Window, number: int) -> None:
    rng = random.Random(f"{shard.seed}:{number}")
    await asyncio.sleep(max(0.0, shard.go + rng.uniform(0, shard.arrival_s) - time.monotonic()))
    kind = OurListener if shard.system == "ours" else PymushraListener
    while not window.closed():
        # A fresh client per session: its own cookie jar and connections, like a new browser.
        jar = aiohttp.CookieJar(unsafe=True)  # unsafe: accept cookies from an IP address
        # Idle connections go before gunicorn's 2 s keep-alive closes them: a browser retries a
        # request that fails on a stale reused connection, aiohttp does not.
        pool = aiohttp.TCPConnector(keepalive_timeout=1.0)
        async with aiohttp.ClientSession(
            shard.base, connector=pool, cookie_jar=jar, timeout=TIMEOUT
        ) as http:
            try:
                await kind(shard, tally, window, number, rng, http).session()
            except Stopped:
                tally.sessions_cut += shard.once
                return
            except Failed as exc:
                tally.errors[str(exc)] += 1
        if shard.once:
            return


async def run_listeners(shard: Shard) -> Tally:
    tally, window = Tally(), Window(shard)
    tasks = [
        asyncio.create_task(one_listener(shard, tally, window, i)) for i in range(shard.listeners)
    ]
    timeout = max(0.0, window.hard_stop - time.monotonic())
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    tally.windows_forced = int(window.forced)
    for task in pending:
        task.cancel()
    if pending:
        tally.errors["still open at the hard stop (cancelled)"] += len(pending)
        await asyncio.gather(*pending, return_exceptions=True)
    return tally


def run_shard(shard: Shard) -> Tally:
    """Entry point of a load-generator process."""
    cpu0, wall0 = time.process_time(), time.monotonic()
    tally = asyncio.run(run_listeners(shard))
    tally.cpu.append((time.process_time() - cpu0) / max(time.monotonic() - wall0, 1e-9))
    return tally
