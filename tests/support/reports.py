"""A realistic analysis result built from the codec-mushra data, for the report tests.

The result dict has exactly the keys ``mushra.analysis.analyze(...).to_dict()`` returns; it is
assembled here from the library's building blocks (screen, describe, pairwise_wilcoxon,
gap_closure), a Friedman test and a small statsmodels mixed model, so the report tests do not
depend on how the full analysis pipeline orchestrates them.
"""

from __future__ import annotations

import itertools

import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

from mushra.analysis import describe, gap_closure, pairwise_wilcoxon, screen
from tests.support.codec_mushra import ANCHOR, REFERENCE

N_BOOT = 300
GAP = ("Proposed 5.51", "Lyra 6", REFERENCE)


def friedman(df: pd.DataFrame) -> dict:
    wide = df.pivot_table(index=["listener", "item"], columns="condition", values="score")
    complete = wide.dropna()
    n, k = complete.shape
    if n < 2:
        return {"statistic": None, "p": None, "kendall_w": None, "n_blocks": int(n)}
    q, p = stats.friedmanchisquare(*(complete[c] for c in complete.columns))
    return {"statistic": q, "p": p, "kendall_w": q / (n * (k - 1)), "n_blocks": int(n)}


def mixed_model(df: pd.DataFrame, reference: str) -> dict:
    formula = f"score ~ C(condition, Treatment({reference!r})) + (1|listener) + (1|item)"
    fit = smf.mixedlm(
        f"score ~ C(condition, Treatment({reference!r}))",
        df.assign(group=1),
        groups="group",
        re_formula="0",
        vc_formula={"listener": "0+C(listener)", "item": "0+C(item)"},
    ).fit(reml=True)
    ci = fit.conf_int()
    effects = [
        {
            "condition": name.split("[T.")[1].rstrip("]"),
            "estimate": fit.params[name],
            "ci95": [ci.loc[name, 0], ci.loc[name, 1]],
            "p": fit.pvalues[name],
        }
        for name in fit.fe_params.index
        if "[T." in name
    ]
    components = dict(zip(fit.model.exog_vc.names, fit.vcomp, strict=True))
    return {
        "formula": formula,
        "effects": effects,
        "variance_components": {
            "listener": components["listener"],
            "item": components["item"],
            "residual": fit.scale,
        },
    }


def section(
    kept: pd.DataFrame, reference: str, anchors: set[str], gap=GAP, mixed: bool = True
) -> dict:
    """The per-dataset part of the result (also used for each stratum)."""
    table = describe(kept, n_boot=N_BOOT, seed=1)
    conditions = [
        {
            "condition": name,
            **{k: row[k] for k in ("n", "mean", "sd", "median", "iqr", "ci95", "ci95_bootstrap")},
        }
        for name, row in table.iterrows()
    ]
    systems = sorted(set(kept["condition"]) - {reference, *anchors})
    pairs = pairwise_wilcoxon(kept, list(itertools.combinations(systems, 2)))
    keys = ["a", "b", "n_pairs", "mean_diff", "statistic", "p", "p_holm", "rank_biserial"]
    pairwise = [
        {**{k: row[k] for k in keys}, "significant": bool(row["significant"])}
        for _, row in pairs.iterrows()
    ]
    g = gap_closure(kept, *gap, n_boot=N_BOOT, seed=1)
    return {
        "n_ratings": len(kept),
        "n_listeners": kept["listener"].nunique(),
        "n_items": kept["item"].nunique(),
        "conditions": conditions,
        "pairwise": pairwise,
        "omnibus": friedman(kept),
        "mixed_model": mixed_model(kept, reference) if mixed else None,
        "gaps": [
            {
                "new": g.new,
                "base": g.base,
                "top": g.top,
                "gap_closure_pct": g.gap_closure,
                "gap_closure_ci95": list(g.gap_closure_ci95),
                "relative_improvement_pct": g.relative_improvement,
                "relative_improvement_ci95": list(g.relative_improvement_ci95),
            }
        ],
    }


def build_result(
    ratings: pd.DataFrame,
    by: list[str] = (),
    reference: str = REFERENCE,
    anchors: tuple[str, ...] = (ANCHOR,),
    mid_anchor: str | None = None,
    gap: tuple[str, str, str] = GAP,
    mixed: bool = True,
) -> dict:
    """What analyze(ratings, spec).to_dict() returns: screening, overall section, strata."""
    screening = screen(ratings, reference=reference, mid_anchor=mid_anchor)
    kept = screening.kept
    main = section(kept, reference, set(anchors), gap, mixed)
    strata = []
    for column in by:
        for value in sorted(kept[column].unique()):
            part = kept[kept[column] == value]
            parts = section(part, reference, set(anchors), gap, mixed)
            strata.append({"by": column, "value": str(value), **parts})
    return {
        "n_ratings": main.pop("n_ratings"),
        "n_listeners": main.pop("n_listeners"),
        "n_items": main.pop("n_items"),
        "screening": {"rules": screening.rules, "excluded": screening.exclusions},
        **main,
        "strata": strata,
    }


def corpus_of(item: str) -> str:
    """Stratum for tests: the items come from two corpora, VCTK and TSP."""
    return item.split("_")[0]
