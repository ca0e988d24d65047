"""Uncertainties and identifiability of a least-squares fit.

* Covariance: Cov(θ) = s² (JᵀJ)⁻¹ with s² = χ²/dof, through an SVD of the column-scaled
  Jacobian (J = U S Vᵀ, Cov = V S⁻² Vᵀ s²). Singular values below ``S_max·max(m, k)·ε`` span
  numerically null directions: every parameter with a component along one of them is
  undetermined (infinite error). Reference: W. H. Press et al., *Numerical Recipes*, 3rd ed.,
  §15.4 (2007); P. R. Bevington, D. K. Robinson, *Data Reduction and Error Analysis*, ch. 8.
* Identifiability: a parameter is *poorly determined* when its relative error exceeds
  ``max_rel_error`` or it is in a pair with |correlation| > ``max_correlation`` (except the Q–n
  pair of one CPE-type element).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Uncertainty",
    "covariance_from_jacobian",
    "element_of",
    "identifiability",
    "poorly_determined_warning",
    "q_n_pair",
]


@dataclass
class Uncertainty:
    """Covariance (linear units), standard errors, correlation and undetermined mask."""

    covariance: np.ndarray
    errors: np.ndarray
    correlation: np.ndarray
    undetermined: np.ndarray


def covariance_from_jacobian(J_s: np.ndarray, scale: np.ndarray, s2: float) -> Uncertainty:
    """Covariance of θ from the column-scaled Jacobian J_s = J·diag(scale) and s²."""
    k = J_s.shape[1]
    nan = np.full((k, k), np.nan)
    if not (np.all(np.isfinite(J_s)) and np.isfinite(s2)):
        return Uncertainty(nan, np.full(k, np.nan), nan.copy(), np.zeros(k, dtype=bool))
    try:
        _, S, Vt = np.linalg.svd(J_s, full_matrices=False)
    except np.linalg.LinAlgError:  # SVD did not converge
        return Uncertainty(nan, np.full(k, np.nan), nan.copy(), np.zeros(k, dtype=bool))
    # values far from 1 (a parameter at its automatic limit, 10^±300) may overflow below: the
    # affected entries become inf or NaN (null in JSON), never a printed NumPy warning
    with np.errstate(all="ignore"):
        return _uncertainty(S, Vt, J_s.shape, scale, s2)


def _uncertainty(
    S: np.ndarray, Vt: np.ndarray, shape: tuple[int, int], scale: np.ndarray, s2: float
) -> Uncertainty:
    k = Vt.shape[1]
    nan = np.full((k, k), np.nan)
    if S.size == 0 or S[0] == 0:
        inf = np.full((k, k), np.inf)
        return Uncertainty(inf, np.full(k, np.inf), nan, np.ones(k, dtype=bool))
    keep = S > S[0] * max(shape) * np.finfo(float).eps
    V = Vt[keep].T
    cov_s = (V / S[keep] ** 2) @ V.T * s2
    null = Vt[~keep]
    undetermined = np.any(np.abs(null) > 1e-6, axis=0) if null.size else np.zeros(k, dtype=bool)
    sd_s = np.sqrt(np.diag(cov_s))
    sd_s[undetermined] = np.inf
    corr = cov_s / np.outer(sd_s, sd_s)
    corr[undetermined, :] = np.nan
    corr[:, undetermined] = np.nan
    np.fill_diagonal(corr, 1.0)
    cov = cov_s * np.outer(scale, scale)
    cov[undetermined, :] = np.inf
    cov[:, undetermined] = np.inf
    return Uncertainty(cov, sd_s * scale, corr, undetermined)


def identifiability(
    names: list[str],
    values: np.ndarray,
    errors: np.ndarray,
    correlation: np.ndarray,
    max_rel_error: float,
    max_correlation: float,
) -> tuple[list[str], list[tuple[str, str, float]], np.ndarray]:
    """(poorly determined names, strongly correlated pairs sorted by |r|, relative errors).

    A strong correlation between the Q and the n of one CPE-type element (``CPE1_Q``/``CPE1_n``,
    ``TLM1_Q``/``TLM1_n``) is listed but does not by itself make them poorly determined: it
    mostly reflects the 1 rad/s reference frequency of Q. Every other strong correlation does
    (e.g. ``Wo1_R``/``Wo1_tau`` at +1 when only R/√τ is seen).
    """
    with np.errstate(all="ignore"):
        rel = np.where(values != 0, errors / np.abs(values), np.inf)
    flagged = {n for n, r in zip(names, rel) if not r <= max_rel_error}
    strong: list[tuple[str, str, float]] = []
    k = len(names)
    for i in range(k):
        for j in range(i + 1, k):
            if abs(correlation[i, j]) > max_correlation:
                strong.append((names[i], names[j], float(correlation[i, j])))
                if not q_n_pair(names[i], names[j]):
                    flagged.update((names[i], names[j]))
    strong.sort(key=lambda t: -abs(t[2]))
    return [n for n in names if n in flagged], strong, rel


def element_of(name: str) -> str:
    """The element a parameter belongs to: ``CPE1_Q`` → ``CPE1``, ``R0`` → ``R0``."""
    return name.split("_", 1)[0]


def q_n_pair(a: str, b: str) -> bool:
    """True for the Q and n of one CPE-type element (``CPE1_Q``, ``CPE1_n``)."""
    return element_of(a) == element_of(b) and {a.rsplit("_", 1)[-1], b.rsplit("_", 1)[-1]} == {
        "Q",
        "n",
    }


def poorly_determined_warning(
    poorly: list[str],
    strong: list[tuple[str, str, float]],
    values: dict[str, float],
    errors: dict[str, float],
    units: dict[str, str],
    rel: np.ndarray,
    names: list[str],
) -> str:
    """The one-line warning naming the poorly determined parameters and the correlations
    between elements that make them so."""
    from iondyn.display import format_value, is_undetermined

    described = ", ".join(
        f"{n} = {format_value(values[n], errors[n], units[n])}"
        + ("" if is_undetermined(values[n], errors[n]) else f" (±{_percent(rel[names.index(n)])})")
        for n in poorly
    )
    text = (
        f"poorly determined parameters: {described}; the data do not constrain them "
        "(an arc outside the frequency range, or more elements than the data resolve)"
    )
    across = [t for t in strong if not q_n_pair(t[0], t[1])]
    if across:
        pairs = ", ".join(f"{a}/{b} r={r:+.4f}" for a, b, r in across[:5])
        text += f"; strongly correlated: {pairs}"
    return text


def _percent(rel: float) -> str:
    return "∞" if not np.isfinite(rel) else f"{100 * rel:.2g} %"
