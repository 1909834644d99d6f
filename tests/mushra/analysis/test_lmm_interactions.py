"""The confirmatory model (lmm_interactions) agrees with statsmodels' MixedLM fit of it."""

import numpy as np
import pandas as pd
import pytest

from mushra.analysis import lmm_interactions, screen, tidy
from mushra.analysis.lmm_interactions import mixed_model_full
from tests.mushra.analysis.statsmodels_reference import Z975, statsmodels_full_model
from tests.support.codec_mushra import ANCHOR, REFERENCE, codec_tidy
from tests.support.services import need_shared_data


def design(n_listeners, n_items, n_conditions, sds, *, drop=0.0, seed=0):
    """Ratings with random effects of SDs (listener, item, listener:cond, item:cond, residual);
    a fraction ``drop`` of them removed at random (an unbalanced design with missing cells)."""
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(
        np.arange(n_listeners), np.arange(n_items), np.arange(n_conditions), indexing="ij"
    )
    lis, item, cond = (g.ravel() for g in grid)
    sl, si, slc, sic, se = sds
    score = (
        50.0
        + 4.0 * cond
        + rng.normal(0, sl, n_listeners)[lis]
        + rng.normal(0, si, n_items)[item]
        + rng.normal(0, slc, (n_listeners, n_conditions))[lis, cond]
        + rng.normal(0, sic, (n_items, n_conditions))[item, cond]
        + rng.normal(0, se, len(lis))
    )
    df = pd.DataFrame(
        {"listener": [f"L{x}" for x in lis], "item": [f"s{x}" for x in item],
         "condition": [f"sys{x}" for x in cond], "score": score}
    )  # fmt: skip
    return df[rng.random(len(df)) >= drop].reset_index(drop=True)


def assert_agree(ours, ref, *, est=1e-3, se=1e-3, p=1e-3, vc=1e-2, vc_floor=0.0):
    """``ref`` is statsmodels' fit (Wald z: its SE from the interval, compared on z) or another
    of ours (compared on df and p as well)."""
    assert ours["formula"] == ref["formula"]
    assert [e["condition"] for e in ours["effects"]] == [e["condition"] for e in ref["effects"]]
    for a, b in zip(ours["effects"], ref["effects"], strict=True):
        assert a["estimate"] == pytest.approx(b["estimate"], abs=est)
        se_b = b["se"] if "se" in b else (b["ci95"][1] - b["ci95"][0]) / 2 / Z975
        assert a["se"] == pytest.approx(se_b, rel=se)
        assert a["t"] == pytest.approx(b["estimate"] / se_b, rel=se + est, abs=est)
        if "df" in b:
            assert a["df"] == pytest.approx(b["df"], rel=p)
            assert a["p"] == pytest.approx(b["p"], rel=p, abs=1e-12)
    assert list(ours["variance_components"]) == list(ref["variance_components"])
    for key, value in ref["variance_components"].items():
        assert ours["variance_components"][key] == pytest.approx(value, rel=vc, abs=vc_floor)


@pytest.mark.shared_data
def test_agrees_with_statsmodels_on_codec_mushra():
    """Proposed 5.51 vs AudioDec −6.67, SE 4.48, t(109.3), p = 0.139 (Wald z: 0.136);
    components 156/13/36/99/300."""
    need_shared_data()
    df = screen(tidy(codec_tidy("ratings_formated.csv")), reference=REFERENCE).kept
    conditions = sorted(set(df["condition"]) - {REFERENCE, ANCHOR})
    ours = mixed_model_full(df, conditions, "AudioDec")
    assert_agree(ours, statsmodels_full_model(df, conditions, "AudioDec"))
    effect = next(e for e in ours["effects"] if e["condition"] == "Proposed 5.51")
    assert effect["estimate"] == pytest.approx(-6.67, abs=0.005)
    assert effect["p"] == pytest.approx(0.139, abs=0.0005)


