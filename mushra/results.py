"""Results of a listening test in the platform: its ratings as a tidy table, analysed and reported.

The bridge between the database and the pure :mod:`mushra.analysis` / :mod:`mushra.reports`:
reads only. Listeners appear as "S<session number>" (never a participant id, which may be a
Prolific id), conditions by the scientist's labels, items by utterance key. Strata columns let a
report be broken down:

* the end-questionnaire answers (age band, headphones, native language; free-text comments stay
  out), "(not answered)" when blank;
* the rated utterance's language, style and speaker (``utterance_*``), "(none)" when blank;
* one ``condition_<key>`` column per key of the systems' synthesis conditions (``style`` of
  ``{"style": "dj"}``), blank for a condition without that key — the hidden reference, the
  anchors, an unconditioned system — which the analysis then counts in every stratum of the
  column (:mod:`mushra.analysis.strata`). Only the systems' keys: an anchor's ``{"anchor": …}``
  says how it was made, not a stratum.

The ratings carry every one of these columns, so an export's header does not depend on the
values (a script reading two tests' CSVs sees the same columns); the results form offers only
those that split the test in two or more strata, as a breakdown into one repeats the whole.
Blank questionnaire and utterance values get a text of their own because a blank means "shared"
in a condition column.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mushra import test_types
from mushra.analysis import AnalysisError, Result, Spec, analyze
from mushra.analysis.timing import TIMING_COLUMNS
from mushra.analysis.types import TypedResult
from mushra.metric_reads import test_objective
from mushra.models import AttentionCheck, Condition, ListeningTest, Rating
from mushra.progress_reads import screening_counts, session_export_rows
from mushra.reports import FORMATS, ReportMeta, render_file, write_report
from mushra.reports.exports import sessions_csv
from mushra.timing_reads import audio_by_utterance, trial_seconds
from mushra.typed_results import is_typed, typed_analysis, typed_file, write_typed

QUESTIONNAIRE = ("age_band", "headphones", "native_language")
UTTERANCE = ("utterance_language", "utterance_style", "utterance_speaker")
NOT_ANSWERED = "(not answered)"
NO_VALUE = "(none)"


def ratings_frame(test: ListeningTest, *, timing: bool = False) -> pd.DataFrame:
    """Every stored rating of the test's real (non-preview) sessions, in tidy form.

    Ratings come as plain tuples and questionnaire answers once per session, joined in pandas:
    a crowdsourced test holds 10^5-10^6 ratings, too many for a Python object per row.
    With ``timing`` each rating also carries its plays and listening time and its trial's
    seconds and audio (:data:`TIMING_COLUMNS`, last): measurements, never strata.
    """
    utterance = [f"trial__utterance__{c.removeprefix('utterance_')}" for c in UTTERANCE]
    ratings = pd.DataFrame.from_records(
        Rating.objects.filter(session__test=test, session__preview=False)
        .order_by("session__number", "trial__position", "condition_id")
        .values_list(
            "session__number", "trial__utterance__key", "condition__label", "score", *utterance,
            "plays", "listening_ms", "trial_id", "trial__utterance_id",
        )
        .iterator(chunk_size=20_000),
        columns=["number", "item", "condition", "score", *UTTERANCE, *_TIMING_READ],
    )  # fmt: skip
    if timing:
        _add_timing(test, ratings)
    for column in UTTERANCE:
        ratings[column] = ratings[column].replace("", NO_VALUE)
    conditions = condition_strata(test)
    for column, by_label in conditions.items():
        ratings[column] = ratings["condition"].map(by_label).fillna("")
    sessions = test.sessions.filter(preview=False).values_list("number", "questionnaire")
    answers = pd.DataFrame.from_records(
        [{"number": number, **_answers(q or {})} for number, q in sessions],
        columns=["number", *QUESTIONNAIRE],
    )
    df = ratings.merge(answers, on="number", how="left")
    df.insert(0, "listener", "S" + df.pop("number").astype(str))
    timed = TIMING_COLUMNS if timing else ()
    return df[
        ["listener", "item", "condition", "score", *UTTERANCE, *conditions, *QUESTIONNAIRE, *timed]
    ]


_TIMING_READ = ("plays", "listening_ms", "trial_id", "utterance_id")


def _add_timing(test: ListeningTest, ratings: pd.DataFrame) -> None:
    """The trial's seconds (server clock, mushra.analysis.timing) and audio on each rating."""
    seconds = trial_seconds(test)
    audio = audio_by_utterance(test)
    ratings["trial_seconds"] = ratings["trial_id"].map(seconds).astype(float).round(3)
    ratings["audio_seconds"] = ratings["utterance_id"].map(audio).astype(float).round(3)


