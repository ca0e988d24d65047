"""The conduction background of TSDC curves (registered as ``exponential`` and
``exponential-offset``).

At the high-temperature end of a TSDC run the current often rises again: ohmic conduction of
the now mobile carriers under residual fields and stray voltages. Its temperature dependence is
that of the conductivity, Arrhenius-like, so iondyn models it as

    b(T) = c0 + b_hi · exp[−(Ec/k)(1/T − 1/T_hi)]

with T_hi the upper end of the measured window, b_hi the conduction current there and Ec its
activation energy (c0, a constant offset, only for ``exponential-offset``). Written with b_hi
instead of the pre-factor c = b_hi·exp(Ec/kT_hi) (≈ 1e+20 for 2 eV at 500 K) the parameters are
well conditioned; Ec is reported with its error (Vanderschueren & Gasiot, in *Thermally
Stimulated Relaxation in Solids*, Springer (1979), §4.6 on conduction currents).
"""

from __future__ import annotations

import numpy as np

from iondyn.saem.background import Background
from iondyn.saem.transforms import IDENTITY, LOG
from iondyn.tsdc.model import K_B_EV

__all__ = ["ArrheniusBackground"]


class ArrheniusBackground(Background):
    """b(T) = [c0 +] b_hi·exp[−(Ec/k)(1/T − 1/T_hi)] (see the module docstring)."""

    def __init__(self, offset: bool = False, ec_default: float = 1.0):
        self.offset = bool(offset)
        self.ec_default = float(ec_default)

    @property
    def name(self) -> str:  # type: ignore[override]
        return "exponential-offset" if self.offset else "exponential"

    @property
    def param_names(self):
        return ("c0", "b_hi", "Ec_eV") if self.offset else ("b_hi", "Ec_eV")

    @property
    def transforms(self):
        return (IDENTITY, IDENTITY, LOG) if self.offset else (IDENTITY, LOG)

    @staticmethod
    def _t_hi(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.max(np.where(mask, x, -np.inf), axis=-1)

    def _shape(self, x: np.ndarray, ec: np.ndarray, t_hi: np.ndarray) -> np.ndarray:
        arg = -(ec[:, None] / K_B_EV) * (1.0 / x - 1.0 / t_hi[:, None])
        return np.exp(np.minimum(arg, 700.0))

    def init(self, x, y, mask):
        b = y.shape[0]
        t_hi = self._t_hi(x, mask)
        ec = np.full(b, self.ec_default)
        b_hi = np.zeros(b)
        c0 = np.zeros(b)
        nv = mask.sum(-1)
        for i in range(b):
            m = int(nv[i])
            yi, xi = y[i, :m], x[i, :m]
            tail = max(m // 10, 3)
            half = yi[m // 2 :]
            floor = float(np.min(half)) if half.size else 0.0
            end = float(np.mean(yi[-tail:]))
            rise = end - floor
            if self.offset:
                c0[i] = floor
            # a rising end of the curve: Ec from the slope of ln(y − floor) against 1/T
            seg = yi[-tail:] - floor
            if rise > 0 and np.all(seg > 0) and tail >= 3:
                slope = np.polyfit(1.0 / xi[-tail:], np.log(seg), 1)[0]
                if np.isfinite(slope) and slope < 0:
                    ec[i] = float(np.clip(-slope * K_B_EV, 0.1, 3.0))
                b_hi[i] = rise
        beta = np.column_stack([c0, b_hi, ec]) if self.offset else np.column_stack([b_hi, ec])
        ctx = {"t_hi": t_hi}
        base = self.evaluate(x, beta, None, ctx)
        return beta, base, ctx

    def evaluate(self, x, beta, peaks, ctx):
        b_hi, ec = beta[:, -2], beta[:, -1]
        out = b_hi[:, None] * self._shape(x, ec, ctx["t_hi"])
        if self.offset:
            out = out + beta[:, :1]
        return out

    def jacobian(self, x, beta, peaks, ctx):
        b_hi, ec = beta[:, -2], beta[:, -1]
        e = self._shape(x, ec, ctx["t_hi"])
        d_ec = b_hi[:, None] * e * (-(1.0 / x - 1.0 / ctx["t_hi"][:, None]) / K_B_EV)
        cols = [e, d_ec]
        if self.offset:
            cols.insert(0, np.ones(x.shape))
        return np.stack(cols, axis=1)

    def refine_init(self, x, y, mask, beta, peaks, ctx):
        # linear least squares for the linear coefficients (c0, b_hi) at fixed Ec
        out = beta.copy()
        e = self._shape(x, beta[:, -1], ctx["t_hi"])
        for b in range(y.shape[0]):
            m = mask[b]
            cols = [e[b, m]] if not self.offset else [np.ones(m.sum()), e[b, m]]
            sol, *_ = np.linalg.lstsq(np.column_stack(cols), y[b, m] - peaks[b, m], rcond=None)
            if np.all(np.isfinite(sol)):
                out[b, : len(sol)] = sol
        return out

    def describe(self, x, beta, cov, mask, ctx):
        out = super().describe(x, beta, cov, mask, ctx)
        for b, d in enumerate(out):
            d["T_ref_K"] = float(ctx["t_hi"][b])
            d["formula"] = ("c0 + " if self.offset else "") + "b_hi*exp(-(Ec/k)(1/T - 1/T_ref))"
        return out
