"""Machine-readable exports: tidy CSV, webMUSHRA's mushra.csv, the analysis JSON, LaTeX.

Results leave the platform to be re-analysed elsewhere (R, pandas, webMUSHRA tooling) or to go
into a paper, so every export must read back exactly: scores are written without a spurious
".0" and the webMUSHRA file goes back through ``read_ratings`` to the same tidy ratings.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from mushra.analysis.data import COLUMNS, json_ready
from mushra.reports import common as c
from mushra.reports.meta import ReportMeta

WEBMUSHRA_TAIL = (
    "session_uuid", "trial_id", "rating_stimulus", "rating_score", "rating_time", "rating_comment",
)  # fmt: skip
LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def score_text(score: float) -> str:
    """73.0 → "73", 72.5 → "72.5": integers stay integers, other floats round-trip exactly."""
    value = float(score)
    return str(int(value)) if value.is_integer() else repr(value)


def strata_columns(ratings: pd.DataFrame) -> list[str]:
    """Columns beyond listener, item, condition and score, in their original order."""
    return [col for col in ratings.columns if col not in COLUMNS]


def tidy_csv(ratings: pd.DataFrame) -> str:
    """All ratings, one row each: listener, item, condition, score, then the strata columns."""
    out = ratings[[*COLUMNS, *strata_columns(ratings)]].copy()
    out["score"] = out["score"].map(score_text)
    return out.to_csv(index=False, lineterminator="\n")


def webmushra_csv(ratings: pd.DataFrame, test_id: str = "test") -> str:
    """webMUSHRA's mushra.csv: strata become participant (questionnaire) fields."""
    strata = strata_columns(ratings)
    out = pd.DataFrame({"session_test_id": [test_id] * len(ratings)}, index=ratings.index)
    for col in strata:
        out[col] = ratings[col]
    out["session_uuid"] = ratings["listener"]
    out["trial_id"] = ratings["item"]
    out["rating_stimulus"] = ratings["condition"]
    out["rating_score"] = ratings["score"].map(score_text)
    out["rating_time"] = ""
    out["rating_comment"] = ""
    return out.to_csv(index=False, lineterminator="\n")


def analysis_json(result: dict) -> str:
    """The analysis result as JSON (indent 2, NaN → null, keys in their given order)."""
    return json.dumps(json_ready(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def latex_escape(text: str) -> str:
    """Escape the ten LaTeX special characters in one pass (so "\\" is not escaped twice)."""
    return re.sub(r"[\\&%$#_{}~^]", lambda m: LATEX_SPECIAL[m.group()], str(text))


def _latex_num(value: Any) -> str:
    """One decimal; a math minus (a bare "-" is a hyphen in LaTeX text); "--" when missing."""
    if c.is_missing(value):
        return "--"
    return f"{float(value):.1f}".replace("-", "$-$")


def _latex_interval(bounds: Any) -> str:
    if not bounds or len(bounds) != 2 or any(c.is_missing(b) for b in bounds):
        return "--"
    return f"[{_latex_num(bounds[0])}, {_latex_num(bounds[1])}]"


def latex_means(result: dict, meta: ReportMeta | None = None) -> str:
    """A booktabs tabular of condition, n, mean, SD and 95 % CI (report order given meta)."""
    rows = result.get("conditions") or []
    if meta is not None:
        rows = c.by_condition(rows, c.condition_order(result, meta))
    lines = [
        r"\begin{tabular}{lrrrc}",
        r"\toprule",
        r"Condition & $n$ & Mean & SD & 95\,\% CI \\",
        r"\midrule",
    ]
    for r in rows:
        cells = [
            latex_escape(r["condition"]),
            str(r.get("n", "")),
            _latex_num(r.get("mean")),
            _latex_num(r.get("sd")),
            _latex_interval(r.get("ci95")),
        ]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


SESSION_COLUMNS = (
    "listener", "PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId", "hitId",
    "participant_source", "outcome", "consented_at", "finished_at", "screening_passed",
    "headphone_antiphase_correct", "headphone_huggins_correct", "attention_passed",
    "attention_total", "trials_rated", "median_trial_seconds", "rushed_trials", "fast",
)  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a value typed by someone else (a crowd id comes from
    the entry URL) that starts like a formula gets a leading apostrophe (OWASP's advice), which
    keeps the id readable for matching payments, where dropping characters would change it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def sessions_csv(rows: list[dict]) -> str:
    """sessions.csv: one row per session with the crowd site's ids, how it ended, its screening
    and timing — the file a scientist approves or rejects payments from."""
    table = pd.DataFrame(
        [[csv_cell(row.get(column)) for column in SESSION_COLUMNS] for row in rows],
        columns=list(SESSION_COLUMNS),
    )
    return table.to_csv(index=False, lineterminator="\n")
