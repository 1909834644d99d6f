"""Results of the test types beside MUSHRA (ACR, SMOS, CMOS, A/B, ABX): their tidy ratings and
their analysis (``mushra.analysis.types``). Reads only, like ``mushra.results``.

The tidy tables are the analysis library's own input formats (README "Analysing the other test
types"), with a ``test_type`` column, so an exported ``ratings.csv`` analyses the same with
``python -m mushra.analysis``:

* ACR and SMOS: one row per rating (listener, item, condition, score 1-5), as MUSHRA's, and
  with gold clips ``check`` ("gold" or empty) and ``expected`` (the gold clip's known score);
* pair types: one row per trial — ``a`` and ``b`` the conditions in the order heard, and the
  answer: CMOS ``score`` (B against A, the rating stored for B), A/B ``preferred`` (the
  condition rated 1, empty for no preference), ABX ``x`` (whose stimulus X played) and
  ``answer`` (the condition chosen as X).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mushra import test_types
from mushra.analysis import AnalysisError
from mushra.analysis.types import MUSHRA_TYPES, Options, TypedResult, analyze_any, typed_text
from mushra.models import AttentionCheck, ListeningTest, Rating, TrialSignal
from mushra.reports.exports import analysis_json
from mushra.trap_speech import TRAP_ANSWER

PAIR_ANSWER = {"cmos": ["score"], "ab": ["preferred"], "abx": ["x", "answer"]}


def is_typed(test: ListeningTest) -> bool:
    """Whether the test is analysed by ``mushra.analysis.types`` rather than as MUSHRA."""
    return test.test_type not in MUSHRA_TYPES


def typed_frame(test: ListeningTest, ratings: pd.DataFrame | None = None) -> pd.DataFrame:
    """The test's tidy ratings in its type's format; ``ratings``: ``rating_reads.ratings_frame`` of
    an ACR or SMOS test (one row per rating already)."""
    if test_types.of(test).pair:
        frame = _pair_frame(test)
    else:
        frame = ratings.copy()
        frame["score"] = frame["score"].round().astype(int)  # stored as floats, asked as 1-5
        _gold_columns(test, frame)
        frame = _with_traps(test, frame)
    frame.insert(0, "test_type", test.test_type)
    return frame


def _gold_columns(test: ListeningTest, frame: pd.DataFrame) -> None:
    """``check`` and ``expected`` of an ACR/SMOS table whose test has gold clips (P.808): the
    analysis screens listeners with their ratings and leaves them out of the MOS."""
    gold = dict(test.conditions.filter(gold_score__isnull=False).values_list("label", "gold_score"))
    if gold:
        expected = frame["condition"].map(gold)
        frame["check"] = expected.notna().map({True: "gold", False: ""})
        frame["expected"] = expected.map(lambda v: "" if pd.isna(v) else int(v))


def _with_traps(test: ListeningTest, frame: pd.DataFrame) -> pd.DataFrame:
    """An ACR table with its trap clips' answers as P.808 ``trap`` rows (the analysis screens
    with them; they never enter the MOS): the score given, and the one the voice asked for."""
    traps = list(
        AttentionCheck.objects.filter(session__test=test, session__preview=False)
        .order_by("session__number", "trial__position")
        .values_list("session__number", "trial__utterance__key", "catch_score")
    )
    if not traps:
        return frame
    rows = pd.DataFrame(
        [
            {
                "listener": f"S{number}",
                "item": item,
                "condition": "(trap)",
                "score": int(round(score)),
                "check": "trap",
                "expected": TRAP_ANSWER,
            }
            for number, item, score in traps
        ]  # fmt: skip
    )
    if "check" not in frame.columns:
        frame = frame.assign(check="", expected="")
    return pd.concat([frame, rows], ignore_index=True).fillna("")


def _pair_frame(test: ListeningTest) -> pd.DataFrame:
    """One row per saved pair trial of the test's real sessions: its two signals in their order
    on screen, each with the rating stored for it (two reads, joined in pandas)."""
    real = {"session__test": test, "session__preview": False}
    ratings = pd.DataFrame.from_records(
        Rating.objects.filter(**real).values_list("trial_id", "condition_id", "score"),
        columns=["trial", "condition_id", "score"],
    )
    columns = ["listener", "item", "a", "b", *PAIR_ANSWER[test.test_type]]
    if ratings.empty:
        return pd.DataFrame(columns=columns)
    signals = pd.DataFrame.from_records(
        TrialSignal.objects.filter(trial__in=ratings["trial"].unique().tolist())
        .values_list(
            "trial_id",
            "condition_id",
            "order",
            "stimulus_id",
            "condition__label",
            "trial__session__number",
            "trial__position",
            "trial__utterance__key",
            "trial__reference_stimulus_id",
        )  # fmt: skip
        .iterator(chunk_size=20_000),
        columns=[
            "trial",
            "condition_id",
            "order",
            "stimulus",
            "label",
            "number",
            "position",
            "item",
            "x_stimulus",
        ],  # fmt: skip
    )
    rows = signals.merge(ratings, on=["trial", "condition_id"]).sort_values(
        ["number", "position", "order"]
    )
    a, b = (rows[rows["order"] == k].set_index("trial") for k in (0, 1))
    b = b.loc[a.index]
    out = pd.DataFrame(
        {
            "listener": "S" + a["number"].astype(str),
            "item": a["item"],
            "a": a["label"],
            "b": b["label"],
        }  # fmt: skip
    )
    if test.test_type == "cmos":
        out["score"] = b["score"].round().astype(int)  # how B compares with A
    elif test.test_type == "ab":  # the condition rated 1; no preference (0.5 each): empty
        out["preferred"] = a["label"].where(a["score"] == 1, b["label"].where(b["score"] == 1, ""))
    else:  # ABX: X played the stimulus of one of the two; the answer is the one rated 1
        out["x"] = a["label"].where(a["stimulus"] == a["x_stimulus"], b["label"])
        out["answer"] = a["label"].where(a["score"] == 1, b["label"])
    return out.reset_index(drop=True)[columns]


def typed_analysis(test: ListeningTest, ratings: pd.DataFrame, options) -> TypedResult:
    """The analysis of a typed test's ratings (``results.ReportOptions``: the declared pairs
    and whether to screen; gap closure, strata and models are MUSHRA's and refused)."""
    if options.gaps or options.by:
        raise AnalysisError(
            f"gap closure and breakdowns are MUSHRA analyses; a {test.test_type} test has neither"
        )
    frame = typed_frame(test, ratings)
    screening = options.screening and test.test_type in ("acr", "smos")
    return analyze_any(
        frame, Options(test_type=test.test_type, compare=options.compare, screening=screening)
    )


