"""Results of a listening test in the platform: its ratings as a tidy table, analysed and reported.

The bridge between the database and the pure :mod:`mushra.analysis` / :mod:`mushra.reports`:
reads only. Listeners appear as "S<session number>" (never a participant id, which may be a
Prolific id), conditions by the scientist's labels, items by utterance key. The end-questionnaire
answers (age band, headphones, native language) travel as strata columns so a report can be
broken down by them; free-text comments stay out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mushra.analysis import AnalysisError, Result, Spec, analyze
from mushra.models import Condition, ListeningTest, Rating
from mushra.reports import FORMATS, ReportMeta, render_file, write_report

STRATA = ("age_band", "headphones", "native_language")
NOT_ANSWERED = "(not answered)"


def ratings_frame(test: ListeningTest) -> pd.DataFrame:
    """Every stored rating of the test's real (non-preview) sessions, in tidy form.

    Ratings come as plain tuples and questionnaire answers once per session, joined in pandas:
    a crowdsourced test holds 10^5-10^6 ratings, too many for a Python object per row.
    """
    ratings = pd.DataFrame.from_records(
        Rating.objects.filter(session__test=test, session__preview=False)
        .order_by("session__number", "trial__position", "condition_id")
        .values_list("session__number", "trial__utterance__key", "condition__label", "score")
        .iterator(chunk_size=20_000),
        columns=["number", "item", "condition", "score"],
    )
    sessions = test.sessions.filter(preview=False).values_list("number", "questionnaire")
    answers = pd.DataFrame.from_records(
        [{"number": number, **_answers(q or {})} for number, q in sessions],
        columns=["number", *STRATA],
    )
    df = ratings.merge(answers, on="number", how="left")
    df.insert(0, "listener", "S" + df.pop("number").astype(str))
    return df[["listener", "item", "condition", "score", *STRATA]]


def _answers(questionnaire: dict) -> dict[str, str]:
    """The strata of one session. Native language is free text typed by a listener and goes
    into CSV files a scientist opens in a spreadsheet, so a leading = + - @ (which would make it
    a formula there) is dropped."""
    out = {k: str(questionnaire.get(k) or "") for k in STRATA}
    out["native_language"] = out["native_language"].lstrip("=+-@\t\r ")
    return {k: v or NOT_ANSWERED for k, v in out.items()}


def _label(test: ListeningTest, role: str) -> str | None:
    condition = test.conditions.filter(role=role).first()
    return condition.label if condition else None


@dataclass(frozen=True)
class ReportOptions:
    """What a scientist may choose for a platform report (the rest comes from the test)."""

    gaps: tuple[tuple[str, str, str], ...] = ()
    compare: tuple[tuple[str, str], ...] = ()
    by: tuple[str, ...] = ()
    screening: bool = True
    n_boot: int = 10_000
    seed: int = 0
    mixed: str = "intercepts"  # or "full" (confirmatory) / "none"
    formats: tuple[str, ...] = field(default=FORMATS)


def test_spec(test: ListeningTest, options: ReportOptions) -> Spec:
    """The analysis spec: the roles come from the test's conditions, never from guessing."""
    return Spec(
        reference=_label(test, Condition.Role.REFERENCE),
        mid_anchor=_label(test, Condition.Role.ANCHOR_MID),
        low_anchor=_label(test, Condition.Role.ANCHOR_LOW),
        compare=options.compare,
        gaps=options.gaps,
        by=options.by,
        screening=options.screening,
        n_boot=options.n_boot,
        seed=options.seed,
        mixed=options.mixed,
    )


def test_analysis(test: ListeningTest, options: ReportOptions) -> Result:
    ratings = ratings_frame(test)
    if ratings.empty:
        raise AnalysisError(f"test '{test.slug}' has no ratings yet")
    return analyze(ratings, test_spec(test, options))


def _meta(test: ListeningTest, result: Result) -> ReportMeta:
    source = f"listening test '{test.slug}'"
    return ReportMeta.for_spec(result.spec, title=test.name, source=source, question=test.question)


def test_report_file(test: ListeningTest, fmt: str, name: str, options: ReportOptions) -> bytes:
    """One report file of the test (a download), rendered in memory."""
    result = test_analysis(test, options)
    meta = _meta(test, result)
    content = render_file(result.to_dict(), result.rated, meta, fmt, name, test_id=test.slug)
    return content.encode("utf-8") if isinstance(content, str) else content


def test_report(test: ListeningTest, out_dir: Path, options: ReportOptions) -> dict[str, Path]:
    """Analyse the test's ratings and write the requested report files into ``out_dir``."""
    result = test_analysis(test, options)
    return write_report(
        result.to_dict(),
        result.rated,
        _meta(test, result),
        out_dir,
        test_id=test.slug,
        formats=options.formats,
    )
