"""The methods paragraph: what was computed, in words a reviewer can check.

Reports get pasted into papers; a number without its method (unit of analysis, correction
family, bootstrap size and seed) cannot be reproduced or judged. The paragraph is built only
from what the result actually contains, so it never describes a test that was not run.
"""

from __future__ import annotations

from mushra.analysis.claims import CONFIRMATORY
from mushra.analysis.pairwise import MIN_NONZERO
from mushra.analysis.screening import RULE_ATTENTION
from mushra.analysis.timing import RULE_FAST
from mushra.reports.common import friedman_k, is_missing, natural_key, screening_applied
from mushra.reports.meta import ReportMeta


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _bootstrap(result: dict, meta: ReportMeta) -> str:
    seed = f"seed {meta.seed}" if meta.seed is not None else "no fixed seed"
    if (result.get("bootstrap") or {}).get("items_random"):
        return (
            f"{meta.n_boot:,} two-way bootstrap resamples that drew listeners and items "
            f"independently, the items being a sample too ({seed}; mildly conservative, as it "
            "counts the residual variance three times)"
        )
    return f"{meta.n_boot:,} bootstrap resamples of listeners as clusters ({seed})"


def _interval(result: dict) -> str:
    """The bootstrap interval in words: expanded BCa since issue 15; a result without the
    "bootstrap" key was computed before it, with percentile intervals."""
    if not result.get("bootstrap"):
        return "a percentile interval"
    return (
        "an expanded BCa interval (Efron's bias-corrected and accelerated percentiles, "
        "acceleration from the leave-one-listener-out jackknife, with the normal quantile "
        "widened to √(n/(n − 1))·t(n − 1) as in Hesterberg's expanded percentile interval, "
        "which keeps the 95 % coverage with few listeners)"
    )


def _screening(result: dict, meta: ReportMeta) -> str:
    screening = result.get("screening") or {}
    fast = _fast(screening)
    if not screening_applied(result, meta):
        why = "; ".join(r for r in screening.get("rules") or [] if r != RULE_FAST)
        text = f"Listeners were not post-screened ({why or 'screening off'})"
        return f"{text}. {fast}" if fast else f"{text}; every listener was analysed."
    other = (RULE_FAST, RULE_ATTENTION)
    rules = "; ".join(r for r in screening.get("rules") or [] if r not in other) or "none"
    n_out = len({str(e["listener"]) for e in screening.get("excluded") or []})
    total = int(result.get("n_listeners") or 0) + n_out
    return (
        "Before any statistic, listeners were post-screened following ITU-R BS.1534-3 §4.1.2 "
        f"(rules: {rules}){_attention(screening)}; {n_out} of {_plural(total, 'listener')} "
        f"{'was' if n_out == 1 else 'were'} excluded, with all their ratings. "
        f"{_unscreened(screening)}{fast}"
    )


def _unscreened(screening: dict) -> str:
    """Kept listeners a rule could not judge (e.g. no hidden-reference rating), when any."""
    n = len({str(u["listener"]) for u in screening.get("unscreened") or []})
    if not n:
        return ""
    return (
        f"{_plural(n, 'kept listener')} could not be judged by every rule (no rating of the "
        "condition a rule looks at; listed with the reason under Listener screening) and "
        f"{'was' if n == 1 else 'were'} kept. "
    )


def _attention(screening: dict) -> str:
    """The attention-check rule (issue 14, mushra.analysis.screening) in words, when it ran,
    naming the listeners it excluded."""
    if RULE_ATTENTION not in (screening.get("rules") or []):
        return ""
    excluded = screening.get("excluded") or []
    out = {str(e["listener"]) for e in excluded if e["rule"] == RULE_ATTENTION}
    who = ", ".join(sorted(out, key=natural_key)) if out else "none"
    return (
        " and on attention checks: a listener who failed more than 15 % of their catch trials "
        "(a clearly degraded copy of the reference, to be rated below the hidden reference) was "
        f"excluded (by this rule: {who})"
    )


