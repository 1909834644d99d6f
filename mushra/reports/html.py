"""The HTML report: one self-contained file (inline CSS and SVG, no external URL).

A report is archived next to the data and opened years later, often offline, and it is the
input of the PDF; so nothing in it may point outside the file. Rendering uses Jinja2 rather
than Django templates so the CLI works without settings. Autoescaping is on: condition, item
and listener names come from uploaded files. All numbers are formatted here, in Python, so the
template only lays them out.
"""

from __future__ import annotations

import functools

import jinja2
import pandas as pd
from markupsafe import Markup

from mushra.analysis.screening import RULE_ATTENTION
from mushra.analysis.timing import RULE_FAST
from mushra.reports import common as c
from mushra.reports.meta import ReportMeta
from mushra.reports.methods import listener_checks, methods_paragraph
from mushra.reports.objective import f0_plot, objective_view
from mushra.reports.plots import condition_plot, item_plot

SIGNIFICANCE_LEGEND = (
    "Holm-corrected p: * < 0.05, ** < 0.01, *** < 0.001, n.s. not significant (≥ 0.05)."
)


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mushra.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def inline_svg(svg: str) -> Markup:
    """SVG text without its XML prolog and DOCTYPE, trusted for inlining (matplotlib escapes)."""
    start = svg.find("<svg")
    return Markup(svg[start:] if start >= 0 else svg)


def descriptive_rows(rows: list[dict], order: list[str]) -> list[dict]:
    return [
        {
            "condition": str(r["condition"]),
            "n": r.get("n"),
            "mean": c.num(r.get("mean")),
            "sd": c.num(r.get("sd")),
            "median": c.num(r.get("median")),
            "iqr": c.interval(r.get("iqr")),
            "ci95": c.interval(r.get("ci95")),
            "ci95_bootstrap": c.interval(r.get("ci95_bootstrap")),
        }
        for r in c.by_condition(rows, order)
    ]


def pairwise_rows(rows: list[dict], count: str = "n_pairs") -> list[dict]:
    """Table rows of one family of paired tests; ``count`` names its unit's column (n_pairs, or
    n_listeners for the listener-level family). An untestable pair shows its p but no Holm p."""
    return [
        {
            "a": str(r["a"]),
            "b": str(r["b"]),
            "n": r.get(count),
            "mean_diff": c.num(r.get("mean_diff")),
            "statistic": c.num(r.get("statistic")),
            "p": c.pvalue(r.get("p")),
            "p_holm": c.pvalue(r.get("p_holm")),
            "rank_biserial": c.num(r.get("rank_biserial"), 2),
            "d_z": c.num(r.get("d_z"), 2),
            "stars": c.stars(r.get("p_holm")),
            "untestable": r.get("untestable") or "",
        }
        for r in rows or []
    ]


def omnibus_text(omnibus: dict | None) -> str:
    """One line for the Friedman test, or why it is missing."""
    if not omnibus:
        return ""
    blocks = omnibus.get("n_blocks")
    blocks = 0 if c.is_missing(blocks) else int(blocks)
    if c.is_missing(omnibus.get("statistic")):
        return (
            f"Friedman test not computed: {blocks} complete (listener, item) blocks. It needs "
            "at least two blocks in which every condition was rated (one block always gives W = 1)."
        )
    k = c.friedman_k(omnibus)
    df = f"({k - 1})" if k else ""
    over = f"{k} conditions, " if k else ""
    return (
        f"Friedman test: χ²{df} = {c.num(omnibus['statistic'], 2)}, "
        f"p {_p_phrase(omnibus.get('p'))}, Kendall's W = {c.num(omnibus.get('kendall_w'), 3)} "
        f"({over}n = {blocks} complete (listener, item) blocks)."
    )


def _p_phrase(p: object) -> str:
    text = c.pvalue(p)
    return text if text.startswith("<") else f"= {text}"


