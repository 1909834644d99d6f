"""What the test's page shows of its sessions: the funnel, sessions over time, the quotas, the
screening outcomes and the listeners, each aggregated by the database (DESIGN.md §11: a test may
hold 10^5 sessions; the page reads counts and at most ``LISTENER_ROWS`` sessions' rows).

Preview sessions are left out everywhere. Funnel steps, each a subset of the one before:
entered (a session started), consented, passed screening (the headphone check passed; in a
test without one, every consented session not screened out), started the trials, finished (outcome
completed). Screened out and timed out are the sessions that ended so; released, those idle
past the test's limit whose unrated items went back to other listeners.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from mushra import sql
from mushra.analysis.timing import median
from mushra.models import (
    CROWD_PARAMS,
    HEADPHONE_TRIALS,
    AttentionCheck,
    HeadphoneAnswer,
    ItemLoad,
    ListeningTest,
    Rating,
    Session,
)
from mushra.progress_charts import funnel_svg, timeline_svg
from mushra.timing_reads import session_timings, timing_summary

LISTENER_ROWS = 200  # the page's table: the latest sessions; sessions.csv has them all
HOURLY_UP_TO = timedelta(days=3)  # a longer span is drawn by day
Outcome = Session.Outcome


def _real(test: ListeningTest):
    return Session.objects.filter(test=test, preview=False)


def funnel(test: ListeningTest) -> dict:
    """The funnel's counts and the sessions' ends, in one aggregate query."""
    passed = Q(screening_passed=True)
    if not test.headphone_check:  # nothing to fail: past the consent and not screened out
        passed = Q(consented_at__isnull=False) & ~Q(outcome=Outcome.SCREENED_OUT)
    counts = _real(test).aggregate(
        entered=Count("pk"),
        consented=Count("pk", filter=Q(consented_at__isnull=False)),
        passed_screening=Count("pk", filter=passed),
        started_trials=Count("pk", filter=Q(trials_started_at__isnull=False)),
        finished=Count("pk", filter=Q(outcome=Outcome.COMPLETED)),
        screened_out=Count("pk", filter=Q(outcome=Outcome.SCREENED_OUT)),
        timed_out=Count("pk", filter=Q(outcome=Outcome.TIMED_OUT)),
        live=Count("pk", filter=Q(outcome=Outcome.LIVE)),
        released=Count("pk", filter=Q(released_at__isnull=False)),
    )
    return {k: int(v or 0) for k, v in counts.items()}


FUNNEL_STEPS = (
    ("entered", "Entered"),
    ("consented", "Consented"),
    ("passed_screening", "Passed screening"),
    ("started_trials", "Started the trials"),
    ("finished", "Finished"),
)
ENDS = (("screened_out", "Screened out"), ("timed_out", "Timed out"))


def sessions_over_time(test: ListeningTest, now: datetime | None = None) -> dict:
    """Sessions started and finished per hour (a span of up to three days) or per day, with
    running totals; one GROUP BY per series."""
    sessions = _real(test)
    span = sessions.aggregate(first=Min("created_at"), last=Max("created_at"))
    if span["first"] is None:
        return {"unit": "hour", "buckets": []}
    end = max(now or timezone.now(), span["last"])
    unit = "hour" if end - span["first"] <= HOURLY_UP_TO else "day"
    trunc = TruncHour if unit == "hour" else TruncDay
    started = dict(
        sessions.annotate(b=trunc("created_at", tzinfo=UTC))
        .values_list("b")
        .annotate(n=Count("pk"))
        .order_by()
    )
    finished = dict(
        sessions.filter(outcome=Outcome.COMPLETED, finished_at__isnull=False)
        .annotate(b=trunc("finished_at", tzinfo=UTC))
        .values_list("b")
        .annotate(n=Count("pk"))
        .order_by()
    )
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    at = min(started)
    last = max([*started, *finished])
    buckets, total_started, total_finished = [], 0, 0
    while at <= last:
        total_started += started.get(at, 0)
        total_finished += finished.get(at, 0)
        buckets.append({"at": at.isoformat(), "started": total_started, "finished": total_finished})
        at += step
    return {"unit": unit, "buckets": buckets}


def quotas(test: ListeningTest) -> dict:
    """Ratings wanted per item, items whose quota is assigned (rated or in a live session), and
    whether the test is full: new listeners are turned away once every item is at quota."""
    loads = list(ItemLoad.objects.filter(test=test).values_list("assigned", flat=True))
    at_quota = sum(n >= test.ratings_wanted for n in loads)
    return {
        "ratings_wanted": test.ratings_wanted,
        "items": len(loads),
        "items_at_quota": at_quota,
        "full": bool(loads) and at_quota == len(loads),
        "abandon_after_minutes": test.abandon_after_minutes,
    }


# Per check kind: sessions that gave every answer, and those at or over the pass mark; one row per
# kind comes back, however many sessions (a session still answering is not counted yet).
_HEADPHONE_SQL = (
    "SELECT kind, COUNT(*), SUM(CASE WHEN r >= %s THEN 1 ELSE 0 END) FROM ("
    " SELECT ha.session_id, ha.kind AS kind, COUNT(*) AS n,"
    " SUM(CASE WHEN ha.correct THEN 1 ELSE 0 END) AS r"
    f" FROM {sql.table(HeadphoneAnswer)} ha JOIN {sql.table(Session)} se ON se.id = ha.session_id"
    " WHERE se.test_id = %s AND NOT se.preview GROUP BY ha.session_id, ha.kind) per"
    " WHERE n >= %s GROUP BY kind ORDER BY kind"
)


def screening_counts(test: ListeningTest) -> dict:
    """Headphone checks passed/failed (and per kind: listeners with every answer given, and
    those at or over the pass mark), attention checks passed/failed; GROUP BY queries."""
    sessions = _real(test)
    passed = sessions.aggregate(
        passed=Count("pk", filter=Q(screening_passed=True)),
        failed=Count("pk", filter=Q(screening_passed=False)),
        timed_out=Count("pk", filter=Q(outcome=Outcome.TIMED_OUT)),
    )
    kinds = [
        {
            "kind": kind,
            "taken": int(taken),
            "passed": int(ok),
            "failed": int(taken) - int(ok),
            "pass_rate": int(ok) / int(taken) if taken else None,
        }
        for kind, taken, ok in sql.fetch(
            _HEADPHONE_SQL, [test.headphone_pass_at, test.pk, HEADPHONE_TRIALS]
        )
    ]
    attention = AttentionCheck.objects.filter(session__test=test, session__preview=False).aggregate(
        ok=Count("pk", filter=Q(passed=True)), ko=Count("pk", filter=Q(passed=False))
    )
    return {
        "headphone_check": test.headphone_check,
        "headphone_pass_at": test.headphone_pass_at,
        "headphone_trials": HEADPHONE_TRIALS,
        "headphone_passed": int(passed["passed"] or 0),
        "headphone_failed": int(passed["failed"] or 0),
        "headphone_kinds": kinds,
        "volume_calibration": test.volume_calibration,
        "attention_checks": test.attention_checks,
        "attention_passed": int(attention["ok"] or 0),
        "attention_failed": int(attention["ko"] or 0),
        "time_limit_minutes": test.time_limit_minutes,
        "timed_out": int(passed["timed_out"] or 0),
    }


def progress_overview(test: ListeningTest) -> dict:
    """Everything the page's live part re-reads: funnel, over time, quotas, screening, and the
    two pictures drawn from them (inline SVG)."""
    counts = funnel(test)
    over_time = sessions_over_time(test)
    steps = [(label, counts[key]) for key, label in FUNNEL_STEPS]
    ends = [(label, counts[key]) for key, label in ENDS]
    return {
        "funnel": counts,
        "funnel_steps": [{"key": k, "label": label, "n": counts[k]} for k, label in FUNNEL_STEPS],
        "funnel_ends": [{"key": k, "label": label, "n": counts[k]} for k, label in ENDS],
        "over_time": over_time,
        "quotas": quotas(test),
        "screening": screening_counts(test),
        "charts": {
            "funnel": funnel_svg(steps, ends),
            "timeline": timeline_svg(over_time["buckets"], over_time["unit"]),
        },
    }


def _per_session_counts(test: ListeningTest, ids: list[int] | None) -> tuple[dict, dict, dict]:
    """(headphone answers right per kind, attention (passed, total), trials rated) by session."""
    answers = HeadphoneAnswer.objects.filter(session__test=test, session__preview=False)
    checks = AttentionCheck.objects.filter(session__test=test, session__preview=False)
    ratings = Rating.objects.filter(session__test=test, session__preview=False)
    if ids is not None:
        answers, checks = answers.filter(session_id__in=ids), checks.filter(session_id__in=ids)
        ratings = ratings.filter(session_id__in=ids)
    headphone: dict[int, dict] = {}
    rows = answers.values_list("session_id", "kind").annotate(
        n=Count("pk"), right=Count("pk", filter=Q(correct=True))
    )
    for sid, kind, n, right in rows.order_by():
        headphone.setdefault(sid, {})[kind] = (right, n)
    attention = {
        sid: (passed, total)
        for sid, passed, total in checks.values_list("session_id")
        .annotate(p=Count("pk", filter=Q(passed=True)), n=Count("pk"))
        .order_by()
    }
    rated = dict(
        ratings.values_list("session_id").annotate(n=Count("trial_id", distinct=True)).order_by()
    )
    return headphone, attention, rated


def listener_rows(test: ListeningTest, *, limit: int | None = LISTENER_ROWS) -> list[dict]:
    """One row per real session, the latest first: at most ``limit`` (the page) or all (None,
    sessions.csv; reads one row per submitted trial)."""
    sessions = _real(test).order_by("-number" if limit is not None else "number")
    if limit is not None:
        sessions = sessions[:limit]
    rows = list(
        sessions.values(
            "id", "number", "participant_source", "crowd", "outcome", "stage", "screening_passed",
            "created_at", "consented_at", "finished_at", "released_at",
        )
    )  # fmt: skip
    ids = [r["id"] for r in rows] if limit is not None else None
    timings = session_timings(test, ids)
    headphone, attention, rated = _per_session_counts(test, ids)
    listening = _listening(test, ids) if limit is not None else {}
    out = []
    for r in rows:
        timing = timings.get(r["id"])
        passed, total = attention.get(r["id"], (0, 0))
        out.append(
            {
                **r,
                "listener": f"S{r['number']}",
                "outcome_text": Outcome(r["outcome"]).label if r["outcome"] in Outcome else "",
                "headphone": headphone.get(r["id"], {}),
                "attention_passed": passed,
                "attention_total": total,
                "trials_rated": rated.get(r["id"], 0),
                "median_seconds": timing.median_seconds if timing else None,
                "rushed": timing.rushed if timing else 0,
                "timed": timing.timed if timing else 0,
                "fast": timing.fast if timing else False,
                **listening.get(r["id"], {}),
            }
        )
    return out


def _listening(test: ListeningTest, ids: list[int]) -> dict[int, dict]:
    """Median plays and listening seconds per signal of each of these (few) sessions."""
    per: dict[int, tuple[list, list]] = {}
    rows = Rating.objects.filter(session_id__in=ids).values_list(
        "session_id", "plays", "listening_ms"
    )
    for sid, plays, ms in rows.order_by().iterator(chunk_size=10_000):
        lists = per.setdefault(sid, ([], []))
        lists[0].append(plays)
        lists[1].append(ms / 1000)
    return {
        sid: {"median_plays": median(plays), "median_listening_seconds": median(secs)}
        for sid, (plays, secs) in per.items()
    }


def session_export_rows(test: ListeningTest) -> list[dict]:
    """sessions.csv's rows (``mushra.reports.exports.sessions_csv``), in order of arrival."""
    out = []
    for r in listener_rows(test, limit=None):
        crowd = r["crowd"] if isinstance(r["crowd"], dict) else {}
        right = {kind: correct for kind, (correct, _) in r["headphone"].items()}
        out.append(
            {
                "listener": r["listener"],
                **{key: crowd.get(key, "") for key in CROWD_PARAMS},
                "participant_source": r["participant_source"],
                "outcome": r["outcome"] or "unfinished",
                "consented_at": _iso(r["consented_at"]),
                "finished_at": _iso(r["finished_at"]),
                "screening_passed": r["screening_passed"],
                "headphone_antiphase_correct": right.get("antiphase"),
                "headphone_huggins_correct": right.get("huggins"),
                "attention_passed": r["attention_passed"],
                "attention_total": r["attention_total"],
                "trials_rated": r["trials_rated"],
                "median_trial_seconds": r["median_seconds"],
                "rushed_trials": r["rushed"],
                "fast": r["fast"],
            }
        )
    return out


def _iso(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""


def timing_overview(test: ListeningTest) -> dict:
    """The page's timing: the test's summary (aggregates) and the capped listener table."""
    return {"summary": timing_summary(test), "listeners": listener_rows(test)}
