"""Reports of the test types beside MUSHRA (ACR, SMOS, CMOS, A/B, ABX): SVG, HTML and PDF.

Pure, as :mod:`mushra.reports` is: the input is the result's JSON layout
(``mushra.analysis.types.TypedResult.to_dict()``, starting with ``test_type``), so the same
report comes out of the web app, a worker or a JSON file read back years later. The page is
self-contained (inline CSS and the figure's SVG inline, nothing fetched) and every name from the
data is escaped by the template's autoescaping; numbers are formatted here with the MUSHRA
report's helpers (:mod:`mushra.reports.common`) so that both reports print p-values and
intervals alike. The figure is :mod:`.typed_plots`, the methods paragraph :mod:`.typed_methods`.
"""

from __future__ import annotations

from mushra.reports import common as c
from mushra.reports.html import SIGNIFICANCE_LEGEND, inline_svg
from mushra.reports.pdf import render_pdf
from mushra.reports.typed_methods import typed_methods
from mushra.reports.typed_plots import pct, plot_for, proportion_ci, typed_plot_svg
from mushra.reports.typed_template import page

__all__ = ["typed_plot_svg", "typed_report_html", "typed_report_pdf"]

TYPE_NAMES = {
    "acr": "ACR: absolute category rating of quality, MOS (ITU-T P.800 / P.808)",
    "smos": "SMOS: similarity to the target speaker on a five-point scale",
    "cmos": "CMOS: comparison category rating, −3 to +3 (ITU-T P.800 Annex E)",
    "ab": "A/B preference with “no preference”",
    "abx": "ABX discrimination",
}
COUNTS = {"acr": ("n_ratings", "Ratings"), "smos": ("n_ratings", "Ratings"),
          "cmos": ("n_ratings", "Judgements"), "ab": ("n_judgements", "Judgements"),
          "abx": ("n_trials", "Trials")}  # fmt: skip
CAPTIONS = {
    "acr": "Point: MOS of the condition's analysed ratings; bar: 95 % CI clustered by listener; "
    "right: the ACR category names.",
    "smos": "Point: similarity MOS of the condition's analysed ratings; bar: 95 % CI clustered "
    "by listener.",
    "cmos": "One row per pair, “B vs A”. Point: mean judgement of B against A (positive: B "
    "better); bar: 95 % CI clustered by listener; the value at the right.",
    "ab": "Each bar: the shares of a pair's judgements preferring the left-hand condition, no "
    "preference and the right-hand condition (dotted: 50 %). Below, when estimated: "
    "Bradley–Terry log-strengths with 95 % Wald intervals, by rank.",
    "abx": "Point: proportion of trials answered correctly; bar: exact (Clopper–Pearson) 95 % "
    "interval; dashed line: chance (0.5); at the right: correct of all trials.",
}
NAME, NUM, SIG = "name", "num", "sig"


def _table(table_id: str, columns: list[tuple[str, str]], rows: list[list], notes=()) -> dict:
    """A table for the template: each cell paired with its column's class."""
    classes = [cls for _, cls in columns]
    cells = [[(str(v), cls) for v, cls in zip(row, classes, strict=True)] for row in rows]
    return {"id": table_id, "columns": columns, "rows": cells, "notes": list(notes)}


def _count(value: object) -> str:
    return c.MISSING if c.is_missing(value) else f"{int(value):,}"


def _pct_ci(ci: list[float] | None) -> str:
    return c.interval([100 * b for b in ci], 1, " %") if ci else c.MISSING


def _left_out(rows: list[dict], b_first: bool = False) -> list[str]:
    """Why each untestable pair is outside Holm's family; ``b_first`` names a pair as the CMOS
    table does ("B vs A")."""
    notes = []
    for r in rows:
        if r.get("untestable"):
            pair = f"{r['b']} vs {r['a']}" if b_first else f"{r['a']} vs {r['b']}"
            notes.append(f"{pair}: left out of the Holm family ({r['untestable']}).")
    return notes


