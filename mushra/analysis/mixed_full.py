"""The confirmatory mixed model: condition effects with listener×condition and item×condition terms.

The default model (:mod:`mushra.analysis.mixed`) has random intercepts for listener and item
only, so a listener's own taste for one system counts as residual noise and its p-values are
optimistic (reference notes §4a: p = 0.005 there vs 0.136 here for the same contrast). This one,

    score ~ condition + (1|listener) + (1|item) + (1|listener:condition) + (1|item:condition)

is fitted on the conditions under test only (the hidden reference and anchors sit at the ends of
the scale with little spread and would distort the interaction variances).

The analysis fits it with :mod:`mushra.analysis.mixed_full_fast` (sufficient statistics, any
size). This module holds the model's definition and its fit with statsmodels' MixedLM by REML
(one constant group, four variance components): the library's own numbers, which the fast fit is
tested against. statsmodels grows about as n^2.3 (DESIGN.md §6), so this fit is refused above
``MAX_RATINGS`` rather than left to hang.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from mushra.analysis.data import AnalysisError
from mushra.analysis.threads import blas_limited

MAX_RATINGS = 10_000
COMPONENTS = {  # name in the result → statsmodels variance-component formula
    "listener": "0 + C(listener)",
    "item": "0 + C(item)",
    "listener:condition": "0 + C(listener):C(condition)",
    "item:condition": "0 + C(item):C(condition)",
}
Z975 = 1.959963984540054


def full_formula(baseline: str) -> str:
    terms = " + ".join(f"(1|{name})" for name in COMPONENTS)
    return f"score ~ C(condition, Treatment({baseline!r})) + {terms}"


def _fit(df: pd.DataFrame, baseline: str):
    import statsmodels.api as sm  # slow to import; only when this model is asked for

    model = sm.MixedLM.from_formula(
        f"score ~ C(condition, Treatment({baseline!r}))",
        groups="one",
        re_formula="0",
        vc_formula=COMPONENTS,
        data=df.assign(one=1),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the result says what was fitted
        try:
            return model, model.fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise AnalysisError(f"the full mixed model could not be fitted: {exc}") from exc


@blas_limited
def mixed_model_full(df: pd.DataFrame, conditions: list[str], baseline: str) -> dict:
    """Fit the model above on the ratings of ``conditions``; effects are vs ``baseline``."""
    sub = df[df["condition"].isin(conditions)]
    if len(conditions) < 2 or baseline not in conditions:
        raise AnalysisError("the full mixed model needs two conditions under test")
    if len(sub) > MAX_RATINGS:
        raise AnalysisError(
            f"the full mixed model is limited to {MAX_RATINGS:,} ratings of the conditions "
            f"under test (here {len(sub):,}): use the default model, or --by to split the data"
        )
    model, result = _fit(sub, baseline)
    names = model.exog_names
    effects = []
    for j, name in enumerate(names[1:], start=1):
        condition = name.split("[T.", 1)[1][:-1]
        estimate, se = float(result.fe_params.iloc[j]), float(result.bse_fe.iloc[j])
        effects.append(
            {
                "condition": condition,
                "estimate": estimate,
                "ci95": [estimate - Z975 * se, estimate + Z975 * se],
                "p": float(result.pvalues.iloc[j]),
            }
        )
    vc = dict(zip(model.exog_vc.names, (float(v) for v in result.vcomp), strict=True))
    return {
        "formula": full_formula(baseline),
        "effects": sorted(effects, key=lambda e: e["condition"]),
        "variance_components": {**{k: vc[k] for k in COMPONENTS}, "residual": float(result.scale)},
    }
