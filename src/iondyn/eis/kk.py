"""Kramers–Kronig validation of impedance spectra by the linear Lin-KK test.

Schönleber, Klotz & Ivers-Tiffée, Electrochim. Acta 131, 20 (2014): a spectrum obeys the
Kramers–Kronig relations (causal, linear, stable) when it can be approximated by a Voigt chain

    Ẑ(ω) = R0 + Σ_{k=1..M} R_k / (1 + iωτ_k) [+ iωL] [+ 1/(iωC)],

τ_k log-spaced over [1/ω_max, 1/ω_min] widened by e decades on each side (e = 0 in the paper),
fitted to Z' and Z'' together by *linear* least squares with weights 1/|Z_i| (the R_k may come
out negative). M grows from 1 until the over-fit measure

    μ = 1 − Σ_{R_k<0} |R_k| / Σ_{R_k≥0} |R_k|

drops below c (0.85): at that M the chain is flexible enough and starts to fit noise. The
series capacitance is needed for blocking electrodes (without it the capacitive tail cannot
be represented and a valid spectrum fails with ~40 % residuals). Residuals are relative:
Δre = (Z' − Ẑ')/|Z|, Δim = (Z'' − Ẑ'')/|Z|. The pass/fail rule is in
:mod:`iondyn.eis.kk_validity`.

The τ range (``extend_decades="auto"``, default): both e = 0 and e = 0.25 are fitted (each with
its own μ-selected M) and the one with the smaller Σ(Δre² + Δim²) is kept. With e = 0 alone a
valid low-noise spectrum whose low-frequency end is a CPE (n = 0.8) stops at a stiff M and
fails (0/200 valid at 0.1 % noise); a quarter decade fixes that. Wider ranges absorb a drifting
low-frequency end into RC elements beyond the data: on R + R‖CPE + R‖CPE + CPE with 1 % noise and
a 20 % multiplicative drift over the sweep, e = 0.25 flags 49/50 spectra, e up to 1 only 3/50.

Kernels (:func:`linkk_design`, :func:`linkk_solve`) take a leading batch axis: spectra that share
a frequency grid are fitted together, one M at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.kk_result import KKResult, kk_warnings, outlier_table
from iondyn.eis.kk_validity import as_impedance_spectrum, kk_validity, screen_spectrum
from iondyn.errors import DataError, InputError

__all__ = [
    "MIN_POINTS_KK",
    "KKResult",
    "LinKK",
    "as_impedance_spectrum",
    "linkk_design",
    "linkk_solve",
    "linkk_taus",
    "mu_criterion",
]


#: Fewest frequencies the test is attempted on.
MIN_POINTS_KK = 5

#: τ-range extensions (decades each side) tried by ``extend_decades="auto"``.
AUTO_EXTENSIONS = (0.0, 0.25)


def _residual_ss(result: KKResult) -> float:
    return float(np.sum(result.residual_real**2 + result.residual_imag**2))


#: A chain is adequate when its robust residual σ̂ is at most this many times that of the
#: most flexible chain (M = M_max), or below 0.2 × tolerance.
ADEQUACY_FACTOR = 2.0


def _robust_sigma(res: np.ndarray, n_params: int) -> np.ndarray:
    """σ̂ = 1.4826 · median |r| · √(n/(n − p)) of complex weighted residuals (B, N), per row."""
    r = np.concatenate([res.real, res.imag], axis=1)
    n = r.shape[1]
    return 1.4826 * np.median(np.abs(r), axis=1) * np.sqrt(n / max(n - n_params, 1))


def linkk_taus(omega: np.ndarray, m: int, extend_decades: float = 0.0) -> np.ndarray:
    """Time constants τ_k = 10^(log τ_min + (k−1)/(M−1) · log(τ_max/τ_min)), k = 1…M.

    τ_min = 1/ω_max, τ_max = 1/ω_min, each widened by ``extend_decades`` (Schönleber 2014,
    eq. 18; M = 1 takes the geometric mean).
    """
    lo = -np.log10(np.max(omega)) - extend_decades
    hi = -np.log10(np.min(omega)) + extend_decades
    if m == 1:
        return np.array([10.0 ** (0.5 * (lo + hi))])
    return np.logspace(lo, hi, m)


def linkk_design(
    omega: np.ndarray, tau: np.ndarray, inductance: bool, capacitance: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Complex design matrix D (n_ω × p) and column scales of the Voigt chain.

    Columns: R0 (1), the RC elements 1/(1 + iωτ_k), then iω/ω_max (L) and −i ω_min/ω (1/C)
    when requested. The unknown of column j is (physical value) / scale[j]: scale = 1 for R0
    and R_k, 1/ω_max for L, ω_min for 1/C, so every column is O(1).
    """
    omega = np.asarray(omega, dtype=float)
    cols = [np.ones_like(omega, dtype=complex), *(1.0 / (1.0 + 1j * omega[:, None] * tau)).T]
    scale = [1.0] * (1 + tau.size)
    if inductance:
        cols.append(1j * omega / omega.max())
        scale.append(1.0 / omega.max())
    if capacitance:
        cols.append(-1j * omega.min() / omega)
        scale.append(float(omega.min()))
    return np.column_stack(cols), np.asarray(scale)