def _fast(screening: dict) -> str:
    """The optional fast-rater rule (mushra.analysis.timing), when it ran."""
    if RULE_FAST not in (screening.get("rules") or []):
        return ""
    n = len({str(e["listener"]) for e in screening.get("excluded") or [] if e["rule"] == RULE_FAST})
    return (
        "Listeners who rated faster than the audio (time on a trial, from the server's clock, "
        "shorter than its signals each played once) on more than 15 % of their trials were "
        f"excluded too: {_plural(n, 'listener')}. "
    )


def _descriptives(result: dict, meta: ReportMeta) -> str:
    n_l = int(result.get("n_listeners") or 0)
    n_ratings = int(result.get("n_ratings") or 0)
    listeners = _plural(n_l, "kept listener" if meta.screening else "listener")
    items = _plural(int(result.get("n_items") or 0), "item")
    return (
        f"The analysis covers {n_ratings:,} ratings by {listeners} on {items}. "
        "Per condition, n, mean, SD, median and interquartile range are over individual "
        "ratings. The 95 % CI is a t interval on per-listener means (n_listeners − 1 = "
        f"{max(n_l - 1, 0)} degrees of freedom when every listener rated the condition), so the "
        f"listener is the unit of analysis; the bootstrap CI is {_interval(result)} of the "
        f"pooled mean over {_bootstrap(result, meta)}."
    )


def _family(rows: list[dict]) -> str:
    """Holm's m in words: the testable comparisons, and why the others were left out."""
    left_out = sum(1 for r in rows if r.get("untestable"))
    m = f"m = {_plural(len(rows) - left_out, 'comparison')}"
    if not left_out:
        return m
    return (
        f"{m} ({left_out} left out: with fewer than {MIN_NONZERO} non-zero differences no "
        "outcome of the test could reach p < 0.05)"
    )


def _pairwise(result: dict) -> str:
    rows = result.get("pairwise") or []
    m = len(rows)
    which = "The declared comparison" if m == 1 else f"Each of the {m} declared comparisons"
    text = (
        f"{which} paired the two scores a listener gave on the same item ((listener, item) "
        "pairs) and used a two-sided Wilcoxon signed-rank test with scipy's defaults: zero "
        "differences dropped (zero_method='wilcox'); the exact null distribution for at most 50 "
        "pairs without ties or zeros, a permutation distribution for at most 13 pairs with ties "
        "or zeros, the normal approximation otherwise. p-values were Holm–Bonferroni corrected "
        f"across this family of {_family(rows)} and a difference is called "
        "significant when the corrected p is below 0.05. The effect size is the matched-pairs "
        "rank-biserial correlation (R+ − R−)/(R+ + R−) over non-zero differences; positive "
        "means the first condition was rated higher. Pairing by (listener, item) treats a "
        "listener's items as independent, which makes p-values optimistic"
    )
    model = result.get("mixed_model")
    if not model:
        return text + "."
    if "listener:condition" in str(model.get("formula", "")):
        return text + "; the mixed model below does not."
    return text + "; the confirmatory mixed model (--mixed-model full) does not."


def _pairwise_listener(result: dict) -> str:
    rows = result.get("pairwise_listener") or []
    return (
        "The same comparisons were also tested with the listener as the unit, so that each "
        "listener counts once: each listener's mean score for the two conditions over the items "
        "on which they rated both, compared over listeners with the same two-sided Wilcoxon "
        f"signed-rank test, Holm–Bonferroni corrected as a family of its own ({_family(rows)}); "
        "effect sizes are the rank-biserial correlation and Cohen's d_z (mean over SD of the "
        "listeners' differences)."
    )


