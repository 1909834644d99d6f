"""Plain-text and CSV renderings of an analysis result (the dict of ``Result.to_dict()``).

Text is for reading in a terminal; CSV is the per-condition table (one row per condition, and per
condition and stratum with ``--by``) for a spreadsheet. HTML and PDF live in ``mushra.reports``.
"""

from __future__ import annotations

import csv
import io


def _num(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _p(value) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _p_eq(value) -> str:
    """'= 0.012' or '< 0.001', for p-values inside a sentence."""
    shown = _p(value)
    return shown.replace("<", "< ") if shown.startswith("<") else f"= {shown}"


def _ci(pair, digits: int = 1) -> str:
    return f"[{_num(pair[0], digits)}, {_num(pair[1], digits)}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*header), *(fmt.format(*row) for row in rows)]


def _conditions(conditions: list[dict]) -> list[str]:
    rows = [
        [
            c["condition"],
            str(c["n"]),
            _num(c["mean"]),
            _num(c["sd"]),
            _num(c["median"]),
            _ci(c["iqr"]),
            _ci(c["ci95"]),
            _ci(c["ci95_bootstrap"]),
        ]
        for c in sorted(conditions, key=lambda c: -(c["mean"] or 0))
    ]
    header = ["condition", "n", "mean", "sd", "median", "IQR", "95% CI (t)", "95% CI (boot)"]
    return _table(header, rows)


def _pairwise(pairs: list[dict], count: str = "n_pairs") -> list[str]:
    """The table of one family of paired tests; ``count`` is its unit (pairs or listeners), and
    the listener family adds Cohen's d_z."""
    if not pairs:
        return ["(no pairs compared)"]
    d_z = "d_z" in pairs[0]
    rows = [
        [
            f"{p['a']} vs {p['b']}",
            str(p[count]),
            _num(p["mean_diff"]),
            _num(p["statistic"]),
            _p(p["p"]),
            _p(p["p_holm"]),
            _num(p["rank_biserial"], 3),
            *([_num(p["d_z"], 2)] if d_z else []),
            "*" if p["significant"] else "",
        ]
        for p in pairs
    ]
    header = ["pair", "n", "diff", "W", "p", "p (Holm)", "r_rb", *(["d_z"] if d_z else []), "sig"]
    lines = _table(header, rows)
    return lines + [
        f"  {p['a']} vs {p['b']}: left out of the Holm family ({p['untestable']})"
        for p in pairs
        if p.get("untestable")
    ]


def _friedman(om: dict) -> str:
    if om["statistic"] is None:
        return (
            f"Friedman: not computed, {om['n_blocks']} complete (listener, item) blocks "
            "(it needs at least 2)"
        )
    return (
        f"Friedman: chi2 = {_num(om['statistic'], 2)}, p {_p_eq(om['p'])}, "
        f"Kendall's W = {_num(om['kendall_w'], 3)} on {om['n_blocks']} complete blocks"
    )


def _body(data: dict) -> list[str]:
    lines = ["", "Conditions (mean over ratings; CIs treat the listener as the unit)"]
    lines += _conditions(data["conditions"])
    lines += ["", "Paired Wilcoxon signed-rank tests, Holm-corrected (* = p_holm < 0.05)"]
    lines += _pairwise(data["pairwise"])
    if data.get("pairwise_listener"):
        lines += ["", "The same on listener means (n = listeners), Holm-corrected on their own"]
        lines += _pairwise(data["pairwise_listener"], "n_listeners")
    lines += ["", _friedman(data["omnibus"])]
    mm = data["mixed_model"]
    if mm:
        vc = mm["variance_components"]
        lines += ["", f"Mixed model (REML): {mm['formula']}"]
        lines += _table(
            ["condition", "estimate", "95% CI", "p"],
            [
                [e["condition"], _num(e["estimate"], 2), _ci(e["ci95"], 2), _p(e["p"])]
                for e in mm["effects"]
            ],
        )
        lines.append("variance: " + ", ".join(f"{k} {_num(v, 2)}" for k, v in vc.items()))
    for g in data["gaps"]:
        lines += [
            "",
            f"{g['new']} closes {_num(g['gap_closure_pct'])} % {_ci(g['gap_closure_ci95'])} of the "
            f"gap from {g['base']} to {g['top']}; relative improvement over {g['base']} "
            f"{_num(g['relative_improvement_pct'])} % {_ci(g['relative_improvement_ci95'])}",
        ]
    return lines


def _shared(stratum: dict) -> str:
    names = stratum.get("shared_conditions") or []
    return f" (shared by every stratum: {', '.join(names)})" if names else ""


def text(data: dict) -> str:
    """The whole result as terminal text."""
    s = data["screening"]
    lines = [
        f"{data['n_ratings']} ratings, {data['n_listeners']} listeners, {data['n_items']} items "
        "(after screening)",
        "Screening: " + "; ".join(s["rules"]),
    ]
    for e in s["excluded"]:
        lines.append(f"  excluded listener {e['listener']}: {e['rule']} ({e['fraction']:.0%})")
    for u in s.get("unscreened") or []:
        lines.append(f"  unscreened listener {u['listener']}: {u['reason']}")
    lines += _body(data)
    for stratum in data["strata"]:
        lines += [
            "",
            f"=== {stratum['by']} = {stratum['value']}: {stratum['n_ratings']} ratings, "
            f"{stratum['n_listeners']} listeners, {stratum['n_items']} items" + _shared(stratum),
        ]
        lines += _body(stratum)
    return "\n".join(lines) + "\n"


CSV_COLUMNS = [
    "by",
    "value",
    "condition",
    "n",
    "mean",
    "sd",
    "median",
    "iqr_low",
    "iqr_high",
    "ci95_low",
    "ci95_high",
    "ci95_bootstrap_low",
    "ci95_bootstrap_high",
]


def _csv_rows(conditions: list[dict], by: str, value: str):
    for c in conditions:
        yield [by, value, c["condition"], c["n"], c["mean"], c["sd"], c["median"], *c["iqr"]] + [
            *c["ci95"],
            *c["ci95_bootstrap"],
        ]


def csv_table(data: dict) -> str:
    """Per-condition descriptives; stratum rows carry their column and value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(data["conditions"], "", ""))
    for stratum in data["strata"]:
        writer.writerows(_csv_rows(stratum["conditions"], stratum["by"], stratum["value"]))
    return out.getvalue()
