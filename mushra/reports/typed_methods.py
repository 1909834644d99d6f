"""The methods paragraph of an ACR, SMOS, CMOS, A/B or ABX report, in plain words.

As for MUSHRA (:mod:`mushra.reports.methods`), a number without its method cannot be judged: the
paragraph says what was computed and why (the unit of each test, what the interval accounts
for, the correction family, which screening rules ran and whom they excluded), and it is built
from the result only, so it never describes a test that did not run. Every sentence is plain
text; the page escapes it.
"""

from __future__ import annotations

SCREENING_OFF = "screening off"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _holm(rows: list[dict]) -> str:
    """Holm's family in words: the testable pairs, and those left out (the reason of each is
    printed under its table)."""
    left_out = sum(1 for r in rows if r.get("untestable"))
    text = (
        f"p-values are Holm-corrected across the {_plural(len(rows) - left_out, 'compared pair')} "
        "(the pairs declared before the test, or every pair when none was declared)"
    )
    if left_out:
        verb = "is" if left_out == 1 else "are"
        text += (
            f"; {_plural(left_out, 'pair')} whose test could not reach p < 0.05 whatever the "
            f"outcome {verb} reported but left out of the family, where it could only make the "
            "correction of the others harsher (the reason is given under the table)"
        )
    return text + "."


def _screening(data: dict) -> str:
    """The P.808 rules that ran, those skipped and why, and who was excluded by which rule."""
    screening = data.get("screening") or {}
    rules = [str(r) for r in screening.get("rules") or []]
    if not rules or all(r.startswith(SCREENING_OFF) for r in rules):
        return "Listeners were not screened (screening off): every listener was analysed. "
    applied = "; ".join(r for r in rules if "skipped" not in r)
    skipped = "".join(f"The {r[0].lower()}{r[1:]}. " for r in rules if "skipped" in r)
    excluded = screening.get("excluded") or []
    n_out = len({str(e["listener"]) for e in excluded})
    total = int(data.get("n_listeners") or 0) + n_out
    text = (
        "Before any statistic, listeners were screened with the ITU-T P.808 rules as Microsoft's "
        "P.808 toolkit applies them, with the listener as the unit (the ratings carry no HIT), so "
        f"that one failed check excludes the listener. Rules applied: {applied}. {skipped}"
    )
    if not n_out:
        text += f"None of the {_plural(total, 'listener')} was excluded. "
    else:
        reasons = "; ".join(f"{e['listener']}, {e['rule']}" for e in excluded)
        verb = "was" if n_out == 1 else "were"
        text += f"{n_out} of {_plural(total, 'listener')} {verb} excluded with all their ratings "
        text += f"({reasons}). "
    kept = len({str(u["listener"]) for u in screening.get("unscreened") or []})
    if kept:
        text += (
            f"{_plural(kept, 'kept listener')} could not be judged by every rule (listed with "
            "the reason under Listener screening). "
        )
    return text


def acr_methods(data: dict) -> str:
    measure = data.get("measure") or "MOS"
    what = "similarity to the target speaker" if data["test_type"] == "smos" else "quality"
    checks = data.get("n_checks") or {}
    n_checks = int(checks.get("gold") or 0) + int(checks.get("trap") or 0)
    n_ratings = f"{int(data.get('n_ratings') or 0):,}"
    check_text = (
        f"The {_plural(n_checks, 'check clip')} (gold and trapping questions) served the "
        f"screening only and enter no {measure}. "
        if n_checks
        else ""
    )
    return (
        f"Listeners rated the {what} of each clip on a five-point scale ({data.get('scale')}). "
        f"{_screening(data)}{check_text}"
        f"The {measure} of a condition is the mean of its analysed ratings ({n_ratings} "
        f"ratings by {_plural(int(data.get('n_listeners') or 0), 'listener')} in all). "
        "The 95 % confidence interval is clustered by listener: ratings of one listener are not "
        "independent (a harsh listener is harsh on every clip), so the standard error is "
        "cluster-robust (CR1) with listeners as clusters, and the interval uses a t quantile on "
        "(listeners − 1) degrees of freedom. Conditions were compared in pairs on listener "
        "means (each listener's mean of each condition, so that every listener counts once "
        "whatever number of clips they rated), paired over the listeners who rated both, with "
        "a two-sided Wilcoxon signed-rank test; effect sizes are the rank-biserial correlation "
        f"and Cohen's d_z. {_holm(data.get('pairwise') or [])}"
    )


