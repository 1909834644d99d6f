"""Planning a test: how many listeners (and items) detect a difference with a given power.

A pilot's confirmatory fit (:mod:`mushra.analysis.lmm_interactions`) gives the five variance
components. This module simulates experiments with those components and a true difference of
``difference`` MUSHRA points, fits the same confirmatory model to each and counts how often it
finds the difference (p < alpha): the simulated power, with an exact (Clopper–Pearson) binomial
95 % interval, on a grid of listener counts and optionally of item counts.

The simulated design is the planned contrast alone: two conditions (a baseline and a system
``difference`` points better), complete (every listener rates every item in both), scores on a
continuous scale, neither rounded nor clipped to 0–100. Why two: the model's p for one contrast
depends on the components, the listeners and the items, not on how many other systems share the
trials (they only add degrees of freedom to the variance estimates, so two is slightly
conservative), and a two-condition fit is the cheapest. A pilot whose listeners each rated a
subset of the items plans for listeners who rate them all; say "items" per listener.

Each simulated experiment is drawn once at the largest grid size and cut down to every smaller
(items, listeners) cell (common random numbers): the curve is then nearly monotone and its steps
are precise with few simulations. Every experiment has its own seed spawned from ``seed``, so
the numbers do not depend on ``jobs`` or on the order the experiments finish.

Cost: one fit of a small design takes about 0.1 s (Satterthwaite df included; 0.14 s on a busy
2-core machine), so the default (4 listener counts × ``N_SIMULATIONS`` = 100 experiments, one
item count) is 400 fits: about 20–30 s with two worker processes (``jobs=2``, the command line's
default), twice that with one. The power of each cell is then known to about ±0.08 (95 %) near
0.8; more simulations narrow it as 1/√n.

Without a listener grid one is chosen around the analytic approximation (:func:`analytic_power`,
noncentral t with Satterthwaite's df from the balanced design's mean squares), which is also
reported beside the simulation as a check. Note the floor the item×condition variance sets: the
contrast's variance never falls below 2·σ²_item:condition / items however many listen, so some
differences need more items, not more listeners (the plan then reports no listener count).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context

import numpy as np
import pandas as pd
from scipy import stats

from mushra.analysis.data import AnalysisError
from mushra.analysis.lmm_interactions import mixed_model_full

COMPONENTS = ("listener", "item", "listener:condition", "item:condition", "residual")
N_SIMULATIONS = 100
GRID_POINTS = 4
MIN_LISTENERS, MAX_LISTENERS = 3, 2000
MIN_ITEMS, MAX_ITEMS = 2, 500
MAX_FITS = 200_000  # simulations × cells: a request for more is refused, not left to run for days
BASE_SCORE = 50.0  # baseline mean; the model is location-invariant, so only for readable data
BASE, NEW = "baseline", "system"

Progress = Callable[[int, int], None]  # (experiments done, experiments in all)


@dataclass(frozen=True)
class Cell:
    """One point of the curve: the simulated share of p < alpha and what it rests on."""

    items: int
    listeners: int
    simulations: int
    significant: int
    failed: int  # fits that raised AnalysisError, counted as "not found"
    power: float
    ci95: tuple[float, float]
    analytic: float
    half_width: float  # median 95 % CI half-width of the difference, in points
    reached: bool


@dataclass(frozen=True)
class PowerPlan:
    """The whole plan; ``required`` maps each item count to the smallest listener count of the
    grid whose simulated power reaches the target (None: none of the grid's counts does)."""

    difference: float
    alpha: float
    target: float
    components: dict[str, float]
    simulations: int
    seed: int
    cells: list[Cell]
    required: dict[int, int | None]
    analytic_required: dict[int, int | None]
    design: str = field(
        default="two conditions, complete (every listener rates every item in both); "
        "score ~ condition + (1|listener) + (1|item) + (1|listener:condition) + "
        "(1|item:condition), p from its t test (Satterthwaite df)"
    )

    @property
    def listeners_required(self) -> int | None:
        """The answer for the first item count (the pilot's, by default)."""
        return self.required[self.cells[0].items] if self.cells else None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["cells"] = [{**asdict(c), "ci95": list(c.ci95)} for c in self.cells]
        out["required"] = [{"items": i, "listeners": n} for i, n in self.required.items()]
        out["analytic_required"] = [
            {"items": i, "listeners": n} for i, n in self.analytic_required.items()
        ]
        out["listeners_required"] = self.listeners_required
        return out


def check_components(components: dict) -> dict[str, float]:
    """The five variance components as floats ≥ 0, or an AnalysisError naming the bad one."""
    out = {}
    for name in COMPONENTS:
        value = components.get(name) if isinstance(components, dict) else None
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise AnalysisError(f"the pilot's variance component {name!r} is missing") from None
        if not (math.isfinite(value) and value >= 0):
            raise AnalysisError(f"the pilot's variance component {name!r} is not a variance")
        out[name] = value
    if not out["residual"] > 0:
        raise AnalysisError("the pilot's residual variance is 0: the scores have no noise to plan")
    return out


def check_plan(difference: float, alpha: float, target: float, simulations: int) -> None:
    """Refuse values a plan cannot mean, each with the option's name. A difference of 0 is
    allowed here (the simulated power is then the type-I error, a check of the test itself);
    the command line and the page ask for one above 0."""
    if not (math.isfinite(difference) and difference >= 0):
        raise AnalysisError(
            f"the difference to detect must be 0 points or more (got {difference})",
            option="difference",
        )
    if difference > 100:
        raise AnalysisError(
            f"the difference to detect is at most 100 points (got {difference})",
            option="difference",
        )
    if not 0 < alpha < 0.5:
        raise AnalysisError(f"alpha must be between 0 and 0.5 (got {alpha})", option="alpha")
    if not 0 < target < 1:
        raise AnalysisError(
            f"the target power must be between 0 and 1 (got {target})", option="target_power"
        )
    if simulations < 10:
        raise AnalysisError(
            f"at least 10 simulations are needed (got {simulations})", option="simulations"
        )


def check_counts(values: Sequence[int], low: int, high: int, what: str) -> list[int]:
    """Sorted distinct counts within [low, high]."""
    values = sorted({int(v) for v in values})
    option = f"{what}s"  # "listeners" or "items"
    if not values:
        raise AnalysisError(f"no {what} counts to plan for", option=option)
    if values[0] < low or values[-1] > high:
        raise AnalysisError(
            f"{what} counts must be between {low} and {high} (got {values})", option=option
        )
    return values


def contrast_variance(comp: dict[str, float], listeners, items) -> tuple[np.ndarray, np.ndarray]:
    """Var(d̂) of the two-condition contrast in the complete balanced design, and the
    Satterthwaite df of its estimate from the mean squares (listener×condition, df L−1;
    item×condition, df I−1; residual, df (L−1)(I−1)):
    Var = 2(E MS_lc + E MS_ic − E MS_e)/(L·I)."""
    big_l = np.asarray(listeners, dtype=float)
    big_i = np.asarray(items, dtype=float)
    e = comp["residual"]
    a = e + big_i * comp["listener:condition"]
    b = e + big_l * comp["item:condition"]
    var = 2.0 * (a + b - e) / (big_l * big_i)
    dof = (a + b - e) ** 2 / (
        a**2 / (big_l - 1) + b**2 / (big_i - 1) + e**2 / ((big_l - 1) * (big_i - 1))
    )
    return var, dof


def analytic_power(comp: dict[str, float], difference: float, listeners, items, alpha: float):
    """Power of the two-sided t test of the contrast: noncentral t with Satterthwaite's df.

    Close to the simulated power when the interaction components are well above 0; with one
    near 0 its df are too few (REML then pools that stratum with the residual; this does not),
    so it is conservative there. A check and a starting grid, not the answer."""
    var, dof = contrast_variance(comp, listeners, items)
    ncp = difference / np.sqrt(var)
    crit = stats.t.ppf(1 - alpha / 2, dof)
    return stats.nct.sf(crit, dof, ncp) + stats.nct.cdf(-crit, dof, ncp)


def analytic_listeners(
    comp: dict[str, float], difference: float, items: int, alpha: float, target: float
) -> int | None:
    """Smallest listener count whose analytic power reaches ``target`` (None: none up to
    MAX_LISTENERS, e.g. because the item×condition variance sets a floor)."""
    counts = np.arange(MIN_LISTENERS, MAX_LISTENERS + 1)
    power = analytic_power(comp, difference, counts, items, alpha)
    hits = np.flatnonzero(power >= target)
    return int(counts[hits[0]]) if len(hits) else None


def listener_grid(
    comp: dict[str, float],
    difference: float,
    items: int,
    alpha: float,
    target: float,
    points: int = GRID_POINTS,
) -> list[int]:
    """``points`` listener counts from 0.6 to 1.6 times the analytic answer (geometric): the
    simulated curve crosses the target inside the grid unless the approximation is far off."""
    guess = analytic_listeners(comp, difference, items, alpha, target) or MAX_LISTENERS // 4
    low = max(MIN_LISTENERS, round(0.6 * guess))
    high = min(MAX_LISTENERS, max(round(1.6 * guess), MIN_LISTENERS + 3))
    grid = np.unique(np.round(np.geomspace(low, high, max(points, 2))).astype(int))
    return [int(n) for n in grid]


def simulate_scores(
    rng: np.random.Generator, comp: dict[str, float], difference: float, listeners: int, items: int
) -> np.ndarray:
    """One experiment's scores, listeners × items × (baseline, system), from the components."""
    sd = {k: math.sqrt(v) for k, v in comp.items()}
    y = rng.normal(0.0, sd["residual"], (listeners, items, 2))
    y += rng.normal(0.0, sd["listener"], listeners)[:, None, None]
    y += rng.normal(0.0, sd["item"], items)[None, :, None]
    y += rng.normal(0.0, sd["listener:condition"], (listeners, 1, 2))
    y += rng.normal(0.0, sd["item:condition"], (1, items, 2))
    y[:, :, 1] += difference
    return y + BASE_SCORE


def tidy_scores(scores: np.ndarray) -> pd.DataFrame:
    """The tidy frame the model takes, from a listeners × items × 2 array."""
    big_l, big_i, _ = scores.shape
    grid = np.indices(scores.shape).reshape(3, -1)
    return pd.DataFrame(
        {
            "listener": grid[0],
            "item": grid[1],
            "condition": np.where(grid[2] == 1, NEW, BASE),
            "score": scores.reshape(-1),
        }
    )


def fit_contrast(scores: np.ndarray) -> tuple[float, float]:
    """(p, CI half-width) of the system-vs-baseline effect; (nan, nan) if the fit fails."""
    try:
        row = mixed_model_full(tidy_scores(scores), [BASE, NEW], BASE)["effects"][0]
    except AnalysisError:
        return math.nan, math.nan
    low, high = row["ci95"]
    return float(row["p"]), float(high - low) / 2.0


def experiment(task: tuple) -> np.ndarray:
    """One simulated experiment cut to every cell: an array of (p, half-width) per cell.
    Top-level (picklable) so worker processes can run it."""
    seed, comp, difference, cells = task
    rng = np.random.default_rng(seed)
    max_l = max(n for _, n in cells)
    max_i = max(i for i, _ in cells)
    scores = simulate_scores(rng, comp, difference, max_l, max_i)
    return np.array([fit_contrast(scores[:n, :i]) for i, n in cells])


def binomial_ci(successes: int, trials: int) -> tuple[float, float]:
    """Exact (Clopper–Pearson) 95 % interval of a share."""
    ci = stats.binomtest(successes, trials).proportion_ci(0.95, method="exact")
    return float(ci.low), float(ci.high)


def run_experiments(tasks: list[tuple], jobs: int, progress: Progress | None) -> list[np.ndarray]:
    """Every experiment, in one process or ``jobs`` forked ones; ``progress`` after each."""
    out = []
    if jobs <= 1:
        for task in tasks:
            out.append(experiment(task))
            if progress:
                progress(len(out), len(tasks))
        return out
    with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
        for result in pool.map(experiment, tasks, chunksize=max(1, len(tasks) // (8 * jobs))):
            out.append(result)
            if progress:
                progress(len(out), len(tasks))
    return out


def summarise(
    cells: list[tuple[int, int]], results: np.ndarray, comp: dict, plan: dict
) -> list[Cell]:
    """Per cell: the share with p < alpha, its binomial interval and the analytic power."""
    out = []
    for j, (items, listeners) in enumerate(cells):
        p, half = results[:, j, 0], results[:, j, 1]
        hits, n = int(np.sum(p < plan["alpha"])), len(p)
        power = hits / n
        analytic = analytic_power(comp, plan["difference"], listeners, items, plan["alpha"])
        out.append(
            Cell(
                items=items,
                listeners=listeners,
                simulations=n,
                significant=hits,
                failed=int(np.isnan(p).sum()),
                power=power,
                ci95=binomial_ci(hits, n),
                analytic=float(analytic),
                half_width=float(np.nanmedian(half)) if np.isfinite(half).any() else math.nan,
                reached=power >= plan["target"],
            )
        )
    return out


def power_plan(
    components: dict,
    difference: float,
    *,
    items: int | Sequence[int],
    listeners: Sequence[int] | None = None,
    alpha: float = 0.05,
    target: float = 0.8,
    simulations: int = N_SIMULATIONS,
    seed: int = 0,
    jobs: int = 1,
    points: int = GRID_POINTS,
    progress: Progress | None = None,
) -> PowerPlan:
    """Simulate, fit and count (see the module docstring). ``items``: one count (the pilot's)
    or several to plan items too; ``listeners``: the grid, or None to choose ``points`` counts
    around the analytic answer for each item count."""
    comp = check_components(components)
    check_plan(difference, alpha, target, simulations)
    counts = [items] if isinstance(items, (int, np.integer)) else list(items)
    item_counts = check_counts(counts, MIN_ITEMS, MAX_ITEMS, "item")
    grids = {
        i: check_counts(listeners, MIN_LISTENERS, MAX_LISTENERS, "listener")
        if listeners is not None
        else listener_grid(comp, difference, i, alpha, target, points)
        for i in item_counts
    }
    cells = [(i, n) for i in item_counts for n in grids[i]]
    if simulations * len(cells) > MAX_FITS:
        raise AnalysisError(
            f"{simulations} simulations × {len(cells)} design points is more than "
            f"{MAX_FITS:,} fits: use fewer simulations or a shorter grid",
            option="simulations",
        )
    seeds = np.random.SeedSequence(seed).spawn(simulations)
    tasks = [(s, comp, float(difference), cells) for s in seeds]
    results = np.stack(run_experiments(tasks, jobs, progress))
    plan = {"alpha": alpha, "target": target, "difference": float(difference)}
    summary = summarise(cells, results, comp, plan)
    required = {
        i: next((c.listeners for c in summary if c.items == i and c.reached), None)
        for i in item_counts
    }
    return PowerPlan(
        difference=float(difference),
        alpha=alpha,
        target=target,
        components=comp,
        simulations=simulations,
        seed=seed,
        cells=summary,
        required=required,
        analytic_required={
            i: analytic_listeners(comp, difference, i, alpha, target) for i in item_counts
        },
    )


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def plan_text(plan: dict) -> str:
    """The plan (``PowerPlan.to_dict()``) as a plain table for a terminal."""
    head = (
        f"Power to detect a difference of {plan['difference']:g} points "
        f"(alpha {plan['alpha']:g}, target {plan['target']:g}; "
        f"{plan['simulations']} simulated experiments per row)"
    )
    rows = [["items", "listeners", "power", "95% CI", "analytic", "CI half-width", ""]]
    for c in plan["cells"]:
        ci = f"[{_num(c['ci95'][0])}, {_num(c['ci95'][1])}]"
        mark = "reached" if c["reached"] else ""
        rows.append(
            [str(c["items"]), str(c["listeners"]), _num(c["power"]), ci, _num(c["analytic"]),
             _num(c["half_width"], 1), mark]
        )  # fmt: skip
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    lines = [head, f"Design: {plan['design']}"]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for req, ana in zip(plan["required"], plan["analytic_required"], strict=True):
        found = req["listeners"]
        answer = f"{found} listeners" if found else "more listeners than the grid's largest"
        lines.append(
            f"With {req['items']} items: {answer} (analytic approximation: "
            f"{ana['listeners'] or f'not reachable with {MAX_LISTENERS}'})"
        )
    return "\n".join(lines) + "\n"