@pytest.mark.parametrize(
    ("shape", "sds", "drop", "seed"),
    [
        ((14, 9, 4), (10.0, 4.0, 6.0, 8.0, 15.0), 0.2, 1),
        ((10, 13, 3), (8.0, 5.0, 0.0, 7.0, 12.0), 0.15, 2),  # no listener:cond; items eliminated
    ],
)
def test_agrees_with_statsmodels_on_unbalanced_designs(shape, sds, drop, seed, monkeypatch):
    """statsmodels' default optimiser stops early on these (REML log-likelihood −1790.94 vs
    −1785.82 and −1255.03 vs −1248.92, which ours reaches), so the reference is refitted with
    Powell then L-BFGS; everything else is statsmodels_full_model as it is. Its standard errors
    invert the observed Hessian (ours are model-based) and its Powell run stops a little short: SEs
    differ by up to ~1.2e-3 relative, hence p-values by up to ~4e-3 at z ≈ 2.6."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    fit = MixedLM.fit
    monkeypatch.setattr(
        MixedLM, "fit", lambda self, **kw: fit(self, method=["powell", "lbfgs"], **kw)
    )
    df = design(*shape, sds, drop=drop, seed=seed)
    conditions = sorted(df["condition"].unique())
    ours = mixed_model_full(df, conditions, "sys0")
    ref = statsmodels_full_model(df, conditions, "sys0")
    assert_agree(ours, ref, se=2e-3, p=1e-2, vc_floor=0.02 * float(df["score"].var()))


def test_balanced_design_gives_differences_of_condition_means():
    df = design(30, 8, 4, (9.0, 3.0, 5.0, 6.0, 14.0), seed=3)
    conditions = sorted(df["condition"].unique())
    result = mixed_model_full(df, conditions, "sys1")
    means = df.groupby("condition")["score"].mean()
    for effect in result["effects"]:
        expected = means[effect["condition"]] - means["sys1"]
        assert effect["estimate"] == pytest.approx(expected, abs=1e-8)
    assert [e["condition"] for e in result["effects"]] == ["sys0", "sys2", "sys3"]


def fit_on_path(df, mode: str, limit: int, monkeypatch) -> tuple[dict, object]:
    """The fit with choose_mode forced to ``mode`` and MEMORY_LIMIT to ``limit``, and the
    sufficient statistics it used (to check which path really ran)."""
    used = []

    def recorded(*args):
        used.append(sufficient(*args))
        return used[-1]

    sufficient = lmm_interactions.sufficient
    monkeypatch.setattr(lmm_interactions, "sufficient", recorded)
    monkeypatch.setattr(lmm_interactions, "choose_mode", lambda counts, patterns: mode)
    monkeypatch.setattr(lmm_interactions, "MEMORY_LIMIT", limit)
    conditions = sorted(df["condition"].unique())
    result = mixed_model_full(df, conditions, "sys0")
    monkeypatch.undo()
    return result, used[0]


@pytest.mark.parametrize(
    ("mode", "limit", "per_count"),
    [("sparse", 0, False), ("dense", 0, False), ("dense", 10**6, True), ("sparse", 10**6, True)],
)
def test_ungrouped_paths_give_the_fit_of_the_per_pattern_sums(mode, limit, per_count, monkeypatch):
    """Designs with many count patterns skip the per-pattern sums (sparse or dense V, with or
    without per-count sums); every such path must give the per-pattern fit. The reference is
    forced onto the per-pattern path: this design's own choice is "dense", so comparing with
    the default fit compared the dense path with itself."""
    df = design(14, 9, 4, (10.0, 4.0, 6.0, 8.0, 15.0), drop=0.2, seed=1)
    grouped, reference_stats = fit_on_path(df, "grouped", 20_000_000, monkeypatch)
    ours, stats = fit_on_path(df, mode, limit, monkeypatch)
    assert reference_stats.grams is not None and reference_stats.mode == "grouped"
    assert stats.grams is None and stats.mode == mode
    assert (stats.count_grams is not None) == per_count
    assert_agree(ours, grouped, est=1e-6, se=1e-5, p=1e-4, vc=1e-4)
