"""The confirmatory model: condition effects with listener×condition and item×condition terms.

The intercepts model (:mod:`mushra.analysis.lmm_intercepts`) has random intercepts for listener
and item only, so a listener's own taste for one system counts as residual noise and its p-values
are optimistic (reference notes §4a: p = 0.005 there vs 0.136 here for the same contrast). This
one (``--mixed-model full``, the pages' default),

    score ~ condition + (1|listener) + (1|item) + (1|listener:condition) + (1|item:condition)

is fitted on the conditions under test only (the hidden reference and anchors sit at the ends of
the scale with little spread and would distort the interaction variances), with treatment coding
against ``baseline``, from sufficient statistics so that it scales to 10^5–10^6 ratings
(statsmodels' MixedLM, the reference it is tested against in tests/mushra/analysis, grows about
as n^2.3; DESIGN.md §6).

Method: lme4's profiled REML (Bates et al. 2015, J. Stat. Softw. 67(1)), as in
:mod:`mushra.analysis.lmm_intercepts`, with θ = the four random-effect SDs relative to σ. The
factor with more levels ("a", usually the listener) is eliminated analytically together with its
nested a×condition term. For one a-level with m_c ratings in condition c, the block of
Λ'Z'ZΛ + I over (u_a, u_a:c) is an arrowhead matrix; by the push-through identity and
Sherman–Morrison its contribution to the Schur complement is G'HG, with G (k rows) its
cross-counts with the remaining columns W = [Z_b, Z_b:cond, X] and

    H = θ_ac² diag(w) + g w w',  w_c = 1/(1 + θ_ac² m_c),  g = θ_a²/(1 + θ_a² Σ_c w_c m_c),
    log|block| = −Σ_c log w_c + log(1 + θ_a² Σ_c w_c m_c).

A rating's row of W depends only on its "cell" (b-level, condition), so G = R·P' with R the
a-level's counts per cell and P a fixed sparse map: everything is summed in cell space
(n_b·k cells) and mapped once per evaluation. a-levels sharing a count pattern (m_1 … m_k) share
w and g, so Σ_a u_a u_a' (u_a: counts per cell) is stored once per pattern: on a complete
design one evaluation does not depend on the number of listeners at all (designs with many
patterns use sparse products over the a-levels instead). What is left is a dense Cholesky over
the b, b×condition and fixed-effect columns (size n_b(1 + k) + k, so n_b must stay moderate).
The criterion log|Λ'Z'ZΛ + I| + log|R_X'R_X| + (n − p)(1 + log(2π r²/(n − p))) is minimised
over θ ≥ 0 by L-BFGS-B with forward-difference gradients from two starts (θ = 1 and a moment
guess), then polished by Powell. Inference is shared with the intercepts model
(:mod:`mushra.analysis.lmm_reml`): t tests with Satterthwaite degrees of freedom (lmerTest's),
with the model-based covariance σ²(R_X'R_X)⁻¹ (statsmodels, whose Wald z the reference fit
reports, inverts the observed Hessian instead: ~1e-5 relative on codec-mushra, ~1e-3 on designs
of a few hundred ratings). statsmodels' default optimiser can stop short of the REML optimum on
small unbalanced designs; this fit then has the higher restricted likelihood and agrees with
statsmodels refitted by Powell + L-BFGS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize, sparse

from mushra.analysis import lmm_intercepts, lmm_reml
from mushra.analysis.data import AnalysisError
from mushra.analysis.lmm_reml import group_grams, indicator, treatment
from mushra.analysis.threads import blas_limited

MODEL = "full mixed model"  # its name in messages
# The variance components in the result's order (then "residual").
COMPONENTS = ("listener", "item", "listener:condition", "item:condition")
MEMORY_LIMIT = 20_000_000  # floats for per-pattern sums or a dense V
STEP = 1e-5  # finite-difference step in θ


def full_formula(baseline: str) -> str:
    """The model in lme4's notation, as the result and the reports state it."""
    terms = " + ".join(f"(1|{name})" for name in COMPONENTS)
    return f"score ~ C(condition, Treatment({baseline!r})) + {terms}"


