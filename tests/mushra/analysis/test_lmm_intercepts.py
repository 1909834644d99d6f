"""The intercepts model (lmm_intercepts) agrees with statsmodels and recovers known parameters.

Tolerances against statsmodels: both minimise the same REML criterion, but statsmodels stops its
optimiser earlier (its variance components are up to ~2e-4 relative off the optimum on the codec
data, and its REML log-likelihood is never higher than ours), and its standard errors come from
the full observed Hessian, whose fixed/variance cross terms move them by ~1e-6 to 1e-5 relative
on crossed data of ~1,500 ratings (ours are the model-based σ²(X'V⁻¹X)⁻¹, checked exactly in the
GLS test). Hence variances 1e-3, estimates 1e-4, standard errors 1e-3 relative, and p-values
are compared as |z| = Φ⁻¹(1 − p/2), whose relative error is that of the standard error."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import sparse, stats

from mushra.analysis import lmm_intercepts, lmm_reml
from mushra.analysis.data import AnalysisError, tidy
from mushra.analysis.lmm_intercepts import mixed_model
from tests.support.codec_mushra import REFERENCE, codec_tidy
from tests.support.services import need_shared_data

EFFECTS = {"R": 0.0, "A": -30.0, "B": -2.0, "C": -1.0, "D": 0.5}
TREATMENT = "C(condition, Treatment({!r}))[T.{}]"


def ratings(
    listeners: int,
    items: int,
    effects: dict[str, float] = EFFECTS,
    sds: tuple[float, float, float] = (8.0, 5.0, 10.0),
    missing: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Synthetic ratings with listener, item and residual SDs ``sds``; drops a share at random."""
    rng = np.random.default_rng(seed)
    names = list(effects)
    lst, itm, cnd = (
        g.ravel()
        for g in np.meshgrid(
            np.arange(listeners), np.arange(items), np.arange(len(names)), indexing="ij"
        )
    )
    shift = np.array([effects[c] for c in names])
    score = (
        50.0
        + shift[cnd]
        + rng.normal(0, sds[0], listeners)[lst]
        + rng.normal(0, sds[1], items)[itm]
        + rng.normal(0, sds[2], len(lst))
    )
    df = pd.DataFrame(
        {
            "listener": [f"L{i}" for i in lst],
            "item": [f"I{i}" for i in itm],
            "condition": [names[c] for c in cnd],
            "score": score,
        }
    )
    return df[rng.random(len(df)) >= missing].reset_index(drop=True)


def quiet_fit(model: sm.MixedLM):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # boundary and convergence chatter
        return model.fit(reml=True)


def statsmodels_crossed(df: pd.DataFrame, baseline: str):
    """The crossed model in statsmodels: one constant group, two variance components."""
    model = sm.MixedLM.from_formula(
        f"score ~ C(condition, Treatment({baseline!r}))",
        groups="one",
        re_formula="0",
        vc_formula={"listener": "0 + C(listener)", "item": "0 + C(item)"},
        data=df.assign(one=1),
    )
    return quiet_fit(model)


def assert_effects_agree(ours: dict, ref, baseline: str, se_rtol: float = 1e-3) -> None:
    """Estimates, SEs and z = t statistics equal statsmodels'; p and the interval are t's on
    the Satterthwaite df (statsmodels has Wald z only; the df are checked against lmerTest in
    test_satterthwaite.py)."""
    names = [e["condition"] for e in ours["effects"]]
    assert names == sorted(names)
    for effect in ours["effects"]:
        key = TREATMENT.format(baseline, effect["condition"])
        se = effect["se"]
        assert effect["estimate"] == pytest.approx(ref.fe_params[key], rel=1e-4, abs=1e-4 * se)
        assert se == pytest.approx(ref.bse_fe[key], rel=se_rtol)
        assert effect["t"] == pytest.approx(ref.tvalues[key], rel=se_rtol + 1e-4, abs=1e-3)
        t, df = effect["t"], effect["df"]
        assert effect["p"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9, abs=1e-300)
        half = stats.t.ppf(0.975, df) * se
        estimate = effect["estimate"]
        assert effect["ci95"] == pytest.approx([estimate - half, estimate + half])


