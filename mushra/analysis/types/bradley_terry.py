"""Bradley–Terry strengths from paired preferences, by maximum likelihood.

P(i preferred to j) = π_i / (π_i + π_j) = 1 / (1 + exp(θ_j − θ_i)) with θ = log π. The θ are
fitted by Newton's method on the log-likelihood Σ w_ij log P(i over j), which is concave, from
θ = 0; only differences of θ are identified, so they are reported with Σ θ = 0 (exp(θ) then has
geometric mean 1, the normalisation of Wikipedia's worked example, which the tests reproduce).

Ties. A "no preference" judgement counts as half a win for each condition (w_ij and w_ji both
gain 0.5, n_ij gains 1): the likelihood of a tie under Bradley–Terry's own logic is then
P(i over j)^½ · P(j over i)^½, which pulls the two strengths together without a tie parameter
(Davidson's 1970 model adds one; with the few ties of a forced-ish A/B test it changes little
and costs a parameter nobody asked for).

Intervals. The Fisher information of θ is the weighted Laplacian L = Σ_ij n_ij p_ij (1 − p_ij)
(e_i − e_j)(e_i − e_j)ᵀ. It is singular along θ + c·1, and its Moore–Penrose inverse is the
covariance of θ under the constraint Σ θ = 0 (the constraint removes exactly that direction), so
the 95 % Wald interval is θ_i ± 1.96·sqrt(L⁺_ii). Like the binomial tests these treat the
judgements as independent. Conditions are ranked by the lower bound of their interval, so a
condition is placed high only when the data say so firmly.

The maximum-likelihood estimate exists only when every split of the conditions into two groups
has a win in each direction (Ford 1957): the "beats" graph must be strongly connected. When it
is not (a condition won every judgement it was in, or two groups were never compared) the
strengths are infinite or undefined, and :func:`bradley_terry` says which conditions are why
instead of returning numbers that depend on when an optimiser stopped.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.sparse.csgraph import connected_components

METHOD = "Bradley-Terry maximum likelihood (Newton); a 'no preference' counts half a win each"
INTERVAL = (
    "95% Wald CI of the log-strength from the Fisher information, log-strengths constrained to "
    "sum to zero (Moore-Penrose inverse); judgements treated as independent"
)
TOLERANCE = 1e-10
MAX_STEPS = 100


def _probabilities(theta: np.ndarray) -> np.ndarray:
    """P[i, j] = P(i preferred to j)."""
    return 1.0 / (1.0 + np.exp(theta[None, :] - theta[:, None]))


def _loglik(theta: np.ndarray, wins: np.ndarray) -> float:
    p = _probabilities(theta)
    return float(np.sum(wins[wins > 0] * np.log(p[wins > 0])))


def information(theta: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The Fisher information of θ: the Laplacian of the weights n_ij p_ij (1 − p_ij)."""
    p = _probabilities(theta)
    weights = counts * p * (1.0 - p)
    return np.diag(weights.sum(axis=1)) - weights


def fit(wins: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The maximum-likelihood θ (Σ θ = 0) for ``wins[i, j]`` wins of i over j in
    ``counts[i, j]`` = ``counts[j, i]`` judgements; the caller checks that it exists."""
    theta = np.zeros(len(wins))
    for _ in range(MAX_STEPS):
        gradient = wins.sum(axis=1) - (counts * _probabilities(theta)).sum(axis=1)
        if np.max(np.abs(gradient)) < TOLERANCE:
            break
        step = np.linalg.pinv(information(theta, counts)) @ gradient
        # Newton overshoots on far starts; halving keeps each step an ascent.
        before, scale = _loglik(theta, wins), 1.0
        while scale > 1e-8 and _loglik(theta + scale * step, wins) < before:
            scale /= 2
        theta = theta + scale * step
        theta -= theta.mean()
    return theta


def why_undefined(names: list[str], wins: np.ndarray, counts: np.ndarray) -> str | None:
    """Why the strengths do not exist (module docstring), or None when they do."""
    n_groups, _ = connected_components(counts > 0, directed=False)
    if n_groups > 1:
        return "the conditions fall into groups that were never compared with each other"
    n_strong, label = connected_components(wins > 0, directed=True, connection="strong")
    if n_strong == 1:
        return None
    for group in range(n_strong):
        inside = label == group
        if not (wins[np.ix_(~inside, inside)] > 0).any():  # nobody outside ever beat them
            who = ", ".join(n for n, i in zip(names, inside, strict=True) if i)
            return (
                f"{who} never lost a judgement against the other conditions, so the "
                "maximum-likelihood strengths are infinite"
            )
    return "the preferences do not connect every condition in both directions"  # unreachable


def bradley_terry(names: list[str], wins: np.ndarray, counts: np.ndarray) -> dict:
    """Strengths (θ, Σ θ = 0; strength = exp θ) with 95 % CIs, ranked by the lower bound; or
    ``conditions`` None and ``undefined`` saying why the MLE does not exist."""
    out = {"method": METHOD, "interval": INTERVAL, "undefined": None, "conditions": None}
    reason = why_undefined(names, wins, counts)
    if reason:
        return {**out, "undefined": reason}
    theta = fit(wins, counts)
    se = np.sqrt(np.clip(np.diag(np.linalg.pinv(information(theta, counts))), 0, None))
    z = float(stats.norm.ppf(0.975))
    rows = [
        {
            "condition": name,
            "log_strength": float(t),
            "ci95": [float(t - z * s), float(t + z * s)],
            "strength": float(np.exp(t)),
        }
        for name, t, s in zip(names, theta, se, strict=True)
    ]
    rows.sort(key=lambda r: (-r["ci95"][0], r["condition"]))
    return {**out, "conditions": [{**r, "rank": i + 1} for i, r in enumerate(rows)]}
