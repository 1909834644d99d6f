"""The confirmatory model fitted by statsmodels' MixedLM: the reference the library is tested on.

The library fits ``score ~ condition + (1|listener) + (1|item) + (1|listener:condition) +
(1|item:condition)`` from sufficient statistics (:mod:`mushra.analysis.lmm_interactions`). This
helper fits the same model, on the same conditions under test, with statsmodels' MixedLM by REML
(one constant group, four variance components), so that the tests compare the two. Not used by
the analysis: statsmodels grows about as n^2.3 (DESIGN.md §6), so this fit is refused above
``MAX_RATINGS`` rather than left to hang a test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from mushra.analysis.data import AnalysisError
from mushra.analysis.lmm_interactions import COMPONENTS, full_formula
from mushra.analysis.threads import blas_limited

MAX_RATINGS = 10_000
VC_FORMULAS = {  # variance component → its statsmodels formula
    "listener": "0 + C(listener)",
    "item": "0 + C(item)",
    "listener:condition": "0 + C(listener):C(condition)",
    "item:condition": "0 + C(item):C(condition)",
}
Z975 = 1.959963984540054


def _fit(df: pd.DataFrame, baseline: str):
    import statsmodels.api as sm  # slow to import; only when this reference is asked for

    model = sm.MixedLM.from_formula(
        f"score ~ C(condition, Treatment({baseline!r}))",
        groups="one",
        re_formula="0",
        vc_formula=VC_FORMULAS,
        data=df.assign(one=1),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the result says what was fitted
        try:
            return model, model.fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise AnalysisError(f"the full mixed model could not be fitted: {exc}") from exc


@blas_limited
def statsmodels_full_model(df: pd.DataFrame, conditions: list[str], baseline: str) -> dict:
    """Fit the model above on the ratings of ``conditions``; effects are vs ``baseline``, each
    with statsmodels' Wald z p-value and 95 % interval."""
    sub = df[df["condition"].isin(conditions)]
    if len(conditions) < 2 or baseline not in conditions:
        raise AnalysisError("the full mixed model needs two conditions under test")
    if len(sub) > MAX_RATINGS:
        raise AnalysisError(
            f"the statsmodels reference is limited to {MAX_RATINGS:,} ratings of the conditions "
            f"under test (here {len(sub):,})"
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