def condition_strata(test: ListeningTest) -> dict[str, dict[str, str]]:
    """``condition_<key>`` → {condition label: value} over the systems under test, by key."""
    out: dict[str, dict[str, str]] = {}
    systems = test.conditions.filter(role=Condition.Role.SYSTEM)
    for label, condition in systems.values_list("label", "stimulus_condition"):
        for key, value in (condition or {}).items():
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            out.setdefault(f"condition_{key}", {})[label] = text
    return dict(sorted(out.items()))


def strata_columns(test: ListeningTest) -> list[str]:
    """Every column a report of this test may be broken down by: the only names accepted."""
    return [*QUESTIONNAIRE, *UTTERANCE, *condition_strata(test)]


def strata_choices(test: ListeningTest) -> list[tuple[str, str]]:
    """(column, words) the results form offers: the questionnaire (its answers come later) and
    the stimulus columns with at least two values in this test."""
    chosen = test.utterances.all()
    utterances = chosen if chosen.exists() else test.corpus.utterances.all()
    choices = [(c, c.replace("_", " ")) for c in QUESTIONNAIRE]
    for column in UTTERANCE:
        field_name = column.removeprefix("utterance_")
        if utterances.values_list(field_name, flat=True).distinct().count() >= 2:
            choices.append((column, f"utterance {field_name}"))
    for column, by_label in condition_strata(test).items():
        if len(set(by_label.values())) >= 2:
            choices.append((column, f"condition: {column.removeprefix('condition_')}"))
    return choices


def _answers(questionnaire: dict) -> dict[str, str]:
    """The strata of one session. Native language is free text typed by a listener and goes
    into CSV files a scientist opens in a spreadsheet, so a leading = + - @ (which would make it
    a formula there) is dropped."""
    out = {k: str(questionnaire.get(k) or "") for k in QUESTIONNAIRE}
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
    exclude_fast: bool = False  # the fast-rater rule (mushra.analysis.timing), off by default
    n_boot: int = 10_000
    seed: int = 0
    # The confirmatory model backs the report's claims (mushra.analysis.claims), so it is the
    # platform's default; "intercepts" is the quicker random-intercepts model, "none" no model.
    mixed: str = "full"
    formats: tuple[str, ...] = field(default=FORMATS)


def test_spec(test: ListeningTest, options: ReportOptions) -> Spec:
    """The analysis spec: the roles come from the test's conditions, never from guessing; a
    breakdown only by this test's strata columns (the names come from a URL or a command line)."""
    allowed = strata_columns(test)
    for column in options.by:
        if column not in allowed:
            raise AnalysisError(
                f"no column {column!r} to break the results down by "
                f"(this test's: {', '.join(allowed)})"
            )
    return Spec(
        reference=_label(test, Condition.Role.REFERENCE),
        hidden_reference=test_types.of(test).hidden_reference,  # MUSHRA without reference: off
        mid_anchor=_label(test, Condition.Role.ANCHOR_MID),
        low_anchor=_label(test, Condition.Role.ANCHOR_LOW),
        compare=options.compare,
        gaps=options.gaps,
        by=options.by,
        screening=options.screening,
        exclude_fast=options.exclude_fast,
        n_boot=options.n_boot,
        seed=options.seed,
        mixed=options.mixed,
        model_optional=True,  # a test the model cannot fit still gets its report
    )


