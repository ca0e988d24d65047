"""Non-negative Tikhonov least squares and the choice of the regularisation parameter λ.

The DRT problem in standard form (weighted and scaled; see :mod:`iondyn.eis.drt`) is

    minimise  ‖A x − b‖² + λ xᵀ P x   subject to  x ≥ 0,

with A (n × p) the weighted design matrix and P (p × p) the derivative penalty (zero rows and
columns for the unpenalised R∞, L and 1/C_s). Solves work on the Gram form G = AᵀA + λP,
c = Aᵀb, so one costs O(p³) whatever the number of frequencies.

* :func:`iondyn.eis.drt_nnls.nnls_gram` — NNLS in Gram form (block principal pivoting with
  a Lawson–Hanson fallback), warm-started from a previous free set.
* Influence of the exact constrained solution: with the free set F fixed, the estimate is the
  unconstrained one restricted to F, so H_λ = A_F (A_FᵀA_F + λP_FF)⁻¹ A_Fᵀ and
  tr H_λ = tr[(G_FF)⁻¹ A_FᵀA_F].
* Criteria, all evaluated on the exact non-negative solutions:
  - ``gcv`` (Golub, Heath & Wahba, Technometrics 21, 215 (1979)): minimise
    V(λ) = n ‖r‖² / (n − tr H)²;
  - ``mgcv`` (modified GCV, Maradesa et al., J. Electrochem. Soc. 170, 030502 (2023),
    eq. 14–15): n ‖r‖² / (n − ρ tr H)², ρ = 1.3 for n < 50, else 2;
  - ``lcurve`` (Hansen & O'Leary, SIAM J. Sci. Comput. 14, 1487 (1993)): maximum curvature of
    (½ log ‖r‖², ½ log xᵀPx) along log λ;
  - ``discrepancy`` (default; Morozov's discrepancy principle with the noise from GCV): the
    noise variance is estimated at the GCV minimum, σ̂² = ‖r‖² / (n − tr H) (Wahba's
    estimate), or given by the user; λ is the largest value
    with ‖r(λ)‖² ≤ n σ̂², the residual expected from the true γ itself.
  Why the default is not plain GCV: with the non-negativity constraint the constraint itself
  regularises, and the exact-solution GCV curve is flat (to ~1 %) over six or more decades of
  λ below the optimum, so its minimum is set by noise. On two ZARCs + blocking electrode at
  0.2–1 % noise (10 seeds) it chose λ anywhere in 1e-6.5…1e-2.3 and peak resistances were up
  to 54 % off; the discrepancy rule stayed within 9 % (docs/eis-kk-drt.md has the table).
* Search (:func:`search_lambda`): every criterion is evaluated on a grid of log10 λ
  (0.5 decade steps over ``lam_range``, default 1e-10 … 1e2), walked from strong to weak
  regularisation with warm starts; the walk stops early once the GCV-type score has not
  improved by 1 % over two decades (the plateau; the L-curve always walks the whole grid).
  The best grid point is then refined inside its neighbours (golden section for GCV/mGCV,
  bisection for the discrepancy equation, to 0.02 decade). An optimum within one grid step
  of either end of the range is reported in ``warnings`` (and ``at_edge``), never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from iondyn.eis.drt_nnls import NNLSSolution, nnls_gram, spd_solve
from iondyn.errors import InputError

__all__ = [
    "LAMBDA_METHODS",
    "LambdaSearch",
    "TikhonovFit",
    "TikhonovProblem",
    "search_lambda",
    "selection_scores",
]

LAMBDA_METHODS = ("discrepancy", "gcv", "mgcv", "lcurve")
#: The downward scan stops once the score has not improved by PLATEAU_TOL for PLATEAU_STEPS
#: grid points (two decades): the flat low-λ plateau of the constrained GCV is reached.
PLATEAU_TOL = 0.01
PLATEAU_STEPS = 4
_GOLDEN = 0.5 * (np.sqrt(5.0) - 1.0)


@dataclass
class TikhonovFit:
    """The exact non-negative solution at one λ: residual, penalty and influence trace."""

    log10_lam: float
    sol: NNLSSolution
    rss: float
    penalty: float
    trace: float

    @property
    def lam(self) -> float:
        return 10.0**self.log10_lam


class TikhonovProblem:
    """A, b, P and their Gram products, with an evaluator of the exact solution at λ."""

    def __init__(self, a: np.ndarray, b: np.ndarray, penalty: np.ndarray):
        self.a = np.asarray(a, dtype=float)
        self.b = np.asarray(b, dtype=float)
        self.penalty = np.asarray(penalty, dtype=float)
        self.ata = self.a.T @ self.a
        self.atb = self.a.T @ self.b
        self.n = self.b.size
        self.count = 0

    def objective(self, x: np.ndarray, lam: float) -> float:
        """Tikhonov objective J = ‖b − A x‖² + λ xᵀ P x."""
        r = self.b - self.a @ x
        return float(r @ r + lam * (x @ self.penalty @ x))

    def increase_without(
        self,
        drop: np.ndarray,
        fit: TikhonovFit,
        enough: float = np.inf,
    ) -> float:
        """Rise of the objective J when the unknowns in ``drop`` are held at zero and the rest
        refitted (x ≥ 0) at the λ of ``fit``.

        First the refit without the sign constraint, whose rise is a lower bound of the
        constrained one; when that bound already reaches ``enough`` it is returned as is
        (the answer to "is the rise at least ``enough``?" is then known), otherwise the
        constrained refit is solved, warm-started from ``fit``'s free set.
        """
        lam = fit.lam
        keep = np.flatnonzero(~np.asarray(drop, dtype=bool))
        x0 = fit.sol.x
        j0 = self.objective(x0, lam)
        g = (self.ata + lam * self.penalty)[np.ix_(keep, keep)]
        x = np.zeros_like(x0)
        x[keep] = spd_solve(g, self.atb[keep])
        bound = self.objective(x, lam) - j0
        if bound >= enough:
            return max(bound, 0.0)
        sol = nnls_gram(g, self.atb[keep], fit.sol.free[keep])
        x = np.zeros_like(x0)
        x[keep] = sol.x
        return max(self.objective(x, lam) - j0, 0.0)

    def evaluate(self, log10_lam: float, free_init: np.ndarray | None) -> TikhonovFit:
        self.count += 1
        lam = 10.0**log10_lam
        g = self.ata + lam * self.penalty
        sol = nnls_gram(g, self.atb, free_init)
        x = sol.x
        r = self.b - self.a @ x
        rss = float(r @ r)
        pen = max(float(x @ self.penalty @ x), 0.0)
        idx = np.flatnonzero(sol.free)
        trace = 0.0
        if idx.size:
            gf = g[np.ix_(idx, idx)]
            trace = float(np.trace(spd_solve(gf, self.ata[np.ix_(idx, idx)])))
        return TikhonovFit(float(log10_lam), sol, rss, pen, trace)


def selection_scores(rss: np.ndarray, trace: np.ndarray, n: int, method: str) -> np.ndarray:
    """GCV (ρ = 1) or modified GCV score n·RSS / (n − ρ·tr H)²; lower is better.

    Where n − ρ tr H ≤ 0 the score is +inf (the fit has used up the data).
    """
    rho = 1.0 if method == "gcv" else (1.3 if n < 50 else 2.0)
    rss = np.asarray(rss, dtype=float)
    denom = n - rho * np.asarray(trace, dtype=float)
    safe = np.where(denom > 0, denom, 1.0)
    return np.where(denom > 0, n * rss / safe**2, np.inf)


def _lcurve_curvature(log_lam: np.ndarray, rss: np.ndarray, pen: np.ndarray) -> np.ndarray:
    """Signed curvature of the L-curve (½ log RSS, ½ log penalty) parametrised by log λ."""
    if log_lam.size < 3:
        return np.zeros_like(log_lam)
    tiny = 1e-300
    rho = 0.5 * np.log(np.maximum(rss, tiny))
    eta = 0.5 * np.log(np.maximum(pen, tiny))
    d_rho = np.gradient(rho, log_lam)
    d_eta = np.gradient(eta, log_lam)
    dd_rho = np.gradient(d_rho, log_lam)
    dd_eta = np.gradient(d_eta, log_lam)
    speed = (d_rho**2 + d_eta**2) ** 1.5
    num = d_rho * dd_eta - dd_rho * d_eta
    return np.where(speed > 0, num / np.where(speed > 0, speed, 1.0), -np.inf)


@dataclass
class LambdaSearch:
    """Outcome of the λ search: chosen λ, its solution and the scanned curve.

    ``scores`` holds the criterion on ``log10_grid`` (GCV-type score, minus the L-curve
    curvature, or for ``discrepancy`` the GCV score used to estimate the noise);
    ``noise_variance`` is σ̂² of the weighted data (discrepancy only).
    """

    lam: float
    fit: TikhonovFit
    method: str
    log10_grid: np.ndarray
    scores: np.ndarray
    rss: np.ndarray
    trace: np.ndarray
    at_edge: bool
    evaluations: int
    noise_variance: float | None = None
    warnings: list[str] = field(default_factory=list)


def search_lambda(
    prob: TikhonovProblem,
    method: str = "discrepancy",
    lam_range: tuple[float, float] = (1e-10, 1e2),
    noise_variance: float | None = None,
    discrepancy_factor: float = 1.0,
    step_decades: float = 0.5,
    refine_tol_decades: float = 0.02,
) -> LambdaSearch:
    """Choose λ by ``method`` on the exact non-negative solutions (see the module docstring).

    ``prob`` holds the weighted design matrix A (n × p), the data b and the penalty P.
    ``noise_variance`` (discrepancy only): the variance of each weighted data value, when
    known; otherwise it is estimated at the GCV minimum. ``discrepancy_factor`` scales the
    target n σ².
    """
    if method not in LAMBDA_METHODS:
        raise InputError(f"unknown λ method {method!r}; choose one of {', '.join(LAMBDA_METHODS)}")
    lo, hi = (float(v) for v in lam_range)
    if not (0 < lo < hi and np.isfinite(hi)):
        raise InputError(f"λ search range must satisfy 0 < low < high, got {lam_range}")
    if noise_variance is not None and not (np.isfinite(noise_variance) and noise_variance > 0):
        raise InputError(f"noise variance must be positive, got {noise_variance}")
    n = prob.n
    n_steps = max(int(np.ceil((np.log10(hi) - np.log10(lo)) / step_decades)), 2)
    log_grid = np.linspace(np.log10(hi), np.log10(lo), n_steps + 1)
    evals: list[TikhonovFit] = []
    free = np.ones(prob.atb.size, dtype=bool)  # strongest λ first: start all-free, shrink
    kind = "gcv" if method == "discrepancy" else method
    best_score, since_best = np.inf, 0
    for lg in log_grid:
        ev = prob.evaluate(lg, free)
        free = ev.sol.free
        evals.append(ev)
        if method == "lcurve":
            continue
        score = float(selection_scores(np.array([ev.rss]), np.array([ev.trace]), n, kind)[0])
        if score < (1.0 - PLATEAU_TOL) * best_score:
            best_score, since_best = score, 0
        else:
            since_best += 1
            if since_best >= PLATEAU_STEPS:  # on the plateau: weaker λ no longer helps
                break
    log_grid = log_grid[: len(evals)][::-1]
    evals.reverse()
    rss = np.array([e.rss for e in evals])
    trace = np.array([e.trace for e in evals])
    pen = np.array([e.penalty for e in evals])
    warnings: list[str] = []
    sigma2 = None

    def gcv_of(e: TikhonovFit, kind: str) -> float:
        return float(selection_scores(np.array([e.rss]), np.array([e.trace]), n, kind)[0])

    if method == "lcurve":
        scores = -_lcurve_curvature(log_grid, rss, pen)
    else:
        scores = selection_scores(rss, trace, n, "gcv" if method == "discrepancy" else method)
    if not np.any(np.isfinite(scores)):
        best = len(evals) - 1
        warnings.append(f"{method}: no finite score on the λ grid; λ set to the upper end")
    else:
        best = int(np.argmin(scores))
    chosen = evals[best]

    if method in ("gcv", "mgcv") and 0 < best < len(evals) - 1:
        left, right = log_grid[best - 1], log_grid[best + 1]
        cache: dict[float, TikhonovFit] = {}

        def f(lg: float) -> float:
            if lg not in cache:
                cache[lg] = prob.evaluate(lg, chosen.sol.free)
            return gcv_of(cache[lg], method)

        x1 = right - _GOLDEN * (right - left)
        x2 = left + _GOLDEN * (right - left)
        f1, f2 = f(x1), f(x2)
        while right - left > refine_tol_decades:
            if f1 <= f2:
                right, x2, f2 = x2, x1, f1
                x1 = right - _GOLDEN * (right - left)
                f1 = f(x1)
            else:
                left, x1, f1 = x1, x2, f2
                x2 = left + _GOLDEN * (right - left)
                f2 = f(x2)
        refined = min(cache.values(), key=lambda e: gcv_of(e, method))
        if gcv_of(refined, method) < gcv_of(chosen, method):
            chosen = refined
    elif method == "discrepancy":
        if noise_variance is None:
            dof = n - evals[best].trace
            sigma2 = evals[best].rss / dof if dof > 0 else evals[best].rss / n
        else:
            sigma2 = float(noise_variance)
        target = discrepancy_factor * n * sigma2
        below = np.flatnonzero(rss <= target)
        if below.size == 0:
            best = 0
            warnings.append(
                "discrepancy: even the weakest λ leaves a residual above the noise level"
            )
        else:
            best = int(below.max())
        chosen = evals[best]
        if best < len(evals) - 1 and below.size:
            left, right = log_grid[best], log_grid[best + 1]
            while right - left > refine_tol_decades:
                mid = 0.5 * (left + right)
                ev = prob.evaluate(mid, chosen.sol.free)
                if ev.rss <= target:
                    left, chosen = mid, ev
                else:
                    right = mid
    # on the edge: within one grid step of an end (the criterion wants the weakest or the
    # strongest regularisation the range offers, whatever the refinement made of it)
    lo_edge = chosen.log10_lam < np.log10(lo) + step_decades - 1e-9
    hi_edge = chosen.log10_lam > np.log10(hi) - step_decades + 1e-9
    at_edge = lo_edge or hi_edge
    if at_edge:
        side = "lower" if lo_edge else "upper"
        reason = (
            "the data may be noise-free or the model may not describe them (e.g. a blocking "
            "electrode without a series capacitance)"
            if side == "lower"
            else "the data carry little information beyond noise"
        )
        warnings.append(
            f"{method}: λ = {10.0**chosen.log10_lam:.2e} lies at the {side} end of the search "
            f"range [{lo:.0e}, {hi:.0e}]; {reason}"
        )
    if not chosen.sol.converged:
        warnings.append("the non-negative least-squares solver did not converge")
    return LambdaSearch(
        lam=10.0**chosen.log10_lam,
        fit=chosen,
        method=method,
        log10_grid=log_grid,
        scores=np.asarray(scores, dtype=float),
        rss=rss,
        trace=trace,
        at_edge=at_edge,
        evaluations=prob.count,
        noise_variance=sigma2,
        warnings=warnings,
    )
