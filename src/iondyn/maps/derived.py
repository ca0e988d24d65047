r"""Per-pixel quantities and their standard errors from a map fit's parameters.

For every peak k: centre, FWHM (and the shape's other parameters, e.g. the pseudo-Voigt η),
area A_k and height A_k·f_k(max), and for every pair i < j the area ratio A_j/A_i; for the
background its coefficients. Standard errors come from the full covariance C of [c, θ] by
the delta method, σ²(q) = ∇q C ∇qᵀ (the derivatives of centre, FWHM and height per area with
respect to θ_k by central differences of the shape's description, exact for the native
shapes); for a ratio r = A_j/A_i,

.. math:: \sigma_r^2 = r^2\left(\frac{C_{jj}}{A_j^2} + \frac{C_{ii}}{A_i^2}
          - \frac{2C_{ij}}{A_iA_j}\right).

A peak whose area is clamped at zero has no defined shape: its centre, FWHM and errors are
NaN (its area is 0 with a NaN error).
"""

from __future__ import annotations

import numpy as np

from iondyn.maps.model import MapModel

__all__ = ["derive"]


def _steps(model: MapModel, peaks: np.ndarray) -> np.ndarray:
    d = model.shape.describe(peaks)
    steps = np.empty(peaks.shape)
    for j, kind in enumerate(model.shape.kinds):
        if kind == "log":
            steps[..., j] = 1e-6 * np.abs(peaks[..., j]) + 1e-300
        elif kind == "logit":
            steps[..., j] = 1e-6
        else:
            steps[..., j] = 1e-6 * np.abs(d["fwhm"]) + 1e-300
    return steps


def derive(
    model: MapModel, theta: np.ndarray, coef: np.ndarray, cov: np.ndarray, clamped: np.ndarray
) -> dict[str, np.ndarray]:
    """Named arrays, (B, K) for peak quantities and (B,) for the others (module docstring)."""
    b = theta.shape[0]
    k = model.k
    p = model.shape.n_params
    lc = model.n_lin
    peaks = theta[:, : k * p].reshape(b, k, p)
    with np.errstate(all="ignore"):
        desc = model.shape.describe(peaks)
        steps = _steps(model, peaks)
        grads = {q: np.empty((b, k, p)) for q in ("center", "fwhm", "height_per_area")}
        for j in range(p):
            up, dn = peaks.copy(), peaks.copy()
            up[..., j] += steps[..., j]
            dn[..., j] -= steps[..., j]
            du, dd = model.shape.describe(up), model.shape.describe(dn)
            for q in grads:
                grads[q][..., j] = (du[q] - dd[q]) / (2 * steps[..., j])
        out: dict[str, np.ndarray] = {}
        idx_th = lc + np.arange(k)[:, None] * p + np.arange(p)[None, :]  # (K, P)
        c_tt = cov[:, idx_th[:, :, None], idx_th[:, None, :]]  # (B, K, P, P)
        c_at = cov[:, np.arange(k)[:, None], idx_th]  # (B, K, P)
        c_aa = cov[:, np.arange(k), np.arange(k)]  # (B, K)
        areas = coef[:, :k]
        dead = clamped[:, :k]
        for q in ("center", "fwhm"):
            g = grads[q]
            var = np.einsum("bki,bkij,bkj->bk", g, c_tt, g)
            out[q] = np.where(dead, np.nan, desc[q])
            out[f"{q}_err"] = np.where(dead, np.nan, np.sqrt(np.clip(var, 0, None)))
        for j, name in enumerate(model.shape.param_names):
            if name in ("center", "fwhm"):
                continue
            out[name] = np.where(dead, np.nan, peaks[..., j])
            out[f"{name}_err"] = np.where(dead, np.nan, np.sqrt(np.clip(c_tt[..., j, j], 0, None)))
        out["area"] = areas.copy()
        out["area_err"] = np.sqrt(np.clip(c_aa, 0, None))
        hpa = desc["height_per_area"]
        gh = areas[..., None] * grads["height_per_area"]
        var_h = (
            hpa**2 * c_aa
            + 2 * hpa * np.einsum("bki,bki->bk", gh, c_at)
            + np.einsum("bki,bkij,bkj->bk", gh, c_tt, gh)
        )
        out["height"] = np.where(dead, 0.0, areas * hpa)
        out["height_err"] = np.sqrt(np.clip(var_h, 0, None))
        for i in range(k):
            for j in range(i + 1, k):
                r = areas[:, j] / areas[:, i]
                rel = (
                    cov[:, j, j] / areas[:, j] ** 2
                    + cov[:, i, i] / areas[:, i] ** 2
                    - 2 * cov[:, i, j] / (areas[:, i] * areas[:, j])
                )
                out[f"ratio_{j + 1}_{i + 1}"] = r
                out[f"ratio_{j + 1}_{i + 1}_err"] = np.abs(r) * np.sqrt(np.clip(rel, 0, None))
        for j, name in enumerate(model.lin_names[k:]):
            out[name] = coef[:, k + j]
            out[f"{name}_err"] = np.sqrt(np.clip(cov[:, k + j, k + j], 0, None))
        for j, name in enumerate(model.nl_names[k * p :]):
            col = lc + k * p + j
            out[name] = theta[:, k * p + j]
            out[f"{name}_err"] = np.sqrt(np.clip(cov[:, col, col], 0, None))
    return out
