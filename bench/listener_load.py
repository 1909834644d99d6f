"""Listeners at crowd scale: simulated browsers over HTTP, ours vs pymushra, in one run.

    .venv/bin/pip install -e '.[bench]'        # aiohttp (load generator) and pymushra 0.5
    .venv/bin/python bench/listener_load.py     # the full run, ~15 min on 2 cores
    .venv/bin/python bench/listener_load.py --quick

Why: a Prolific launch brings hundreds of listeners within a minute to a test that may already
hold 10^5 sessions (DESIGN.md §11). Nothing on the listener path may cost O(stored sessions) or
serialise listeners on one lock; this measures whether that holds, end to end, against the peer
researchers use today (pymushra: Flask + TinyDB, webMUSHRA's one POST per session).

What runs: our server is gunicorn as the platform starts it (evalsite.launcher.web_command) on
PostgreSQL (database `bench_listener`, made and dropped here); its test has 10 items x 6 signals
(hidden reference, two anchors, three systems; real prepared audio), 10 trials per session, no
practice trial unless --training, no catch trials unless --attention-checks N (N more trials per
session, their copies made on the server). pymushra runs its shipped WSGI app under gunicorn
with the same workers/threads as ours ("pymushra"), and the same app with its insert under a
lock held across threads and processes ("pymushra-locked", listenerload/pymushra_locked.py). The
load generator runs in its own processes (--procs), each an asyncio loop of listeners with one
client and one cookie jar per session, on 127.0.0.1 only.

Each listener does the whole flow: ours = entry page, entry form (session start), consent,
instructions, trials page, trials.json, per trial its audio (the reference and each signal in one
response, as the player fetches it) and one ratings POST, questionnaire; pymushra = webMUSHRA's
page and config, all audio, then one POST with the session's 60 ratings.

  capacity  --listeners (50, 200) without think time, at each --stored level (0, 1,000, 20,000,
            100,000 finished sessions, prefilled in SQL, each level adding to the last);
            pymushra-locked at each --pymushra-stored level (0, 1,000; in its TinyDB file), the
            shipped pymushra at the first only (it corrupts its file at once anyway).
  launch    --launch-listeners (500) arriving within --launch-arrival s (30) at human pace
            (--think s per trial), at the last stored level; one session each.

The window: listeners arrive during the --warmup (5 s); the window opens once half of them have
had ratings saved (without think time a session can outlast the window, so the opening burst of
session starts is not what the rate should measure), at the latest after --max-warmup (then the
rate is starred), and stays open --duration s. Each load-generator process keeps its own window.

Figures: ratings/s = ratings acknowledged inside the window / window; POST = ratings POST (ours
per trial, pymushra per session); start = session start over the whole run, the opening
burst included (ours: entry form POST and the redirect to the consent page; pymushra: page +
config); errors = requests without the expected answer;
acked = ratings acknowledged; in DB = those ratings found stored afterwards (ours: ratings rows of
the run's sessions; pymushra: responses in its TinyDB file). Stored must equal acked. Last line:
ours / pymushra-locked ratings/s at the largest listener count and the first stored level.
"""

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from listenerload import clients, dbwatch, prefill, pymushra_side, servers

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
RESERVED_DBS = {"postgres", "test", "h1", "h2", "template0", "template1"}
SYSTEMS = ("ours", "pymushra", "pymushra-locked")


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listeners", type=int_list, default=[50, 200])
    p.add_argument("--stored", type=int_list, default=[0, 1000, 20000, 100000])
    p.add_argument("--pymushra-stored", type=int_list, default=[0, 1000])
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--duration", type=float, default=20.0, help="capacity window, s")
    p.add_argument("--warmup", type=float, default=5.0, help="s of arrivals before the window")
    p.add_argument("--max-warmup", type=float, default=25.0, help="s; the window opens then")
    p.add_argument("--launch-listeners", type=int, default=500)
    p.add_argument("--launch-arrival", type=float, default=30.0)
    p.add_argument("--launch-limit", type=float, default=60.0, help="s after the last arrival")
    p.add_argument("--think", type=float, nargs=2, default=[2.0, 5.0], metavar=("MIN", "MAX"))
    p.add_argument("--no-launch", action="store_true")
    p.add_argument("--procs", type=int, default=2, help="load-generator processes")
    p.add_argument("--training", action="store_true", help="a practice trial first")
    p.add_argument(
        "--attention-checks", type=int, default=0, help="catch trials per session (ours)"
    )
    p.add_argument("--no-participant-ids", action="store_true")
    p.add_argument("--seconds", type=float, default=1.0, help="stimulus length")
    p.add_argument("--db", default="bench_listener")
    p.add_argument("--keep", action="store_true", help="keep the database and folder")
    p.add_argument("--quick", action="store_true", help="small and short: a smoke run")
    args = p.parse_args(argv)
    if args.quick:
        args.listeners, args.stored, args.pymushra_stored = [10, 40], [0, 1000], [0]
        args.duration, args.warmup, args.max_warmup = 8.0, 2.0, 15.0
        args.launch_listeners, args.launch_arrival, args.think = 60, 10.0, [1.0, 2.0]
    if args.db in RESERVED_DBS or args.db.startswith("test_"):
        p.error(f"--db {args.db}: not a database this benchmark may drop")
    args.systems = [s for s in args.systems.split(",") if s]
    if unknown := set(args.systems) - set(SYSTEMS):
        p.error(f"unknown system(s) {', '.join(sorted(unknown))}")
    return args