def cmos_methods(data: dict) -> str:
    return (
        "Listeners heard two versions of a sentence, A then B, and rated how B compares with A "
        f"on the comparison category scale of ITU-T P.800 Annex E ({data.get('scale')}). The "
        "order of presentation was balanced; each judgement was put in its pair's reported "
        "orientation, the sign of a judgement presented the other way round being flipped. A "
        'pair is shown as "B vs A": its CMOS is the mean judgement of B against A (positive: '
        "B better). The 95 % confidence interval is clustered by listener: judgements of one "
        "listener are not independent, so the standard error is cluster-robust (CR1) with "
        "listeners as clusters and the interval uses a t quantile on (listeners − 1) degrees of "
        "freedom. Each listener's mean judgement of a pair was tested against 0 with a "
        "two-sided Wilcoxon signed-rank test (each listener counts once; a CMOS is not normally "
        "distributed and a few dozen listeners are too few to rely on normality). "
        f"{_holm(data.get('pairs') or [])} The order effect (the "
        "pair's mean when A was presented first and when B was) is information, not a test: a "
        "scale used evenly gives the same mean both ways, and a large difference shows that "
        "listeners favoured a position."
    )


def _bradley_terry(bt: dict | None) -> str:
    if not bt:
        return (
            " With two conditions the binomial test of their one pair says it all, so no "
            "Bradley–Terry strengths were estimated."
        )
    text = (
        " Bradley–Terry strengths put every condition on one scale (the probability that i is "
        "preferred to j is π_i/(π_i + π_j)), fitted by maximum likelihood; a no-preference "
        "judgement counts half a win for each of the two conditions. Log-strengths sum to zero, "
        "and their 95 % Wald intervals come from the Fisher information, again treating each "
        "judgement as independent; conditions are ranked by the lower bound of their interval, "
        "so a condition is placed high only when the data say so firmly."
    )
    if bt.get("undefined"):
        text += f" Here the strengths do not exist: {bt['undefined']}."
    return text


def ab_methods(data: dict) -> str:
    return (
        "Listeners heard two versions and chose the one they preferred, or no preference. Per "
        "pair, the shares of each answer are over all its judgements, and a two-sided exact "
        "binomial (sign) test compares the first condition's share of the decided judgements "
        "with 1/2; no-preference judgements carry no direction and are left out of the test. "
        "The binomial tests treat each judgement as independent, several judgements by one "
        "listener included (the usual convention of A/B tests in speech synthesis; when "
        "listeners differ in taste the p-values are smaller than they should be). "
        f"{_holm(data.get('pairs') or [])}"
        f"{_bradley_terry(data.get('bradley_terry'))}"
    )


def abx_methods(data: dict) -> str:
    return (
        "In each trial listeners heard A, B and X, a copy of A or of B, and said which one X "
        "was; chance is 1/2. The proportion correct is given over all trials, per pair and per "
        "listener, with its exact (Clopper–Pearson) 95 % interval, and each is tested with a "
        "one-sided exact binomial test against 1/2, since only doing better than chance means "
        "that listeners heard a difference. The binomial tests treat each trial as independent, "
        "a listener's repeated trials included (the convention of ABX tests). "
        f"{_holm(data.get('pairs') or [])} Per listener the p-values are uncorrected: "
        "they show who could hear the difference and back no claim."
    )


METHODS = {"acr": acr_methods, "smos": acr_methods, "cmos": cmos_methods, "ab": ab_methods,
           "abx": abx_methods}  # fmt: skip


def typed_methods(data: dict) -> str:
    """The methods paragraph of a result of one of the types above."""
    return METHODS[data["test_type"]](data)
