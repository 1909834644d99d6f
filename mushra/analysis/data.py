"""Tidy ratings: one row per (listener, item, condition) with a 0-100 score.

Every analysis starts from this one shape so that screening, descriptives and tests cannot
disagree about what a rating is. Validation errors are one plain line naming the column or row,
because they are shown to scientists who uploaded a file, not to programmers.

Labels are stripped of surrounding whitespace ("reference " and "reference" are one condition:
spreadsheets and hand-edited files add spaces nobody sees). A file separated by semicolons or
tabs (a spreadsheet's "CSV" in many locales) is refused with that diagnosis rather than read with
a guessed delimiter: such files often carry decimal commas too ("72,5"), and guessing one but not
the other would misread scores silently.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

KEYS = ("listener", "item", "condition")
COLUMNS = (*KEYS, "score")
WEBMUSHRA_COLUMNS = ("trial_id", "rating_stimulus", "rating_score")
WEBMUSHRA_OWN = {
    "session_test_id",
    "session_uuid",
    *WEBMUSHRA_COLUMNS,
    "rating_time",
    "rating_comment",
}
# Questionnaire fields that identify a participant in webMUSHRA files written before
# session_uuid existed (PR #87); the first present, in this order, names the listener.
WEBMUSHRA_PARTICIPANT = (
    "participant",
    "participant_id",
    "participant_name",
    "listener",
    "listener_id",
    "subject",
    "subject_id",
    "user",
    "user_id",
    "username",
    "id",
    "name",
    "email",
    "e-mail",
    "mail",
)
OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs"}


class AnalysisError(ValueError):
    """Bad input to the analysis; the message is a single line meant for the user.

    It says what went wrong in the analysis' own words (which condition, which option), never a
    front end's: ``option`` names the option at fault (one of mushra.analysis.options.OPTIONS;
    None when the data themselves are), and the command line and the pages word that for their
    readers (a flag, a form field's label)."""

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise a tidy ratings frame; extra columns are kept as strata.

    Keys become strings (so listener 2 and "2" are one listener) and score becomes float.
    Raises AnalysisError for missing columns, non-numeric or out-of-range scores and duplicate
    (listener, item, condition) rows, since any of these would silently bias means.
    """
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise AnalysisError(f"missing column(s): {', '.join(missing)}")
    out = df.copy().reset_index(drop=True)
    codes = {}
    for key in KEYS:
        out[key], codes[key] = _label(out[key], key)
    score = pd.to_numeric(out["score"], errors="coerce")
    bad = score.isna()
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise AnalysisError(
            f"column 'score' is not a number in row {row}: {out['score'].iloc[row]!r}"
        )
    out["score"] = score.astype(float)
    outside = (out["score"] < 0) | (out["score"] > 100)
    if outside.any():
        row = int(np.argmax(outside.to_numpy()))
        raise AnalysisError(
            f"column 'score' is outside 0-100 in row {row}: {out['score'].iloc[row]:g}"
        )
    dup = _duplicated(codes)
    if dup.any():
        row = int(np.argmax(dup))
        who = ", ".join(f"{k}={out[k].iloc[row]}" for k in KEYS)
        raise AnalysisError(f"duplicate rating in row {row} ({who})")
    if out.empty:
        raise AnalysisError("no ratings")
    return out


def _label(column: pd.Series, key: str) -> tuple[pd.Series, np.ndarray]:
    """A key column as stripped strings, and an integer code per distinct stripped label; a
    missing or blank label is an error naming its row.

    Stripping works on the distinct values (factorize), so 10^6 ratings cost a few hundred
    string operations, not a million."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    labels = pd.Index(uniques.astype(str)).str.strip()
    blank = (codes < 0) | np.asarray(labels == "")[codes]
    if blank.any():
        raise AnalysisError(f"column {key!r} is empty in row {int(np.argmax(blank))}")
    merged, stripped = pd.factorize(labels)  # " a" and "a" are one label
    return pd.Series(stripped.take(merged[codes]), index=column.index), merged[codes]


def labels(column: pd.Series, key: str) -> pd.Series:
    """A key column as stripped strings; a missing or blank label is an error naming its row
    (the other test types' columns follow the MUSHRA keys' rules: mushra.analysis.types)."""
    return _label(column, key)[0]


def _duplicated(codes: dict[str, np.ndarray]) -> np.ndarray:
    """Rows repeating an earlier (listener, item, condition), found on one int64 per row
    rather than on three string columns (a tenth of the time at 10^6 ratings)."""
    key = np.zeros(len(codes[KEYS[0]]), dtype=np.int64)
    for name in KEYS:
        key = key * (int(codes[name].max(initial=0)) + 1) + codes[name]
    return pd.Series(key).duplicated(keep="first").to_numpy()


def json_ready(value: Any) -> Any:
    """Plain JSON types with NaN/inf as None (JSON has no NaN); dict key order is kept."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def conditions_of(df: pd.DataFrame) -> set[str]:
    """The condition labels present; ``unique()`` first, as iterating 10^6 strings is slow."""
    return set(df["condition"].unique().tolist())


def webmushra_listener_column(columns: pd.Index) -> str:
    """The column that tells webMUSHRA's participants apart.

    session_uuid is unique per session. Files written before it existed (webMUSHRA's PR #87) have
    only session_test_id, which is the test's id and the same on every row, so it cannot be used;
    a questionnaire field such as a name or email (WEBMUSHRA_PARTICIPANT) can. Without one, every
    participant would become a single listener, so the file is refused.
    """
    if "session_uuid" in columns:
        return "session_uuid"
    by_lower = {str(c).lower(): c for c in columns if c not in WEBMUSHRA_OWN}
    for name in WEBMUSHRA_PARTICIPANT:
        if name in by_lower:
            return by_lower[name]
    raise AnalysisError(
        "the webMUSHRA file has no column identifying listeners (no session_uuid, and no "
        "questionnaire field such as name or email): add a column listener"
    )


def from_webmushra(raw: pd.DataFrame) -> pd.DataFrame:
    """Map webMUSHRA's mushra.csv columns onto the tidy shape.

    listener = session_uuid, or in older files a participant field of the questionnaire
    (:func:`webmushra_listener_column`); item = trial_id; condition = rating_stimulus; score =
    rating_score. The other questionnaire columns webMUSHRA writes between session_test_id and
    session_uuid (age, headphones, …) are kept as strata (columns to break the results down by).
    """
    listener_col = webmushra_listener_column(raw.columns)
    blank = raw[listener_col].isna() | (raw[listener_col].astype(str).str.strip() == "")
    if blank.any():
        raise AnalysisError(
            f"column {listener_col!r} (which identifies listeners) is empty in row "
            f"{int(np.argmax(blank.to_numpy()))}"
        )
    df = pd.DataFrame(
        {
            "listener": raw[listener_col],
            "item": raw["trial_id"],
            "condition": raw["rating_stimulus"],
            "score": raw["rating_score"],
        }
    )
    for column in raw.columns:
        if column not in WEBMUSHRA_OWN and column != listener_col and column not in df.columns:
            df[column] = raw[column]
    return tidy(df)


def is_webmushra(columns: pd.Index) -> bool:
    """True for webMUSHRA's export: it has a session column and the rating columns."""
    has_session = "session_uuid" in columns or "session_test_id" in columns
    return has_session and all(c in columns for c in WEBMUSHRA_COLUMNS)


def _check_delimiter(path: str | Path) -> None:
    """Refuse a file whose header is split by semicolons or tabs, not commas (module docstring).

    Checked on the header line before pandas reads the file, since pandas would otherwise report
    a tokenizing error or one odd column instead of the cause."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    for sep, name in OTHER_DELIMITERS.items():
        if sep in header and "," not in header:
            raise AnalysisError(
                f"the file seems to be separated by {name}; save it as comma-separated (CSV)"
            )


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV as text columns (blank cells are NaN) with stripped column names, not yet
    validated: the reading that every test type shares (the delimiter refusal included)."""
    try:
        _check_delimiter(path)
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AnalysisError(f"cannot read {Path(path).name}: {first}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


def ratings_from(raw: pd.DataFrame) -> pd.DataFrame:
    """The validated tidy MUSHRA frame of a table read by :func:`read_table` (tidy or
    webMUSHRA's mushra.csv)."""
    if is_webmushra(raw.columns):
        return from_webmushra(raw)
    return tidy(raw)


def read_ratings(path: str | Path) -> pd.DataFrame:
    """Read a tidy CSV or a webMUSHRA mushra.csv and return a validated tidy frame."""
    return ratings_from(read_table(path))