def assert_agrees_with_statsmodels(df: pd.DataFrame, baseline: str) -> dict:
    ours = mixed_model(df, baseline)
    ref = statsmodels_crossed(df, baseline)
    vc = dict(zip(ref.model.exog_vc.names, ref.vcomp, strict=True))
    expected = {"listener": vc["listener"], "item": vc["item"], "residual": ref.scale}
    assert ours["variance_components"] == pytest.approx(expected, rel=1e-3)
    assert_effects_agree(ours, ref, baseline)
    assert reml_loglik(df, baseline, ours) >= ref.llf - 1e-6  # our optimum is at least as good
    assert ours["reml_loglik"] == pytest.approx(reml_loglik(df, baseline, ours), abs=1e-6)
    return ours


def reml_loglik(df: pd.DataFrame, baseline: str, result: dict) -> float:
    """Restricted log-likelihood at the returned variances (same constants as statsmodels)."""
    codes, cond, order = lmm_intercepts.encode(df, baseline)
    y = df["score"].to_numpy(dtype=float)
    st = lmm_intercepts.sufficient(codes, cond, y - y.mean(), len(order))
    vc = result["variance_components"]
    a, b = lmm_intercepts.eliminated_first(codes)
    theta = np.sqrt(np.array([vc[a], vc[b]]) / vc["residual"])
    return -0.5 * lmm_intercepts.criterion(lmm_intercepts.evaluate(theta, st), st)


def test_agrees_with_statsmodels_on_unbalanced_synthetic_data():
    df = ratings(40, 12, missing=0.25, seed=1)
    assert df.groupby(["listener", "item"]).size().nunique() > 1  # really unbalanced
    ours = assert_agrees_with_statsmodels(df, "R")
    assert 0.01 < min(e["p"] for e in ours["effects"] if e["condition"] != "A")


@pytest.mark.shared_data
@pytest.mark.parametrize("baseline", [REFERENCE, "Proposed 5.51"])
def test_agrees_with_statsmodels_on_codec_mushra(baseline):
    need_shared_data()
    df = tidy(codec_tidy("ratings_formated_filtered.csv"))
    ours = assert_agrees_with_statsmodels(df, baseline)
    if baseline == REFERENCE:
        anchor = next(e for e in ours["effects"] if e["condition"] == "Anchor")
        assert anchor["estimate"] == pytest.approx(19.42 - 99.07, abs=0.01)  # balanced cells


def test_estimates_and_standard_errors_are_generalised_least_squares_at_the_fit():
    """At the fitted variances, β̂ = (X'V⁻¹X)⁻¹X'V⁻¹y and Var(β̂) = (X'V⁻¹X)⁻¹, computed densely."""
    df = ratings(12, 6, missing=0.3, seed=10)
    result = mixed_model(df, "R")
    vc = result["variance_components"]
    zl = pd.get_dummies(df["listener"]).to_numpy(dtype=float)
    zi = pd.get_dummies(df["item"]).to_numpy(dtype=float)
    v = vc["residual"] * np.eye(len(df)) + vc["listener"] * zl @ zl.T + vc["item"] * zi @ zi.T
    x = pd.get_dummies(df["condition"]).drop(columns="R").to_numpy(dtype=float)
    x = np.column_stack([np.ones(len(df)), x])
    info = x.T @ np.linalg.solve(v, x)
    beta = np.linalg.solve(info, x.T @ np.linalg.solve(v, df["score"].to_numpy()))
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    for j, effect in enumerate(result["effects"], start=1):
        assert effect["estimate"] == pytest.approx(beta[j], rel=1e-9, abs=1e-9)
        assert effect["se"] == pytest.approx(se[j], rel=1e-9)


def test_balanced_complete_design_estimates_are_mean_differences():
    df = ratings(15, 7, seed=2)
    means = df.groupby("condition")["score"].mean()
    for effect in mixed_model(df, "R")["effects"]:
        assert effect["estimate"] == pytest.approx(
            means[effect["condition"]] - means["R"], abs=1e-9
        )