@dataclass(frozen=True)
class Stats:
    """Sufficient statistics. A "cell" is a (b-level, condition) pair, e = n_b·k of them; W's
    row for a rating depends only on its cell: W = (cell indicators) @ P'."""

    n: int
    k: int  # conditions = fixed effects
    nb: int  # levels of b
    yy: float
    gram: np.ndarray  # W'W, W = [Z_b, Z_b:cond, X]
    wy: np.ndarray  # W'y
    p_map: sparse.csr_matrix  # P: d × e, W's columns of each cell
    m: np.ndarray  # ratings per (a, c), a-major
    ys: np.ndarray  # sum of y per (a, c)
    rows: sparse.csr_matrix  # (a, c) × e: ratings of a-level a in each cell (c's cells only)
    agg: sparse.csr_matrix  # a-levels × (a, c): sums the k rows of each a-level
    pattern: np.ndarray  # counts (m_a1 … m_ak) of each pattern, patterns × k
    grams: np.ndarray | None  # per pattern Σ_a u_a u_a' (u_a: the a-level's cell counts)
    mode: str  # how cell_part sums over the a-levels (see choose_mode)
    count: np.ndarray  # distinct positive m
    count_grams: np.ndarray | None  # per distinct m, Σ of the outer products of rows' rows

    @property
    def nr(self) -> int:
        return self.nb * (1 + self.k)

    @property
    def random(self) -> int:  # the reduced system's random-effect rows: b's and b×condition's
        return self.nr

    @property
    def p(self) -> int:
        return self.k