def _tests(r: dict) -> list[str]:
    return [c.pvalue(r.get("p")), c.pvalue(r.get("p_holm")), c.stars(r.get("p_holm"))]


TEST_COLUMNS = [("p", NUM), ("p (Holm)", NUM), ("", SIG)]


def _condition_names(data: dict) -> list[str]:
    if data["test_type"] in ("acr", "smos"):
        return [str(r["condition"]) for r in data.get("conditions") or []]
    names = [str(p[k]) for p in data.get("pairs") or [] for k in ("a", "b")]
    return list(dict.fromkeys(names))


def screened(data: dict) -> bool:
    """True when the P.808 rules ran (not with --no-screening)."""
    rules = (data.get("screening") or {}).get("rules") or []
    return any(not str(r).startswith("screening off") for r in rules)


def design_rows(data: dict) -> list[tuple[str, str]]:
    test_type = data["test_type"]
    key, word = COUNTS[test_type]
    listeners = _count(data.get("n_listeners"))
    if test_type in ("acr", "smos"):
        out = len({str(e["listener"]) for e in (data.get("screening") or {}).get("excluded") or []})
        listeners += (
            f" analysed, {out} excluded by screening" if screened(data) else " (no screening)"
        )
    names = _condition_names(data)
    rows = [
        ("Test type", TYPE_NAMES[test_type]),
        ("Listeners", listeners),
        ("Items", _count(data.get("n_items"))),
        (word, _count(data.get(key))),
        ("Conditions", f"{len(names)}: {', '.join(names)}"),
    ]
    if test_type in ("acr", "smos"):
        checks = data.get("n_checks") or {}
        rows.append(("Check clips", f"{checks.get('gold', 0)} gold, {checks.get('trap', 0)} trap"))
    return rows


def screening_view(data: dict) -> dict:
    """The P.808 rules that ran, and tables of the excluded and of the unjudged listeners."""
    screening = data.get("screening") or {}
    excluded = [
        [e["listener"], e.get("rule", ""), pct(e.get("fraction"), 1)]
        for e in screening.get("excluded") or []
    ]
    head = [("Excluded listener", NAME), ("Rule", ""), ("Fraction", NUM)]
    note = (
        "Fraction: of the listener's check clips of that kind answered wrongly; for the variance "
        "rule, of their ratings equal to their most common score."
    )
    unjudged = [[u["listener"], u.get("reason", "")] for u in screening.get("unscreened") or []]
    unjudged_head = [("Kept but not screened", NAME), ("Why", "")]
    return {
        "on": screened(data),
        "rules": screening.get("rules") or [],
        "excluded": _table("excluded", head, excluded, [note]) if excluded else None,
        "unscreened": _table("unscreened", unjudged_head, unjudged) if unjudged else None,
    }


def acr_sections(data: dict) -> list[dict]:
    measure = data.get("measure") or "MOS"
    rows = [
        [r["condition"], _count(r.get("n")), _count(r.get("n_listeners")),
         c.num(r.get("mean"), 2), c.num(r.get("sd"), 2), c.interval(r.get("ci95"), 2)]
        for r in data.get("conditions") or []
    ]  # fmt: skip
    head = [("Condition", NAME), ("Ratings", NUM), ("Listeners", NUM), (measure, NUM),
            ("SD", NUM), ("95 % CI", NUM)]  # fmt: skip
    conditions = _table("conditions", head, rows, [f"95 % CI: {data.get('interval')}."])
    pairs = data.get("pairwise") or []
    rows = [
        [p["a"], p["b"], _count(p.get("n_listeners")), c.num(p.get("mean_diff"), 2),
         c.num(p.get("statistic"), 1), *_tests(p), c.num(p.get("rank_biserial"), 2),
         c.num(p.get("d_z"), 2)]
        for p in pairs
    ]  # fmt: skip
    head = [("A", NAME), ("B", NAME), ("Listeners", NUM), ("Mean diff. A − B", NUM), ("W", NUM),
            *TEST_COLUMNS, ("Rank-biserial r", NUM), ("d_z", NUM)]  # fmt: skip
    notes = [*_left_out(pairs), f"{SIGNIFICANCE_LEGEND} Wilcoxon signed-rank tests on listener "
             "means; rank-biserial r > 0 means A was rated higher."]  # fmt: skip
    return [
        {"title": f"{measure} per condition", "intro": [], "tables": [conditions]},
        {"title": "Pairwise comparisons", "intro": [],
         "tables": [_table("pairwise", head, rows, notes)]},
    ]  # fmt: skip


