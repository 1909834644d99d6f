"""Statistics the test types share: a mean with a listener-clustered CI, exact binomial tests,
and Holm's correction over a family that leaves out tests which cannot reject.

Why a cluster-robust interval for a mean opinion score. A listener's ratings are correlated (a
harsh listener is harsh on every clip), so the plain t interval over ratings, which treats 400
ratings from 20 listeners as 400 independent values, is too narrow. The cluster-robust ("CR1",
sandwich) standard error of the mean (Cameron & Miller 2015, "A practitioner's guide to
cluster-robust inference", §II–VI) sums the residuals within each listener first, so it makes
no assumption about how a listener's ratings are correlated nor about their number (an
unbalanced crowd test where one worker rates 10 clips and another 200 is fine):

    SE² = G/(G − 1) · Σ_g (Σ_{i∈g} (y_i − ȳ))² / N²

over G listeners and N ratings, and the interval is ȳ ± t(0.975, G − 1)·SE, the small-sample
choice of degrees of freedom Cameron & Miller recommend (with ~10 listeners a normal quantile
would be anti-conservative). It is what statsmodels' OLS of the scores on a constant reports
with ``cov_type='cluster'`` and ``use_t=True`` (the tests check this), and with one rating per
listener it is exactly the ordinary t interval. A listener bootstrap would do the same job with
random resamples; this one is deterministic and costs one pass over the ratings, which matters
at 10^6 crowd ratings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from mushra.analysis.pairwise import ALPHA, holm

CI_METHOD = (
    "95% CI of the mean from a cluster-robust (CR1) standard error with listeners as clusters "
    "and a t quantile on (listeners - 1) degrees of freedom"
)


def clustered_mean(values: np.ndarray, listeners: np.ndarray) -> dict:
    """n, listeners, mean, SD (over ratings) and the listener-clustered 95 % CI (module
    docstring); the CI is NaN with fewer than two listeners, where no spread between listeners
    can be seen."""
    values = np.asarray(values, dtype=float)
    code, names = pd.factorize(np.asarray(listeners))
    n, g = len(values), len(names)
    mean = float(values.mean())
    out = {
        "n": int(n),
        "n_listeners": int(g),
        "mean": mean,
        "sd": float(np.std(values, ddof=1)) if n > 1 else float("nan"),
        "ci95": [float("nan"), float("nan")],
    }
    if g >= 2:
        sums = np.bincount(code, values - mean, minlength=g)
        se = float(np.sqrt(g / (g - 1) * np.sum(sums**2) / n**2))
        half = float(stats.t.ppf(0.975, g - 1)) * se
        out["ci95"] = [mean - half, mean + half]
    return out


def smallest_p(n: int, two_sided: bool) -> float:
    """The smallest p an exact binomial test at 1/2 can give on n trials."""
    return min(1.0, 0.5**n * (2 if two_sided else 1))


def untestable_binomial(n: int, two_sided: bool, unit: str, alpha: float = ALPHA) -> str | None:
    """Why a binomial test on n ``unit``s cannot reject at ``alpha`` (None when it can): such
    a test is left out of Holm's family, as the MUSHRA signed-rank tests are
    (mushra.analysis.pairwise), since it only inflates the others' m."""
    if n == 0:
        return f"no {unit}s"
    if smallest_p(n, two_sided) >= alpha:
        return f"only {n} {unit}(s): no outcome of the test could reach p < {alpha:g}"
    return None


def binomial(k: int, n: int, alternative: str) -> float:
    """scipy's exact binomial test of k successes in n trials against 1/2; NaN when n = 0."""
    if n == 0:
        return float("nan")
    return float(stats.binomtest(k, n, 0.5, alternative=alternative).pvalue)


def with_holm(rows: list[dict]) -> list[dict]:
    """Add ``p_holm`` and ``significant`` to each row: Holm over the rows whose ``untestable``
    is empty; the others keep their p but get a null p_holm."""
    p = [r["p"] if not r.get("untestable") else float("nan") for r in rows]
    adjusted = holm(p) if rows else np.array([])
    return [
        {**r, "p_holm": float(a), "significant": bool(a < ALPHA)}
        for r, a in zip(rows, adjusted, strict=True)
    ]