@dataclass
class Row:
    system: str
    listeners: int
    level: int  # the stored level asked for
    stored: int  # sessions stored when the run started (ours: runs before it add some)
    tally: clients.Tally
    seconds: float  # the window the rate is counted over
    in_db: int | None
    db_top: list[str] = field(default_factory=list)
    once: bool = False  # the launch: one session per listener, at human pace

    def rate(self) -> float:
        """Ratings acknowledged per second: in the window, or over the whole launch."""
        acked = self.tally.acked if self.once else self.tally.acked_in_window
        return acked / self.seconds

    def name(self) -> str:
        return f"{self.system}, {self.listeners} listeners, {self.stored:,} stored"


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.args, self.work = args, work
        self.dsn = f"{PG}/{args.db}"
        self.rows: list[Row] = []
        self.launch: Row | None = None
        self.slug, self.test_id, self.signals = "", 0, {}
        self.pool = ProcessPoolExecutor(args.procs, mp_context=multiprocessing.get_context("spawn"))

    # --- setting up ----------------------------------------------------------------------------
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
        env.update(
            DATABASE_URL=self.dsn,
            EVALSITE_VAR_DIR=str(self.work / "var"),
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="evalsite.settings",
        )
        return env

    def setup(self) -> None:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.args.db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.args.db}"')
        argv = [sys.executable, str(ROOT / "bench/listenerload/testdata.py"), str(self.work)]
        argv += ["--seconds", str(self.args.seconds)] + (
            ["--training"] if self.args.training else []
        )
        argv += ["--attention-checks", str(self.args.attention_checks)]
        t0 = time.perf_counter()
        out = subprocess.run(argv, cwd=ROOT, env=self.env(), capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"test data setup failed:\n{out.stdout}{out.stderr}")
        made = json.loads(out.stdout.strip().splitlines()[-1])
        self.slug, self.test_id, self.signals = made["slug"], made["test_id"], made["signals"]
        took = time.perf_counter() - t0
        say(f"test data: migrated, 60 stimuli prepared, test opened in {took:.0f} s")
        list(self.pool.map(int, range(self.args.procs)))  # start the load generators now

    def teardown(self) -> None:
        self.pool.shutdown()
        if not self.args.keep:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.args.db}" WITH (FORCE)')

    # --- running load ---------------------------------------------------------------------------
    def load(self, system: str, base: str, listeners: int, **kw) -> tuple[clients.Tally, float]:
        """Run `listeners` split over the load-generator processes; (merged tally, window s)."""
        a = self.args
        go = time.monotonic() + 1.0
        if kw.get("once"):  # launch: everyone arrives, finishes, or is cut at the limit
            kw["fixed_window"] = (go, go + a.launch_arrival + a.launch_limit)
        else:  # capacity: listeners arrive during the warm-up
            kw.update(arrival_s=a.warmup, warmup_s=a.warmup, max_warmup_s=a.max_warmup)
        counts = [listeners // a.procs + (i < listeners % a.procs) for i in range(a.procs)]
        shards = [
            clients.Shard(
                system="ours" if system == "ours" else "pymushra",
                base=base,
                listeners=n,
                seed=i,
                go=go,
                duration_s=a.duration,
                slug=self.slug,
                participant_ids=not a.no_participant_ids,
                signals=self.signals,
                **kw,
            )
            for i, n in enumerate(counts)
            if n
        ]
        tally = clients.Tally()
        for part in self.pool.map(clients.run_shard, shards):
            tally.merge(part)
        window = kw["fixed_window"] if kw.get("once") else (0, a.duration)
        return tally, window[1] - window[0]

    def run_pymushra(self, system: str) -> None:
        root = pymushra_side.make_folder(self.work / system, self.work / "audio", self.signals)
        app = pymushra_side.LOCKED_APP if system.endswith("locked") else pymushra_side.SHIPPED_APP
        flags = servers.serving_flags(servers.our_command(0))
        # The shipped app corrupts its file within seconds of concurrent writes: one level will do.
        levels = self.args.pymushra_stored[: 1 if app == pymushra_side.SHIPPED_APP else None]
        for stored in levels:
            for listeners in self.args.listeners:
                pymushra_side.reset_db(root, stored, self.signals)
                before = pymushra_side.stored_ratings(root)
                port = servers.free_port()
                argv = pymushra_side.command(port, app, flags)
                with servers.Server(
                    system, argv, cwd=root, env=self.env(), log=root / "server.log", port=port
                ) as srv:
                    srv.start("/index.html")
                    tally, seconds = self.load(system, srv.base, listeners)
                after = pymushra_side.stored_ratings(root)
                in_db = None if after is None else after - before
                self.add(Row(system, listeners, stored, stored, tally, seconds, in_db))

    def run_ours(self) -> None:
        port = servers.free_port()
        argv = servers.our_command(port)
        say(f"our server: {' '.join(argv[1:])}")
        log = self.work / "ours.log"
        with servers.Server("ours", argv, cwd=ROOT, env=self.env(), log=log, port=port) as srv:
            srv.start(f"/t/{self.slug}/")
            for level in self.args.stored:
                added, seconds = prefill.prefill_to(self.dsn, self.test_id, level)
                stored = self.stored_sessions()
                if added:
                    say(f"prefill: +{added:,} sessions in {seconds:.1f} s (now {stored:,} stored)")
                for listeners in self.args.listeners:
                    with dbwatch.DbWatch(self.dsn) as watch:
                        tally, window = self.load("ours", srv.base, listeners)
                    row = Row(
                        "ours", listeners, level, stored, tally, window, self.ours_in_db(tally)
                    )
                    row.db_top = watch.top()
                    self.add(row)
                    stored = self.stored_sessions()
            if not self.args.no_launch:
                self.run_launch(srv)

    def run_launch(self, srv: servers.Server) -> None:
        a = self.args
        stored = self.stored_sessions()
        arrival = f"{a.launch_listeners} listeners within {a.launch_arrival:.0f} s"
        say(f"launch: {arrival}, {stored:,} stored")
        t0 = time.monotonic()
        with dbwatch.DbWatch(self.dsn) as watch:
            tally, _ = self.load(
                "ours",
                srv.base,
                a.launch_listeners,
                once=True,
                arrival_s=a.launch_arrival,
                think_s=tuple(a.think),
            )
        seconds = time.monotonic() - t0
        in_db = self.ours_in_db(tally)
        self.launch = Row("ours launch", a.launch_listeners, stored, stored, tally, seconds, in_db)
        self.launch.once = True
        self.launch.db_top = watch.top()
        say(format_row(self.launch) + launch_note(self.launch))

    def stored_sessions(self) -> int:
        with psycopg.connect(self.dsn) as conn:
            return prefill.stored_sessions(conn, self.test_id)

    def ours_in_db(self, tally: clients.Tally) -> int:
        """Ratings stored for the run's sessions; a catch trial's ratings are stored as one
        attention-check verdict, which counts as the trial's ratings (one per condition)."""
        with psycopg.connect(self.dsn) as conn:
            ratings, checks, conditions = conn.execute(
                "SELECT (SELECT count(*) FROM mushra_rating r JOIN mushra_session s"
                " ON s.id = r.session_id WHERE s.token = ANY(%s)),"
                " (SELECT count(*) FROM mushra_attentioncheck a JOIN mushra_session s"
                " ON s.id = a.session_id WHERE s.token = ANY(%s)),"
                " (SELECT count(*) FROM mushra_condition WHERE test_id = %s)",
                (tally.tokens, tally.tokens, self.test_id),
            ).fetchone()
            return ratings + checks * conditions

    def add(self, row: Row) -> None:
        self.rows.append(row)
        say(format_row(row))


# --- output ---------------------------------------------------------------------------------------
HEADER = (
    f"{'system':<16}{'listeners':>9}{'stored':>9}{'ratings/s':>11}{'POST p50':>10}{'POST p99':>10}"
    f"{'start p50':>11}{'start p99':>11}{'errors':>8}{'acked':>9}{'in DB':>9}"
)


def pct(values: list[float], q: float) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.0f} ms"