def linkk_solve(design: np.ndarray, z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted complex linear least squares, batched over the leading axis of ``z``.

    Minimises Σ_i w_i² |z_i − (D θ)_i|² over real θ for each row of ``z`` (shape (B, n))
    with row-wise ``weights`` (B, n): the stacked real system [w Re D; w Im D] θ = [w Re z;
    w Im z] is solved by a batched QR decomposition. Returns θ of shape (B, p).
    """
    z = np.atleast_2d(z)
    w = np.atleast_2d(weights)
    a = np.concatenate(
        [w[:, :, None] * design.real[None], w[:, :, None] * design.imag[None]], axis=1
    )
    b = np.concatenate([w * z.real, w * z.imag], axis=1)
    q, r = np.linalg.qr(a)
    qtb = np.einsum("bnp,bn->bp", q, b)
    return np.linalg.solve(r, qtb[:, :, None])[:, :, 0]


def mu_criterion(r_k: np.ndarray, negligible: float | np.ndarray = 0.0) -> np.ndarray:
    """μ = 1 − Σ|R_k<0| / Σ|R_k≥0| over the last axis (Schönleber 2014, eq. 21).

    |R_k| ≤ ``negligible`` count as zero; a chain with no element left (a frequency-independent
    spectrum) has μ = 1 (nothing negative: no over-fit). With positive elements absent and
    negative ones present, μ = −∞ (the caller reports that case as an error).
    """
    r_k = np.asarray(r_k, dtype=float)
    r_k = np.where(np.abs(r_k) > negligible, r_k, 0.0)
    neg = np.sum(np.where(r_k < 0, -r_k, 0.0), axis=-1)
    pos = np.sum(np.where(r_k > 0, r_k, 0.0), axis=-1)
    safe = np.where(pos > 0, pos, 1.0)
    return np.where(pos > 0, 1.0 - neg / safe, np.where(neg > 0, -np.inf, 1.0))


class LinKK:
    """Lin-KK validity test (Schönleber et al. 2014) with an explicit pass/fail rule.

    Parameters
    ----------
    c : μ threshold (default 0.85).
    n_rc : fixed number of RC elements M (``None``: choose by μ).
    max_rc : largest M tried (default: the number of frequencies, less the series terms).
    series_capacitance : add 1/(iωC) (blocking electrodes).
    inductance : add iωL (default True, as impedance.py and Schönleber's tool for complex fits).
    extend_decades : widen the τ range by this many decades on each side, or ``"auto"``
        (default: the better of 0 and 0.25, see the module docstring).
    noise : known noise σ as a fraction of |Z| (``None``: estimated from the residuals).
    alpha : false-alarm probability of each validity check (default 1e-3).
    tolerance : residuals below this (fraction of |Z|) never invalidate (default 0.005).
    """

    def __init__(
        self,
        c: float = 0.85,
        n_rc: int | None = None,
        max_rc: int | None = None,
        series_capacitance: bool = False,
        inductance: bool = True,
        extend_decades: float | str = "auto",
        noise: float | None = None,
        alpha: float = 1e-3,
        tolerance: float = 5e-3,
    ):
        if not 0 < c <= 1:
            raise InputError(f"μ threshold c must be in (0, 1], got {c}")
        for name, v in (("n_rc", n_rc), ("max_rc", max_rc)):
            if v is not None and (int(v) != v or v < 1):
                raise InputError(f"{name} must be a positive integer, got {v}")
        if extend_decades == "auto":
            extensions: tuple[float, ...] = AUTO_EXTENSIONS
        else:
            try:
                ext = float(extend_decades)
            except (TypeError, ValueError):
                raise InputError(
                    f"extend_decades must be 'auto' or a number ≥ 0, got {extend_decades!r}"
                ) from None
            if not (np.isfinite(ext) and ext >= 0):
                raise InputError(f"extend_decades must be ≥ 0, got {extend_decades}")
            extensions = (ext,)
        if noise is not None and not (np.isfinite(noise) and noise > 0):
            raise InputError(f"noise must be a positive fraction of |Z|, got {noise}")
        if not 0 < alpha < 0.5:
            raise InputError(f"alpha must be in (0, 0.5), got {alpha}")
        if not (np.isfinite(tolerance) and tolerance >= 0):
            raise InputError(f"tolerance must be ≥ 0, got {tolerance}")
        self.c = float(c)
        self.n_rc = None if n_rc is None else int(n_rc)
        self.max_rc = None if max_rc is None else int(max_rc)
        self.series_capacitance = bool(series_capacitance)
        self.inductance = bool(inductance)
        self.extend_decades = extend_decades if extend_decades == "auto" else extensions[0]
        self.extensions = extensions
        self.noise = None if noise is None else float(noise)
        self.alpha = float(alpha)
        self.tolerance = float(tolerance)

    @property
    def n_series(self) -> int:
        return 1 + int(self.inductance) + int(self.series_capacitance)

    def settings(self) -> dict[str, Any]:
        return {
            "c": self.c,
            "n_rc": self.n_rc,
            "max_rc": self.max_rc,
            "series_capacitance": self.series_capacitance,
            "inductance": self.inductance,
            "extend_decades": self.extend_decades,
            "noise": self.noise,
            "alpha": self.alpha,
            "tolerance": self.tolerance,
            "weighting": "modulus",
        }

    def fit(self, data: Any) -> KKResult:
        """Test one spectrum (an :class:`ImpedanceSpectrum` or a (frequency, Z) pair)."""
        return self.fit_many([data])[0]

    def fit_many(self, spectra: list[Any]) -> list[KKResult]:
        """Test several spectra; those sharing a frequency grid are fitted as one batch."""
        specs = [as_impedance_spectrum(s) for s in spectra]
        groups: dict[bytes, list[int]] = {}
        for i, s in enumerate(specs):
            groups.setdefault(s.frequency.tobytes(), []).append(i)
        results: list[KKResult | None] = [None] * len(specs)
        for members in groups.values():
            group = [specs[i] for i in members]
            candidates = [self._fit_group(group, ext) for ext in self.extensions]
            for j, i in enumerate(members):
                results[i] = min((c[j] for c in candidates), key=_residual_ss)
        return [r for r in results if r is not None]

    def _m_range(self, spec: ImpedanceSpectrum) -> tuple[int, int]:
        n = spec.n_points
        if n < MIN_POINTS_KK:
            raise DataError(
                f"too few points for Lin-KK: {n} frequencies (need at least {MIN_POINTS_KK})",
                path=spec.source,
            )
        screen_spectrum(spec)
        # at least two residual degrees of freedom: M + n_series ≤ 2N − 2
        m_cap = min(n, 2 * n - 2 - self.n_series)
        if self.n_rc is not None:
            if self.n_rc > m_cap:
                raise DataError(
                    f"Lin-KK with {self.n_rc} RC elements needs more points: "
                    f"{n} frequencies allow at most {max(m_cap, 0)}",
                    path=spec.source,
                )
            return self.n_rc, self.n_rc
        m_max = m_cap if self.max_rc is None else min(self.max_rc, m_cap)
        return 1, m_max

    def _fit_group(self, specs: list[ImpedanceSpectrum], ext: float) -> list[KKResult]:
        omega = specs[0].omega
        z = np.stack([s.z for s in specs])
        m_lo, m_hi = self._m_range(specs[0])
        w = 1.0 / np.abs(z)
        if np.any(~np.isfinite(w)):
            raise DataError("the spectrum has points with |Z| = 0", path=specs[0].source)
        n_batch = len(specs)

        def fit(m: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            tau = linkk_taus(omega, m, ext)
            design, _ = linkk_design(omega, tau, self.inductance, self.series_capacitance)
            theta = linkk_solve(design, z[rows], w[rows])
            res = w[rows] * (z[rows] - theta @ design.T)
            return theta, _robust_sigma(res, m + self.n_series)

        # reference: the most flexible chain, whose residual is (at most) the noise
        _, sigma_ref = fit(m_hi, np.arange(n_batch))
        adequate_level = np.maximum(ADEQUACY_FACTOR * sigma_ref, 0.2 * self.tolerance)
        chosen_m = np.full(n_batch, -1)
        chosen_theta: list[np.ndarray | None] = [None] * n_batch
        fallback: dict[int, tuple[int, np.ndarray]] = {}
        history: list[list[float]] = [[] for _ in range(n_batch)]
        notes: list[str | None] = [None] * n_batch
        pending = np.arange(n_batch)
        for m in range(m_lo, m_hi + 1):
            theta, sigma = fit(m, pending)
            tiny = 1e-9 * np.max(np.abs(z[pending]), axis=1, keepdims=True)
            mu = mu_criterion(theta[:, 1 : 1 + m], tiny)
            done = []
            for j, b in enumerate(pending):
                history[b].append(float(mu[j]))
                adequate = sigma[j] <= adequate_level[b]
                if adequate and b not in fallback:
                    fallback[b] = (m, theta[j])
                if (mu[j] < self.c and adequate) or m == m_hi:
                    chosen_m[b], chosen_theta[b] = m, theta[j]
                    done.append(j)
                    if m == m_hi and not (mu[j] < self.c and adequate):
                        notes[b] = "no-mu"
            pending = np.delete(pending, done)
            if pending.size == 0:
                break
        for b in range(n_batch):
            if notes[b] == "no-mu" and b in fallback:
                chosen_m[b], chosen_theta[b] = fallback[b]
        return [
            self._result(
                specs[b],
                int(chosen_m[b]),
                chosen_theta[b],
                np.array(history[b]),
                m_hi,
                ext,
                notes[b] == "no-mu",
            )
            for b in range(n_batch)
        ]

    def _result(
        self,
        spec: ImpedanceSpectrum,
        m: int,
        theta: np.ndarray,
        history: np.ndarray,
        m_hi: int,
        ext: float,
        mu_unsettled: bool,
    ) -> KKResult:
        omega = spec.omega
        tau = linkk_taus(omega, m, ext)
        design, scale = linkk_design(omega, tau, self.inductance, self.series_capacitance)
        z_fit = design @ theta
        values = theta * scale
        k = 1 + m
        inductance = float(values[k]) if self.inductance else None
        k += int(self.inductance)
        cap = None
        if self.series_capacitance:
            inv_c = float(values[k])
            cap = 1.0 / inv_c if inv_c != 0 else float("inf")
        order = np.argsort(-spec.frequency)  # decreasing frequency for the trend tests
        res = (spec.z - z_fit) / np.abs(spec.z)
        n_params = m + self.n_series
        valid, sigma, checks, flagged = kk_validity(
            res.real[order], res.imag[order], n_params, self.noise, self.alpha, self.tolerance
        )
        flagged_hz = np.sort(spec.frequency[order][flagged])[::-1]
        outliers = outlier_table(spec.frequency, res, order, sigma, self.alpha, self.tolerance)
        negligible = 1e-9 * float(np.max(np.abs(spec.z)))
        mu = float(mu_criterion(values[1 : 1 + m], negligible))
        if not np.isfinite(mu):
            raise DataError(
                f"Lin-KK: all {m} RC elements came out negative (Re Z rises with frequency): "
                "not a resistive–capacitive spectrum",
                path=spec.source,
            )
        spread = float(np.max(np.abs(spec.z - np.mean(spec.z))))
        warnings = kk_warnings(
            mu_unsettled=self.n_rc is None and mu_unsettled,
            m=m,
            m_hi=m_hi,
            c=self.c,
            cap=cap,
            checks=checks,
            valid=valid,
            outliers=outliers,
            constant=spread <= 1e-9 * float(np.max(np.abs(spec.z))),
        )
        return KKResult(
            source=spec.source,
            index=spec.index,
            n_rc=m,
            mu=mu,
            c=self.c,
            tau_s=tau,
            R_k_ohm=values[1 : 1 + m],
            R0_ohm=float(values[0]),
            L_H=inductance,
            C_F=cap,
            frequency_Hz=spec.frequency.copy(),
            z=spec.z.copy(),
            z_fit=z_fit,
            valid=valid,
            noise_estimate=sigma,
            checks=checks,
            mu_history=history,
            extend_decades=ext,
            flagged_Hz=flagged_hz,
            outliers=outliers,
            settings=self.settings(),
            warnings=warnings,
        )
