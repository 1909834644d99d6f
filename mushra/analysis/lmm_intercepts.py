"""Random intercepts: ``score ~ condition + (1|listener) + (1|item)`` by REML, up to 10^6 ratings.

The command line's default model (``--mixed-model intercepts``; the pages default to the
confirmatory one). It lets a listener or an item be harsher or kinder across the board, but
counts a listener's own taste for one system as residual noise, which makes its p-values
optimistic; the confirmatory model adds those terms (:mod:`mushra.analysis.lmm_interactions`).

Why not statsmodels: MixedLM has no crossed random effects, so the model has to be written as one
constant group with two variance components; it then works with dense n-sized blocks and grows
about as n^2.3 (6.6 s at 10k ratings, 34 s at 20k, over 300 s at 50k; DESIGN.md §6), while
crowdsourced MUSHRA tests reach 10^6 ratings and the analysis must never hang.

Method: lme4's profiled REML (Bates, Mächler, Bolker & Walker 2015, J. Stat. Softw. 67(1)) on
sufficient statistics. With θ = (σ_L/σ, σ_I/σ), Λ = diag(θ) and Z = [Z_L Z_I], the penalised
least-squares system [[Λ'Z'ZΛ + I, Λ'Z'X], [X'ZΛ, X'X]] [u; β] = [Λ'Z'y; X'y] needs only counts
and sums, built once with sparse indicator products (never an n × levels dense matrix). The block
of the factor with more levels ("a") is diagonal, so it is eliminated analytically; what is left
is a dense Cholesky of size (levels of the other factor + conditions). The weights of "a" depend
on a level only through its number of ratings, so its cross-products are summed once per distinct
count: on a balanced design one evaluation no longer depends on the number of listeners at all
(designs where many items are each rated by few listeners use a sparse product instead).
The REML criterion log|Λ'Z'ZΛ + I| + log|R_X'R_X| + (n − p)(1 + log(2π r²/(n − p))) and its
exact gradient (from P = V⁻¹ − V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹ and Λ'Z'PZΛ = I − [M⁻¹]_uu) are minimised over
θ ≥ 0 by L-BFGS-B; a factor with a single level is not estimable and keeps θ = 0. Then
σ² = r²/(n − p), Var(β̂) = σ²(R_X'R_X)⁻¹ and the variance components are σ²θ_L², σ²θ_I², σ².

Inference (:mod:`mushra.analysis.lmm_reml`, shared with the confirmatory model): t statistics
with Satterthwaite degrees of freedom (as lmerTest; see :mod:`mushra.analysis.satterthwaite`),
for the intercept (the baseline's mean) and each condition's difference from the baseline, with
t-based 95 % intervals. Wald z, which statsmodels
MixedLM reports, ignores the uncertainty of the variance components and is optimistic with few
listeners or items. The standard errors are the model-based σ²(X'V⁻¹X)⁻¹ (as lme4's); statsmodels
inverts the full observed Hessian, whose fixed/variance cross terms move its standard errors by
~1e-6 to 1e-5 relative on the codec-mushra data and by up to ~0.5 % on designs of ~100 ratings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize, sparse

from mushra.analysis import lmm_reml
from mushra.analysis.data import AnalysisError
from mushra.analysis.lmm_reml import group_grams, indicator, treatment
from mushra.analysis.threads import blas_limited

MODEL = "mixed model"  # its name in messages
FACTORS = ("listener", "item")
MEMORY_LIMIT = 20_000_000  # floats kept for factor a's cross-products (160 MB)


@dataclass(frozen=True)
class Stats:
    """Sufficient statistics. Factor a (more levels) is eliminated; W = [Z_b X] stays dense.
    Arrays named a_* are per distinct count of ratings of an a-level (a "group")."""

    n: int
    p: int
    yy: float  # y'y of the centred scores
    nb: np.ndarray  # ratings per level of b
    gram: np.ndarray  # W'W
    wy: np.ndarray  # W'y
    a_count: np.ndarray  # ratings per a-level in each group
    a_size: np.ndarray  # a-levels in each group
    a_yy: np.ndarray  # Σ (Z_a'y)² over the group
    a_cy: np.ndarray  # Σ (Z_a'W)_l (Z_a'y)_l over the group, groups × d
    a_gram: np.ndarray | None  # Σ (Z_a'W)_l'(Z_a'W)_l over the group, groups × d × d, or
    cross: np.ndarray | sparse.csr_matrix | None  # Z_a'W itself (see choose_storage)
    a_group: np.ndarray  # group of each a-level

    @property
    def lb(self) -> int:
        return len(self.nb)

    @property
    def random(self) -> int:  # the reduced system's random-effect rows: factor b's
        return self.lb


def choose_storage(
    cross: sparse.csr_matrix, group: np.ndarray, groups: int
) -> tuple[np.ndarray | None, np.ndarray | sparse.csr_matrix | None]:
    """Keep what makes Σ_l w_l (Z_a'W)_l'(Z_a'W)_l cheapest per evaluation: per-count sums
    (MUSHRA designs, where a-levels share few counts), a dense product or a sparse one (many
    items rated sparsely)."""
    best = lmm_reml.cheapest_sum(cross, groups, MEMORY_LIMIT)
    if best == "grouped":
        return group_grams(cross, group, groups), None
    return None, cross.toarray() if best == "dense" else cross


def eliminated_first(codes: dict[str, np.ndarray]) -> tuple[str, str]:
    """The factor with more levels (eliminated analytically), then the other one."""
    a, b = sorted(FACTORS, key=lambda f: -int(codes[f].max()))
    return a, b


def sufficient(codes: dict[str, np.ndarray], cond: np.ndarray, y: np.ndarray, k: int) -> Stats:
    """Counts and sums of the model; ``cond`` codes have the baseline at 0."""
    a, b = eliminated_first(codes)
    za = indicator(codes[a], int(codes[a].max()) + 1)
    w = sparse.hstack([indicator(codes[b], int(codes[b].max()) + 1), treatment(cond, k)]).tocsr()
    cross = (za.T @ w).tocsr()
    ya = za.T @ y
    count, group = np.unique(np.bincount(codes[a]), return_inverse=True)
    grams, kept = choose_storage(cross, group, len(count))
    return Stats(
        n=len(y),
        p=k,
        yy=float(y @ y),
        nb=np.bincount(codes[b]).astype(float),
        gram=(w.T @ w).toarray(),
        wy=w.T @ y,
        a_count=count.astype(float),
        a_size=np.bincount(group).astype(float),
        a_yy=np.bincount(group, weights=ya * ya),
        a_cy=(indicator(group, len(count)).T @ sparse.diags(ya) @ cross).toarray(),
        a_gram=grams,
        cross=kept,
        a_group=group,
    )


def weighted_gram(st: Stats, weights: np.ndarray) -> np.ndarray:
    """Σ_l weight(l) (Z_a'W)_l'(Z_a'W)_l for per-group weights."""
    if st.a_gram is not None:
        return np.tensordot(weights, st.a_gram, axes=1)
    v = weights[st.a_group]
    if isinstance(st.cross, np.ndarray):
        return st.cross.T @ (v[:, None] * st.cross)
    return (st.cross.T @ sparse.diags(v) @ st.cross).toarray()


@dataclass(frozen=True)
class Fit:
    """Everything one evaluation at θ yields: L, L⁻¹rhs, [u_b; β], r², parts of the criterion."""

    chol: np.ndarray
    z: np.ndarray
    sol: np.ndarray  # [u_b; β]
    r2: float
    logdet: float  # log|Λ'Z'ZΛ + I|
    ua2: float  # ||u_a||² / θ_a²
    w: np.ndarray  # per-group 1/(θ_a² n + 1)
    gram_w: np.ndarray  # weighted_gram(w)
    gram_w2: np.ndarray  # weighted_gram(w²)
    q: np.ndarray  # Λ restricted to W's columns


def evaluate(theta: np.ndarray, st: Stats) -> Fit:
    """Eliminate factor a, factorise the reduced system and solve it."""
    ta, tb = theta
    w = 1.0 / (ta * ta * st.a_count + 1.0)
    q = np.concatenate([np.full(st.lb, tb), np.ones(st.p)])
    gram_w = weighted_gram(st, w)
    m = np.outer(q, q) * (st.gram - ta * ta * gram_w)
    m[np.diag_indices(st.lb)] += 1.0
    rhs = q * (st.wy - ta * ta * (w @ st.a_cy))
    chol = linalg.cholesky(m, lower=True, check_finite=False)
    z = linalg.solve_triangular(chol, rhs, lower=True, check_finite=False)
    v = linalg.solve_triangular(chol, z, lower=True, trans="T", check_finite=False)
    h = q * v
    w2 = w * w
    gram_w2 = weighted_gram(st, w2)
    ua2 = w2 @ st.a_yy - 2.0 * h @ (w2 @ st.a_cy) + h @ gram_w2 @ h
    logdet = float(-(st.a_size @ np.log(w)) + 2.0 * np.log(np.diag(chol)[: st.lb]).sum())
    r2 = st.yy - ta * ta * float(w @ st.a_yy) - float(z @ z)
    return Fit(chol, z, v, r2, logdet, float(ua2), w, gram_w, gram_w2, q)


def criterion(fit: Fit, st: Stats) -> float:
    """REML criterion: −2 × restricted log-likelihood, profiled over β and σ²."""
    dof = st.n - st.p
    logdet_rx = 2.0 * float(np.log(np.diag(fit.chol)[st.lb :]).sum())
    return fit.logdet + logdet_rx + dof * (1.0 + np.log(2.0 * np.pi * fit.r2 / dof))


def schur_b(theta: np.ndarray, fit: Fit, st: Stats) -> np.ndarray:
    """C = Z_b'P_aZ_b (P_a: P without factor b), so that [M⁻¹]_bb = (I + θ_b²C)⁻¹ and
    tr(Z_b'PZ_b) = tr(C(I + θ_b²C)⁻¹), which stays exact as θ_b → 0."""
    ta, lb = theta[0], st.lb
    s = st.gram - ta * ta * fit.gram_w
    sxx = linalg.cho_factor(s[lb:, lb:], lower=True, check_finite=False)
    return s[:lb, :lb] - s[:lb, lb:] @ linalg.cho_solve(sxx, s[lb:, :lb], check_finite=False)


def cholesky_inverse(chol: np.ndarray) -> np.ndarray:
    """(LL')⁻¹ from the lower Cholesky factor L."""
    inv, info = linalg.lapack.dpotri(chol, lower=1)
    if info != 0:
        raise linalg.LinAlgError("singular reduced system")
    return np.tril(inv) + np.tril(inv, -1).T


def gradient(theta: np.ndarray, fit: Fit, st: Stats) -> np.ndarray:
    """d criterion / dψ_j with ψ = θ²: tr(Z_j'PZ_j) − (n − p)||Z_j'Py||²/r². For factor a,
    tr(Z_a'PZ_a) = (q_a − tr[M⁻¹]_aa)/θ_a² and Z_a'Py = u_a/θ_a, with θ_a² factored out."""
    ta, lb = theta[0], st.lb
    dof = st.n - st.p
    sinv = cholesky_inverse(fit.chol)
    trace_a = float(np.sum(sinv * np.outer(fit.q, fit.q) * fit.gram_w2))
    grad_a = st.a_size @ (st.a_count * fit.w) - trace_a - dof * fit.ua2 / fit.r2
    h = fit.q * fit.sol
    zb_py = (st.wy - ta * ta * (fit.w @ st.a_cy - fit.gram_w @ h) - st.gram @ h)[:lb]
    trace_b = float(np.sum(schur_b(theta, fit, st) * sinv[:lb, :lb]))
    grad_b = trace_b - dof * float(zb_py @ zb_py) / fit.r2
    return np.array([grad_a, grad_b])


def objective(theta: np.ndarray, st: Stats) -> tuple[float, np.ndarray]:
    """Criterion and its ψ-gradient; +inf where the system is not positive definite or r² ≤ 0."""
    try:
        fit = evaluate(theta, st)
        if fit.r2 > 0:
            return criterion(fit, st), gradient(theta, fit, st)
    except linalg.LinAlgError:
        pass
    return np.inf, np.zeros(2)


def moment_start(st: Stats) -> np.ndarray:
    """Rough θ from the spread of level means of the centred scores (only a starting point)."""
    total = st.yy / st.n
    a_spread = float(np.sum(st.a_yy / st.a_count))
    b_sums = st.wy[: st.lb]
    b_spread = float(b_sums @ (b_sums / st.nb))
    guesses = []
    for spread, levels in ((a_spread, st.a_size.sum()), (b_spread, st.lb)):
        guesses.append(max(spread / st.n - total * levels / st.n, 0.0))
    resid = max(total - sum(guesses), 0.05 * total, 1e-12)
    return np.sqrt(np.array(guesses) / resid)


def fit_theta(st: Stats, free: np.ndarray) -> np.ndarray:
    """Minimise the REML criterion over ψ = θ² ≥ 0 from two starts; fixed θ stay 0. In ψ the
    gradient at the boundary says whether to leave it (in θ it is always 0 there)."""
    if not free.any():
        return np.zeros(2)

    def fun(psi: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.zeros(2)
        theta[free] = np.sqrt(psi)
        value, grad = objective(theta, st)
        return value, grad[free]

    best = None
    for start in (np.ones(2), moment_start(st) ** 2):
        res = optimize.minimize(
            fun,
            start[free],
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * int(free.sum()),
            options={"ftol": 1e-12, "gtol": 1e-10, "maxiter": 1000},
        )
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise AnalysisError("the mixed model could not be fitted (no finite REML criterion)")
    theta = np.zeros(2)
    theta[free] = np.sqrt(best.x)
    return theta


def encode(df: pd.DataFrame, baseline: str) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Integer codes per factor; condition codes put the baseline at 0, the others sorted."""
    conditions = df["condition"].astype(str)
    names = sorted(conditions.unique())
    if baseline not in names:
        raise AnalysisError(f"baseline condition {baseline!r} not found")
    if len(names) < 2:
        raise AnalysisError("the mixed model needs at least two conditions")
    order = [baseline] + [c for c in names if c != baseline]
    cond = pd.Categorical(conditions, categories=order).codes.astype(np.int64)
    codes = {f: pd.factorize(df[f])[0].astype(np.int64) for f in FACTORS}
    return codes, cond, order


@blas_limited
def mixed_model(df: pd.DataFrame, baseline: str, compare: Sequence[tuple[str, str]] = ()) -> dict:
    """Fit ``score ~ condition + (1|listener) + (1|item)`` by REML with treatment coding.

    ``effects`` lists each non-baseline condition (sorted by name) with its difference from the
    baseline, its SE, Satterthwaite df, t, two-sided p and 95 % interval; ``intercept`` is the
    baseline's mean alike; ``comparisons`` each pair of ``compare`` (a − b) whose conditions
    are in the model, Holm-corrected as a family of its own. Also the REML log-likelihood and
    whether the optimiser converged and the fit is singular (a variance component at 0). A
    factor with a single level gets variance 0 (it is not estimable).
    """
    codes, cond, order = encode(df, baseline)
    y = df["score"].to_numpy(dtype=float)
    st = sufficient(codes, cond, y - y.mean(), len(order))  # centring moves only the intercept
    lmm_reml.check_design(st, MODEL)
    a, b = eliminated_first(codes)
    free = np.array([st.a_size.sum() > 1, st.lb > 1])
    theta = fit_theta(st, free)
    beta, sigma2 = lmm_reml.fixed_effects(evaluate, theta, st, MODEL)
    parts = {a: sigma2 * theta[0] ** 2, b: sigma2 * theta[1] ** 2, "residual": sigma2}
    return {
        "formula": f"score ~ C(condition, Treatment({baseline!r})) + (1|listener) + (1|item)",
        **lmm_reml.summary(
            order,
            compare,
            (beta, theta, free, float(np.sqrt(sigma2))),
            float(y.mean()),
            criterion=lambda th: objective(th, st)[0],
            evaluate=evaluate,
            st=st,
        ),
        "variance_components": {k: float(parts[k]) for k in (*FACTORS, "residual")},
    }