def sufficient(a: np.ndarray, b: np.ndarray, cond: np.ndarray, y: np.ndarray, k: int) -> Stats:
    """Counts and sums, built with sparse indicator products (never n × levels dense)."""
    la, nb = int(a.max()) + 1, int(b.max()) + 1
    cells = np.arange(nb * k)
    p_map = sparse.hstack(
        [indicator(cells // k, nb), indicator(cells, nb * k), treatment(cells % k, k)]
    ).T.tocsr()
    ncell = np.bincount(b * k + cond, minlength=nb * k).astype(float)
    rows = (indicator(a * k + cond, la * k).T @ indicator(b * k + cond, nb * k)).tocsr()
    m = np.bincount(a * k + cond, minlength=la * k).astype(float)
    agg = indicator(np.repeat(np.arange(la), k), la).T.tocsr()
    pattern, which = np.unique(m.reshape(la, k), axis=0, return_inverse=True)
    mode = choose_mode((agg @ rows).tocsr(), len(pattern))
    grams = count_grams = None
    if mode == "grouped":
        grams = group_grams((agg @ rows).tocsr(), which.ravel(), len(pattern))
    count, by_count = np.unique(m[m > 0], return_inverse=True)
    if mode != "grouped" and len(count) * (nb * k) ** 2 <= MEMORY_LIMIT:
        count_grams = group_grams(rows[m > 0], by_count, len(count))
    ysum = np.bincount(b * k + cond, weights=y, minlength=nb * k)
    return Stats(
        n=len(y),
        k=k,
        nb=nb,
        yy=float(y @ y),
        gram=(p_map @ sparse.diags(ncell) @ p_map.T).toarray(),
        wy=p_map @ ysum,
        p_map=p_map,
        m=m,
        ys=np.bincount(a * k + cond, weights=y, minlength=la * k),
        rows=rows,
        agg=agg,
        pattern=pattern.astype(float),
        grams=grams,
        mode=mode,
        count=count,
        count_grams=count_grams,
    )


def choose_mode(counts: sparse.csr_matrix, patterns: int) -> str:
    """How to sum Σ_a g_a v_a v_a' per evaluation (counts: a-levels × cells): per-pattern sums
    (complete designs), a dense V or sparse products (many listeners each rating a few items)."""
    return lmm_reml.cheapest_sum(counts, patterns, MEMORY_LIMIT)


def cell_part(st: Stats, t2: float, s2: float, w: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Kc = Σ_a R_a'H_aR_a in cell space (R_a: the a-level's rows), H_a = t2 diag(w) + g ww'."""
    if st.grams is not None:
        wp = 1.0 / (1.0 + t2 * st.pattern)
        gp = s2 / (1.0 + s2 * (wp * st.pattern).sum(axis=1))
        wcell = np.tile(wp, st.nb)  # cells are b-major: cell = b·k + c
        same = np.equal.outer(np.arange(st.nb * st.k) % st.k, np.arange(st.nb * st.k) % st.k)
        out = np.zeros(same.shape)
        for j, sj in enumerate(st.grams):
            out += sj * (t2 * same * wcell[j][:, None] + gp[j] * np.outer(wcell[j], wcell[j]))
        return out
    if st.count_grams is not None:
        kc = t2 * np.tensordot(1.0 / (1.0 + t2 * st.count), st.count_grams, axes=1)
    else:
        kc = t2 * (st.rows.T @ sparse.diags(w) @ st.rows).toarray()
    v = st.agg @ scale_rows(st.rows, w)
    if st.mode == "dense":
        v = v.toarray()
        return kc + v.T @ (g[:, None] * v)
    v = scale_rows(v.tocsr(), np.sqrt(g))
    return kc + (v.T @ v).toarray()


def scale_rows(mat: sparse.csr_matrix, factor: np.ndarray) -> sparse.csr_matrix:
    """diag(factor) @ mat, by scaling the stored values."""
    out = mat.copy()
    out.data = out.data * np.repeat(factor, np.diff(out.indptr))
    return out


@dataclass(frozen=True)
class Fit:
    """One evaluation at θ: Cholesky factor of the reduced system, its solution, r², log|A|."""

    chol: np.ndarray
    sol: np.ndarray
    r2: float
    logdet: float


def evaluate(theta: np.ndarray, st: Stats) -> Fit:
    """Eliminate factor a and a×condition per a-level, factorise and solve the rest."""
    s2, t2, tb, tbc = theta[0] ** 2, theta[1] ** 2, theta[2], theta[3]
    w = 1.0 / (1.0 + t2 * st.m)
    swm = st.agg @ (w * st.m)
    g = s2 / (1.0 + s2 * swm)
    wys = st.agg @ (w * st.ys)
    kc = cell_part(st, t2, s2, w, g)
    k_mat = st.p_map @ (st.p_map @ kc).T
    k_y = st.p_map @ (st.rows.T @ (w * (t2 * st.ys + np.repeat(g * wys, st.k))))
    q = np.concatenate([np.full(st.nb, tb), np.full(st.nb * st.k, tbc), np.ones(st.k)])
    mat = np.outer(q, q) * (st.gram - k_mat)
    mat[np.diag_indices(st.nr)] += 1.0
    rhs = q * (st.wy - k_y)
    chol = linalg.cholesky(mat, lower=True, check_finite=False)
    z = linalg.solve_triangular(chol, rhs, lower=True, check_finite=False)
    sol = linalg.solve_triangular(chol, z, lower=True, trans="T", check_finite=False)
    yhy = t2 * float(w * st.ys @ st.ys) + float(g @ (wys * wys))
    logdet = float(-np.log(w).sum() + np.log1p(s2 * swm).sum())
    logdet += 2.0 * float(np.log(np.diag(chol)[: st.nr]).sum())
    return Fit(chol, sol, st.yy - yhy - float(z @ z), logdet)


def criterion(theta: np.ndarray, st: Stats) -> float:
    """REML criterion (−2 × restricted log-likelihood, profiled); +inf where undefined."""
    try:
        fit = evaluate(np.abs(theta), st)
    except linalg.LinAlgError:
        return np.inf
    if not fit.r2 > 0:
        return np.inf
    dof = st.n - st.k
    logdet_rx = 2.0 * float(np.log(np.diag(fit.chol)[st.nr :]).sum())
    return fit.logdet + logdet_rx + dof * (1.0 + np.log(2.0 * np.pi * fit.r2 / dof))


def moment_start(st: Stats) -> np.ndarray:
    """Rough θ from the spread of level sums of the centred scores (a starting point only)."""
    total = st.yy / st.n
    a_sums, a_n = st.agg @ st.ys, st.agg @ st.m
    sums = [a_sums, st.ys, st.wy[: st.nb], st.wy[st.nb : st.nr]]
    counts = [a_n, st.m, np.diag(st.gram)[: st.nb], np.diag(st.gram)[st.nb : st.nr]]
    spread = []
    for s, c in zip(sums, counts, strict=True):
        used = c > 0
        spread.append(max(float(s[used] ** 2 @ (1 / c[used])) - total * used.sum(), 0.0) / st.n)
    var = np.array(
        [spread[0], max(spread[1] - spread[0], 0), spread[2], max(spread[3] - spread[2], 0)]
    )
    resid = max(total - var.sum(), 0.05 * total, 1e-12)
    return np.sqrt(var / resid)


def fit_theta(st: Stats, free: np.ndarray) -> np.ndarray:
    """Minimise the criterion over θ ≥ 0 from two starts (L-BFGS-B), then polish by Powell.

    L-BFGS-B gets the criterion and its forward-difference gradient from one call (k + 1
    evaluations where central differences took 2k + 1, each a dense Cholesky): the
    gradient's O(step) error only matters at the very end, which Powell's polish settles."""
    fixed = np.zeros(4)

    def fun(x: np.ndarray) -> float:
        theta = fixed.copy()
        theta[free] = x
        return criterion(theta, st)

    def fun_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        value = fun(x)
        grad = np.empty(len(x))
        for j in range(len(x)):
            step = np.zeros(len(x))
            step[j] = STEP
            grad[j] = (fun(x + step) - value) / STEP
        return value, grad

    bounds = [(0.0, None)] * int(free.sum())
    best = None
    for start in (np.ones(4), moment_start(st)):
        res = optimize.minimize(fun_and_grad, start[free], jac=True, method="L-BFGS-B",
                                bounds=bounds,
                                options={"ftol": 1e-14, "gtol": 1e-8, "maxiter": 500})  # fmt: skip
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise AnalysisError("the full mixed model could not be fitted (no finite REML criterion)")
    with np.errstate(invalid="ignore"):  # Powell's line search steps through inf (undefined θ)
        polish = optimize.minimize(fun, best.x, method="Powell", bounds=bounds,
                                   options={"xtol": 1e-8, "ftol": 1e-14})  # fmt: skip
    theta = fixed.copy()
    theta[free] = polish.x if polish.fun < best.fun else best.x
    return theta


def encode(sub: pd.DataFrame, baseline: str) -> tuple[dict[str, np.ndarray], np.ndarray, list]:
    """lmm_intercepts.encode, with this model's message when a condition under test has no
    ratings."""
    names = set(sub["condition"].astype(str).unique())
    if str(baseline) not in names or len(names) < 2:
        raise AnalysisError("the full mixed model needs ratings of two conditions under test")
    return lmm_intercepts.encode(sub, str(baseline))


@blas_limited
def mixed_model_full(
    df: pd.DataFrame,
    conditions: list[str],
    baseline: str,
    compare: Sequence[tuple[str, str]] = (),
) -> dict:
    """Fit the confirmatory model on the ratings of ``conditions`` vs ``baseline``; the result
    is laid out as :func:`mushra.analysis.lmm_intercepts.mixed_model`'s, ``comparisons``
    included, with the four variance components of :data:`COMPONENTS` and the residual."""
    sub = df[df["condition"].isin(conditions)]
    if len(conditions) < 2 or baseline not in conditions:
        raise AnalysisError("the full mixed model needs two conditions under test")
    codes, cond, order = encode(sub, baseline)
    a, b = sorted(("listener", "item"), key=lambda f: -int(codes[f].max()))
    y = sub["score"].to_numpy(dtype=float)
    st = sufficient(codes[a], codes[b], cond, y - y.mean(), len(order))
    lmm_reml.check_design(st, MODEL)
    la, lb = int(codes[a].max()) + 1, st.nb
    free = np.array([la > 1, la > 1, lb > 1, lb > 1])
    theta = fit_theta(st, free)
    beta, sigma2 = lmm_reml.fixed_effects(evaluate, theta, st, MODEL)
    names = [a, f"{a}:condition", b, f"{b}:condition"]
    parts = dict(zip(names, sigma2 * theta**2, strict=True))
    return {
        "formula": full_formula(baseline),
        **lmm_reml.summary(
            order,
            compare,
            (beta, theta, free, float(np.sqrt(sigma2))),
            float(y.mean()),
            criterion=lambda th: criterion(th, st),
            evaluate=evaluate,
            st=st,
        ),
        "variance_components": {
            **{key: float(parts[key]) for key in COMPONENTS},
            "residual": float(sigma2),
        },
    }