def _order_cell(side: dict | None) -> str:
    side = side or {}
    return f"{c.num(side.get('mean'), 2)} (n {_count(side.get('n'))})"


def cmos_sections(data: dict) -> list[dict]:
    pairs = data.get("pairs") or []
    rows = [
        [f"{p['b']} vs {p['a']}", _count(p.get("n")), _count(p.get("n_listeners")),
         c.num(p.get("mean"), 2), c.num(p.get("sd"), 2), c.interval(p.get("ci95"), 2),
         c.num(p.get("statistic"), 1), *_tests(p), c.num(p.get("rank_biserial"), 2)]
        for p in pairs
    ]  # fmt: skip
    head = [("B vs A", NAME), ("n", NUM), ("Listeners", NUM), ("CMOS", NUM), ("SD", NUM),
            ("95 % CI", NUM), ("W", NUM), *TEST_COLUMNS, ("Rank-biserial r", NUM)]  # fmt: skip
    legend = (
        f"{SIGNIFICANCE_LEGEND} CMOS > 0: B better than A. Wilcoxon signed-rank test of the "
        "listener means against 0; n: judgements."
    )
    notes = [*_left_out(pairs, b_first=True), legend]
    order = [
        [f"{p['b']} vs {p['a']}", _order_cell((p.get("order") or {}).get("as_reported")),
         _order_cell((p.get("order") or {}).get("reversed"))]
        for p in pairs
    ]  # fmt: skip
    order_head = [("B vs A", NAME), ("A presented first", NUM), ("B presented first", NUM)]
    return [
        {"title": "CMOS per pair", "intro": [],
         "tables": [_table("cmos-pairs", head, rows, notes)]},
        {"title": "Order of presentation", "intro": [],
         "tables": [_table("order", order_head, order, ["CMOS of B against A (n judgements) "
                                                        "for each order; information only."])]},
    ]  # fmt: skip


def _share(count: object, share: object) -> str:
    return f"{_count(count)} ({pct(share, 1)})"


def bradley_terry_section(bt: dict | None) -> dict | None:
    if bt is None:
        return None
    if bt.get("undefined") or not bt.get("conditions"):
        return {"title": "Bradley–Terry strengths", "tables": [],
                "intro": [f"Not estimated: {bt.get('undefined') or 'no strengths'}."]}  # fmt: skip
    rows = [
        [_count(r.get("rank")), r["condition"], c.num(r.get("log_strength"), 2),
         c.interval(r.get("ci95"), 2), c.num(r.get("strength"), 2)]
        for r in bt["conditions"]
    ]  # fmt: skip
    head = [("Rank", NUM), ("Condition", NAME), ("Log-strength", NUM), ("95 % CI", NUM),
            ("Strength", NUM)]  # fmt: skip
    note = (
        "Ranked by the lower bound of the 95 % CI. Strength = exp(log-strength); the strengths "
        "have a geometric mean of 1, and the probability that i is preferred to j is "
        "strength_i / (strength_i + strength_j)."
    )
    return {"title": "Bradley–Terry strengths", "intro": [],
            "tables": [_table("bradley-terry", head, rows, [note])]}  # fmt: skip