def test_analysis(
    test: ListeningTest, options: ReportOptions, stage: Callable[[str], None] | None = None
) -> Result | TypedResult:
    """The analysis of the ratings stored now: MUSHRA's, or the test type's
    (``mushra.typed_results``). ``stage`` hears "reading", then the analysis' stages
    (mushra.analysis.analyze.STAGES), as each starts (a worker shows them as progress,
    ``mushra.result_cache``)."""
    stage = stage or (lambda name: None)
    stage("reading")
    if is_typed(test):
        if not Rating.objects.filter(session__test=test, session__preview=False).exists():
            raise AnalysisError(f"test '{test.slug}' has no ratings yet")
        ratings = None if test_types.of(test).pair else ratings_frame(test)
        stage("testing")
        return typed_analysis(test, ratings, options)
    ratings = ratings_frame(test, timing=True)
    if ratings.empty:
        raise AnalysisError(f"test '{test.slug}' has no ratings yet")
    spec, attention = test_spec(test, options), attention_frame(test)
    return analyze(ratings, spec, attention=attention, progress=stage)


def attention_frame(test: ListeningTest) -> pd.DataFrame | None:
    """One row per scored attention check of the test's real (non-preview) sessions: listener
    ("S<session number>", as in ``ratings_frame``) and passed; None for a test that has no
    attention checks (and stored none), so its report lists no attention rule."""
    rows = list(
        AttentionCheck.objects.filter(session__test=test, session__preview=False)
        .order_by("session__number", "trial__position")
        .values_list("session__number", "passed")
    )
    if not rows and not test.attention_checks:
        return None
    frame = pd.DataFrame.from_records(rows, columns=["number", "passed"])
    return pd.DataFrame({"listener": "S" + frame["number"].astype(str), "passed": frame["passed"]})


# Files that show no objective metrics: read none for them (the test's page draws the first).
WITHOUT_METRICS = frozenset({"conditions.svg", "items.svg", "mushra.csv", "means.tex"})


def report_dict(test: ListeningTest, result: Result, *, metrics: bool = True) -> dict:
    """The analysis as the reports take it, with the objective metrics of the test's stimuli
    beside the listeners' scores when any are measured (``mushra.metric_reads``)."""
    data = result.to_dict()
    objective = test_objective(test, data.get("conditions") or []) if metrics else None
    if objective:
        data["objective"] = objective
    data["listener_checks"] = screening_counts(test)  # the report's design section says so
    return data


def test_sessions_csv(test: ListeningTest) -> bytes:
    """sessions.csv: a row per real session (crowd ids, outcome, screening, timing), for
    approving payments; needs no ratings, so it exists from the first listener on."""
    return sessions_csv(session_export_rows(test)).encode("utf-8")


def report_meta(test: ListeningTest, result: Result) -> ReportMeta:
    source = f"listening test '{test.slug}'"
    return ReportMeta.for_spec(result.spec, title=test.name, source=source, question=test.question)


def test_report_file(test: ListeningTest, fmt: str, name: str, options: ReportOptions) -> bytes:
    """One report file of the test (a download), rendered in memory."""
    if fmt == "sessions_csv":  # no analysis: it lists every session, rated or not
        return test_sessions_csv(test)
    result = test_analysis(test, options)
    if isinstance(result, TypedResult):
        return typed_file(test, result, name, acr_ratings(test))
    meta = report_meta(test, result)
    data = report_dict(test, result, metrics=name not in WITHOUT_METRICS)
    content = render_file(data, result.rated, meta, fmt, name, test_id=test.slug)
    return content.encode("utf-8") if isinstance(content, str) else content


def test_report(test: ListeningTest, out_dir: Path, options: ReportOptions) -> dict[str, Path]:
    """Analyse the test's ratings and write the requested report files into ``out_dir``."""
    result = test_analysis(test, options)
    if isinstance(result, TypedResult):
        written, _ = write_typed(test, result, Path(out_dir), acr_ratings(test))
        written["sessions.csv"] = Path(out_dir) / "sessions.csv"
        written["sessions.csv"].write_bytes(test_sessions_csv(test))
        return written
    written = write_report(
        report_dict(test, result),
        result.rated,
        report_meta(test, result),
        out_dir,
        test_id=test.slug,
        formats=options.formats,
    )
    if "csv" in options.formats:
        written["sessions.csv"] = Path(out_dir) / "sessions.csv"
        written["sessions.csv"].write_bytes(test_sessions_csv(test))
    return written


def acr_ratings(test: ListeningTest) -> pd.DataFrame | None:
    """An ACR or SMOS test's ratings as ``ratings_frame`` reads them; None for a pair type,
    whose table ``typed_results.typed_frame`` reads itself."""
    return None if test_types.of(test).pair else ratings_frame(test)
