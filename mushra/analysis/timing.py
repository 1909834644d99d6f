"""How long listeners spent on each trial, and the fast-rater flag (issue 14) — pure, no Django.

**Time per trial** comes from the server's clock only (a browser's clock and its reports can be
wrong or forged): the first trial a listener submits is timed from the moment the trials began
(``Session.trials_started_at``) to its submission, each next one from the previous submission
to its own, in the order of submission. The practice trial and the attention-check (catch)
trials are links of this chain, so the trial after them is not charged their time, but they are
reported apart and never count towards the flag. A trial submitted before any start time is
known (a session from before the start was recorded) has no time.

**Audio of a trial**: the summed duration of its signals (the hidden reference, the anchors and
the systems; the open reference plays the hidden reference's recording, so it adds nothing new).
Hearing each signal once is the least a MUSHRA listener needs to have heard everything they rate.

**The rule.** A trial is *rushed* when the time spent on it is shorter than its audio: the
listener submitted ratings of signals they cannot all have heard to the end. A listener is
*fast* (flagged) when more than 15 % of their rated trials (real trials with a time: not the
practice, not a catch trial) are rushed — the same 15 % as the post-screening rules of
ITU-R BS.1534-3 §4.1.2, so one rushed trial in ten is tolerated (a reload, a replay cut short)
but a habit is not. In integers: ``100 * rushed > 15 * timed``. A trial whose audio duration is
unknown is never rushed.

The flag is shown on the test's page and in sessions.csv; the analysis may also exclude flagged
listeners (:func:`screen_fast`, off by default), logged like the BS.1534-3 exclusions. The tidy
ratings carry the columns this needs (``trial_seconds`` and ``audio_seconds`` on every rating of
the trial), so the rule also runs on an exported ratings.csv with ``python -m mushra.analysis``.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime

import pandas as pd

from mushra.analysis.data import AnalysisError

RUSHED_PERCENT = 15  # more than 15 % of a listener's timed trials rushed → flagged
TIMING_COLUMNS = ("plays", "listening_ms", "trial_seconds", "audio_seconds")
RULE_FAST = (
    "rated faster than the audio on more than 15% of trials "
    "(time on a trial shorter than its signals each played once)"
)


def chain_seconds(
    started_at: datetime | None, submitted: Iterable[tuple[Hashable, datetime]]
) -> dict[Hashable, float | None]:
    """Seconds spent on each submitted trial of one session, keyed as given.

    ``submitted``: (trial key, submission time) of every submitted trial, practice and catch
    trials included, in any order; they are chained in the order of submission (ties by key).
    The first is timed from ``started_at``, which may be None (then it has no time)."""
    out: dict[Hashable, float | None] = {}
    previous = started_at
    for key, at in sorted(submitted, key=lambda pair: (pair[1], pair[0])):
        out[key] = None if previous is None else (at - previous).total_seconds()
        previous = at
    return out


def is_rushed(seconds: float | None, audio_seconds: float | None) -> bool:
    """Shorter than its audio; False when either is unknown."""
    if seconds is None or audio_seconds is None or pd.isna(seconds) or pd.isna(audio_seconds):
        return False
    return audio_seconds > 0 and seconds < audio_seconds


def is_fast(rushed: int, timed: int) -> bool:
    """More than 15 % of ``timed`` trials rushed (integers, so 3 of 20 is not flagged)."""
    return timed > 0 and 100 * rushed > RUSHED_PERCENT * timed


def median(values: Sequence[float | None]) -> float | None:
    """The median of the known values; None when there are none."""
    known = [float(v) for v in values if v is not None and not pd.isna(v)]
    return statistics.median(known) if known else None


def fast_listeners(df: pd.DataFrame) -> dict[str, float]:
    """Listener → fraction of their timed trials rushed, for the flagged listeners only.

    ``df``: tidy ratings with ``trial_seconds`` and ``audio_seconds`` on every rating (one value
    per (listener, item): a listener's trial of an item)."""
    missing = [c for c in ("trial_seconds", "audio_seconds") if c not in df.columns]
    if missing:
        raise AnalysisError(
            f"the fast-rater rule needs the column(s) {', '.join(missing)} "
            "(the platform's ratings.csv has them)",
            option="exclude_fast",
        )
    trials = df.groupby(["listener", "item"], sort=False)[["trial_seconds", "audio_seconds"]]
    per_trial = trials.first().apply(pd.to_numeric, errors="coerce")
    per_trial = per_trial[per_trial["trial_seconds"].notna()]
    rushed = per_trial["trial_seconds"] < per_trial["audio_seconds"]  # NaN audio: never rushed
    counts = rushed.groupby(level="listener").agg(["sum", "count"])
    return {
        str(listener): float(row["sum"]) / float(row["count"])
        for listener, row in counts.iterrows()
        if is_fast(int(row["sum"]), int(row["count"]))
    }


def screen_fast(df: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Drop every rating of the fast listeners; their exclusions with rule and fraction."""
    fast = fast_listeners(df)
    exclusions = [
        {"listener": listener, "rule": RULE_FAST, "fraction": fraction}
        for listener, fraction in sorted(fast.items())
    ]
    kept = df[~df["listener"].isin(fast)].reset_index(drop=True)
    return kept, exclusions
