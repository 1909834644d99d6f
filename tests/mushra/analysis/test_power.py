"""Planning (mushra.analysis.power) and the sequential view (mushra.analysis.sequential).

The simulations fit the real confirmatory model, so they are kept small; tolerances are
binomial (an exact test or three standard errors), wide enough to pass by chance rarely and
narrow enough that a biased test or a wrong share would fail.
"""

import math

import pytest
from scipy import stats

from mushra.analysis.data import AnalysisError
from mushra.analysis.power import (
    analytic_listeners,
    analytic_power,
    contrast_variance,
    plan_text,
    power_plan,
)
from mushra.analysis.sequential import headline, planned_half_width, sequential_view
from mushra.analysis.synthetic import mushra_ratings

COMP = {
    "listener": 50.0,
    "item": 20.0,
    "listener:condition": 20.0,
    "item:condition": 5.0,
    "residual": 100.0,
}


def test_a_large_difference_is_always_found_and_the_answer_is_the_smallest_count():
    plan = power_plan(COMP, 40.0, items=8, listeners=[6, 10], simulations=20, seed=3)
    assert [c.power for c in plan.cells] == [1.0, 1.0]
    assert plan.listeners_required == 6
    assert plan.cells[0].ci95[0] > 0.8  # exact interval of 20/20
    assert plan.to_dict()["required"] == [{"items": 8, "listeners": 6}]


def test_with_no_difference_the_power_is_the_type_one_error():
    plan = power_plan(COMP, 0.0, items=8, listeners=[16], simulations=150, seed=11, jobs=2)
    cell = plan.cells[0]
    assert cell.failed == 0
    # Satterthwaite's t keeps the level: the count is binomial(150, 0.05).
    assert stats.binomtest(cell.significant, 150, 0.05).pvalue > 0.001
    assert cell.analytic == pytest.approx(0.05)
    assert not cell.reached


def test_power_grows_with_listeners_and_follows_the_analytic_approximation():
    plan = power_plan(COMP, 5.0, items=10, listeners=[5, 10, 20, 40], simulations=50, seed=5)
    powers = [c.power for c in plan.cells]
    assert powers[-1] - powers[0] > 0.4
    # Common random numbers: each experiment is cut down, so steps back are rare and small.
    assert all(b >= a - 0.06 for a, b in zip(powers, powers[1:], strict=False))
    for c in plan.cells:
        tolerance = 3 * math.sqrt(c.analytic * (1 - c.analytic) / 50) + 0.05
        assert abs(c.power - c.analytic) <= tolerance, (c.listeners, c.power, c.analytic)
    half = [c.half_width for c in plan.cells]
    assert half == sorted(half, reverse=True)  # more listeners, narrower intervals
    text = plan_text(plan.to_dict())
    assert "listeners" in text and "With 10 items:" in text


def test_the_analytic_variance_is_the_balanced_design_formula():
    var, dof = contrast_variance(COMP, 20, 10)
    assert var == pytest.approx(2 * (20 / 20 + 5 / 10 + 100 / 200))
    only_noise = {**COMP, "listener:condition": 0.0, "item:condition": 0.0}
    var, dof = contrast_variance(only_noise, 20, 10)
    assert var == pytest.approx(2 * 100 / 200)
    # Satterthwaite on MS_lc + MS_ic − MS_e, even when both interactions are 0 (REML would pool
    # the strata: 199 df), so the approximation is conservative there; the simulation is not.
    assert dof == pytest.approx(1 / (1 / 19 + 1 / 9 + 1 / 171))
    # With many listeners and items t is normal: power = Φ(δ/SE − z) + Φ(−δ/SE − z).
    var, dof = contrast_variance(COMP, 200, 100)
    assert dof > 100
    ncp = 1.5 / math.sqrt(var)
    normal = stats.norm.sf(1.959964 - ncp) + stats.norm.cdf(-1.959964 - ncp)
    assert 0.5 < normal < 0.9
    assert analytic_power(COMP, 1.5, 200, 100, 0.05) == pytest.approx(normal, abs=0.01)


def test_item_condition_variance_sets_a_floor_no_listener_count_passes():
    # Var(d̂) ≥ 2·40/4 = 20 however many listen: SE 4.5 cannot find 3 points with power 0.8.
    comp = {**COMP, "item:condition": 40.0}
    assert analytic_listeners(comp, 3.0, 4, 0.05, 0.8) is None
    assert analytic_listeners(comp, 3.0, 200, 0.05, 0.8) is not None  # more items do


