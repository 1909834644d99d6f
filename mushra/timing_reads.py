"""Time per trial and the fast-rater flag from the database (rules in mushra.analysis.timing).

The chain of a session's submissions is a window (LAG over its submitted trials), so a test's
timing is one pass of SQL however many sessions it holds; the page reads aggregates, and only the
downloads and the capped per-listener table read rows. A trial's audio is the summed duration of
the stimuli frozen for its utterance (``ConditionStimulus``): every trial of a session shows
every condition of the test (mushra.sessions._create_session), so that sum is its signals' audio
read from a table of items × conditions rows instead of one row per signal. A pair trial
(CMOS, A/B, ABX) plays two of them (and X): its share of that sum.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from mushra import sql, test_types
from mushra.analysis.timing import RUSHED_PERCENT, is_fast, is_rushed, median
from mushra.models import ConditionStimulus, ListeningTest, Session, Trial
from synth_workers.models import Stimulus

KINDS = ("rated", "practice", "catch")


def _seconds(start: str) -> str:
    """Seconds from `start` to the trial's submission, as a float, on either database."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM (tr.submitted_at - {start})) AS double precision)"
    return f"((julianday(tr.submitted_at) - julianday({start})) * 86400.0)"


def _timed_sql(sessions: int = 0) -> str:
    """Every submitted trial of the test's real sessions with its seconds; `sessions` > 0 narrows
    to that many session ids (placeholders after the test's)."""
    previous = (
        "LAG(tr.submitted_at) OVER (PARTITION BY tr.session_id"
        " ORDER BY tr.submitted_at, tr.position)"
    )
    narrow = f" AND se.id IN ({', '.join(['%s'] * sessions)})" if sessions else ""
    return (
        'SELECT tr.session_id AS sid, tr.training AS training, tr."catch" AS is_catch,'
        f" tr.utterance_id AS uid, {_seconds(f'COALESCE({previous}, se.trials_started_at)')}"
        " AS seconds"
        f" FROM {sql.table(Trial)} tr JOIN {sql.table(Session)} se ON se.id = tr.session_id"
        f" WHERE se.test_id = %s AND NOT se.preview AND tr.submitted_at IS NOT NULL{narrow}"
    )


_AUDIO_SQL = (
    "SELECT cs.utterance_id AS uid, SUM(st.duration) * %s AS secs"
    f" FROM {sql.table(ConditionStimulus)} cs JOIN {sql.table(Stimulus)} st"
    " ON st.id = cs.stimulus_id WHERE cs.test_id = %s GROUP BY cs.utterance_id"
)
_KIND = "CASE WHEN training THEN 'practice' WHEN is_catch THEN 'catch' ELSE 'rated' END"


def _share(test: ListeningTest) -> float:
    """The part of an utterance's audio one trial plays: all of it, or a pair's (ABX: and X):
    2 (3) of the k conditions, taken as their mean duration (a pair's own may differ a little)."""
    kind = test_types.of(test)
    if not kind.pair:
        return 1.0
    return (3 if kind.x else 2) / test.conditions.count()


def audio_by_utterance(test: ListeningTest) -> dict[int, float]:
    """Utterance id → seconds of audio in a trial of it (its conditions' stimuli, summed; a
    pair's share of them)."""
    rows = sql.fetch(_AUDIO_SQL, [_share(test), test.pk])
    return {uid: float(secs) for uid, secs in rows if secs}


def _summary_sql() -> str:
    return (
        f"WITH timed AS ({_timed_sql()}), audio AS ({_AUDIO_SQL}),"
        " rated AS (SELECT t.sid, CASE WHEN t.seconds < a.secs AND a.secs > 0 THEN 1 ELSE 0 END"
        " AS rushed FROM timed t LEFT JOIN audio a ON a.uid = t.uid"
        " WHERE NOT t.training AND NOT t.is_catch AND t.seconds IS NOT NULL),"
        " per AS (SELECT sid, COUNT(*) AS n, SUM(rushed) AS r FROM rated GROUP BY sid)"
        " SELECT COUNT(*), COALESCE(SUM(n), 0), COALESCE(SUM(r), 0),"
        f" COALESCE(SUM(CASE WHEN 100 * r > {RUSHED_PERCENT} * n THEN 1 ELSE 0 END), 0) FROM per"
    )