def test_recovers_known_parameters_on_large_design():
    effects = {"R": 0.0, "A": -40.0, "B": -12.0, "C": -6.0, "D": -3.0, "E": 1.0}
    df = ratings(300, 30, effects, sds=(8.0, 5.0, 10.0), seed=3)
    result = mixed_model(df, "R")
    for effect in result["effects"]:
        # Each estimate's own Wald SE is ~0.15 here; 4 SE is a loose bound for 5 effects.
        assert abs(effect["estimate"] - effects[effect["condition"]]) < 4 * effect["se"]
    vc = result["variance_components"]
    # Sampling SD of a variance estimate from m levels is about σ²·sqrt(2/(m−1)):
    # listener 64·0.082 ≈ 5.3, item 25·0.26 ≈ 6.6, residual 100·0.0061 ≈ 0.61; allow 4 of them.
    assert vc["listener"] == pytest.approx(64.0, abs=4 * 5.3)
    assert vc["item"] == pytest.approx(25.0, abs=4 * 6.6)
    assert vc["residual"] == pytest.approx(100.0, abs=4 * 0.61)


@pytest.mark.parametrize(("single", "grouping"), [("item", "listener"), ("listener", "item")])
def test_single_level_factor_gets_zero_variance_and_matches_one_random_intercept(single, grouping):
    df = ratings(30, 30, missing=0.2, seed=4)
    df = df[df[single] == df[single].iloc[0]].reset_index(drop=True)
    ours = mixed_model(df, "R")
    model = sm.MixedLM.from_formula(
        "score ~ C(condition, Treatment('R'))", groups=grouping, data=df
    )
    ref = quiet_fit(model)
    vc = ours["variance_components"]
    assert vc[single] == 0.0
    assert vc[grouping] == pytest.approx(float(ref.cov_re.iloc[0, 0]), rel=1e-3)
    assert vc["residual"] == pytest.approx(ref.scale, rel=1e-3)
    # With ~120 ratings the fixed/variance cross terms of statsmodels' observed Hessian move its
    # standard errors by up to ~1.5 % (25 seeds); ours are the model-based ones (see GLS test).
    assert_effects_agree(ours, ref, "R", se_rtol=3e-2)


def test_zero_item_variance_is_estimated_near_zero():
    df = ratings(40, 12, sds=(8.0, 0.0, 10.0), missing=0.1, seed=5)
    vc = mixed_model(df, "R")["variance_components"]
    # With no item effect the REML estimate sits at or near the boundary: its sampling SD
    # near zero is about σ²·sqrt(2/(items·n per item)) ≈ 100·0.02, far below 5.
    assert 0.0 <= vc["item"] < 5.0
    assert vc["listener"] > 20.0


def test_shifting_one_condition_moves_only_its_estimate():
    df = ratings(25, 10, missing=0.2, seed=6)
    before = mixed_model(df, "R")
    shifted = df.assign(score=df["score"] + np.where(df["condition"] == "B", 7.5, 0.0))
    after = mixed_model(shifted, "R")
    for old, new in zip(before["effects"], after["effects"], strict=True):
        delta = 7.5 if old["condition"] == "B" else 0.0
        assert new["estimate"] == pytest.approx(old["estimate"] + delta, abs=1e-4)
    # A shift within one condition leaves the variance components unchanged (up to the optimiser).
    assert after["variance_components"] == pytest.approx(before["variance_components"], rel=1e-4)


def test_result_shape_formula_and_independence_of_row_order_and_extra_columns():
    df = ratings(20, 8, missing=0.2, seed=7)
    result = mixed_model(df, "R")
    assert list(result) == [
        "formula", "baseline", "inference", "intercept", "effects", "comparisons",
        "reml_loglik", "converged", "singular", "variance_components",
    ]  # fmt: skip
    assert result["formula"] == "score ~ C(condition, Treatment('R')) + (1|listener) + (1|item)"
    assert [e["condition"] for e in result["effects"]] == ["A", "B", "C", "D"]
    for effect in result["effects"]:
        assert list(effect) == ["condition", "estimate", "se", "df", "t", "p", "ci95"]
        assert effect["ci95"][0] < effect["estimate"] < effect["ci95"][1]
        assert 0.0 <= effect["p"] <= 1.0
        values = (effect["estimate"], effect["se"], effect["df"], effect["t"], effect["p"])
        assert all(type(v) is float for v in (*values, *effect["ci95"]))
    shuffled = df.sample(frac=1.0, random_state=0).assign(stratum="x")
    again = mixed_model(shuffled, "R")
    assert again["variance_components"] == pytest.approx(result["variance_components"], rel=1e-6)
    for one, two in zip(result["effects"], again["effects"], strict=True):
        assert two["estimate"] == pytest.approx(one["estimate"], abs=1e-7)


