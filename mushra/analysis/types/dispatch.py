"""One entry point for every test type: ``analyze_any(df, options) -> TypedResult``.

The test type comes from, in this order of authority: the ``test_type`` column (one value for the
whole file), ``Options.test_type`` (``--test-type``; it must agree with the column), the kind of
a webMUSHRA file (paired_comparison.csv is ABX, lss/lms.csv ACR), and last the columns: a, b, x,
answer is ABX; a, b, preferred is A/B; a, b, score is CMOS; anything else is MUSHRA, as before
there were other types. A file with a ``condition`` column is never taken for a paired type by
its columns: a MUSHRA file whose extra columns happen to be called a and b stays MUSHRA.

The MUSHRA types run the MUSHRA analysis (mushra.analysis.analyze) unchanged, ``mushra_noref``
with ``Spec.hidden_reference`` off; the JSON of every type starts with ``test_type``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from mushra.analysis.analyze import Result, Spec, analyze
from mushra.analysis.data import AnalysisError, is_webmushra, json_ready, ratings_from
from mushra.analysis.types.abx import abx_table, analyse_abx
from mushra.analysis.types.acr import acr_table, analyse_acr
from mushra.analysis.types.cmos import analyse_cmos, cmos_table
from mushra.analysis.types.pairs import Pair
from mushra.analysis.types.preference import ab_table, analyse_ab
from mushra.analysis.types.webmushra import (
    Converted,
    from_likert,
    from_paired,
    is_likert,
    is_paired,
)

TEST_TYPES = ("mushra", "mushra_noref", "acr", "smos", "cmos", "ab", "abx")
MUSHRA_TYPES = ("mushra", "mushra_noref")
SCREENED_TYPES = ("mushra", "mushra_noref", "acr", "smos")
# Recognised by their columns when nothing names the type; the first match wins (ABX has a, b).
BY_COLUMNS = (("abx", ("a", "b", "x", "answer")), ("ab", ("a", "b", "preferred")),
              ("cmos", ("a", "b", "score")))  # fmt: skip


@dataclass(frozen=True)
class Options:
    """What to analyse: the test type (None: see the module docstring), the declared pairs
    (default: all), whether to screen listeners (ACR/SMOS: P.808 rules; MUSHRA: ``spec``'s),
    and the MUSHRA analysis' own options."""

    test_type: str | None = None
    compare: tuple[Pair, ...] = ()
    screening: bool = True
    spec: Spec = field(default_factory=Spec)


@dataclass
class TypedResult:
    """The analysis of one test type: ``data`` in the JSON layout (starting with test_type),
    and for the MUSHRA types the MUSHRA :class:`Result` the reports are drawn from."""

    test_type: str
    data: dict
    mushra: Result | None = None

    def to_dict(self) -> dict:
        return json_ready(self.data)


def _known(value: str, where: str | None) -> str:
    """``value`` if it is a test type; ``where`` names the column it came from (None: the
    test type option)."""
    if value not in TEST_TYPES:
        known = ", ".join(TEST_TYPES)
        if where is None:
            message = f"unknown test type {value!r} (known: {known})"
        else:
            message = f"{where} names an unknown test type {value!r} (known: {known})"
        raise AnalysisError(message, option=None if where else "test_type")
    return value


def _column_type(raw: pd.DataFrame) -> str | None:
    """The one value of the ``test_type`` column, if the file has one."""
    if "test_type" not in raw.columns:
        return None
    values = raw["test_type"].dropna().astype(str).str.strip().str.lower()
    found = sorted(set(values) - {""})
    if len(found) > 1:
        raise AnalysisError(
            f"column 'test_type' has several values ({', '.join(found)}): analyse one test type "
            "at a time"
        )
    return _known(found[0], "column 'test_type'") if found else None


def _webmushra_kind(columns: pd.Index) -> tuple[str, tuple[str, ...]] | None:
    """A webMUSHRA file's name and the types it can be analysed as."""
    if is_paired(columns):
        return "paired_comparison.csv", ("abx",)
    if is_likert(columns):
        return "Likert (lss/lms.csv)", ("acr", "smos")
    if is_webmushra(columns):
        return "mushra.csv", MUSHRA_TYPES
    return None


def resolve_test_type(raw: pd.DataFrame, option: str | None = None) -> str:
    """The test type of a raw table (module docstring); a contradiction is an error."""
    named = _column_type(raw)
    if option is not None:
        _known(option, None)
        if named is not None and named != option:
            raise AnalysisError(
                f"the test type {option} contradicts the file's test_type column ({named})",
                option="test_type",
            )
        named = option
    kind = _webmushra_kind(raw.columns)
    if kind is not None:
        name, types = kind
        if named is not None and named not in types:
            raise AnalysisError(
                f"this is webMUSHRA's {name}, which is analysed as {' or '.join(types)}, "
                f"not {named}"
            )
        return named or types[0]
    if named is not None:
        return named
    if "condition" in raw.columns:
        return "mushra"
    for test_type, columns in BY_COLUMNS:
        if all(c in raw.columns for c in columns):
            return test_type
    return "mushra"


def _converted(raw: pd.DataFrame) -> Converted:
    """A webMUSHRA paired or Likert file in the tidy shape of its type; other tables as
    they are."""
    if is_paired(raw.columns):
        return from_paired(raw)
    if is_likert(raw.columns):
        return from_likert(raw)
    return Converted(raw, np.ones(len(raw), dtype=bool), [])


Analysis = Callable[[pd.DataFrame, Options], dict]
ANALYSES: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], Analysis]] = {
    "acr": (acr_table, lambda df, o: analyse_acr(df, "acr", o.compare, o.screening)),
    "smos": (acr_table, lambda df, o: analyse_acr(df, "smos", o.compare, o.screening)),
    "cmos": (cmos_table, lambda df, o: analyse_cmos(df, o.compare)),
    "ab": (ab_table, lambda df, o: analyse_ab(df, o.compare)),
    "abx": (abx_table, lambda df, o: analyse_abx(df, o.compare)),
}


def _mushra(
    raw: pd.DataFrame, test_type: str, options: Options, attention: pd.DataFrame | None
) -> TypedResult:
    spec = replace(options.spec, hidden_reference=test_type == "mushra")
    if options.compare and not spec.compare:
        spec = replace(spec, compare=options.compare)
    if not options.screening:
        spec = replace(spec, screening=False)
    result = analyze(ratings_from(raw), spec, attention=attention, validated=True)
    return TypedResult(test_type, {"test_type": test_type, **result.data}, result)


def analyze_any(
    df: pd.DataFrame, options: Options | None = None, *, attention: pd.DataFrame | None = None
) -> TypedResult:
    """Validate ``df`` (a raw table: the platform's export, a CSV read by data.read_table, a
    webMUSHRA file) for its test type and analyse it. ``attention`` (listener, passed) is the
    MUSHRA attention rule's input and is refused for the other types."""
    options = options or Options()
    raw = df.copy()
    raw.columns = [str(c).strip() for c in raw.columns]
    test_type = resolve_test_type(raw, options.test_type)
    raw = raw.drop(columns=["test_type"], errors="ignore")  # said once, not a stratum
    if test_type in MUSHRA_TYPES:
        return _mushra(raw, test_type, options, attention)
    if attention is not None:
        raise AnalysisError(
            f"attention-check outcomes apply to MUSHRA tests, not {test_type}", option="attention"
        )
    converted = _converted(raw)
    table, analyse = ANALYSES[test_type]
    validated = table(converted.frame)[converted.keep].reset_index(drop=True)
    data = analyse(validated, options)
    return TypedResult(test_type, {**data, "notes": converted.notes})