def _medians(test: ListeningTest) -> dict[str, float | None]:
    """Median seconds per kind of trial. PostgreSQL computes them in one pass; SQLite (the
    embedded default, for small tests) has no percentile, so its middle rows are fetched by
    count and offset, a query per kind."""
    kind_of = f"{_KIND} AS kind"
    if connection.vendor == "postgresql":
        rows = sql.fetch(
            f"WITH timed AS ({_timed_sql()}) SELECT kind, percentile_cont(0.5) WITHIN GROUP"
            f" (ORDER BY seconds) FROM (SELECT {kind_of}, seconds FROM timed"
            " WHERE seconds IS NOT NULL) k GROUP BY kind",
            [test.pk],
        )
        found = {kind: float(value) for kind, value in rows}
        return {kind: found.get(kind) for kind in KINDS}
    counts = dict(
        sql.fetch(
            f"WITH timed AS ({_timed_sql()}) SELECT {_KIND}, COUNT(*) FROM timed"
            f" WHERE seconds IS NOT NULL GROUP BY {_KIND}",
            [test.pk],
        )
    )
    medians: dict[str, float | None] = dict.fromkeys(KINDS)
    for kind in KINDS:
        n = int(counts.get(kind, 0))
        if n:
            query = (
                f"WITH timed AS ({_timed_sql()}) SELECT seconds FROM timed"
                f" WHERE {_KIND} = %s AND seconds IS NOT NULL ORDER BY seconds"
                f" LIMIT {2 - n % 2} OFFSET {(n - 1) // 2}"
            )
            medians[kind] = median([row[0] for row in sql.fetch(query, [test.pk, kind])])
    return medians


def timing_summary(test: ListeningTest) -> dict:
    """Median seconds per trial (rated, practice and catch trials apart), trials timed and
    rushed, listeners timed and flagged fast; aggregates only, whatever the test's size."""
    params = [test.pk, _share(test), test.pk]
    listeners, trials, rushed, flagged = sql.fetch(_summary_sql(), params)[0]
    medians = _medians(test)
    return {
        "median_seconds": medians["rated"],
        "median_practice_seconds": medians["practice"],
        "median_catch_seconds": medians["catch"],
        "trials_timed": int(trials),
        "trials_rushed": int(rushed),
        "listeners_timed": int(listeners),
        "listeners_fast": int(flagged),
        "rushed_percent": RUSHED_PERCENT,
    }


@dataclass
class SessionTiming:
    """One session's timing: its rated trials' seconds, how many were rushed, the flag."""

    rated_seconds: list[float]
    practice_seconds: list[float]
    catch_seconds: list[float]
    rushed: int = 0

    @property
    def timed(self) -> int:
        return len(self.rated_seconds)

    @property
    def median_seconds(self) -> float | None:
        return median(self.rated_seconds)

    @property
    def fast(self) -> bool:
        return is_fast(self.rushed, self.timed)


def session_timings(
    test: ListeningTest, session_ids: list[int] | None = None
) -> dict[int, SessionTiming]:
    """Session id → its timing; all the test's sessions (a download: one row per submitted
    trial) or only `session_ids` (the page's capped table)."""
    ids = list(session_ids or [])
    if session_ids is not None and not ids:
        return {}
    audio = audio_by_utterance(test)
    out: dict[int, SessionTiming] = defaultdict(lambda: SessionTiming([], [], []))
    for sid, training, is_catch, uid, seconds in sql.fetch(_timed_sql(len(ids)), [test.pk, *ids]):
        timing = out[sid]
        if seconds is None:
            continue
        if training:
            timing.practice_seconds.append(float(seconds))
        elif is_catch:
            timing.catch_seconds.append(float(seconds))
        else:
            timing.rated_seconds.append(float(seconds))
            timing.rushed += is_rushed(float(seconds), audio.get(uid))
    return dict(out)


def trial_seconds(test: ListeningTest) -> dict[int, float | None]:
    """Trial id → seconds spent on it, for every submitted trial of the test's real sessions
    (the ratings export's ``trial_seconds``)."""
    query = _timed_sql().replace("SELECT tr.session_id AS sid,", "SELECT tr.id AS tid,", 1)
    return {row[0]: row[-1] for row in sql.fetch(query, [test.pk])}