def _coefficient(name: str, e: dict) -> dict:
    return {
        "condition": name,
        "estimate": c.num(e.get("estimate"), 2),
        "se": c.num(e.get("se"), 2),
        "df": c.num(e.get("df"), 1),
        "t": c.num(e.get("t"), 2),
        "ci95": c.interval(e.get("ci95"), 2),
        "p": c.pvalue(e.get("p")),
    }


def mixed_view(model: dict | None, order: list[str]) -> dict | None:
    if not model:
        return None
    effects = [
        _coefficient(str(e["condition"]), e)
        for e in c.by_condition(model.get("effects") or [], order)
    ]
    if model.get("intercept"):
        effects.insert(0, _coefficient(f"(intercept: {model.get('baseline')})", model["intercept"]))
    comparisons = [
        {**_coefficient(f"{r['a']} − {r['b']}", r), "p_holm": c.pvalue(r.get("p_holm"))}
        for r in model.get("comparisons") or []
    ]
    components = model.get("variance_components") or {}
    flags = []
    if model.get("converged") is False:
        flags.append("the optimiser did not converge: treat the model's figures with caution")
    if model.get("singular"):
        flags.append("singular fit: a variance component is estimated at zero")
    return {
        "formula": model.get("formula") or "",
        "effects": effects,
        "comparisons": comparisons,
        "components": [(k, c.num(v, 1)) for k, v in components.items()],
        "loglik": c.num(model.get("reml_loglik"), 2),
        "flags": flags,
    }


def claims_view(rows: list[dict]) -> list[dict]:
    """Each declared comparison's verdict and the test that backs it (mushra.analysis.claims)."""
    return [
        {
            "pair": f"{r['a']} − {r['b']}",
            "difference": c.num(r.get("difference"), 2),
            "ci95": c.interval(r.get("ci95"), 2) if r.get("ci95") else "—",
            "p_holm": c.pvalue(r.get("p_holm")),
            "verdict": "significant" if r.get("significant") else "not significant",
            "basis": r.get("basis", ""),
        }
        for r in rows
    ]


def gap_sentence(gap: dict) -> str:
    """The sentence a scientist pastes into a paper, with both figures and their CIs."""
    pct = " %"
    text = (
        f"{gap['new']} closed {c.num(gap.get('gap_closure_pct'))}{pct} "
        f"(95 % CI {c.interval(gap.get('gap_closure_ci95'), unit=pct)}) of the gap between "
        f"{gap['base']} and {gap['top']}, a relative improvement of "
        f"{c.num(gap.get('relative_improvement_pct'))}{pct} "
        f"(95 % CI {c.interval(gap.get('relative_improvement_ci95'), unit=pct)}) over "
        f"{gap['base']}."
    )
    if not c.is_missing(gap.get("gap_closure_pct")) and gap["gap_closure_pct"] < 0:
        text += f" (Negative: {gap['new']} scored below {gap['base']}.)"
    return text


def screening_view(result: dict, meta: ReportMeta) -> dict:
    screening = result.get("screening") or {}
    excluded = [
        {"listener": str(e["listener"]), "rule": e.get("rule", ""), "fraction": _pct(e)}
        for e in sorted(screening.get("excluded") or [], key=lambda e: c.natural_key(e["listener"]))
    ]
    rules = screening.get("rules") or []
    fast = RULE_FAST in rules  # the optional fast-rater rule ran (even with BS.1534-3 off)
    return {
        "on": c.screening_applied(result, meta) or fast,
        "rules": rules,
        "attention": RULE_ATTENTION in rules,  # the attention-check rule (issue 14) ran
        "fast": fast,
        "excluded": excluded,
        "unscreened": [
            {"listener": str(u["listener"]), "reason": u.get("reason", "")}
            for u in screening.get("unscreened") or []
        ],
    }


def _pct(exclusion: dict) -> str:
    fraction = exclusion.get("fraction")
    return c.MISSING if c.is_missing(fraction) else f"{100 * float(fraction):.1f} %"