def format_row(row: Row) -> str:
    t = row.tally
    in_db = "corrupt" if row.in_db is None else f"{row.in_db:,}"
    return (
        f"{row.system:<16}{row.listeners:>9}{row.stored:>9,}"
        f"{row.rate():>10.1f}{'*' if t.windows_forced else ' '}"
        f"{pct(t.post_ms, 0.5):>10}{pct(t.post_ms, 0.99):>10}"
        f"{pct(t.start_ms, 0.5):>11}{pct(t.start_ms, 0.99):>11}"
        f"{sum(t.errors.values()):>8}{t.acked:>9,}{in_db:>9}"
    )


def launch_note(row: Row) -> str:
    t = row.tally
    cut = f", {t.sessions_cut} cut at the time limit" if t.sessions_cut else ""
    return f"   {t.sessions_done} of {row.listeners} sessions finished in {row.seconds:.0f} s{cut}"


def by_label(tally: clients.Tally) -> str:
    return ", ".join(
        f"{label} {pct(v, 0.5)[:-3]}/{pct(v, 0.99)}"
        for label, v in sorted(tally.by_label.items())
        if v
    )


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def report(bench: Bench) -> None:
    rows = bench.rows + ([bench.launch] if bench.launch else [])
    print(HEADER)
    for row in bench.rows:
        print(format_row(row))
    if bench.launch:
        print(format_row(bench.launch) + launch_note(bench.launch))
    if any(row.tally.windows_forced for row in rows):
        print(
            f"  * the window opened after {bench.args.max_warmup:.0f} s with fewer than half of"
            " the listeners past their first saved ratings: a rate still in the ramp-up"
        )
    for row in rows:
        if row.tally.errors:
            kinds = ", ".join(f"{n}× {k}" for k, n in row.tally.errors.most_common(3))
            print(f"  errors during {row.name()}: {kinds}")
    top = max(bench.args.listeners)
    for row in rows:
        if row.listeners == top or row.once:
            details(row)
    print(ratio_line(bench))


