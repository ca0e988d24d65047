"""Small-signal impedance of a PNP model from the linearised equations.

At a steady state u₀ the response to δV e^{iωt} on the left contact solves
(J + iωM) δu = −(∂F/∂V) δV, with J = ∂F/∂u and M the (diagonal) mass matrix of
:mod:`iondyn.physics.pnp_assembly`; the current is δj = Σ_k z_k δΓ_0k + iω ε̃_0 (δψ_0 − δψ_1)/h_0
(conduction plus displacement through the first face) and Z = δV/δj (Ω·m², physics convention:
Z″ < 0 for capacitive behaviour). One complex banded LU per frequency (LAPACK), the assembly done
once. (Macdonald, Phys. Rev. 92, 4 (1953); Barsoukov & Macdonald, *Impedance Spectroscopy*,
2nd ed. (2005), §2.2.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from iondyn.data import ImpedanceSpectrum
from iondyn.display import Displayable, Param, Summary
from iondyn.errors import InputError, SolverError
from iondyn.physics.banded import BandedLU
from iondyn.serialize import to_jsonable

__all__ = ["PNPImpedanceResult", "impedance"]


@dataclass(repr=False)
class PNPImpedanceResult(Displayable):
    """Impedance per unit area (Ω·m²) of a simulated device."""

    frequency_Hz: np.ndarray
    z_ohm_m2: np.ndarray
    temperature_K: float
    bias_V: float
    length_m: float
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_spectrum(self, area_m2: float = 1.0, source: str | None = None) -> ImpedanceSpectrum:
        """The impedance of a sample of ``area_m2`` (Ω) as an :class:`ImpedanceSpectrum`."""
        if not (np.isfinite(area_m2) and area_m2 > 0):
            raise InputError(f"area_m2 must be positive, got {area_m2!r}")
        return ImpedanceSpectrum(
            self.frequency_Hz.copy(),
            self.z_ohm_m2 / area_m2,
            source=source or "iondyn.physics.pnp",
            temperature_K=self.temperature_K,
            instrument="iondyn PNP simulation",
            area_cm2=area_m2 * 1e4,
            thickness_cm=self.length_m * 100.0,
            metadata={**self.metadata, "bias_V": self.bias_V, "simulated": True},
        )

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "frequency_Hz": self.frequency_Hz,
                "z_real_ohm_m2": self.z_ohm_m2.real,
                "z_imag_ohm_m2": self.z_ohm_m2.imag,
                "temperature_K": self.temperature_K,
                "bias_V": self.bias_V,
                "length_m": self.length_m,
                "metadata": self.metadata,
                "warnings": self.warnings,
            }
        )

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "frequency_Hz": self.frequency_Hz,
                "z_real_ohm_m2": self.z_ohm_m2.real,
                "z_imag_ohm_m2": self.z_ohm_m2.imag,
            }
        )

    def _summary(self) -> Summary:
        f = self.frequency_Hz
        facts = [
            f"T = {self.temperature_K:g} K",
            f"bias {self.bias_V:g} V",
            f"{f.size} frequencies, {f.min():.3g}–{f.max():.3g} Hz",
        ]
        hi, lo = int(np.argmax(f)), int(np.argmin(f))
        params = [
            Param(f"Z′ at {f[hi]:.3g} Hz", self.z_ohm_m2[hi].real, None, "Ω m²"),
            Param(f"Z′ at {f[lo]:.3g} Hz", self.z_ohm_m2[lo].real, None, "Ω m²"),
        ]
        return Summary(
            "PNPImpedanceResult",
            "PNP small-signal impedance",
            facts,
            params,
            warnings=self.warnings,
        )

    def plot(self, ax: Any = None, kind: str = "nyquist") -> Any:
        """Nyquist (``kind="nyquist"``, equal axes) or Bode (``"bode"``) of Z per m² (Ω m²);
        returns the axes."""
        from iondyn.display import plots as dp

        data = SimpleNamespace(frequency=self.frequency_Hz, z=self.z_ohm_m2)
        if kind == "bode":
            return dp.bode(dp.axes(ax), data, unit="Ω m²")
        if kind != "nyquist":
            raise InputError(f"kind must be nyquist or bode, not {kind!r}")
        return dp.nyquist(dp.axes(ax), data, label="simulated", unit="Ω m²")


def impedance(
    model, frequency_Hz, voltage_V: float = 0.0, temperature_K: float | None = None
) -> PNPImpedanceResult:
    """Impedance of ``model`` (a :class:`~iondyn.physics.pnp.PNPModel`) at the given frequencies."""
    f = np.asarray(frequency_Hz, dtype=float)
    if f.ndim != 1 or f.size == 0 or not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise InputError("frequencies must be a non-empty 1D array of positive numbers")
    s = model.system
    t = model.device.temperature_K if temperature_K is None else temperature_K
    u = model.steady_state(voltage_V, temperature_K)
    vl, vr = model._contacts(voltage_V)
    res, jac = s.evaluate(u, vl, vr, t)
    scale = np.abs(jac).max(axis=1).toarray().ravel() * (np.abs(u) + 1.0)
    if np.max(np.abs(res) / np.maximum(scale, 1e-300)) > 1e-6:
        raise SolverError("impedance: the operating point is not a steady state")
    b = -s.voltage_derivative(u, vl, vr, t, "left").astype(complex)
    a, disp = s.current_functional(u, t)
    w = 2.0 * np.pi * f * model.scales.time_s
    z = np.empty(f.size, dtype=complex)
    for n, wn in enumerate(w):
        du = BandedLU(s.band(jac.data, 1j * wn * s.mass), s.kl, s.ku).solve(b)
        dj = a @ du + 1j * wn * (disp @ du)
        z[n] = 1.0 / dj
    z *= model.scales.impedance_ohm_m2
    if not np.all(np.isfinite(z)):
        raise SolverError("impedance: singular linear system at some frequency")
    meta = {
        "model": "PNP small signal",
        "n_nodes": model.mesh.n_nodes,
        "debye_length_m": model.disc.debye_lengths_m()[0],
    }
    return PNPImpedanceResult(
        f, z, t, float(voltage_V), float(model.mesh.x_m[-1]), meta, model.resolution_warnings(u, t)
    )