def test_items_can_be_planned_too():
    plan = power_plan(COMP, 30.0, items=[4, 12], listeners=[5], simulations=10, seed=2)
    assert [(c.items, c.listeners) for c in plan.cells] == [(4, 5), (12, 5)]
    assert set(plan.required) == {4, 12}


def test_the_same_seed_gives_the_same_plan_in_one_or_two_processes():
    seen = []
    one = power_plan(COMP, 6.0, items=6, listeners=[5, 8], simulations=10, seed=9,
                     progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    two = power_plan(COMP, 6.0, items=6, listeners=[5, 8], simulations=10, seed=9, jobs=2)
    assert one.cells == two.cells
    assert seen[-1] == (10, 10) and len(seen) == 10


def test_a_default_grid_brackets_the_analytic_answer():
    answer = analytic_listeners(COMP, 5.0, 10, 0.05, 0.8)
    plan = power_plan(COMP, 5.0, items=10, simulations=10, seed=1)
    counts = [c.listeners for c in plan.cells]
    assert len(counts) == 4 and counts[0] < answer < counts[-1]
    assert plan.analytic_required == {10: answer}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"difference": -1.0}, "difference"),
        ({"difference": math.nan}, "difference"),
        ({"alpha": 0.0}, "alpha"),
        ({"target": 1.0}, "target power"),
        ({"simulations": 3}, "simulations"),
        ({"listeners": [1, 5]}, "listener counts"),
        ({"items": 1}, "item counts"),
        ({"components": {**COMP, "residual": 0.0}}, "residual"),
        ({"components": {k: v for k, v in COMP.items() if k != "item"}}, "'item'"),
        ({"simulations": 100_000, "listeners": [5, 6, 7]}, "fits"),
    ],
)
def test_bad_values_are_refused_in_plain_words(kwargs, words):
    args = {"components": COMP, "difference": 5.0, "items": 8, "listeners": [5], **kwargs}
    with pytest.raises(AnalysisError, match=words):
        power_plan(args.pop("components"), args.pop("difference"), **args)


def test_the_sequential_view_narrows_in_listener_order():
    df = mushra_ratings(12, 6, 5, seed=4)
    df = df[df["listener"] != "L0"].reset_index(drop=True)  # order of appearance: L1, L2, …
    systems = ["sys01", "sys02", "sys03"]
    assert headline(df, systems) == ("sys03", "sys01")  # best vs worst system
    view = sequential_view(df, systems, target=5.0, batch=3)
    rows = view["rows"]
    assert [r["listeners"] for r in rows] == [3, 6, 9, 11]
    assert rows[-1]["half_width"] < rows[0]["half_width"]
    assert all(r["reached"] == (r["half_width"] <= 5.0) for r in rows)
    for r in rows:
        assert r["ci95"][0] < r["estimate"] < r["ci95"][1]
        assert r["half_width"] == pytest.approx((r["ci95"][1] - r["ci95"][0]) / 2)
    assert view["reached_at"] == next((r["listeners"] for r in rows if r["reached"]), None)
    # The headline of a gap is its NEW − BASE, whichever is better.
    gap = sequential_view(df, systems, difference=8.0, gap=("sys01", "sys02", "reference"))
    assert (gap["new"], gap["base"]) == ("sys01", "sys02")
    assert gap["rows"][-1]["estimate"] < 0
    assert gap["target_half_width"] == pytest.approx(planned_half_width(8.0))
    assert planned_half_width(8.0) == pytest.approx(8.0 * 1.959964 / (1.959964 + 0.841621))


def test_the_sequential_view_refuses_what_it_cannot_show():
    df = mushra_ratings(6, 4, 4, seed=1)
    with pytest.raises(AnalysisError, match="two conditions under test"):
        headline(df, ["sys01"])
    with pytest.raises(AnalysisError, match="target half-width"):
        sequential_view(df, ["sys01", "sys02"], target=0.0)
    with pytest.raises(AnalysisError, match="conditions under test"):
        sequential_view(df, ["sys01", "sys02"], target=3.0, gap=("sys01", "anchor", "reference"))


def test_power_curve_and_sequential_plots_are_svg():
    from mushra.reports.planning_plots import power_curve_plot, sequential_plot

    plan = power_plan(COMP, 30.0, items=6, listeners=[4, 6], simulations=10, seed=0).to_dict()
    svg = power_curve_plot(plan)
    assert svg.lstrip().startswith("<?xml") and "Power to detect 30 points" in svg
    assert svg == power_curve_plot(plan)  # deterministic
    df = mushra_ratings(8, 4, 4, seed=2)
    view = sequential_view(df, ["sys01", "sys02"], target=4.0, batch=4)
    assert "sys02 − sys01" in sequential_plot(view)
