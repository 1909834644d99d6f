"""Validation shared by the test types beside MUSHRA: every bad row is one plain line.

The rules follow :func:`mushra.analysis.data.tidy` so that a scientist meets the same messages
whatever the test: a missing column is named, a row is numbered from 0 as there (the first data
row is row 0), and labels are stripped of surrounding whitespace. Two things are new here: NUL
characters are refused (they come from a binary file saved as CSV or a broken export, and would
otherwise make two labels look alike on screen while differing in the data), and scores are
whole numbers on the type's own scale (a 3.5 on a five-point scale is a misread file, not a
rating).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mushra.analysis.data import AnalysisError, labels


def first(mask: np.ndarray | pd.Series) -> int:
    """The number of the first row where ``mask`` holds (the caller knows one does)."""
    return int(np.argmax(np.asarray(mask, dtype=bool)))


def require(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse a frame without rows or without one of ``columns``, naming what is missing."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise AnalysisError(f"missing column(s): {', '.join(missing)}")
    if df.empty:
        raise AnalysisError("no ratings")


def no_nul(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse a NUL character in any of ``columns`` (module docstring)."""
    for column in columns:
        text = df[column].astype(str)
        bad = text.str.contains("\x00", regex=False).to_numpy()
        if bad.any():
            raise AnalysisError(f"column {column!r} contains a NUL character in row {first(bad)}")


def keys(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy with each of ``columns`` as stripped, non-blank labels (data.labels)."""
    out = df.copy().reset_index(drop=True)
    for column in columns:
        out[column] = labels(out[column], column)
    return out


def whole_numbers(column: pd.Series, name: str, low: int, high: int) -> np.ndarray:
    """The column as integers in ``low``..``high``; "4.0" is 4 (spreadsheets write it so), but
    a blank, a word, 3.5 or a value off the scale is an error naming the row."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        row = first(bad)
        raise AnalysisError(
            f"column {name!r} is not a whole number in row {row}: {column.iloc[row]!r}"
        )
    outside = (values < low) | (values > high)
    if outside.any():
        row = first(outside)
        raise AnalysisError(
            f"column {name!r} is outside {low} to {high} in row {row}: {values[row]:g}"
        )
    return values.astype(int)


def two_conditions(df: pd.DataFrame) -> None:
    """A pair must name two different conditions: A compared with itself says nothing."""
    same = (df["a"] == df["b"]).to_numpy()
    if same.any():
        row = first(same)
        raise AnalysisError(
            f"columns 'a' and 'b' name the same condition in row {row}: {df['a'].iloc[row]!r}"
        )


def one_of(
    df: pd.DataFrame, column: str, choices: Sequence[str], what: str, rows: np.ndarray | None = None
) -> None:
    """Each value of ``column`` must equal the row's value in one of the ``choices`` columns
    (the answer of an ABX trial is its A or its B, say); only ``rows`` are checked if given."""
    ok = np.zeros(len(df), dtype=bool)
    for other in choices:
        ok |= (df[column] == df[other]).to_numpy()
    if rows is not None:
        ok |= ~rows
    if not ok.all():
        row = first(~ok)
        raise AnalysisError(
            f"column {column!r} is not {what} in row {row}: {df[column].iloc[row]!r}"
        )


PAIR_KEYS = ("listener", "item", "a", "b")


def pair_rows(df: pd.DataFrame, columns: Sequence[str], key_columns=PAIR_KEYS) -> pd.DataFrame:
    """What every paired-comparison table (A/B, CMOS, ABX) is checked for first: its columns are
    there, hold no NUL, its keys become text, and each row names two different conditions."""
    require(df, columns)
    no_nul(df, columns)
    out = keys(df, key_columns)
    two_conditions(out)
    return out