def design_view(result: dict, ratings: pd.DataFrame, meta: ReportMeta, order: list) -> dict:
    return {
        "listeners_total": ratings["listener"].nunique(),
        "listeners_excluded": len(c.excluded_listeners(result)),
        "listeners": result.get("n_listeners"),
        "n_items": result.get("n_items"),
        "n_items_total": ratings["item"].nunique(),
        "n_ratings": _count(result.get("n_ratings")),
        "n_ratings_total": _count(len(ratings)),
        "roles": [(name, c.role(name, meta)) for name in order],
    }


def _count(value: object) -> str:
    return c.MISSING if c.is_missing(value) else f"{int(value):,}"


def stratum_view(stratum: dict, order: list[str]) -> dict:
    return {
        "title": f"{stratum['by']} = {stratum['value']}",
        "shared": ", ".join(str(n) for n in stratum.get("shared_conditions") or []),
        "n_ratings": stratum.get("n_ratings"),
        "n_listeners": stratum.get("n_listeners"),
        "n_items": stratum.get("n_items"),
        "conditions": descriptive_rows(stratum.get("conditions") or [], order),
        "pairwise": pairwise_rows(stratum.get("pairwise") or []),
        "pairwise_listener": pairwise_rows(stratum.get("pairwise_listener") or [], "n_listeners"),
        "omnibus": omnibus_text(stratum.get("omnibus")),
        "mixed": mixed_view(stratum.get("mixed_model"), order),
        "claims": claims_view(stratum.get("claims") or []),
        "gaps": [gap_sentence(g) for g in stratum.get("gaps") or []],
    }


def render_html_with_plots(
    result: dict, ratings: pd.DataFrame, meta: ReportMeta, plots: dict[str, str]
) -> str:
    """Render with plots made elsewhere (``write_report`` makes them once for HTML and SVG)."""
    order = c.condition_order(result, meta)
    context = {
        "meta": meta,
        "design": design_view(result, ratings, meta, order),
        "screening": screening_view(result, meta),
        "condition_plot": inline_svg(plots["conditions"]),
        "item_plot": inline_svg(plots["items"]),
        "conditions": descriptive_rows(result.get("conditions") or [], order),
        "pairwise": pairwise_rows(result.get("pairwise") or []),
        "pairwise_listener": pairwise_rows(result.get("pairwise_listener") or [], "n_listeners"),
        "legend": SIGNIFICANCE_LEGEND,
        "omnibus": omnibus_text(result.get("omnibus")),
        "mixed": mixed_view(result.get("mixed_model"), order),
        "claims": claims_view(result.get("claims") or []),
        "gaps": [gap_sentence(g) for g in result.get("gaps") or []],
        "strata": [stratum_view(s, order) for s in result.get("strata") or []],
        "objective": objective_view(result.get("objective"), order),
        "f0_plot": inline_svg(plots["f0"]) if plots.get("f0") else None,
        "methods": methods_paragraph(result, meta),
        "listener_checks": listener_checks(result.get("listener_checks")),
    }
    return _env().get_template("report.html.j2").render(**context)


def make_plots(result: dict, ratings: pd.DataFrame, meta: ReportMeta) -> dict[str, str]:
    """The report plots as SVG text, keyed "conditions", "items" and, when the test's F0 was
    measured, "f0"."""
    plots = {
        "conditions": condition_plot(result, ratings, meta),
        "items": item_plot(result, ratings, meta),
    }
    f0 = f0_plot(result.get("objective"), meta, c.condition_order(result, meta))
    if f0:
        plots["f0"] = f0
    return plots


def render_html(result: dict, ratings: pd.DataFrame, meta: ReportMeta) -> str:
    """The whole report as one self-contained HTML document."""
    return render_html_with_plots(result, ratings, meta, make_plots(result, ratings, meta))