def synthetic_stats(df: pd.DataFrame) -> lmm_intercepts.Stats:
    codes, cond, order = lmm_intercepts.encode(df, "R")
    y = df["score"].to_numpy(dtype=float)
    return lmm_intercepts.sufficient(codes, cond, y - y.mean(), len(order))


def test_storage_choices_give_the_same_criterion_and_gradient():
    """Per-count sums, dense and sparse per-level cross-products are interchangeable."""
    df = ratings(40, 12, missing=0.25, seed=8)
    st = synthetic_stats(df)
    codes, cond, order = lmm_intercepts.encode(df, "R")
    a, b = lmm_intercepts.eliminated_first(codes)  # listener (40 levels), item (12)
    w = sparse.hstack([lmm_reml.indicator(codes[b], 12), lmm_reml.treatment(cond, len(order))])
    cross = (lmm_reml.indicator(codes[a], 40).T @ w).tocsr()
    grams = lmm_reml.group_grams(cross, st.a_group, len(st.a_count))
    variants = [
        dataclasses.replace(st, a_gram=grams, cross=None),
        dataclasses.replace(st, a_gram=None, cross=cross.toarray()),
        dataclasses.replace(st, a_gram=None, cross=cross),
    ]
    theta = np.array([0.8, 0.4])
    values = [lmm_intercepts.objective(theta, v) for v in variants]
    for value, grad in values[1:]:
        assert value == pytest.approx(values[0][0], rel=1e-12)
        assert grad == pytest.approx(values[0][1], rel=1e-9)


def test_sparse_storage_end_to_end(monkeypatch):
    df = ratings(40, 12, missing=0.25, seed=8)
    expected = mixed_model(df, "R")
    monkeypatch.setattr(
        lmm_intercepts, "MEMORY_LIMIT", 0
    )  # nothing dense: the sparse product is used
    assert isinstance(synthetic_stats(df).cross, sparse.csr_matrix)
    result = mixed_model(df, "R")
    assert result["variance_components"] == pytest.approx(expected["variance_components"], 1e-6)
    for one, two in zip(expected["effects"], result["effects"], strict=True):
        assert two["estimate"] == pytest.approx(one["estimate"], abs=1e-7)
        assert two["p"] == pytest.approx(one["p"], rel=1e-5)


def test_gradient_matches_finite_differences():
    df = ratings(20, 9, missing=0.3, seed=9)
    st = synthetic_stats(df)
    for theta in (np.array([0.7, 0.4]), np.array([1.5, 0.2]), np.array([0.3, 1.1])):
        _, grad = lmm_intercepts.objective(theta, st)
        psi, h = theta**2, 1e-6
        for j in range(2):
            step = np.zeros(2)
            step[j] = h
            up = lmm_intercepts.objective(np.sqrt(psi + step), st)[0]
            down = lmm_intercepts.objective(np.sqrt(psi - step), st)[0]
            assert grad[j] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-3)


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert message and "\n" not in message
    return message


def test_unknown_baseline_raises():
    with pytest.raises(AnalysisError) as exc_info:
        mixed_model(ratings(5, 3), "nope")
    assert "nope" in one_line(exc_info)


def test_single_condition_raises():
    df = ratings(5, 3, {"R": 0.0})
    with pytest.raises(AnalysisError) as exc_info:
        mixed_model(df, "R")
    assert "two conditions" in one_line(exc_info)


def test_constant_scores_raise_instead_of_crashing():
    df = ratings(5, 3).assign(score=70.0)
    with pytest.raises(AnalysisError) as exc_info:
        mixed_model(df, "R")
    one_line(exc_info)


def test_one_listener_and_one_item_is_a_clear_error_or_least_squares():
    df = ratings(1, 1)
    with pytest.raises(AnalysisError) as exc_info:  # one rating per condition: no residual df
        mixed_model(df, "R")
    one_line(exc_info)
    # Repeated ratings (which tidy() would reject) leave both variances fixed at 0: plain OLS.
    repeated = pd.concat([df, df.assign(score=df["score"] + 1.0)])
    result = mixed_model(repeated, "R")
    assert result["variance_components"]["listener"] == 0.0
    assert result["variance_components"]["item"] == 0.0
    means = repeated.groupby("condition")["score"].mean()
    for effect in result["effects"]:
        assert effect["estimate"] == pytest.approx(means[effect["condition"]] - means["R"])
