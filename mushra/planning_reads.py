"""The planning page's reads: the test's ratings as a pilot, and how a kept plan stands.

The ratings go through the same analysis as the reports (BS.1534-3 screening, the confirmatory
model on the conditions under test), then :mod:`mushra.analysis.planning` plans from them; the
pictures are drawn here so the worker's service stores one plain dict. The plan of a set of
form values is kept in a ``PlanCache`` row (``mushra.planning_cache`` writes it); what is read
here for every page view and every poll is that one row, plus the ratings' fingerprint
(``mushra.result_reads``, one query) only where staleness is shown.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict

import numpy as np
from django.utils import timezone

from mushra.analysis import AnalysisError
from mushra.analysis.planning import PlanOptions, plan_pilot
from mushra.analysis.power import Progress
from mushra.models import Condition, ListeningTest, PlanCache
from mushra.reports.planning_plots import power_curve_plot, sequential_plot
from mushra.result_reads import Fingerprint, in_flight
from mushra.results import ReportOptions, listening_test_analysis
from mushra.typed_results import is_typed


def system_labels(test: ListeningTest) -> list[str]:
    """The systems under test: the only conditions a headline may name."""
    systems = test.conditions.filter(role=Condition.Role.SYSTEM).order_by("label")
    return list(systems.values_list("label", flat=True))


def plan_for_test(
    test: ListeningTest,
    options: PlanOptions,
    *,
    stage: Callable[[str], None] | None = None,
    progress: Progress | None = None,
) -> dict:
    """The plan from the ratings stored now, with its power curve and sequential view drawn, as
    plain JSON (a non-finite number is None: PostgreSQL's jsonb has no NaN). ``stage`` hears the
    analysis' stages, then "simulating" and "drawing"; ``progress`` each simulated experiment."""
    stage = stage or (lambda name: None)
    if is_typed(test):  # the simulation draws MUSHRA ratings from a fitted mixed model
        raise AnalysisError(f"power planning is for MUSHRA tests, not {test.test_type} tests")
    # One bootstrap resample: the plan uses no interval of the descriptives.
    result = listening_test_analysis(
        test, ReportOptions(n_boot=1, mixed="full", formats=()), stage=stage
    )
    stage("simulating")
    plan = plan_pilot(result, options, progress=progress)
    stage("drawing")
    view = plan["sequential"]
    return plain_json(
        {
            **plan,
            "power_svg": power_curve_plot(plan),
            "sequential_svg": sequential_plot(view) if view else None,
        }
    )


def plain_json(value):
    """``value`` with numpy scalars as Python numbers, tuples as lists and NaN/inf as None."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


# --- The kept plan of a set of form values ------------------------------------------------------


def plan_options_json(options: PlanOptions) -> dict:
    """What a plan depends on, as JSON; ``jobs`` is how it is computed, not what (a worker uses
    one process: its pool's processes may not fork their own)."""
    data = asdict(options)
    data.pop("jobs")
    return json.loads(json.dumps(data))  # tuples become lists, as they come back from the row


def plan_options_key(options: PlanOptions) -> str:
    text = json.dumps(plan_options_json(options), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def plan_options_from_json(data: dict) -> PlanOptions:
    headline = data.get("headline")
    return PlanOptions(
        difference=data["difference"],
        alpha=data["alpha"],
        target=data["target"],
        items=tuple(data.get("items", ())),
        listeners=tuple(data.get("listeners", ())),
        simulations=data["simulations"],
        seed=data.get("seed", 0),
        half_width=data.get("half_width"),
        headline=tuple(headline) if headline else None,
    )


def cached_plan(test: ListeningTest, options: PlanOptions) -> PlanCache | None:
    return PlanCache.objects.filter(test=test, options_key=plan_options_key(options)).first()


def plan_state(row: PlanCache | None, fingerprint: Fingerprint | None = None) -> dict:
    """How the plan stands, for the page and its polling script (plain words, no markup; the
    plan itself is ``row.plan``). ``fingerprint`` (the ratings now) is read only where
    staleness is shown: a poll while the worker runs needs none."""
    if row is None:
        return {"status": "none", "ready": False, "running": False, "stale": False}
    ready = bool(row.plan)
    failed = row.status == PlanCache.Status.FAILED
    return {
        "status": row.status,
        "running": in_flight(row),  # it reads only the status and when it was queued
        "stage": row.stage,
        "percent": row.percent,
        "error": row.error if failed else "",
        "ready": ready,
        "stale": ready and fingerprint is not None and row.fingerprint != fingerprint.key,
        "computed_at": timezone.localtime(row.computed_at).strftime("%Y-%m-%d %H:%M:%S")
        if row.computed_at
        else "",
    }