# The files of a typed test's results, by name: what each is made from (mushra.reports.typed).
TYPED_FILES = (
    "report.html", "report.pdf", "report.txt", "analysis.json", "ratings.csv", "conditions.svg",
)  # fmt: skip


def typed_file(test: ListeningTest, result: TypedResult, name: str, ratings=None) -> bytes:
    """One results file of a typed test; AnalysisError for a name its type has not (the plot
    per item, mushra.csv and means.tex are MUSHRA's)."""
    from mushra.reports import typed

    data = result.to_dict()
    if name == "analysis.json":
        return analysis_json(data).encode("utf-8")
    if name == "report.txt":
        return typed_text(data).encode("utf-8")
    if name == "ratings.csv":
        frame = typed_frame(test, ratings)
        return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if name == "conditions.svg":
        return typed.typed_plot_svg(data).encode("utf-8")
    if name in ("report.html", "report.pdf"):
        html = typed.typed_report_html(
            data, title=test.name, source=f"listening test '{test.slug}'", question=test.question
        )
        return html.encode("utf-8") if name == "report.html" else typed.typed_report_pdf(html)
    raise AnalysisError(f"a {test.test_type} test's results have no file {name!r}")


def write_typed(
    test: ListeningTest, result: TypedResult, out_dir: Path, ratings=None
) -> tuple[dict[str, Path], dict[str, str]]:
    """Every file of a typed test's results into ``out_dir``: (name → path, name → why it
    could not be made). A machine without Pango makes no PDF; the rest stands."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written, missing = {}, {}
    for name in TYPED_FILES:
        try:
            content = typed_file(test, result, name, ratings)
        except AnalysisError as exc:
            if name != "report.pdf":
                raise
            missing[name] = str(exc)
            continue
        written[name] = out_dir / name
        written[name].write_bytes(content)
    return written, missing


def typed_summary(result: TypedResult) -> dict:
    """The figures the results page shows of a typed result (as of a MUSHRA one)."""
    data = result.data
    # What each type counts: ratings (ACR, SMOS), judgements (CMOS, A/B) or trials (ABX).
    count = next((int(data[k]) for k in ("n_ratings", "n_judgements", "n_trials") if k in data), 0)
    excluded = {e["listener"] for e in (data.get("screening") or {}).get("excluded", [])}
    return {
        "n_rated": count,
        "n_ratings": count,
        "n_listeners": int(data.get("n_listeners", 0)),
        "n_excluded": len(excluded),
    }
