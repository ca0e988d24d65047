r"""SAEM on a map's pixels: the number of peaks chosen once per map, starting points, identity.

* :func:`saem_for_map` — the SAEM engine configured like the map fit (same shape, background,
  likelihood), so its solutions start the map's variable-projection refinement directly.
* :func:`choose_k` — K for the whole map: SAEM with ``n_peaks="auto"`` on a subsample of
  pixels drawn from every cluster; the BIC of the joint model (every sampled pixel with K
  peaks) is the sum of the pixels' BIC (Schwarz, Ann. Stat. 6, 461 (1978): independent pixels
  add their log-likelihoods and their parameter counts). K minimises it among the K for which
  at least half of the pixels give a plausible decomposition (every area > 2σ, centres in the
  window, widths between 1.5 grid steps and the window; ``docs/saem.md``). The table of every
  K is part of the result.
* :func:`match_identity` — peak identity against a reference: the permutation of each
  pixel's peaks that minimises Σ_k |Δc_k|/Γ_ref,k + |ln(Γ_k/Γ_ref,k)| (all K! permutations,
  vectorised, for K ≤ 6; the Hungarian assignment of
  :func:`scipy.optimize.linear_sum_assignment` beyond).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from iondyn.maps.lineshapes import MapShape
from iondyn.maps.model import MapModel

__all__ = ["choose_k", "match_identity", "saem_for_map", "saem_theta"]


def saem_for_map(
    shape: MapShape,
    n_peaks: int | str,
    background: str,
    likelihood: str,
    *,
    max_peaks: int = 6,
    degree: int = 2,
    from_right: bool = False,
    random_state: int | None = 0,
    n_starts: int = 5,
):
    """A :class:`~iondyn.saem.SAEM` engine matching the map fit's model."""
    import iondyn.saem.background_als
    import iondyn.saem.background_powerlaw  # noqa: F401  (registers "power-law")
    from iondyn.saem import SAEM

    options: dict[str, Any] = {}
    bg = background
    if background == "polynomial":
        options = {"degree": degree}
    elif background == "shirley":
        options = {"high_side": "low" if from_right else "high"}
    return SAEM(
        shape.component if shape.component is not None else shape.name,
        n_peaks,
        max_peaks=max_peaks,
        background=bg,
        likelihood=likelihood,
        random_state=random_state,
        n_starts=n_starts,
        background_options=options,
    )


def saem_theta(model: MapModel, fit: Any) -> np.ndarray:
    """The map model's θ (n_nl,) from a SAEM :class:`~iondyn.saem.SpectrumFit` with the
    same K (peaks in the fit's order)."""
    k = fit.n_peaks
    p = model.shape.n_params
    peaks = np.asarray(fit.params[: k * (1 + p)]).reshape(k, 1 + p)[:, 1:]
    return model.theta_from_saem(peaks, fit.background)


def choose_k(
    engine: Any, x: np.ndarray, spectra: np.ndarray
) -> tuple[int, list[dict[str, Any]], list[Any]]:
    """(K, table, fits) from SAEM ``n_peaks="auto"`` fits of ``spectra`` (module docstring)."""
    result = engine.fit((x, spectra))
    ks = sorted({row["n_peaks"] for f in result.fits for row in f.bic_table} or {engine.max_peaks})
    own = [f.n_peaks for f in result.fits]
    table = []
    for k in ks:
        bics, elig, conv = [], 0, 0
        complete = True
        for f in result.fits:
            row = next((r for r in f.bic_table if r["n_peaks"] == k), None)
            if row is None or row["bic"] is None:
                complete = False
                continue
            bics.append(row["bic"])
            elig += bool(row["eligible"])
            conv += bool(row["converged"])
        n = max(len(result.fits), 1)
        table.append(
            {
                "n_peaks": k,
                "bic": float(np.sum(bics)) if complete and bics else None,
                "eligible_fraction": elig / n,
                "converged_fraction": conv / n,
                "chosen_by_pixels": sum(1 for o in own if o == k),
            }
        )
    if len(result.fits) and not result.fits[0].bic_table:  # a fixed K
        return int(result.fits[0].n_peaks), table, list(result.fits)
    cands = [t for t in table if t["bic"] is not None and t["eligible_fraction"] >= 0.5]
    if not cands:
        cands = [t for t in table if t["bic"] is not None]
    best = min(cands, key=lambda t: t["bic"]) if cands else {"n_peaks": max(own)}
    kbest = int(best["n_peaks"])
    for t in table:
        t["delta_bic"] = (
            None if t["bic"] is None or best.get("bic") is None else t["bic"] - best["bic"]
        )
        t["chosen"] = t["n_peaks"] == kbest
    return kbest, table, list(result.fits)


def match_identity(shape: MapShape, theta: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Permutations (B, K): ``theta[b, perm[b]]`` (peaks (B, K, P)) best matches ``ref``
    (B, K, P) or (K, P) (module docstring)."""
    b, k, _ = theta.shape
    ref = np.broadcast_to(ref, theta.shape)
    d = shape.describe(theta)
    r = shape.describe(ref)
    with np.errstate(all="ignore"):
        cost = np.abs(d["center"][:, None, :] - r["center"][:, :, None]) / np.abs(
            r["fwhm"][:, :, None]
        ) + np.abs(np.log(np.abs(d["fwhm"][:, None, :] / r["fwhm"][:, :, None])))
    cost = np.where(np.isfinite(cost), cost, 1e6)  # cost[b, i, j]: reference i ← peak j
    if k <= 6:
        perms = np.array(list(itertools.permutations(range(k))))
        total = cost[:, np.arange(k)[None, :], perms].sum(-1)  # (B, n_perm)
        return perms[np.argmin(total, axis=1)]
    from scipy.optimize import linear_sum_assignment

    out = np.empty((b, k), dtype=int)
    for i in range(b):
        rows, cols = linear_sum_assignment(cost[i])
        out[i, rows] = cols
    return out
