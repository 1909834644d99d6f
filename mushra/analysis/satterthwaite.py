"""Satterthwaite degrees of freedom for the fixed effects of a linear mixed model fitted by REML.

Why: Wald z treats the variance components as known. With few listeners they are not, and z
intervals are too narrow (an independent check: 7.6 % type-I error at 4 listeners where the
nominal is 5 %, and 3 of 6 effects "significant" at 2 listeners where t with Satterthwaite's df
finds 1). Reviewers expect t with Satterthwaite (lmerTest) or Kenward–Roger (pbkrtest) df.

Method, as lmerTest 3.1 (Kuznetsova, Brockhoff & Christensen 2017, J. Stat. Softw. 82(13)) does
it: with the variance parameters ψ = (θ_1 … θ_m, σ), the REML deviance D(ψ) (−2 × restricted
log-likelihood, *not* profiled over σ) and the fixed-effects covariance V(ψ) = σ²(R_X'R_X)⁻¹,

    A = 2 H⁻¹,  H = ∂²D/∂ψ² at ψ̂           (asymptotic covariance of ψ̂)
    for a contrast l:  v = l'V l,  g_j = l' (∂V/∂ψ_j) l,  df = 2 v² / (g'A g).

Both derivatives are taken numerically, by central differences (lmerTest uses numDeriv). A θ at
the boundary 0 (a singular fit) is left out of ψ: D and V are even functions of each θ (only θ²
enters), so at θ = 0 its row of ∂V/∂ψ is zero and its row and column of H are zero off the
diagonal, and dropping it changes nothing — while the differences themselves would be all round-
off there.

Kenward–Roger is not offered: it also needs the second derivatives of V⁻¹ and an adjusted
covariance, which these sufficient-statistics fits do not form, and it would not change a
conclusion here: on the confirmatory model of the lmerTest fixtures, pbkrtest 0.5.2's
Kenward–Roger p-values differ from Satterthwaite's by at most 0.0014 (2 listeners: df 4.59 vs
4.69; codec-mushra: 112.4 vs 109.3, p 0.1392 vs 0.1393 for Proposed 5.51 vs AudioDec).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

BOUNDARY = 1e-4  # lme4's isSingular tolerance on θ
CONVERGED = 2e-3  # lme4's check.conv.grad tolerance
STEP = 1e-3  # relative step of the numerical derivatives


@dataclass(frozen=True)
class Inference:
    """Per coefficient: estimate, standard error, Satterthwaite df, t, p, 95 % interval."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    t: np.ndarray
    p: np.ndarray
    ci95: np.ndarray  # (p, 2)

    def row(self, j: int) -> dict:
        return {
            "estimate": float(self.estimate[j]),
            "se": float(self.se[j]),
            "df": float(self.df[j]),
            "t": float(self.t[j]),
            "p": float(self.p[j]),
            "ci95": [float(self.ci95[j, 0]), float(self.ci95[j, 1])],
        }


def _steps(x: np.ndarray) -> np.ndarray:
    return STEP * np.maximum(np.abs(x), 0.1)


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """∂²f/∂x² by central differences (error O(h²) ≈ 1e-6 relative at these steps, far below
    what the df need; numDeriv's Richardson steps would double the fits for nothing here)."""
    m, h = len(x), _steps(x)
    f0 = f(x)
    out = np.empty((m, m))

    def step(j: int) -> np.ndarray:
        e = np.zeros(m)
        e[j] = h[j]
        return e

    for i in range(m):
        ei = step(i)
        out[i, i] = (f(x + ei) - 2.0 * f0 + f(x - ei)) / (h[i] * h[i])
        for j in range(i):
            ej = step(j)
            both = f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            out[i, j] = out[j, i] = both / (4.0 * h[i] * h[j])
    return out


def jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """∂f/∂x_j for a matrix-valued f, by central differences."""
    out = []
    for j, h in enumerate(_steps(x)):
        e = np.zeros(len(x))
        e[j] = h
        out.append((f(x + e) - f(x - e)) / (2.0 * h))
    return out


def converged(
    criterion: Callable[[np.ndarray], float], theta: np.ndarray, tol: float = CONVERGED
) -> bool:
    """lme4's convergence check (``check.conv.grad``) at the fit: with g the gradient and H the
    Hessian of the profiled REML criterion in the θ off the boundary, and R'R = H, the fit has
    converged when every min(|R⁻¹g|, |g|) is below ``tol``. The scaled R⁻¹g is about how far θ
    still is from the optimum, so it does not grow with the number of ratings as |g| does (at
    10^5 ratings |g| ≈ 2e-3 is an optimum to five digits). A Hessian that is not positive
    definite leaves the raw gradient alone to decide, as lme4 does."""
    free = np.flatnonzero(np.abs(theta) >= BOUNDARY)
    if len(free) == 0:
        return True

    def f(v: np.ndarray) -> float:
        th = theta.copy()
        th[free] = v
        return criterion(th)

    x, g = theta[free], np.empty(len(free))
    for j, h in enumerate(_steps(theta[free])):
        e = np.zeros(len(free))
        e[j] = h
        g[j] = (f(x + e) - f(x - e)) / (2.0 * h)
    try:
        upper = np.linalg.cholesky(hessian(f, x)).T
        scaled = np.abs(np.linalg.solve(upper, g))
    except np.linalg.LinAlgError:
        scaled = np.abs(g)
    return bool(np.max(np.minimum(scaled, np.abs(g))) < tol)


def satterthwaite(
    beta: np.ndarray,
    theta: np.ndarray,
    sigma: float,
    deviance: Callable[[np.ndarray, float], float],
    covariance: Callable[[np.ndarray, float], np.ndarray],
    contrasts: np.ndarray | None = None,
) -> Inference:
    """t inference for each contrast (a row of ``contrasts``; default: each coefficient).

    ``deviance(θ, σ)`` is the REML deviance and ``covariance(θ, σ)`` the fixed-effects
    covariance, both at any variance parameters; θ̂ and σ̂ are the fit's.
    """
    contrasts = np.eye(len(beta)) if contrasts is None else np.atleast_2d(contrasts)
    free = np.flatnonzero(np.abs(theta) >= BOUNDARY)
    psi = np.concatenate([theta[free], [sigma]])

    def unpack(v: np.ndarray) -> tuple[np.ndarray, float]:
        th = np.zeros(len(theta))
        th[free] = v[:-1]
        return th, float(v[-1])

    def quadratic(mat: np.ndarray) -> np.ndarray:
        return np.einsum("ci,ij,cj->c", contrasts, mat, contrasts)

    var = quadratic(covariance(theta, sigma))
    g = np.array([quadratic(d) for d in jacobian(lambda v: covariance(*unpack(v)), psi)])
    a = 2.0 * np.linalg.pinv(hessian(lambda v: deviance(*unpack(v)), psi))
    denom = np.einsum("ic,ij,jc->c", g, a, g)  # g: (parameters, contrasts)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(denom > 0, 2.0 * var * var / denom, np.inf)
    return inference(contrasts @ beta, np.sqrt(var), df)


def inference(beta: np.ndarray, se: np.ndarray, df: np.ndarray) -> Inference:
    """t statistics, two-sided p-values and 95 % intervals on ``df`` degrees of freedom."""
    t = beta / se
    p = 2.0 * stats.t.sf(np.abs(t), df)
    half = stats.t.ppf(0.975, df) * se
    return Inference(beta, se, df, t, p, np.column_stack([beta - half, beta + half]))
