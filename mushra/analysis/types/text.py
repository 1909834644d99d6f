"""Plain-text renderings of the other test types' results (the dicts of ``TypedResult``), for
reading in a terminal; the tables share mushra.analysis.formats' helpers so that every type
looks alike."""

from __future__ import annotations

from mushra.analysis.formats import _ci, _num, _p, _p_eq, _pairwise, _table


def _sig(row: dict) -> str:
    return "*" if row["significant"] else ""


def _left_out(pairs: list[dict]) -> list[str]:
    return [
        f"  {p['a']} vs {p['b']}: left out of the Holm family ({p['untestable']})"
        for p in pairs
        if p.get("untestable")
    ]


def _screening(s: dict) -> list[str]:
    lines = ["Screening: " + "; ".join(s["rules"])]
    for e in s["excluded"]:
        lines.append(f"  excluded listener {e['listener']}: {e['rule']} ({e['fraction']:.0%})")
    for u in s.get("unscreened") or []:
        lines.append(f"  unscreened listener {u['listener']}: {u['reason']}")
    return lines


def acr_text(data: dict) -> list[str]:
    checks = data["n_checks"]
    lines = [
        f"{data['measure']} ({data['scale']})",
        f"{data['n_ratings']} ratings, {data['n_listeners']} listeners, {data['n_items']} items "
        f"(after screening; check clips: {checks['gold']} gold, {checks['trap']} trap)",
        *_screening(data["screening"]),
        "",
        f"Conditions ({data['interval']})",
    ]
    rows = [
        [c["condition"], str(c["n"]), str(c["n_listeners"]), _num(c["mean"], 2),
         _num(c["sd"], 2), _ci(c["ci95"], 2)]
        for c in sorted(data["conditions"], key=lambda c: -c["mean"])
    ]  # fmt: skip
    lines += _table(["condition", "n", "listeners", data["measure"], "sd", "95% CI"], rows)
    lines += ["", f"Wilcoxon signed-rank tests on {data['unit']}; Holm-corrected (* = p_holm < "
              "0.05), diff = a - b"]  # fmt: skip
    return lines + _pairwise(data["pairwise"], "n_listeners")


def cmos_text(data: dict) -> list[str]:
    lines = [
        f"CMOS of b against a: {data['scale']}",
        f"{data['n_ratings']} judgements, {data['n_listeners']} listeners, "
        f"{data['n_items']} items; {data['interval']}",
        f"Test: {data['unit']}; Holm-corrected (* = p_holm < 0.05)",
        "",
    ]
    rows = [
        [f"{p['b']} vs {p['a']}", str(p["n"]), str(p["n_listeners"]), _num(p["mean"], 2),
         _num(p["sd"], 2), _ci(p["ci95"], 2), _num(p["statistic"]), _p(p["p"]),
         _p(p["p_holm"]), _num(p["rank_biserial"], 3), _sig(p)]
        for p in data["pairs"]
    ]  # fmt: skip
    header = ["b vs a", "n", "listeners", "CMOS", "sd", "95% CI", "W", "p", "p (Holm)", "r_rb"]
    lines += _table([*header, "sig"], rows) + _left_out(data["pairs"])
    lines += ["", "Order effect (CMOS of b vs a when presented as a, b / as b, a):"]
    for p in data["pairs"]:
        one, two = p["order"]["as_reported"], p["order"]["reversed"]
        lines.append(
            f"  {p['b']} vs {p['a']}: {_num(one['mean'], 2)} (n {one['n']}) / "
            f"{_num(two['mean'], 2)} (n {two['n']})"
        )
    return lines


def _bradley_terry(bt: dict | None) -> list[str]:
    if bt is None:
        return []
    lines = ["", f"{bt['method']}; {bt['interval']}"]
    if bt["undefined"]:
        return lines + [f"  not estimated: {bt['undefined']}"]
    rows = [
        [str(c["rank"]), c["condition"], _num(c["log_strength"], 3), _ci(c["ci95"], 3),
         _num(c["strength"], 3)]
        for c in bt["conditions"]
    ]  # fmt: skip
    header = ["rank", "condition", "log-strength", "95% CI", "strength"]
    return lines + _table(header, rows) + ["(ranked by the lower bound of the CI)"]


def ab_text(data: dict) -> list[str]:
    lines = [
        f"A/B preference: {data['n_judgements']} judgements, {data['n_listeners']} listeners, "
        f"{data['n_items']} items; unit: {data['unit']}",
        f"Test: {data['test']}; Holm-corrected (* = p_holm < 0.05)",
        "",
    ]
    rows = [
        [f"{p['a']} vs {p['b']}", str(p["n"]), f"{p['share_a']:.0%}", f"{p['share_b']:.0%}",
         f"{p['share_none']:.0%}", _p(p["p"]), _p(p["p_holm"]), _sig(p)]
        for p in data["pairs"]
    ]  # fmt: skip
    header = ["a vs b", "n", "prefer a", "prefer b", "none", "p", "p (Holm)", "sig"]
    lines += _table(header, rows) + _left_out(data["pairs"])
    return lines + _bradley_terry(data["bradley_terry"])


def abx_text(data: dict) -> list[str]:
    o = data["overall"]
    lines = [
        f"ABX: {data['n_trials']} trials, {data['n_listeners']} listeners, {data['n_items']} "
        f"items; unit: {data['unit']}",
        f"Test: {data['test']}",
        f"Overall: {o['correct']} of {o['n']} correct ({o['proportion']:.0%}), p {_p_eq(o['p'])}",
        "",
        "Per pair, Holm-corrected (* = p_holm < 0.05)",
    ]
    rows = [
        [f"{p['a']} vs {p['b']}", str(p["n"]), str(p["correct"]), f"{p['proportion']:.0%}",
         _p(p["p"]), _p(p["p_holm"]), _sig(p)]
        for p in data["pairs"]
    ]  # fmt: skip
    lines += _table(["pair", "n", "correct", "share", "p", "p (Holm)", "sig"], rows)
    lines += _left_out(data["pairs"]) + ["", "Per listener (uncorrected)"]
    rows = [
        [str(r["listener"]), str(r["n"]), str(r["correct"]), f"{r['proportion']:.0%}", _p(r["p"])]
        for r in data["listeners"]
    ]
    return lines + _table(["listener", "n", "correct", "share", "p"], rows)


RENDERERS = {"acr": acr_text, "smos": acr_text, "cmos": cmos_text, "ab": ab_text, "abx": abx_text}


def typed_text(data: dict) -> str:
    """The result of an ACR, SMOS, CMOS, A/B or ABX analysis as terminal text."""
    lines = RENDERERS[data["test_type"]](data)
    lines += [f"Note: {note}" for note in data.get("notes") or []]
    return "\n".join(lines) + "\n"
