"""A plan from a pilot: its confirmatory fit → :mod:`power` → listeners needed, plus the
:mod:`sequential` view of its own ratings. Shared by the command line and the results page.

The pilot is the analysis' kept ratings (after screening) of the conditions under test; its
variance components come from the confirmatory model (the analysis' own fit when it was asked
for, else fitted here), and the plan uses the pilot's number of items unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from mushra.analysis.analyze import Result
from mushra.analysis.data import AnalysisError, conditions_of
from mushra.analysis.lmm_interactions import mixed_model_full
from mushra.analysis.power import N_SIMULATIONS, Progress, power_plan
from mushra.analysis.sequential import sequential_view


@dataclass(frozen=True)
class PlanOptions:
    """What to plan for; empty ``items``/``listeners``: the pilot's items, a grid around the
    analytic answer."""

    difference: float
    alpha: float = 0.05
    target: float = 0.8
    items: tuple[int, ...] = ()
    listeners: tuple[int, ...] = ()
    simulations: int = N_SIMULATIONS
    seed: int = 0
    jobs: int = 1
    half_width: float | None = None  # sequential target; None: planned from the difference
    headline: tuple[str, str] | None = None  # (new, base); None: the first gap's, else best/worst


def pilot_systems(result: Result) -> list[str]:
    systems = result.spec.systems(conditions_of(result.kept))
    if len(systems) < 2:
        raise AnalysisError(
            "planning needs a pilot with two conditions under test (besides the hidden "
            "reference and the anchors)"
        )
    return systems


def pilot_components(result: Result, systems: list[str]) -> dict[str, float]:
    """The confirmatory model's variance components on the pilot's conditions under test."""
    fitted = result.data.get("mixed_model") if result.spec.mixed == "full" else None
    if not fitted:
        fitted = mixed_model_full(result.kept, systems, systems[0])
    return dict(fitted["variance_components"])


def plan_pilot(result: Result, options: PlanOptions, progress: Progress | None = None) -> dict:
    """The plan (``PowerPlan.to_dict()``) with the pilot it rests on and the sequential view
    (None when the pilot's ratings cannot give one)."""
    systems = pilot_systems(result)
    components = pilot_components(result, systems)
    rated = result.kept[result.kept["condition"].isin(systems)]
    n_items = int(rated["item"].nunique())
    plan = power_plan(
        components,
        options.difference,
        items=options.items or n_items,
        listeners=options.listeners or None,
        alpha=options.alpha,
        target=options.target,
        simulations=options.simulations,
        seed=options.seed,
        jobs=options.jobs,
        progress=progress,
    )
    try:
        view = sequential_view(
            result.kept,
            systems,
            difference=options.difference,
            target=options.half_width,
            gap=options.headline or (result.spec.gaps[0] if result.spec.gaps else None),
            alpha=options.alpha,
            power=options.target,
        )
    except AnalysisError:
        view = None
    pilot = {
        "listeners": int(rated["listener"].nunique()),
        "items": n_items,
        "conditions": systems,
    }
    return {"pilot": pilot, **plan.to_dict(), "sequential": view}
