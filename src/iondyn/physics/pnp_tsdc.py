"""Space-charge (electrode-polarisation) TSDC simulated with the transient PNP equations.

Protocol (van Turnhout, *Thermally Stimulated Discharge of Polymer Electrets* (1975), ch. 3):

1. pole: at T_p the voltage V_p is applied until the cell is fully polarised (the steady state,
   i.e. the canonical equilibrium for blocking electrodes) or for ``pole_time_s``;
2. quench: the sample is cooled to T_0 with the field on; cooling is taken as instantaneous, so
   the ionic configuration is frozen (true when τ(T_0) is far above the time of the experiment);
3. the electrodes are short-circuited at T_0 (the geometric charge ε V_p/L leaves at once and is
   not part of the curve);
4. heat at β: T = T_0 + βt; the depolarisation current density is recorded.

The current is reported positive for the discharge of the poling polarisation
(−sign(V_p) · j). In the linear regime (|V_p| ≪ kT/e) and for L ≫ L_D the discharge of the
double layers through the bulk is a first-order process with τ_sc(T) = ε L / (2 σ(T) L_D(T))
(Macdonald, Phys. Rev. 92, 4 (1953)), whose peak follows from −β dτ/dT = 1
(:func:`iondyn.physics.analytic.tsdc_peak_temperature`); that prediction is reported beside
the simulated peak. With σT Arrhenius (an activated diffusivity), τ_sc ∝ √T e^{Ea/kT}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import trapezoid

from iondyn.constants import E_CHARGE, EPS0, K_B
from iondyn.data import TSDCCurve
from iondyn.display import Displayable, Param, Summary
from iondyn.errors import InputError, SolverError
from iondyn.physics.analytic import space_charge_relaxation_time, tsdc_peak_temperature
from iondyn.serialize import to_jsonable

__all__ = ["SpaceChargeTSDC", "TSDCSimulationResult"]


@dataclass(repr=False)
class TSDCSimulationResult(Displayable):
    """A simulated space-charge TSDC curve (current density in A/m², positive peak)."""

    temperature_K: np.ndarray
    current_A_per_m2: np.ndarray
    beta_K_per_s: float
    pole_V: float
    pole_T_K: float
    peak_temperature_K: float
    predicted_peak_temperature_K: float | None
    released_charge_C_per_m2: float
    poled_charge_C_per_m2: float
    n_steps: int
    warnings: list[str] = field(default_factory=list)

    def to_curve(self, source: str | None = None) -> TSDCCurve:
        """The curve as a :class:`~iondyn.data.TSDCCurve` (current unit "A/m2")."""
        return TSDCCurve(
            self.temperature_K.copy(),
            self.current_A_per_m2.copy(),
            current_unit="A/m2",
            beta_K_per_s=self.beta_K_per_s,
            source=source or "iondyn.physics.pnp_tsdc",
            metadata={
                "simulated": True,
                "pole_V": self.pole_V,
                "pole_T_K": self.pole_T_K,
                "predicted_peak_temperature_K": self.predicted_peak_temperature_K,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "temperature_K": self.temperature_K,
                "current_A_per_m2": self.current_A_per_m2,
                "beta_K_per_s": self.beta_K_per_s,
                "pole_V": self.pole_V,
                "pole_T_K": self.pole_T_K,
                "peak_temperature_K": self.peak_temperature_K,
                "predicted_peak_temperature_K": self.predicted_peak_temperature_K,
                "released_charge_C_per_m2": self.released_charge_C_per_m2,
                "poled_charge_C_per_m2": self.poled_charge_C_per_m2,
                "n_steps": self.n_steps,
                "warnings": self.warnings,
            }
        )

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"temperature_K": self.temperature_K, "current_A_per_m2": self.current_A_per_m2}
        )

    def _summary(self) -> Summary:
        facts = [
            f"β = {self.beta_K_per_s:.4g} K/s",
            f"poled {self.pole_V:g} V at {self.pole_T_K:g} K",
        ]
        params = [Param("peak temperature", self.peak_temperature_K, None, "K")]
        if self.predicted_peak_temperature_K is not None:
            params.append(
                Param("first-order prediction", self.predicted_peak_temperature_K, None, "K")
            )
        params.append(Param("released charge", self.released_charge_C_per_m2, None, "C/m²"))
        params.append(Param("poled charge", self.poled_charge_C_per_m2, None, "C/m²"))
        return Summary(
            "TSDCSimulationResult", "space-charge TSDC", facts, params, warnings=self.warnings
        )

    def plot(self, ax: Any = None) -> Any:
        """j against T; returns the axes (a new figure when ``ax`` is None)."""
        from iondyn.display import plots as dp

        return dp.xy(
            dp.axes(ax),
            self.temperature_K,
            self.current_A_per_m2,
            xlabel="temperature (K)",
            ylabel="j (A/m²)",
            title=f"space-charge TSDC, peak at {self.peak_temperature_K:.1f} K",
        )


def linear_relaxation_time(model, temperature_K: np.ndarray) -> np.ndarray:
    """τ_sc(T) = ε L / (2 σ(T) L_D(T)) of a single-phase blocking cell (linear theory)."""
    dev = model.device
    ph = dev.phases[0]
    t = np.atleast_1d(np.asarray(temperature_K, dtype=float))
    sigma = np.array([ph.conductivity_S_m(x, dev.temperature_K) for x in t])
    ld = np.array([ph.debye_length_m(x) for x in t])
    return space_charge_relaxation_time(ph.eps_r, ph.length_m, sigma, ld)


def _peak(t: np.ndarray, j: np.ndarray) -> float:
    """Temperature of the maximum (parabola through the three highest points)."""
    i = int(np.argmax(j))
    if i == 0 or i == j.size - 1:
        return float(t[i])
    x, y = t[i - 1 : i + 2], j[i - 1 : i + 2]
    den = (x[0] - x[1]) * (x[0] - x[2]) * (x[1] - x[2])
    a = (x[2] * (y[1] - y[0]) + x[1] * (y[0] - y[2]) + x[0] * (y[2] - y[1])) / den
    b = (x[2] ** 2 * (y[0] - y[1]) + x[1] ** 2 * (y[2] - y[0]) + x[0] ** 2 * (y[1] - y[2])) / den
    return float(-b / (2 * a)) if a < 0 else float(t[i])


class SpaceChargeTSDC:
    """Simulate a space-charge TSDC run (configure here, then :meth:`simulate`).

    Parameters
    ----------
    pole_V, pole_T_K : float
        Poling voltage (left contact, right grounded) and temperature.
    beta_K_per_s : float
        Heating rate.
    pole_time_s : float or None
        Poling time; None polarises fully (steady state at V_p).
    t_start_K, t_end_K : float or None
        Heating range; None: from the linear prediction, where τ_sc is 10⁴ times (start) and
        10⁻³ times (end) its value at the predicted peak.
    rtol : float
        Relative tolerance of the time integration.
    max_step_K : float
        Largest temperature step of the record.
    """

    def __init__(
        self,
        pole_V: float,
        pole_T_K: float,
        beta_K_per_s: float,
        *,
        pole_time_s: float | None = None,
        t_start_K: float | None = None,
        t_end_K: float | None = None,
        rtol: float = 1e-4,
        max_step_K: float = 0.5,
    ):
        for name, v in (("pole_T_K", pole_T_K), ("beta_K_per_s", beta_K_per_s)):
            if not (np.isfinite(v) and v > 0):
                raise InputError(f"{name} must be positive, got {v!r}")
        if not np.isfinite(pole_V) or pole_V == 0:
            raise InputError("pole_V must be a non-zero voltage")
        if pole_time_s is not None and not pole_time_s > 0:
            raise InputError("pole_time_s must be positive")
        self.pole_V = float(pole_V)
        self.pole_T_K = float(pole_T_K)
        self.beta_K_per_s = float(beta_K_per_s)
        self.pole_time_s = pole_time_s
        self.t_start_K = t_start_K
        self.t_end_K = t_end_K
        self.rtol = rtol
        if not max_step_K > 0:
            raise InputError("max_step_K must be positive")
        self.max_step_K = float(max_step_K)

    def _range(self, model, predicted: float | None) -> tuple[float, float]:
        t0, t1 = self.t_start_K, self.t_end_K
        if t0 is None or t1 is None:
            if predicted is None:
                raise InputError(
                    "give t_start_K and t_end_K (no linear prediction for this device)"
                )
            tau_p = float(linear_relaxation_time(model, predicted)[0])
            slope = np.log(linear_relaxation_time(model, predicted * 0.999)[0] / tau_p) / (
                1 / (predicted * 0.999) - 1 / predicted
            )  # Ea/k of τ_sc near the peak
            if t0 is None:
                t0 = 1.0 / (1.0 / predicted + np.log(1e4) / slope)
            if t1 is None:
                t1 = 1.0 / (1.0 / predicted - np.log(1e3) / slope)
        if not 0 < t0 < t1:
            raise InputError(f"the heating range must satisfy 0 < T_start < T_end ({t0}, {t1})")
        return float(t0), float(t1)

    def simulate(self, model) -> TSDCSimulationResult:
        """Run the protocol on a :class:`~iondyn.physics.pnp.PNPModel`."""
        warnings: list[str] = []
        dev = model.device
        predicted = None
        single = len(dev.phases) == 1 and dev.left.kind == dev.right.kind == "blocking"
        if single:
            try:
                predicted = tsdc_peak_temperature(
                    lambda t: linear_relaxation_time(model, t), self.beta_K_per_s
                )
            except InputError:
                predicted = None
        t0, t1 = self._range(model, predicted)
        # 1. poling
        u = model.equilibrium(self.pole_T_K)
        if self.pole_time_s is None:
            u = model.steady_state(self.pole_V, self.pole_T_K)
        else:
            run = model.transient(
                self.pole_time_s, u0=u, voltage_V=self.pole_V, temperature_K=self.pole_T_K
            )
            u = run.final_state
        q_pole = model.electrode_charge(u)
        vt = K_B * t0 / E_CHARGE
        if abs(self.pole_V) > vt:
            warnings.append(
                f"|V_p| = {abs(self.pole_V):.3g} V exceeds kT/e at T_0 ({vt:.3g} V): the layers "
                "respond non-linearly and the peak departs from the first-order prediction"
            )
        # 2–4. quench (frozen state), short circuit at T_0, heat at β
        duration = (t1 - t0) / self.beta_K_per_s
        try:
            run = model.transient(
                duration,
                u0=u,
                voltage_V=0.0,
                temperature_K=lambda t: t0 + self.beta_K_per_s * t,
                rtol=self.rtol,
                first_step_s=1e-9 * duration,
                max_step_s=self.max_step_K / self.beta_K_per_s,
            )
        except SolverError as exc:
            raise SolverError(f"TSDC heating run: {exc}") from None
        sign = -np.sign(self.pole_V)
        temp, cur = run.temperature_K[1:], sign * run.current_A_per_m2[1:]
        released = float(trapezoid(cur, run.time_s[1:]))  # np.trapezoid needs NumPy ≥ 2
        tm = _peak(temp, cur)
        if predicted is not None and (tm <= temp[0] + 1e-9 or tm >= temp[-1] - 1e-9):
            warnings.append("the simulated peak lies at the edge of the heating range")
        geometric = EPS0 * dev.phases[0].eps_r * self.pole_V / model.mesh.x_m[-1]
        if single and abs(q_pole) > 0 and abs(released) < 0.5 * abs(q_pole - geometric):
            warnings.append("less than half of the poled charge was released in the range")
        return TSDCSimulationResult(
            temperature_K=temp,
            current_A_per_m2=cur,
            beta_K_per_s=self.beta_K_per_s,
            pole_V=self.pole_V,
            pole_T_K=self.pole_T_K,
            peak_temperature_K=tm,
            predicted_peak_temperature_K=predicted,
            released_charge_C_per_m2=released,
            poled_charge_C_per_m2=q_pole,
            n_steps=run.n_steps,
            warnings=warnings,
        )
