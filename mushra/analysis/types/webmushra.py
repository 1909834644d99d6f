"""webMUSHRA's other result files, read as the test types they are.

webMUSHRA's ``service/write.php`` writes one CSV per page type, each starting with
``session_test_id`` and one column per questionnaire field (the MUSHRA page's ``mushra.csv``
is read by mushra.analysis.data):

* ``paired_comparison.csv``: ``trial_id, choice_reference, choice_non_reference,
  choice_answer, choice_time, choice_comment``. The page plays the open reference and, as A
  and B in random order, the hidden reference and one condition, and asks which is the
  reference: an ABX trial whose X is the reference. ``choice_answer`` is ``correct``,
  ``incorrect``, ``undecided`` (the optional third button, ``unforced``) or ``unknown`` (no
  answer). Read as ABX with a = the reference, b = the condition, x = the reference and
  answer = the reference when correct; undecided and unanswered trials are not ABX trials and are
  left out, with a note saying how many.
* ``lss.csv`` / ``lms.csv`` (Likert single / multi stimulus): ``trial_id, stimuli_rating,
  stimuli, rating_time``, with ``stimuli_rating1``, ``stimuli_rating2``, … when a page asks on
  several scales. A rating is the ``value`` of the chosen response in the page's YAML (often a
  word), or ``NA`` when not rated. The file does not carry the scale, so it is read as ACR only
  when every rating is a whole number 1..5 (a five-point scale numbered as P.800 numbers it);
  anything else is refused with what was found. ``NA`` ratings are left out with a note.

None of these files has ``session_uuid`` (only mushra.csv does), so listeners are told apart
by a questionnaire field such as a name or an email (data.webmushra_listener_column).

The rows left out are dropped only after the type's validation (``Converted.keep``), so that an
error names its row as numbered in the file.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from mushra.analysis.data import AnalysisError, webmushra_listener_column
from mushra.analysis.types.inputs import first, no_nul

PAIRED = ("trial_id", "choice_reference", "choice_non_reference", "choice_answer")
PAIRED_OWN = {"session_test_id", *PAIRED, "choice_time", "choice_comment"}
ANSWERS = ("correct", "incorrect", "undecided", "unknown")
LIKERT_RATING = re.compile(r"stimuli_rating\d*")
LIKERT_OWN = {"session_test_id", "trial_id", "stimuli", "rating_time"}
NOT_RATED = "NA"


class Converted(NamedTuple):
    """A webMUSHRA file in its type's tidy shape: every row (a left-out row carries a
    placeholder answer), the rows to keep after validation, and notes on those left out."""

    frame: pd.DataFrame
    keep: np.ndarray
    notes: list[str]


def is_paired(columns: pd.Index) -> bool:
    """webMUSHRA's paired_comparison.csv."""
    return "session_test_id" in columns and all(c in columns for c in PAIRED)


def rating_columns(columns: pd.Index) -> list[str]:
    return [c for c in columns if LIKERT_RATING.fullmatch(str(c))]


def is_likert(columns: pd.Index) -> bool:
    """webMUSHRA's lss.csv or lms.csv."""
    has_own = all(c in columns for c in ("session_test_id", "trial_id", "stimuli"))
    return has_own and bool(rating_columns(columns))


def _listeners(raw: pd.DataFrame) -> tuple[str, pd.Series]:
    """The listener column's name and values; a blank one is an error naming the row."""
    column = webmushra_listener_column(raw.columns)
    blank = (raw[column].isna() | (raw[column].astype(str).str.strip() == "")).to_numpy()
    if blank.any():
        raise AnalysisError(
            f"column {column!r} (which identifies listeners) is empty in row {first(blank)}"
        )
    return column, raw[column]


def _with_extras(df: pd.DataFrame, raw: pd.DataFrame, own: set[str]) -> pd.DataFrame:
    """``df`` with the questionnaire columns (age, headphones, …) beside the tidy ones, less
    any whose name the tidy frame already uses."""
    taken = own | set(df.columns)
    return pd.concat([df, raw[[c for c in raw.columns if c not in taken]]], axis=1)


def _answers(raw: pd.DataFrame) -> pd.Series:
    """choice_answer in lower case (a blank is "unknown"); another word is an error."""
    answer = raw["choice_answer"].fillna("unknown").astype(str).str.strip().str.lower()
    bad = ~answer.isin(ANSWERS).to_numpy()
    if bad.any():
        row = first(bad)
        raise AnalysisError(
            f"column 'choice_answer' is not {', '.join(ANSWERS)} in row {row}: "
            f"{raw['choice_answer'].iloc[row]!r}"
        )
    return answer


def from_paired(raw: pd.DataFrame) -> Converted:
    """paired_comparison.csv as ABX trials, and a note on the trials left out."""
    no_nul(raw, PAIRED)
    listener, who = _listeners(raw)
    answer = _answers(raw)
    reference, condition = raw["choice_reference"], raw["choice_non_reference"]
    df = pd.DataFrame(
        {
            "listener": who,
            "item": raw["trial_id"],
            "a": reference,
            "b": condition,
            "x": reference,
            "answer": reference.where(answer == "correct", condition),
        }
    )
    df = _with_extras(df, raw, PAIRED_OWN | {listener})
    decided = answer.isin(("correct", "incorrect")).to_numpy()
    notes = []
    if not decided.all():
        notes.append(
            f"{int((~decided).sum())} trial(s) answered 'undecided' or not answered ('unknown') "
            "are left out: they are not ABX trials"
        )
    if not decided.any():
        raise AnalysisError("no trial was answered correct or incorrect")
    return Converted(df, decided, notes)


def _likert_scores(raw: pd.DataFrame, column: str) -> tuple[pd.Series, np.ndarray]:
    """The ratings as text and which rows were rated; refused unless every rating is 1..5."""
    text = raw[column].fillna(NOT_RATED).astype(str).str.strip()
    rated = (text != NOT_RATED).to_numpy()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    ok = np.isin(values, (1, 2, 3, 4, 5)) | ~rated
    if not ok.all():
        found = ", ".join(repr(v) for v in sorted(set(text[~ok]))[:4])
        raise AnalysisError(
            f"the Likert ratings are not the values 1 to 5 of a five-point scale (found {found}, "
            f"first in row {first(~ok)}): only a five-point scale numbered 1-5 is analysed as ACR"
        )
    return text, rated


def from_likert(raw: pd.DataFrame) -> Converted:
    """lss.csv or lms.csv as ACR ratings, and a note on the unrated rows left out."""
    columns = rating_columns(raw.columns)
    if len(columns) > 1:
        raise AnalysisError(
            f"the Likert file has {len(columns)} scales ({', '.join(columns)}): an ACR analysis "
            "takes one; keep one of them and name it stimuli_rating"
        )
    no_nul(raw, ["trial_id", "stimuli", *columns])
    listener, who = _listeners(raw)
    scores, rated = _likert_scores(raw, columns[0])
    df = pd.DataFrame(
        {
            "listener": who,
            "item": raw["trial_id"],
            "condition": raw["stimuli"],
            "score": scores.where(rated, "1"),  # placeholder, left out after validation
        }
    )
    df = _with_extras(df, raw, LIKERT_OWN | set(columns) | {listener})
    notes = []
    if not rated.all():
        notes.append(f"{int((~rated).sum())} row(s) rated 'NA' (not rated) are left out")
    if not rated.any():
        raise AnalysisError("no ratings: every Likert rating is NA")
    return Converted(df, rated, notes)
