"""What the two REML fits of the library share, whatever random effects they carry.

:mod:`mushra.analysis.lmm_intercepts` (``(1|listener) + (1|item)``) and
:mod:`mushra.analysis.lmm_interactions` (adds ``(1|listener:condition) + (1|item:condition)``)
both solve lme4's penalised least-squares system from sufficient statistics (Bates, Mächler,
Bolker & Walker 2015, J. Stat. Softw. 67(1)) and lay it out alike: the random effects first
(``random`` rows), then the p fixed effects with treatment coding, the baseline's mean first.
Given a model's ``evaluate(θ, stats)`` and statistics with ``n``, ``p``, ``yy`` (y'y of the
centred scores), ``random`` and ``gram`` (whose last p × p block is X'X), this module checks the
design, reads β̂ and σ² at the fit, and reports t tests with Satterthwaite degrees of freedom
(:mod:`mushra.analysis.satterthwaite`) for the coefficients and the declared comparisons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from scipy import linalg, sparse, stats

from mushra.analysis.data import AnalysisError
from mushra.analysis.pairwise import ALPHA, holm
from mushra.analysis.satterthwaite import BOUNDARY, Inference, converged, satterthwaite


class Sufficient(Protocol):
    """The sufficient statistics of either model, as far as this module reads them."""

    n: int  # ratings
    yy: float  # y'y of the centred scores
    gram: np.ndarray  # W'W of the columns left after elimination; X'X is its last p × p block

    @property
    def p(self) -> int: ...  # fixed effects = conditions

    @property
    def random(self) -> int: ...  # random-effect rows of the reduced system, before X's


class Solved(Protocol):
    """One evaluation of a model at θ."""

    chol: np.ndarray  # lower Cholesky factor of the reduced system, random rows first
    sol: np.ndarray  # its solution: [u; β̂]
    r2: float  # penalised residual sum of squares
    logdet: float  # log|Λ'Z'ZΛ + I|


Evaluate = Callable[[np.ndarray, Any], Solved]


def indicator(code: np.ndarray, levels: int) -> sparse.csr_matrix:
    """The n × levels indicator matrix of a factor (one non-zero per rating)."""
    n = len(code)
    return sparse.csr_matrix((np.ones(n), (np.arange(n), code)), shape=(n, levels))


def treatment(cond: np.ndarray, k: int) -> sparse.csr_matrix:
    """Treatment-coded X: an intercept, then one indicator per non-baseline condition."""
    other = np.flatnonzero(cond > 0)
    rows = np.concatenate([np.arange(len(cond)), other])
    cols = np.concatenate([np.zeros(len(cond), dtype=np.int64), cond[other]])
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(cond), k))


def group_grams(cross: sparse.csr_matrix, group: np.ndarray, groups: int) -> np.ndarray:
    """Σ over each group's levels of the outer products of rows of ``cross``."""
    grams = np.empty((groups, cross.shape[1], cross.shape[1]))
    ordered = cross[np.argsort(group, kind="stable")]
    edges = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=groups))])
    for g in range(groups):
        rows = ordered[edges[g] : edges[g + 1]]
        grams[g] = (rows.T @ rows).toarray()
    return grams


def cheapest_sum(rows: sparse.csr_matrix, groups: int, limit: int) -> str:
    """The cheapest way to form Σ_l w_l r_l'r_l over the rows r_l of ``rows`` (levels × d) at
    each evaluation, storing at most ``limit`` floats: "grouped" (the outer products summed once
    per group of levels that share their weight: groups·d² flops), "dense" (``rows`` as a dense
    matrix: levels·d², at BLAS speed) or "sparse" (Σ_l nnz_l², for many sparse rows)."""
    levels, d = rows.shape
    nnz = np.diff(rows.indptr).astype(float)
    costs = {"sparse": 4.0 * float(nnz @ nnz)}
    if groups * d * d <= limit:
        costs["grouped"] = float(groups * d * d)
    if levels * d <= limit:
        costs["dense"] = levels * d * d / 4.0
    return min(costs, key=costs.__getitem__)


def check_design(st: Sufficient, model: str) -> None:
    """Reject data on which ``model`` (its name in a message) is undefined, in one line."""
    if st.n <= st.p:
        raise AnalysisError(f"the {model} needs more ratings than conditions")
    if not st.yy > 0:
        raise AnalysisError(f"all scores are equal; the {model} is undefined")
    try:
        linalg.cholesky(st.gram[st.random :, st.random :], check_finite=False)  # X'X
    except linalg.LinAlgError as exc:
        raise AnalysisError("the condition effects are not estimable (singular design)") from exc