def _omnibus(result: dict, meta: ReportMeta) -> str:
    omnibus = result.get("omnibus") or {}
    blocks = omnibus.get("n_blocks")
    if is_missing(omnibus.get("statistic")):
        return (
            "A Friedman test needs at least two complete (listener, item) blocks, in which every "
            f"condition was rated; there were {0 if is_missing(blocks) else int(blocks)}, so it "
            "was not run."
        )
    k = friedman_k(omnibus)
    names = [str(r["condition"]) for r in result.get("conditions") or []]
    systems = [n for n in names if n != meta.reference and n not in meta.anchors]
    if k is None:
        which = "the conditions"
    elif k == len(systems) < len(names):
        which = f"the {k} conditions under test (hidden reference and anchors left out)"
    else:
        which = f"{k} conditions"
    return (
        f"A Friedman test compared {which} on the {int(blocks)} complete (listener, item) "
        "blocks in which each of them was rated, with Kendall's W = χ²/(n(k − 1)) as its "
        "effect size."
    )


def _inference(model: dict) -> str:
    """How the model's tests were made, and its flags, in words."""
    text = (
        "its fixed effects are tested with t statistics on Satterthwaite degrees of freedom "
        "(as lmerTest computes them), which carry the uncertainty of the variance components "
        "into the p-values and 95 % CIs"
    )
    if model.get("comparisons"):
        text += (
            f", and the {_plural(len(model['comparisons']), 'declared comparison')} are "
            "contrasts of the model's condition means, Holm–Bonferroni corrected as a family"
        )
    if model.get("singular"):
        text += "; the fit is singular (a variance component is estimated at zero)"
    if model.get("converged") is False:
        text += "; the optimiser did not meet lme4's convergence tolerance"
    return text


def _mixed(result: dict) -> str:
    model = result["mixed_model"]
    formula = str(model.get("formula"))
    if "listener:condition" in formula:  # mushra.analysis.lmm_interactions
        return (
            f"A linear mixed model, {formula}, was fitted by REML (four variance components; "
            "profiled REML from sufficient statistics, which agrees with lme4) on the "
            "conditions under test, so each listener's and each item's preference for a "
            f"condition is modelled rather than treated as noise; {_inference(model)}."
        )
    return (
        f"A linear mixed model, {formula}, was fitted by REML with crossed random "
        f"intercepts for listener and item; {_inference(model)}. The model has no "
        "listener-by-condition term, so a listener's own preferences count as residual noise "
        "and its p-values are optimistic (the confirmatory model, --mixed-model full, adds "
        "those terms)."
    )


def _claims(result: dict) -> str:
    """Which test backs the claims, and why (mushra.analysis.claims)."""
    bases = sorted({str(r.get("basis")) for r in result.get("claims") or []})
    if not bases:
        return ""
    confirmatory = any(b == CONFIRMATORY for b in bases)
    text = (
        "Claims of a difference (the Claims table) rest on one test per comparison, fixed "
        "before the data were seen: the confirmatory mixed model where it was fitted, because "
        "it treats both listeners and items as samples and a listener's taste for a system as "
        "noise, so its conclusions generalise to new listeners and sentences, as reviewers "
        "expect; otherwise the Wilcoxon tests on listener means, which count each listener "
        "once. The tests on (listener, item) pairs and the random-intercepts model are shown "
        "for comparison with common practice and back no claim"
    )
    if not confirmatory:
        text += (
            "; the confirmatory model was not fitted here (--mixed-model full, the platform's "
            "default, fits it)"
        )
    return text + "."


def _top(name: str, meta: ReportMeta) -> str:
    """The gap's upper bound in words: "recordings" only when it is the hidden reference (the
    top may be another condition, e.g. copy-synthesis, and must not be called recordings)."""
    if name == meta.reference:
        return f"{name} (the hidden reference, i.e. the recordings)"
    return name


def _gaps(result: dict, meta: ReportMeta) -> str:
    tops = sorted({str(g["top"]) for g in result["gaps"]})
    return (
        "Gap closure G = (S_new − S_base)/(S_top − S_base)·100, with S_top the mean of "
        f"{' or '.join(_top(t, meta) for t in tops)} as the top, and relative improvement "
        "R = (S_new − S_base)/S_base·100 are computed on pooled condition means (means over "
        f"ratings); their 95 % CIs are each {_interval(result)} over "
        f"{_bootstrap(result, meta)}, all three means taken from the same resample."
    )


