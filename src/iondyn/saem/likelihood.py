"""Likelihoods for the refinement stage: Gaussian (weighted least squares) and Poisson.

Both are minimised by the same batched Levenberg–Marquardt loop through three functions:
the cost to minimise, the weights W of the normal equations JᵀWJ δ = JᵀW(y − m), and the
information-criterion term used by BIC.
"""

from __future__ import annotations

import numpy as np

from iondyn.errors import InputError

__all__ = ["GaussianLikelihood", "Likelihood", "PoissonLikelihood", "get_likelihood"]


class Likelihood:
    """Interface: ``cost``, ``weights``, ``bic_term``; arrays (B, N) with a mask of real points."""

    name = "likelihood"
    #: True when the covariance must be scaled by the reduced χ² (unknown noise level).
    scale_covariance = True

    def cost(self, y, m, w, mask) -> np.ndarray:
        raise NotImplementedError

    def weights(self, y, m, w, mask) -> np.ndarray:
        raise NotImplementedError

    def bic_term(self, cost: np.ndarray, n: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def pearson_chi2(self, y, m, w, mask) -> np.ndarray:
        raise NotImplementedError


class GaussianLikelihood(Likelihood):
    r"""Gaussian noise: minimise χ² = Σ_i w_i (y_i − m_i)², w_i = 1/σ_i² (1 without σ).

    With unknown σ (``absolute_sigma=False``, the default) the covariance (JᵀWJ)⁻¹ is scaled by
    the reduced χ² and BIC uses the profile likelihood n ln(χ²/n); with known σ
    (``absolute_sigma=True``) the covariance is not scaled and BIC uses χ² itself
    (Schwarz, Ann. Stat. 6, 461 (1978)).
    """

    name = "gaussian"

    def __init__(self, absolute_sigma: bool = False):
        self.absolute_sigma = absolute_sigma
        self.scale_covariance = not absolute_sigma

    def cost(self, y, m, w, mask):
        r = np.where(mask, y - m, 0.0)
        c = np.sum(w * r * r, axis=-1)
        return np.where(np.all(np.isfinite(np.where(mask, m, 0.0)), axis=-1), c, np.inf)

    def weights(self, y, m, w, mask):
        return np.where(mask, w, 0.0)

    def bic_term(self, cost, n):
        if self.absolute_sigma:
            return cost
        return n * np.log(np.maximum(cost, 1e-300) / n)

    def pearson_chi2(self, y, m, w, mask):
        return self.cost(y, m, w, mask)


class PoissonLikelihood(Likelihood):
    r"""Poisson counts: minimise the deviance

    .. math:: D = 2\sum_i \left[y_i \ln\frac{y_i}{m_i} - (y_i - m_i)\right]

    by Fisher scoring (LM with weights W = 1/m at the current model; McCullagh & Nelder,
    *Generalized Linear Models*, 2nd ed. (1989), §2.5). The covariance is the inverse Fisher
    information (JᵀWJ)⁻¹, not rescaled; BIC = D + p ln n.
    """

    name = "poisson"
    scale_covariance = False

    def __init__(self, floor: float = 1e-6):
        self.floor = floor

    def cost(self, y, m, w, mask):
        bad = np.any(mask & (m < 0), axis=-1) | ~np.all(np.isfinite(np.where(mask, m, 1.0)), -1)
        mm = np.maximum(m, 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mm), 0.0) - (y - mm)
        d = 2.0 * np.sum(np.where(mask, t, 0.0), axis=-1)
        return np.where(bad, np.inf, d)

    def weights(self, y, m, w, mask):
        return np.where(mask, 1.0 / np.maximum(m, self.floor), 0.0)

    def bic_term(self, cost, n):
        return cost

    def pearson_chi2(self, y, m, w, mask):
        r = np.where(mask, y - m, 0.0)
        return np.sum(r * r / np.maximum(np.where(mask, m, 1.0), self.floor), axis=-1)


def get_likelihood(name: str | Likelihood, **options) -> Likelihood:
    if isinstance(name, Likelihood):
        return name
    key = str(name).strip().lower()
    if key in ("gaussian", "normal", "least-squares", "lsq"):
        return GaussianLikelihood(**options)
    if key in ("poisson", "counts"):
        return PoissonLikelihood(**options)
    raise InputError(f"unknown likelihood {name!r}; choose 'gaussian' or 'poisson'")
