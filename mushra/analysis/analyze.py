"""The whole analysis of a MUSHRA test in one call: ``analyze(df, spec) -> Result``.

Order matters and is fixed here: validate → screen listeners (BS.1534-3 §4.1.2) → everything else
on the kept ratings, so no statistic ever sees a screened-out listener. The listener-cluster
bootstrap is drawn once and shared by the descriptives and the gap figures, so their intervals
come from the same resamples. ``Result.to_dict()`` is the JSON the command line prints; its keys
are a published contract (issue 6), so they are spelled out here and nowhere else. Keys are only
ever added: ``pairwise_listener`` (issue 15) repeats the ``pairwise`` comparisons with the
listener as the unit, in its own Holm family (mushra.analysis.pairwise); ``bootstrap`` (issue 15)
names the interval method and what was resampled (listeners, or listeners and items with
``Spec.items_random``: mushra.analysis.bootstrap); ``claims`` (issue 15) gives each declared
comparison's verdict from the one test chosen to back claims (mushra.analysis.claims).

Strata (``Spec.by``) repeat the analysis within each value of a column; a rating whose condition
has no value in a condition column (the hidden reference, the anchors, an unconditioned system)
is in every stratum of it — see :mod:`mushra.analysis.strata`. A stratum reports the comparisons
and gap figures whose conditions were all rated in it, with its own Holm family.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from mushra.analysis.bootstrap import (
    N_BOOT,
    RESAMPLE_LISTENERS,
    RESAMPLE_TWO_WAY,
    BootstrapMeans,
)
from mushra.analysis.claims import claims
from mushra.analysis.data import KEYS, AnalysisError, conditions_of, json_ready, tidy
from mushra.analysis.descriptives import describe
from mushra.analysis.gaps import gap_closure
from mushra.analysis.intervals import METHOD as INTERVAL_METHOD
from mushra.analysis.lmm_interactions import mixed_model_full
from mushra.analysis.lmm_intercepts import mixed_model
from mushra.analysis.omnibus import friedman
from mushra.analysis.options import NAMING, unknown_condition
from mushra.analysis.pairwise import pairwise_listener, pairwise_wilcoxon
from mushra.analysis.screening import RULE_ATTENTION, attention_exclusions, screen
from mushra.analysis.strata import strata_of
from mushra.analysis.threads import blas_limited
from mushra.analysis.timing import RULE_FAST, screen_fast

DEFAULT_REFERENCE = "reference"
RULE_OFF = "screening off (every listener kept, as asked)"
RULE_NO_REFERENCE = "screening skipped: no hidden reference condition (name the reference)"
CONDITION_KEYS = ("condition", "n", "mean", "sd", "median", "iqr", "ci95", "ci95_bootstrap")
MIXED_MODELS = ("intercepts", "full", "none")  # lmm_intercepts.py, lmm_interactions.py, none
# The stages analyze() reports to its ``progress`` callback, in order (strata only with ``by``).
STAGES = ("screening", "describing", "testing", "modelling", "strata")
Progress = Callable[[str], None] | None
PAIR_KEYS = (
    "a",
    "b",
    "n_pairs",
    "mean_diff",
    "statistic",
    "p",
    "p_holm",
    "rank_biserial",
    "untestable",
)
# Listener-level tests (issue 15): the same pairs on per-listener means, their own Holm family.
LISTENER_PAIR_KEYS = (
    "a",
    "b",
    "n_listeners",
    "mean_diff",
    "statistic",
    "p",
    "p_holm",
    "rank_biserial",
    "d_z",
    "untestable",
)


@dataclass(frozen=True)
class Spec:
    """What to analyse and how; names are condition labels as they appear in the ratings."""

    reference: str | None = None  # hidden reference; None → "reference" if present
    mid_anchor: str | None = None
    low_anchor: str | None = None
    compare: tuple[tuple[str, str], ...] = ()  # () → all pairs of conditions under test
    gaps: tuple[tuple[str, str, str], ...] = ()  # (new, base, top)
    by: tuple[str, ...] = ()  # strata columns
    screening: bool = True
    exclude_fast: bool = False  # also exclude fast raters (mushra.analysis.timing); off: flag only
    n_boot: int = N_BOOT
    seed: int | None = 0
    mixed: str = "intercepts"  # one of MIXED_MODELS
    baseline: str | None = None  # the models' treatment baseline; None → see _baseline
    # True: a full model that cannot be fitted is left out (null) rather than failing the whole
    # analysis — for the platform, where it is the default rather than asked for by name.
    model_optional: bool = False
    items_random: bool = False  # items are a sample too: two-way bootstrap (bootstrap.py)
    # False: MUSHRA without a hidden reference (test type mushra_noref). The hidden-reference
    # rule is logged as not applicable (there is nothing for it to judge) and no condition is
    # taken for the reference; the mid-anchor rule still applies when a mid anchor is named.
    hidden_reference: bool = True

    @property
    def anchors(self) -> set[str]:
        return {a for a in (self.mid_anchor, self.low_anchor) if a}

    def systems(self, conditions: set[str]) -> list[str]:
        """Conditions under test: everything but the hidden reference and the anchors."""
        return sorted(conditions - self.anchors - {self.reference})


@dataclass
class Result:
    """The analysis: ``data`` in the JSON layout, the screened ratings and the resolved spec."""

    data: dict
    kept: pd.DataFrame
    spec: Spec
    rated: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)  # before screening

    def to_dict(self) -> dict:
        """JSON-ready copy: numpy scalars become Python numbers and NaN becomes None."""
        return json_ready(self.data)


def _resolve_reference(spec: Spec, conditions: set[str]) -> str | None:
    """The named reference, or "reference" (any letter case) when the ratings have one."""
    if spec.reference is not None:
        return spec.reference
    if DEFAULT_REFERENCE in conditions:
        return DEFAULT_REFERENCE
    matches = [c for c in conditions if c.lower() == DEFAULT_REFERENCE]
    return matches[0] if len(matches) == 1 else None


def resolve(spec: Spec, df: pd.DataFrame) -> Spec:
    """Check every name in ``spec`` against the ratings and fill in the defaults."""
    conditions = conditions_of(df)
    if spec.mixed not in MIXED_MODELS:
        raise AnalysisError(
            f"unknown mixed model {spec.mixed!r}: use one of {', '.join(MIXED_MODELS)}",
            option="mixed_model",
        )
    if not spec.hidden_reference and spec.reference is not None:
        raise AnalysisError(
            f"a MUSHRA test without hidden reference has none, but {spec.reference!r} was named "
            "as one",
            option="reference",
        )
    if spec.hidden_reference:
        spec = replace(spec, reference=_resolve_reference(spec, conditions))
    _check_names(spec, conditions)
    for column in spec.by:
        if column in (*KEYS, "score") or column not in df.columns:
            extra = ", ".join(c for c in df.columns if c not in (*KEYS, "score")) or "none"
            raise AnalysisError(
                f"no column {column!r} to break the results down by "
                f"(the file's extra columns: {extra})",
                option="by",
            )
    if not spec.compare:
        spec = replace(spec, compare=tuple(itertools.combinations(spec.systems(conditions), 2)))
    return spec


def _check_names(spec: Spec, conditions: set[str]) -> None:
    """Each condition ``spec`` names was rated, and plays a part it can play."""

    def check(name: str | None, option: str) -> None:
        if name is not None and name not in conditions:
            raise unknown_condition(name, option, conditions)

    check(spec.reference, "reference")
    check(spec.mid_anchor, "mid_anchor")
    check(spec.low_anchor, "low_anchor")
    for a, b in spec.compare:
        check(a, "compare")
        check(b, "compare")
        if a == b:
            raise AnalysisError(
                f"the pair {a}:{b} compares a condition with itself", option="compare"
            )
    for new, base, top in spec.gaps:
        for name in (new, base, top):
            check(name, "gap")
        if base == top:
            raise AnalysisError(
                f"the gap closure {new}:{base}:{top} needs a base and a top that differ",
                option="gap",
            )
    check(spec.baseline, "baseline")
    if spec.mixed == "full" and spec.baseline not in (None, *spec.systems(conditions)):
        raise AnalysisError(
            f"the full mixed model's baseline must be a condition under test, not the hidden "
            f"reference or an anchor ({spec.baseline!r})",
            option="baseline",
        )


def _screen(
    df: pd.DataFrame, spec: Spec, attention: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict]:
    """BS.1534-3 post-screening, and the attention rule when outcomes of attention checks are
    given (listener, passed; see mushra.analysis.screening)."""
    if not spec.screening:
        return df, {"rules": [RULE_OFF], "excluded": []}
    if spec.reference is None and spec.hidden_reference:
        if attention is None:
            return df, {"rules": [RULE_NO_REFERENCE], "excluded": []}
        excluded = attention_exclusions(attention, df["listener"])
        out = {e["listener"] for e in excluded}
        kept = df[~df["listener"].isin(out)].reset_index(drop=True)
        if kept.empty:
            raise AnalysisError("screening excluded every listener: all failed attention checks")
        return kept, {"rules": [RULE_NO_REFERENCE, RULE_ATTENTION], "excluded": excluded}
    result = screen(
        df,
        reference=spec.reference,
        mid_anchor=spec.mid_anchor,
        validated=True,
        attention=attention,
    )
    if result.kept.empty:
        option = "reference" if spec.hidden_reference else "mid_anchor"
        raise AnalysisError(
            f"screening excluded every listener: check {NAMING[option]}, or turn screening off",
            option=option,
        )
    excluded = [
        {"listener": e["listener"], "rule": e["rule"], "fraction": e["fraction"]}
        for e in result.exclusions
    ]
    unscreened = [dict(u) for u in result.unscreened]
    return result.kept, {
        "rules": list(result.rules),
        "excluded": excluded,
        "unscreened": unscreened,
    }


def _screen_fast(rated: pd.DataFrame, kept: pd.DataFrame, spec: Spec, screening: dict):
    """The optional fast-rater rule (mushra.analysis.timing), after the others and independent
    of them: its exclusions are logged like theirs, over every rated listener."""
    if not spec.exclude_fast:
        return kept, screening
    _, exclusions = screen_fast(rated)
    fast = {e["listener"] for e in exclusions}
    kept = kept[~kept["listener"].isin(fast)].reset_index(drop=True)
    if kept.empty:
        raise AnalysisError("screening excluded every listener: the fast-rater rule left none")
    rules = [*screening["rules"], RULE_FAST]
    return kept, {**screening, "rules": rules, "excluded": [*screening["excluded"], *exclusions]}


def _unscreened(screening: dict, kept: pd.DataFrame) -> dict:
    """Kept listeners a screening rule could not judge (mushra.analysis.screening), always
    present in the JSON; empty when screening was off or skipped (its rules say so)."""
    analysed = set(kept["listener"].unique().tolist())
    rows = [u for u in screening.get("unscreened", []) if u["listener"] in analysed]
    return {**screening, "unscreened": rows}


def _conditions(df: pd.DataFrame, boot: BootstrapMeans) -> list[dict]:
    table = describe(df, boot=boot, validated=True).reset_index()
    return [{k: row[k] for k in CONDITION_KEYS} for row in table.to_dict("records")]


def _pairwise(df: pd.DataFrame, spec: Spec, lenient: bool, listener: bool = False) -> list[dict]:
    """The declared pairs on (listener, item) pairs, or with ``listener`` on listener means."""
    if not spec.compare:
        return []
    test, keys = (
        (pairwise_listener, LISTENER_PAIR_KEYS) if listener else (pairwise_wilcoxon, PAIR_KEYS)
    )
    table = test(df, spec.compare, lenient, validated=True)
    return [
        {**{k: row[k] for k in keys}, "significant": bool(row["significant"])}
        for row in table.to_dict("records")
    ]


def _omnibus(df: pd.DataFrame, spec: Spec) -> dict:
    """Friedman over the conditions under test (the reference and anchors would make any test
    trivially significant); over all conditions when fewer than two are under test."""
    present = conditions_of(df)
    systems = spec.systems(present)
    return friedman(df, systems if len(systems) >= 2 else sorted(present), validated=True)


def _baseline(spec: Spec, candidates: list[str]) -> str:
    """The named baseline where it was rated, else the reference (default model) or the first
    condition under test by name (full model)."""
    if spec.baseline in candidates:
        return spec.baseline
    if spec.mixed == "intercepts" and spec.reference in candidates:
        return spec.reference
    return candidates[0]


def _mixed(df: pd.DataFrame, spec: Spec, lenient: bool) -> dict | None:
    present = sorted(conditions_of(df))
    if spec.mixed == "none" or len(present) < 2:
        return None
    try:
        if spec.mixed == "full":
            systems = spec.systems(set(present))
            baseline = _baseline(spec, systems or present)
            return mixed_model_full(df, systems, baseline, spec.compare)
        return mixed_model(df, _baseline(spec, present), spec.compare)
    except AnalysisError:
        # The default model is a summary: a stratum (or test) it cannot fit gets null. The full
        # model was asked for by name, so the whole analysis says why it could not be fitted.
        if spec.mixed == "full" and not (lenient or spec.model_optional):
            raise
        return None


def _gaps(df: pd.DataFrame, spec: Spec, boot: BootstrapMeans, lenient: bool) -> list[dict]:
    out = []
    for new, base, top in spec.gaps:
        try:
            g = gap_closure(df, new, base, top, boot=boot, validated=True)
        except AnalysisError:
            if not lenient:
                raise
            nan = [float("nan"), float("nan")]
            g = None
        out.append(
            {
                "new": new,
                "base": base,
                "top": top,
                "gap_closure_pct": g.gap_closure if g else float("nan"),
                "gap_closure_ci95": list(g.gap_closure_ci95) if g else nan,
                "relative_improvement_pct": g.relative_improvement if g else float("nan"),
                "relative_improvement_ci95": list(g.relative_improvement_ci95) if g else nan,
            }
        )
    return out


def _bootstrap(spec: Spec) -> dict:
    """How ``ci95_bootstrap`` and the gap intervals were drawn (issue 15), for the JSON."""
    return {
        "interval": INTERVAL_METHOD,
        "resampled": RESAMPLE_TWO_WAY if spec.items_random else RESAMPLE_LISTENERS,
        "items_random": spec.items_random,
        "n_boot": spec.n_boot,
        "seed": spec.seed,
    }


def _analyse(
    df: pd.DataFrame, spec: Spec, lenient: bool = False, progress: Progress = None
) -> dict:
    """Everything after screening, for the whole test or one stratum."""
    progress = progress or (lambda stage: None)
    progress("describing")
    conditions = sorted(conditions_of(df))
    boot = BootstrapMeans.of(df, conditions, spec.n_boot, spec.seed, items_random=spec.items_random)
    out = {
        "n_ratings": int(len(df)),
        "n_listeners": int(df["listener"].nunique()),
        "n_items": int(df["item"].nunique()),
        "conditions": _conditions(df, boot),
    }
    progress("testing")
    out["pairwise"] = _pairwise(df, spec, lenient)
    out["pairwise_listener"] = _pairwise(df, spec, lenient, listener=True)
    out["omnibus"] = _omnibus(df, spec)
    progress("modelling")
    out["mixed_model"] = _mixed(df, spec, lenient)
    out["gaps"] = _gaps(df, spec, boot, lenient)
    return {**out, "claims": claims(out)}


def _within(spec: Spec, present: set[str]) -> Spec:
    """The spec of one stratum: the comparisons and gaps whose conditions were all rated in it
    (a stratum "style = dj" has no DJ-less pair to test, and Holm's family is its own)."""
    return replace(
        spec,
        compare=tuple(p for p in spec.compare if set(p) <= present),
        gaps=tuple(g for g in spec.gaps if set(g) <= present),
    )


def _strata(kept: pd.DataFrame, spec: Spec) -> list[dict]:
    """Each value of each ``by`` column, analysed again; shared rows per mushra.analysis.strata."""
    out = []
    for column in spec.by:
        for stratum in strata_of(kept, column):
            sub = kept[stratum.mask].reset_index(drop=True)
            within = _within(spec, conditions_of(sub))
            out.append(
                {
                    "by": column,
                    "value": stratum.value,
                    "shared_conditions": list(stratum.shared_conditions),
                    **_analyse(sub, within, lenient=True),
                }
            )
    return out


@blas_limited
def analyze(
    df: pd.DataFrame,
    spec: Spec | None = None,
    *,
    attention: pd.DataFrame | None = None,
    progress: Progress = None,
    validated: bool = False,
) -> Result:
    """Validate, screen, then describe, test and fit; see the module docstring. ``attention``:
    one row per attention check (listener, passed), screened by the attention rule; None when
    the test had none. ``progress`` hears each stage's name as it starts (STAGES), for a
    progress bar. ``validated``: ``df`` is already :func:`tidy`'s output (read_ratings'), so
    the checks are not repeated (0.3 s at 10^6 ratings)."""
    progress = progress or (lambda stage: None)
    progress("screening")
    rated = df if validated else tidy(df)
    spec = resolve(spec or Spec(), rated)
    kept, screening = _screen(rated, spec, attention)
    kept, screening = _screen_fast(rated, kept, spec, screening)
    screening = _unscreened(screening, kept)
    whole = _analyse(kept, spec, progress=progress)
    if spec.by:
        progress("strata")
    data = {
        "n_ratings": whole["n_ratings"],
        "n_listeners": whole["n_listeners"],
        "n_items": whole["n_items"],
        "screening": screening,
        **{k: whole[k] for k in ("conditions", "pairwise", "pairwise_listener")},
        **{k: whole[k] for k in ("omnibus", "mixed_model", "gaps", "claims")},
        "bootstrap": _bootstrap(spec),
        "strata": _strata(kept, spec),
    }
    return Result(data=data, kept=kept, spec=spec, rated=rated)
