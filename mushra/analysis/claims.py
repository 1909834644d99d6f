"""Which test backs each claim: one verdict per declared comparison, from one chosen test.

A MUSHRA analysis runs several tests of the same comparison, and they disagree (codec-mushra,
Proposed 5.51 vs AudioDec: Wilcoxon on (listener, item) pairs p = 0.006, the confirmatory model
p = 0.139). A paper must say which one its claims rest on, decided before looking. The choice:

1. The confirmatory mixed model (``--mixed-model full``) when it was fitted: it treats both the
   listeners and the items as samples and a listener's own taste for a system as noise, so its
   p-values generalise to new listeners and sentences — the model a reviewer expects, with
   Satterthwaite t tests as lmerTest reports them. Its comparisons are Holm-corrected as one
   family. A comparison it cannot make (with the hidden reference or an anchor, which it leaves
   out) falls to the next test.
2. Otherwise the listener-level Wilcoxon tests (per-listener means, Holm): each listener counts
   once, so they do not multiply the evidence by the number of items as (listener, item) pairs
   do.

The (listener, item) Wilcoxon tests and the default mixed model (random intercepts only) are
reported for comparison with the convention, but back no claim: both treat a listener's ratings
of one system as independent, and their p-values are optimistic.
"""

from __future__ import annotations

CONFIRMATORY = "confirmatory mixed model (t, Satterthwaite df, Holm)"
LISTENER_LEVEL = "Wilcoxon signed-rank on listener means (Holm)"


def _is_confirmatory(model: dict | None) -> bool:
    return bool(model) and "listener:condition" in str(model.get("formula", ""))


def _from_model(row: dict) -> dict:
    return {
        "a": row["a"],
        "b": row["b"],
        "difference": row["estimate"],
        "ci95": row["ci95"],
        "p_holm": row["p_holm"],
        "significant": bool(row["significant"]),
        "basis": CONFIRMATORY,
    }


def _from_listener_test(row: dict) -> dict:
    return {
        "a": row["a"],
        "b": row["b"],
        "difference": row["mean_diff"],
        "ci95": None,
        "p_holm": row["p_holm"],
        "significant": bool(row["significant"]),
        "basis": LISTENER_LEVEL,
    }


def claims(result: dict) -> list[dict]:
    """One row per declared comparison (the order of ``pairwise``): a − b, its interval where
    the test gives one, Holm-corrected p, whether it is significant, and the test behind it.

    ``result`` is the analysis of a whole test or of one stratum (``analyze``'s layout).
    """
    model = result.get("mixed_model")
    by_model = {}
    if _is_confirmatory(model):
        by_model = {(r["a"], r["b"]): r for r in model.get("comparisons") or []}
    listener = {(r["a"], r["b"]): r for r in result.get("pairwise_listener") or []}
    rows = []
    for pair in result.get("pairwise") or []:
        key = (pair["a"], pair["b"])
        if key in by_model:
            rows.append(_from_model(by_model[key]))
        elif key in listener:
            rows.append(_from_listener_test(listener[key]))
    return rows