def details(row: Row) -> None:
    """Where the time went in one run: per request kind, the load generator, the database."""
    cpu = " + ".join(f"{share:.0%}" for share in row.tally.cpu)
    print(f"  {row.name()}: load generator {cpu} of a core; p50/p99 by request:")
    print(f"    {by_label(row.tally)}")
    if row.system.startswith("ours"):
        print("    database (busy backends on average, wait, statement):")
        print("\n".join(f"    {line}" for line in row.db_top) or "      (idle)")


def ratio_line(bench: Bench) -> str:
    """Ours / pymushra-locked at the most listeners, each at its first (lowest) stored level."""
    a = bench.args
    top, levels = max(a.listeners), {"ours": a.stored[0], "pymushra-locked": a.pymushra_stored[0]}
    found = {
        r.system: r.rate()
        for r in bench.rows
        if r.listeners == top and levels.get(r.system) == r.level
    }
    label = f"ratio ours / pymushra-locked ratings/s at {top} listeners"
    if "ours" not in found or not found.get("pymushra-locked"):
        return f"{label}: n/a (both must run)"
    return f"{label}: {found['ours'] / found['pymushra-locked']:.2f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(1, str(ROOT))  # evalsite.launcher of this tree
    work = Path(tempfile.mkdtemp(prefix="bench-listener-"))
    bench = Bench(args, work)
    try:
        bench.setup()
        for system in ("pymushra", "pymushra-locked"):
            if system in args.systems:
                bench.run_pymushra(system)
        if "ours" in args.systems:
            bench.run_ours()
        report(bench)
    finally:
        bench.teardown()
        if args.keep:
            say(f"kept: {work} and database {args.db}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