def fixed_effects(
    evaluate: Evaluate, theta: np.ndarray, st: Sufficient, model: str
) -> tuple[np.ndarray, float]:
    """β̂ (for the centred scores) and σ² = r²/(n − p) at the fitted θ; an AnalysisError where
    the system is singular there or the scores leave no residual variation."""
    try:
        fit = evaluate(theta, st)
    except linalg.LinAlgError as exc:
        raise AnalysisError(f"the {model} equations are singular at the fit") from exc
    sigma2 = fit.r2 / (st.n - st.p)
    if not sigma2 > 1e-12 * st.yy / st.n:
        raise AnalysisError(f"the scores have no residual variation; the {model} is undefined")
    return fit.sol[st.random :], sigma2


def covariance(evaluate: Evaluate, theta: np.ndarray, sigma: float, st: Sufficient) -> np.ndarray:
    """Var(β̂) = σ²(R_X'R_X)⁻¹ at (θ, σ): the model-based covariance, as lme4's."""
    rx = evaluate(theta, st).chol[st.random :, st.random :]
    rx_inv = linalg.solve_triangular(rx, np.eye(len(rx)), lower=True, check_finite=False)
    return sigma * sigma * rx_inv.T @ rx_inv


def deviance(evaluate: Evaluate, theta: np.ndarray, sigma: float, st: Sufficient) -> float:
    """REML deviance at (θ, σ), not profiled over σ (Satterthwaite needs σ as a parameter):
    log|Λ'Z'ZΛ + I| + log|R_X'R_X| + (n − p) log(2πσ²) + r²/σ²."""
    fit = evaluate(theta, st)
    logdet_rx = 2.0 * float(np.log(np.diag(fit.chol)[st.random :]).sum())
    dof = st.n - st.p
    return fit.logdet + logdet_rx + dof * np.log(2.0 * np.pi * sigma * sigma) + fit.r2 / sigma**2


def effect_rows(order: list[str], inf: Inference) -> list[dict]:
    """One row per non-baseline condition: its difference from the baseline with SE, df, t,
    two-sided p and 95 % interval."""
    return [{"condition": name, **inf.row(j)} for j, name in enumerate(order[1:], start=1)]


def contrasts(order: list[str], compare: Sequence[tuple[str, str]]) -> tuple[list, np.ndarray]:
    """The identity (each coefficient), then a − b for each pair of modelled conditions.

    With treatment coding a condition's mean is β₀ + β_c (β of the baseline is 0), so a − b
    is β_a − β_b whatever the baseline.
    """
    pairs = [(a, b) for a, b in compare if a in order and b in order]
    rows = [np.eye(len(order))]
    for a, b in pairs:
        row = np.zeros(len(order))
        row[order.index(a)] += 1.0 if order.index(a) else 0.0
        row[order.index(b)] -= 1.0 if order.index(b) else 0.0
        rows.append(row[None, :])
    return pairs, np.vstack(rows)


def comparison_rows(pairs: list, inf: Inference, first: int) -> list[dict]:
    """Each pair's difference a − b from the model, Holm-corrected as a family of its own."""
    rows = [{"a": a, "b": b, **inf.row(first + i)} for i, (a, b) in enumerate(pairs)]
    for row, adjusted in zip(rows, holm([r["p"] for r in rows]), strict=True):
        row["p_holm"] = float(adjusted)
        row["significant"] = bool(adjusted < ALPHA)
    return rows


def summary(
    order: list[str],
    compare: Sequence[tuple[str, str]],
    fit: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    y_mean: float,
    *,
    criterion: Callable[[np.ndarray], float],
    evaluate: Evaluate,
    st: Sufficient,
) -> dict:
    """The parts of a fit both models report alike: Satterthwaite inference for the
    coefficients and the declared comparisons, the REML log-likelihood and the flags.

    ``fit`` is (β̂, θ̂, which θ were free, σ̂); the scores were centred by ``y_mean``;
    ``criterion(θ)`` is the profiled REML criterion."""
    beta, theta, free, sigma = fit
    pairs, rows = contrasts(order, compare)
    inf = satterthwaite(
        beta,
        theta,
        sigma,
        lambda th, s: deviance(evaluate, th, s, st),
        lambda th, s: covariance(evaluate, th, s, st),
        rows,
    )
    intercept = inf.row(0)
    intercept["estimate"] += y_mean
    intercept["ci95"] = [b + y_mean for b in intercept["ci95"]]
    intercept["t"] = intercept["estimate"] / intercept["se"]
    intercept["p"] = float(2.0 * stats.t.sf(abs(intercept["t"]), intercept["df"]))
    return {
        "baseline": order[0],
        "inference": "t tests with Satterthwaite degrees of freedom",
        "intercept": intercept,
        "effects": effect_rows(order, inf),
        "comparisons": comparison_rows(pairs, inf, len(order)),
        "reml_loglik": -0.5 * float(criterion(theta)),
        "converged": converged(criterion, theta),
        "singular": bool(np.any(np.abs(theta[free]) < BOUNDARY)),
    }