def _strata(result: dict, meta: ReportMeta) -> str:
    strata = result["strata"]
    columns = sorted({str(s["by"]) for s in strata}) or meta.by
    text = f"The same statistics were computed again within each value of {', '.join(columns)}"
    shared = {}
    for s in strata:
        shared.setdefault(str(s["by"]), set()).update(s.get("shared_conditions") or [])
    rules = [f"{', '.join(sorted(n))} in every value of {by}" for by, n in shared.items() if n]
    if not rules:
        return text + "."
    return (
        f"{text}. A condition with no value of its own in a column (as it has no such "
        "synthesis-condition key) is shared and counted in every stratum of that column "
        f"({'; '.join(rules)}), "
        "so each stratum compares its own systems against the same shared conditions; a stratum "
        "reports the comparisons and gap figures whose conditions were all rated in it, with "
        "Holm's correction across that stratum's comparisons."
    )


def methods_paragraph(result: dict, meta: ReportMeta) -> str:
    """One paragraph describing exactly the parts present in ``result``."""
    parts = [_screening(result, meta)]
    parts.append(_descriptives(result, meta))
    if result.get("pairwise"):
        parts.append(_pairwise(result))
    if result.get("pairwise_listener"):
        parts.append(_pairwise_listener(result))
    if result.get("omnibus"):
        parts.append(_omnibus(result, meta))
    if result.get("mixed_model"):
        parts.append(_mixed(result))
    if result.get("claims"):
        parts.append(_claims(result))
    if result.get("gaps"):
        parts.append(_gaps(result, meta))
    if result.get("strata"):
        parts.append(_strata(result, meta))
    return " ".join(p.strip() for p in parts)


HEADPHONE_CHECKS = {
    "antiphase": "an antiphase-tone headphone check (Woods et al. 2017)",
    "huggins": "a Huggins-pitch headphone check (Milne et al. 2021)",
    "both": "two headphone checks, antiphase tones (Woods et al. 2017) then Huggins pitch "
    "(Milne et al. 2021)",
}


def listener_checks(checks: dict | None) -> list[str]:
    """One sentence each on the screening the test ran before and during the trials: the
    headphone check (kind, pass mark, passed/failed), volume calibration, attention checks and
    the time limit — from the test's settings and its sessions (``listener_checks`` of the
    platform's report data); nothing for ratings analysed outside the platform."""
    if not checks:
        return []
    out = []
    kind = checks.get("headphone_check") or ""
    if kind in HEADPHONE_CHECKS:
        each = " each" if kind == "both" else ""
        passed, failed = (
            int(checks.get("headphone_passed") or 0),
            int(checks.get("headphone_failed") or 0),
        )
        out.append(
            f"Before the practice trial, listeners took {HEADPHONE_CHECKS[kind]}, passed with at "
            f"least {checks.get('headphone_pass_at')} of {checks.get('headphone_trials')} correct "
            f"answers{each}: {passed} passed and {failed} failed (and were screened out)."
        )
    else:
        out.append("Listeners took no headphone check.")
    if checks.get("volume_calibration"):
        out.append(
            "Before the trials, listeners set a comfortable volume on a noise at the test's "
            "loudness (volume calibration)."
        )
    else:
        out.append("There was no volume calibration.")
    n = int(checks.get("attention_checks") or 0)
    if n:
        passed, failed = (
            int(checks.get("attention_passed") or 0),
            int(checks.get("attention_failed") or 0),
        )
        out.append(
            f"Each session held {_plural(n, 'attention check')} (a catch trial whose clearly "
            f"degraded copy is to be rated below the hidden reference): {passed} passed and "
            f"{failed} failed."
        )
    else:
        out.append("There were no attention checks.")
    limit = checks.get("time_limit_minutes")
    if limit:
        timed_out = int(checks.get("timed_out") or 0)
        out.append(
            f"Sessions had a time limit of {_plural(int(limit), 'minute')} from consent; "
            f"{_plural(timed_out, 'session')} ran out of time."
        )
    else:
        out.append("Sessions had no time limit.")
    return out
