"""Both mixed models' t inference equals lmerTest's Satterthwaite inference.

The reference numbers were computed once with R (lme4 1.1-31, lmerTest 3.1-3, Debian's packages)
by tests/mushra/analysis/lmertest/make_reference.R and are stored in reference.json, so the
suite does not need R. Designs: 2 and 4 listeners (where df matter most), an unbalanced one, a
singular one (no interaction variance), 12 listeners, and codec-mushra.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mushra.analysis import screen, tidy
from mushra.analysis.lmm_interactions import mixed_model_full
from mushra.analysis.lmm_intercepts import mixed_model
from mushra.analysis.satterthwaite import converged, hessian, jacobian
from tests.support.codec_mushra import ANCHOR, REFERENCE, codec_tidy
from tests.support.services import need_shared_data

HERE = Path(__file__).resolve().parent / "lmertest"
REF = json.loads((HERE / "reference.json").read_text())
SYNTHETIC = ["two_listeners", "four_listeners_unbalanced", "twelve_listeners", "no_interaction"]
VARIANCE_NAMES = {"Residual": "residual"}


def fit(df: pd.DataFrame, model: str, ref: dict) -> dict:
    baseline, pair = ref["baseline"], ref.get("pair")
    compare = [(pair["a"], pair["b"]), ("no such", pair["a"])] if pair else []
    if model == "default":
        return mixed_model(df, baseline, compare)
    tested = df[~df["condition"].isin([REFERENCE, ANCHOR])]
    return mixed_model_full(tested, sorted(tested["condition"].unique()), baseline, compare)


def assert_equals_lmertest(ours: dict, ref: dict) -> None:
    rows = [ours["intercept"], *ours["effects"]]
    assert [r["condition"] for r in ours["effects"]] == ref["terms"][1:]
    assert ours["baseline"] == ref["baseline"]
    for key, rel in (("estimate", 1e-7), ("se", 1e-6), ("df", 1e-4), ("t", 1e-6)):
        assert [r[key] for r in rows] == pytest.approx(ref[key], rel=rel), key
    assert [r["p"] for r in rows] == pytest.approx(ref["p"], rel=5e-4, abs=1e-12)
    # The bounds to 1e-4 of the interval's width: at 1.5 df, t's quantile moves 1e-4 relative
    # when df moves 1e-5.
    for r, lower, upper in zip(rows, ref["ci_lower"], ref["ci_upper"], strict=True):
        width = upper - lower
        assert r["ci95"] == pytest.approx([lower, upper], abs=1e-4 * width)
    assert ours["reml_loglik"] == pytest.approx(ref["reml_loglik"], abs=1e-6)
    assert ours["singular"] is ref["singular"]
    assert ours["converged"] is True
    if ref.get("pair"):  # a − b between two non-baseline conditions, an unmodelled pair left out
        (pair,) = ours["comparisons"]
        assert (pair["a"], pair["b"]) == (ref["pair"]["a"], ref["pair"]["b"])
        for key, rel in (("estimate", 1e-7), ("se", 1e-6), ("df", 1e-4), ("t", 1e-6)):
            assert pair[key] == pytest.approx(ref["pair"][key], rel=rel), key
        assert pair["p"] == pytest.approx(ref["pair"]["p"], rel=5e-4, abs=1e-12)
        assert pair["p_holm"] == pair["p"]  # a family of one
    for name, value in ref["variance"].items():
        key = VARIANCE_NAMES.get(name, name)
        assert ours["variance_components"][key] == pytest.approx(value, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("model", ["default", "full"])
@pytest.mark.parametrize("name", SYNTHETIC)
def test_equals_lmertest_on_small_and_unbalanced_designs(name, model):
    df = pd.read_csv(HERE / f"{name}.csv", dtype={"listener": str, "item": str})
    ref = REF[name][model]
    assert_equals_lmertest(fit(df, model, ref), ref)


@pytest.mark.shared_data
@pytest.mark.parametrize("model", ["default", "full"])
def test_equals_lmertest_on_codec_mushra(model):
    """The contrast a reviewer asked about: Proposed 5.51 vs AudioDec, t(109.3) = −1.49,
    p = 0.139 in the confirmatory model (Wald z said 0.136)."""
    need_shared_data()
    df = screen(tidy(codec_tidy("ratings_formated.csv")), reference=REFERENCE).kept
    ref = REF["codec_mushra"][model]
    ours = fit(df, model, ref)
    assert_equals_lmertest(ours, ref)
    if model == "full":
        effect = next(e for e in ours["effects"] if e["condition"] == "Proposed 5.51")
        assert effect["df"] == pytest.approx(109.3, abs=0.05)
        assert effect["p"] == pytest.approx(0.139, abs=0.0005)


def test_two_listeners_get_few_degrees_of_freedom_and_wider_intervals_than_wald():
    """With 2 listeners the confirmatory model has ~4.7 df for each contrast: its t intervals
    are about 1.3× the normal ones, and no effect is significant (Wald z found one at 5 %)."""
    df = pd.read_csv(HERE / "two_listeners.csv", dtype={"listener": str, "item": str})
    ours = fit(df, "full", REF["two_listeners"]["full"])
    for e in ours["effects"]:
        assert 3 < e["df"] < 6
        wald_half = 1.959964 * e["se"]
        assert (e["ci95"][1] - e["ci95"][0]) / 2 > 1.25 * wald_half
        assert e["p"] > 0.05
    assert min(2 * (1 - _normal_cdf(abs(e["t"]))) for e in ours["effects"]) < 0.1


def _normal_cdf(x: float) -> float:
    from scipy import stats

    return float(stats.norm.cdf(x))


def test_numerical_derivatives_are_exact_on_polynomials():
    """The Hessian and Jacobian used for the df recover known derivatives."""
    x = np.array([0.7, 1.9, 3.0])
    h = hessian(lambda v: v[0] ** 2 * v[1] + np.exp(v[2]) + v[1] * v[2] ** 3, x)
    expected = np.array(
        [
            [2 * x[1], 2 * x[0], 0],
            [2 * x[0], 0, 3 * x[2] ** 2],
            [0, 3 * x[2] ** 2, np.exp(x[2]) + 6 * x[1] * x[2]],
        ]
    )
    assert h == pytest.approx(expected, rel=1e-5, abs=1e-5)
    jac = jacobian(lambda v: np.diag([v[0] ** 3, v[0] * v[1]]), x[:2])
    assert jac[0] == pytest.approx(np.diag([3 * x[0] ** 2, x[1]]), rel=1e-6)
    assert jac[1] == pytest.approx(np.diag([0, x[0]]), rel=1e-6)


def test_convergence_is_judged_on_the_scaled_gradient_as_lme4_does():
    """A steep optimum reached to 1e-9 has a raw gradient of 0.2 but is converged; a shallow
    one missed by 0.01 is not; a fit with every θ at the boundary has nothing to judge."""
    steep = lambda th: 1e8 * (th[0] - 0.5) ** 2  # noqa: E731
    assert converged(steep, np.array([0.5 + 1e-9]))
    shallow = lambda th: (th[0] - 0.5) ** 2  # noqa: E731
    assert not converged(shallow, np.array([0.51]))
    assert converged(shallow, np.array([0.0]))
