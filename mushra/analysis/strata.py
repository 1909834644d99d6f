"""Strata: which ratings belong to each value of a column the results are broken down by.

A column may describe the listener (a questionnaire answer), the item (the utterance's language,
style or speaker) or the condition (a synthesis-condition key such as ``style`` of a system
rendered as ``{"style": "dj"}``). The first two are simple: every rating of a trial has the same
value, and a stratum is the ratings with that value.

A condition column is blank for the conditions that have no such key: the hidden reference, the
anchors, a system rendered without it. Those conditions are **shared**: their ratings belong to
*every* stratum of the column. So "per style" compares, within each style, the systems rendered
in that style with the reference and anchors all of them were heard against, and gap closure
and relative improvement in the stratum ``style = dj`` use the DJ systems and the shared top.

The rule, exactly: a row's value is blank when it is NaN/None or empty text. A blank row is
shared when another rating of the same trial — the same (listener, item) — has a value in that
column (the column then varies across the conditions of a trial, so the blank is "this condition
has no such key"). A trial blank throughout is missing data, not shared, and forms the stratum
``(missing)``: a listener who left a questionnaire answer empty is not counted in every answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING = "(missing)"


@dataclass(frozen=True)
class Stratum:
    """The ratings (a boolean mask over the frame) of one value of one column."""

    column: str
    value: str
    mask: np.ndarray
    shared_conditions: tuple[str, ...]  # conditions counted here because they have no value


def stratum_values(df: pd.DataFrame, column: str) -> tuple[pd.Series, np.ndarray]:
    """Each row's value as text (``(missing)`` for a missing one) and which rows are shared."""
    text = df[column].astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
    # Does the row's trial have a value in this column? Grouped on integer codes, as 10^6 rows
    # of string keys would make a pandas groupby the slowest step of a breakdown.
    listener = pd.factorize(df["listener"])[0].astype(np.int64)
    item, items = pd.factorize(df["item"])
    trial = np.unique(listener * max(len(items), 1) + item, return_inverse=True)[1]
    valued_trials = np.zeros(int(trial.max()) + 1 if len(trial) else 0, dtype=bool)
    valued_trials[trial[~blank]] = True
    shared = blank & valued_trials[trial]
    values = text.fillna(MISSING).to_numpy(dtype=object)
    values[blank] = MISSING
    return pd.Series(values, index=df.index, dtype=str), shared


def strata_of(df: pd.DataFrame, column: str) -> Iterator[Stratum]:
    """The strata of ``column`` in order of value; shared rows are in each of them."""
    values, shared = stratum_values(df, column)
    own = values.to_numpy()
    shared_names = tuple(sorted(df.loc[shared, "condition"].unique().tolist()))
    for value in sorted(pd.unique(own[~shared])):
        yield Stratum(column, value, (own == value) | shared, shared_names)