def ab_sections(data: dict) -> list[dict]:
    pairs = data.get("pairs") or []
    rows = [
        [p["a"], p["b"], _count(p.get("n")), _share(p.get("n_a"), p.get("share_a")),
         _share(p.get("n_none"), p.get("share_none")), _share(p.get("n_b"), p.get("share_b")),
         pct(p.get("share_a_decided"), 1), *_tests(p)]
        for p in pairs
    ]  # fmt: skip
    head = [("A", NAME), ("B", NAME), ("Judgements", NUM), ("Prefer A", NUM),
            ("No preference", NUM), ("Prefer B", NUM), ("A's share of decided", NUM),
            *TEST_COLUMNS]  # fmt: skip
    notes = [*_left_out(pairs), f"{SIGNIFICANCE_LEGEND} Two-sided exact binomial test of A's "
             "share of the decided judgements against 50 %."]  # fmt: skip
    sections = [{"title": "Preference per pair", "intro": [],
                 "tables": [_table("preference", head, rows, notes)]}]  # fmt: skip
    bt = bradley_terry_section(data.get("bradley_terry"))
    return sections + ([bt] if bt else [])


def _correct_row(r: dict) -> list[str]:
    return [_count(r.get("n")), _count(r.get("correct")), pct(r.get("proportion"), 1),
            _pct_ci(proportion_ci(r))]  # fmt: skip


def _p_is(p: object) -> str:
    """ "= 0.012" or "< 0.001", to follow a "p"."""
    text = c.pvalue(p)
    return text if text.startswith("<") else f"= {text}"


def abx_sections(data: dict) -> list[dict]:
    o = data.get("overall") or {}
    overall = (
        f"Over all trials: {_count(o.get('correct'))} of {_count(o.get('n'))} correct "
        f"({pct(o.get('proportion'), 1)}, 95 % CI {_pct_ci(proportion_ci(o))}), one-sided "
        f"p {_p_is(o.get('p'))}."
    )
    pairs = data.get("pairs") or []
    rows = [[p["a"], p["b"], *_correct_row(p), *_tests(p)] for p in pairs]
    count_head = [("Trials", NUM), ("Correct", NUM), ("Proportion", NUM), ("95 % CI", NUM)]
    head = [("A", NAME), ("B", NAME), *count_head, *TEST_COLUMNS]
    notes = [*_left_out(pairs), f"{SIGNIFICANCE_LEGEND} One-sided exact binomial test against "
             "50 % (chance); 95 % CI: exact (Clopper–Pearson)."]  # fmt: skip
    listeners = [
        [r["listener"], *_correct_row(r), c.pvalue(r.get("p"))] for r in data.get("listeners") or []
    ]
    listener_head = [("Listener", NAME), *count_head, ("p (uncorrected)", NUM)]
    return [
        {"title": "Proportion correct", "intro": [overall],
         "tables": [_table("abx-pairs", head, rows, notes)]},
        {"title": "Per listener", "intro": [],
         "tables": [_table("abx-listeners", listener_head, listeners, [
             "Uncorrected: shows who could hear the difference; backs no claim."])]},
    ]  # fmt: skip


SECTIONS = {"acr": acr_sections, "smos": acr_sections, "cmos": cmos_sections, "ab": ab_sections,
            "abx": abx_sections}  # fmt: skip


def typed_report_html(data: dict, *, title: str, source: str, question: str = "") -> str:
    """The report of an ACR, SMOS, CMOS, A/B or ABX result as one self-contained HTML page."""
    figure = plot_for(data)(data)  # refuses MUSHRA and unknown types with an AnalysisError
    test_type = data["test_type"]
    return page().render(
        title=title,
        source=source,
        question=question,
        design=design_rows(data),
        screening=screening_view(data) if test_type in ("acr", "smos") else None,
        figure=inline_svg(figure),
        caption=CAPTIONS[test_type],
        sections=SECTIONS[test_type](data),
        notes=[str(n) for n in data.get("notes") or []],
        methods=typed_methods(data),
    )


def typed_report_pdf(html: str) -> bytes:
    """The PDF of a page from :func:`typed_report_html` (WeasyPrint, as the MUSHRA report)."""
    return render_pdf(html)
