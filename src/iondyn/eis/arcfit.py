"""CNLS for chains of arcs: the model, its Jacobian and the candidate record of the scan.

:class:`ArcChainFit` (BIC, well-determinedness) and :func:`arc_model` serve the variable-
projection scan of :mod:`iondyn.eis.autoscan`; :func:`fit_arc_chain` is the direct
(R, Q, n) fit below, kept for single candidates.

The model ``R0-p(R1,CPE1)-…-p(RK,CPEK)[-CPE(K+1)]``,

    Z(ω) = R₀ + Σ_k R_k / (1 + R_k Q_k (iω)^{n_k}) [+ 1/(Q_e (iω)^{n_e})],

is fitted to the complex spectrum with modulus weights (residuals ΔZ/|Z|, real and imaginary
parts stacked) by the batched Levenberg–Marquardt of :mod:`iondyn.saem.refine` — several
starts of one candidate at once — with the analytic Jacobian

    ∂Z/∂R = 1/D²,  ∂Z/∂Q = −R² sⁿ/D²,  ∂Z/∂n = −R² Q sⁿ ln s / D²,  D = 1 + R Q sⁿ, s = iω,

for an arc, and ∂Z/∂Q_e = −Z_e/Q_e, ∂Z/∂n_e = −Z_e ln s for the electrode CPE. R and Q are
log-parameterised, exponents logit-bounded to [0.2, 1.2] (wider than the physical (0, 1] so
that n ≈ 1 is not at a saturated bound). The winning candidate is then refined
once more by the general :class:`iondyn.eis.fit.CircuitFitter` for its reported errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.saem.likelihood import GaussianLikelihood
from iondyn.saem.refine import levenberg_marquardt
from iondyn.saem.transforms import LOG, logit

__all__ = [
    "ArcChainFit",
    "arc_model",
    "fit_arc_chain",
    "pack_arc_params",
    "pack_names",
    "unpack_arc_params",
]

N_LO, N_HI = 0.2, 1.2  # working range: keeps n ≈ 1 away from the logit saturation

#: Largest relative standard error of an arc resistance (and the electrode Q) for a candidate
#: circuit to count as well determined: 1/3, every amplitude ≥ 3σ from zero. (It was 1/2, 2σ:
#: an asymmetric arc of a real LAGP pellet was then split into two overlapping arcs known to
#: 40 % and 20 % — shape, not a process.)
MAX_REL_ERROR = 1.0 / 3.0


def pack_names(n_arcs: int, electrode: bool) -> tuple[str, ...]:
    """Parameter names in the order of :func:`pack_arc_params`."""
    names = ["R0"]
    for k in range(1, n_arcs + 1):
        names += [f"R{k}", f"CPE{k}_Q", f"CPE{k}_n"]
    if electrode:
        names += [f"CPE{n_arcs + 1}_Q", f"CPE{n_arcs + 1}_n"]
    return tuple(names)


def pack_arc_params(params: dict[str, float], n_arcs: int, electrode: bool) -> np.ndarray:
    """Circuit parameter dict → vector [R0, R1, Q1, n1, …, (Qe, ne)]."""
    v = [params["R0"]]
    for k in range(1, n_arcs + 1):
        v += [params[f"R{k}"], params[f"CPE{k}_Q"], params[f"CPE{k}_n"]]
    if electrode:
        v += [params[f"CPE{n_arcs + 1}_Q"], params[f"CPE{n_arcs + 1}_n"]]
    return np.asarray(v, dtype=float)


def unpack_arc_params(v: np.ndarray, n_arcs: int, electrode: bool) -> dict[str, float]:
    out = {"R0": float(v[0])}
    for k in range(1, n_arcs + 1):
        out[f"R{k}"], out[f"CPE{k}_Q"], out[f"CPE{k}_n"] = (
            float(t) for t in v[3 * k - 2 : 3 * k + 1]
        )
    if electrode:
        out[f"CPE{n_arcs + 1}_Q"] = float(v[3 * n_arcs + 1])
        out[f"CPE{n_arcs + 1}_n"] = float(v[3 * n_arcs + 2])
    return out


def _transforms(n_arcs: int, electrode: bool):
    t = [LOG]
    for _ in range(n_arcs):
        t += [LOG, LOG, logit(N_LO, N_HI)]
    if electrode:
        t += [LOG, logit(N_LO, N_HI)]
    return tuple(t)


def arc_model(omega: np.ndarray, p: np.ndarray, n_arcs: int, electrode: bool, jacobian: bool):
    """Stacked [Re Z, Im Z] (B, 2N) and its Jacobian (B, P, 2N) for parameters p (B, P)."""
    log_s = np.log(omega)[None, :] + 0.5j * np.pi
    b = p.shape[0]
    z = np.repeat(p[:, :1], omega.size, axis=1).astype(complex)
    jac = np.zeros((b, p.shape[1], omega.size), dtype=complex) if jacobian else None
    if jacobian:
        jac[:, 0, :] = 1.0
    for k in range(n_arcs):
        r = p[:, 1 + 3 * k][:, None]
        q = p[:, 2 + 3 * k][:, None]
        n = p[:, 3 + 3 * k][:, None]
        sn = np.exp(n * log_s)
        d = 1.0 + r * q * sn
        z = z + r / d
        if jacobian:
            d2 = d * d
            jac[:, 1 + 3 * k] = 1.0 / d2
            jac[:, 2 + 3 * k] = -r * r * sn / d2
            jac[:, 3 + 3 * k] = -r * r * q * sn * log_s / d2
    if electrode:
        q = p[:, 1 + 3 * n_arcs][:, None]
        n = p[:, 2 + 3 * n_arcs][:, None]
        ze = np.exp(-n * log_s) / q
        z = z + ze
        if jacobian:
            jac[:, 1 + 3 * n_arcs] = -ze / q
            jac[:, 2 + 3 * n_arcs] = -ze * log_s
    m = np.concatenate([z.real, z.imag], axis=1)
    if not jacobian:
        return m, None
    return m, np.concatenate([jac.real, jac.imag], axis=2)


@dataclass
class ArcChainFit:
    """Best of the starts: parameters, χ² (modulus weights), convergence."""

    n_arcs: int
    electrode: bool
    params: dict[str, float]
    chi2: float
    converged: bool
    n_points: int
    cov: np.ndarray
    omega: np.ndarray
    z: np.ndarray

    @property
    def z_fit(self) -> np.ndarray:
        v = pack_arc_params(self.params, self.n_arcs, self.electrode)[None, :]
        m, _ = arc_model(self.omega, v, self.n_arcs, self.electrode, False)
        n = self.omega.size
        return m[0, :n] + 1j * m[0, n:]

    def well_determined(
        self, max_rel_error: float = MAX_REL_ERROR, max_corr: float | None = None
    ) -> bool:
        """Every arc resistance and the electrode Q known to better than ``max_rel_error``
        (default :data:`MAX_REL_ERROR`: each at least 3 standard errors from zero, i.e.
        significant; and, with ``max_corr``, no two arc resistances correlated beyond it).

        The correlation test is off by default: a correlation coefficient is a property of the
        Fisher matrix's shape and does not fall with the noise, so |r| > 0.99 rejected two arcs
        0.7 decades apart even at 0.1 % noise where both resistances are known to 1 %; a
        degenerate split (two arcs fitting one) shows as large relative errors instead."""
        if not self.converged:
            return False
        v = pack_arc_params(self.params, self.n_arcs, self.electrode)
        idx = [1 + 3 * k for k in range(self.n_arcs)]
        check = idx + ([1 + 3 * self.n_arcs] if self.electrode else [])
        d = np.sqrt(np.clip(np.diag(self.cov), 0, None))
        for i in check:
            if not (np.isfinite(d[i]) and d[i] < max_rel_error * abs(v[i])):
                return False
        if max_corr is None:
            return True
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                r = self.cov[idx[a], idx[b]] / (d[idx[a]] * d[idx[b]])
                if np.isfinite(r) and abs(r) > max_corr:
                    return False
        return True

    @property
    def n_free(self) -> int:
        return 1 + 3 * self.n_arcs + (2 if self.electrode else 0)

    @property
    def bic(self) -> float:
        """2N ln(χ²/2N) + k ln 2N (profile likelihood, σ unknown)."""
        n = 2 * self.n_points
        return float(n * np.log(max(self.chi2, 1e-300) / n) + self.n_free * np.log(n))


def fit_arc_chain(
    spectrum: ImpedanceSpectrum,
    n_arcs: int,
    electrode: bool,
    starts: list[dict[str, float]],
    max_iter: int = 400,
    xtol: float = 1e-7,
    chi2_tol: float = 1e-10,
) -> ArcChainFit | None:
    """Refine every start as one batch; return the best (or None when none is finite).

    Converged when a step moves every parameter by < ``xtol`` standard errors or lowers χ² by
    < ``chi2_tol`` noise units. Looser scan tolerances (1e-5 / 1e-8 were tried) stall
    two-arc + electrode candidates in poor basins and lose the right circuit."""
    if not starts:
        return None
    omega = spectrum.omega
    z = spectrum.z
    y = np.concatenate([z.real, z.imag])[None, :]
    w = 1.0 / np.concatenate([np.abs(z), np.abs(z)]) ** 2
    p0 = []
    for s in starts:
        v = pack_arc_params(s, n_arcs, electrode)
        for k in range(n_arcs):  # keep exponents strictly inside the bounds
            v[3 + 3 * k] = float(np.clip(v[3 + 3 * k], N_LO + 1e-6, N_HI - 1e-6))
        if electrode:
            v[-1] = float(np.clip(v[-1], N_LO + 1e-6, N_HI - 1e-6))
        if np.all(np.isfinite(v)) and np.all(v[[0]] > 0):
            v[0] = max(v[0], 1e-12)
            p0.append(v)
    if not p0:
        return None
    p0 = np.array(p0)
    b = p0.shape[0]
    ys = np.repeat(y, b, axis=0)
    ws = np.repeat(w[None, :], b, axis=0)
    mask = np.ones_like(ys, dtype=bool)

    def model(rows, p, jac):
        return arc_model(omega, p, n_arcs, electrode, jac)

    with np.errstate(all="ignore"):
        lm = levenberg_marquardt(
            model,
            ys,
            ws,
            mask,
            p0,
            _transforms(n_arcs, electrode),
            GaussianLikelihood(),
            max_iter=max_iter,
            max_log_step=3.0,
            xtol=xtol,
            chi2_tol=chi2_tol,
            ftol=1e-10,
            stall_tol=10.0 * chi2_tol,
            stall_iter=60,
        )
    cost = np.where(np.isfinite(lm.cost), lm.cost, np.inf)
    i = int(np.argmin(cost))
    if not np.isfinite(cost[i]):
        return None
    return ArcChainFit(
        n_arcs,
        electrode,
        unpack_arc_params(lm.params[i], n_arcs, electrode),
        float(cost[i]),
        bool(lm.converged[i]),
        spectrum.n_points,
        lm.cov[i],
        omega,
        z,
    )
