"""Backgrounds for the SAEM engine: none, constant, linear, polynomial and Shirley.

A background contributes b(x | β) to the model y ≈ Σ_k A_k f_k(x) + b(x). It supplies

* :meth:`Background.init` — a first β, a baseline to subtract before EM and a context ``ctx``
  (a dict of per-spectrum arrays with a leading batch axis that the engine slices together
  with the rows and passes back to every other method);
* :meth:`Background.evaluate` / :meth:`Background.jacobian` — b and ∂b/∂β, batched;
* for backgrounds that depend on the peaks themselves (Shirley), :meth:`peak_operator` — the
  linear map from the peak model to the background, used to chain the Jacobian.

Arrays: x, y (B, N); β (B, P); mask (B, N) marks real (non-padded) points. Other areas add
backgrounds (exponential conduction current for TSDC, CPE tail for impedance) with
:func:`register_background`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from iondyn.errors import InputError
from iondyn.saem.components.base import bin_widths
from iondyn.saem.transforms import Transform

Ctx = dict[str, Any]

__all__ = [
    "Background",
    "Ctx",
    "NoBackground",
    "Polynomial",
    "Shirley",
    "available_backgrounds",
    "get_background",
    "register_background",
]


def _edge_means(y: np.ndarray, mask: np.ndarray, frac: float = 0.04) -> tuple[np.ndarray, ...]:
    """Mean of the first and last few real points of every row."""
    n = mask.sum(axis=-1)
    m = np.maximum((frac * n).astype(int), 2)
    idx = np.arange(y.shape[-1])
    first = (idx[None, :] < m[:, None]) & mask
    last_start = n - m
    last = (idx[None, :] >= last_start[:, None]) & (idx[None, :] < n[:, None])
    lo = np.sum(y * first, axis=-1) / np.maximum(first.sum(-1), 1)
    hi = np.sum(y * last, axis=-1) / np.maximum(last.sum(-1), 1)
    return lo, hi


def _normalised_x(x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """u = (x − x_mid)/half_range in [−1, 1] per row; returns (u, x_mid, half_range)."""
    big = np.where(mask, x, np.nan)
    x0 = np.nanmin(big, axis=-1)
    x1 = np.nanmax(big, axis=-1)
    mid = 0.5 * (x0 + x1)
    half = np.maximum(0.5 * (x1 - x0), 1e-300)
    return (x - mid[:, None]) / half[:, None], mid, half


class Background(ABC):
    """Interface of a background (see the module docstring)."""

    name: ClassVar[str] = "background"
    #: True when b depends on the peak model (Shirley); then :meth:`peak_operator` is used.
    couples_to_peaks: ClassVar[bool] = False

    @property
    @abstractmethod
    def param_names(self) -> tuple[str, ...]: ...

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def transforms(self) -> tuple[Transform, ...]:
        return tuple(Transform("identity") for _ in self.param_names)

    @abstractmethod
    def init(self, x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[Any, ...]:
        """(β0 (B, P), baseline (B, N), ctx) from the data alone."""

    @abstractmethod
    def evaluate(self, x: np.ndarray, beta: np.ndarray, peaks: np.ndarray, ctx: Ctx):
        """b(x | β), (B, N). ``peaks`` is the current peak model (used by coupled backgrounds)."""

    @abstractmethod
    def jacobian(self, x: np.ndarray, beta: np.ndarray, peaks: np.ndarray, ctx: Ctx):
        """∂b/∂β, (B, P, N)."""

    def peak_operator(self, x: np.ndarray, beta: np.ndarray, v: np.ndarray, ctx: Ctx):
        """∂b/∂(peak model) applied to ``v`` (B, ..., N); zero for uncoupled backgrounds."""
        return np.zeros_like(v)

    def refine_init(self, x, y, mask, beta, peaks, ctx: Ctx) -> np.ndarray:
        """Improve β given a first peak model (default: unchanged)."""
        return beta

    def describe(self, x: np.ndarray, beta: np.ndarray, cov: np.ndarray, mask, ctx: Ctx):
        """Per-spectrum dicts of named values and errors for the results."""
        out = []
        for b in range(beta.shape[0]):
            err = np.sqrt(np.clip(np.diag(cov[b]), 0, None)) if cov.size else np.array([])
            d: dict[str, Any] = {"kind": self.name}
            for j, name in enumerate(self.param_names):
                d[name] = float(beta[b, j])
                d[f"{name}_err"] = float(err[j]) if err.size else float("nan")
            out.append(d)
        return out


class NoBackground(Background):
    """No background: b(x) = 0."""

    name = "none"

    @property
    def param_names(self):
        return ()

    def init(self, x, y, mask):
        return np.zeros((y.shape[0], 0)), np.zeros_like(y), {}

    def evaluate(self, x, beta, peaks, ctx):
        return np.zeros(x.shape)

    def jacobian(self, x, beta, peaks, ctx):
        return np.zeros((x.shape[0], 0, x.shape[-1]))

    def describe(self, x, beta, cov, mask, ctx):
        return [{"kind": "none"} for _ in range(beta.shape[0])]


class Polynomial(Background):
    r"""Polynomial background in the normalised abscissa u = (x − x_mid)/half_range ∈ [−1, 1].

    .. math:: b(x) = \sum_{j=0}^{d} c_j\, u^j

    ``degree=0`` is the constant background, ``degree=1`` the linear one. Results also give the
    offset at x_mid and, for the linear case, the slope per unit of x.
    """

    def __init__(self, degree: int = 1):
        if degree < 0 or degree > 6:
            raise InputError("polynomial background degree must be between 0 and 6")
        self.degree = int(degree)

    @property
    def name(self) -> str:  # type: ignore[override]
        return {0: "constant", 1: "linear"}.get(self.degree, f"polynomial{self.degree}")

    @property
    def param_names(self):
        return tuple(f"c{j}" for j in range(self.degree + 1))

    def _powers(self, x: np.ndarray) -> np.ndarray:
        # padded points repeat the last x, so the whole row gives the same range as the mask
        u, _, _ = _normalised_x(x, np.ones(x.shape, dtype=bool))
        return np.stack([u**j for j in range(self.degree + 1)], axis=1)  # (B, P, N)

    def init(self, x, y, mask):
        lo, hi = _edge_means(y, mask)
        u, _, _ = _normalised_x(x, mask)
        beta = np.zeros((y.shape[0], self.degree + 1))
        if self.degree == 0:
            beta[:, 0] = np.minimum(lo, hi)
            base = np.repeat(beta[:, :1], y.shape[-1], axis=1)
            return beta, base, {"powers": self._powers(x)}
        else:
            beta[:, 0] = 0.5 * (lo + hi)
            beta[:, 1] = 0.5 * (hi - lo)
            base = beta[:, :1] + beta[:, 1:2] * u
        return beta, base, {"powers": self._powers(x)}

    def evaluate(self, x, beta, peaks, ctx):
        return np.einsum("bp,bpn->bn", beta, ctx["powers"])

    def jacobian(self, x, beta, peaks, ctx):
        return ctx["powers"]

    def refine_init(self, x, y, mask, beta, peaks, ctx):
        # linear least squares for the coefficients given a first peak model
        basis = ctx["powers"]
        out = beta.copy()
        for b in range(y.shape[0]):
            m = mask[b]
            sol, *_ = np.linalg.lstsq(basis[b][:, m].T, y[b, m] - peaks[b, m], rcond=None)
            if np.all(np.isfinite(sol)):
                out[b] = sol
        return out

    def describe(self, x, beta, cov, mask, ctx):
        _, mid, half = _normalised_x(x, mask)
        out = super().describe(x, beta, cov, mask, ctx)
        for b, d in enumerate(out):
            d["x_ref"] = float(mid[b])
            d["offset"] = float(beta[b, 0])
            d["offset_err"] = d["c0_err"]
            if self.degree >= 1:
                d["slope_per_x"] = float(beta[b, 1] / half[b])
                d["slope_per_x_err"] = float(d["c1_err"] / half[b])
        return out


def _cumulative(v: np.ndarray, dx_half: np.ndarray, from_right: np.ndarray) -> np.ndarray:
    """Trapezoid running integral of ``v`` (B, ..., N) along N.

    From the left: S_i = ∫_{x_0}^{x_i} v. From the right (rows where ``from_right``):
    S_i = ∫_{x_i}^{x_end} v. ``dx_half`` (B, N−1) holds half the grid steps.
    """
    shape = (v.shape[0],) + (1,) * (v.ndim - 2) + (v.shape[-1] - 1,)
    d = dx_half.reshape(shape)
    seg = (v[..., 1:] + v[..., :-1]) * d
    left = np.concatenate([np.zeros(v.shape[:-1] + (1,)), np.cumsum(seg, axis=-1)], axis=-1)
    total = left[..., -1:]
    right = total - left
    sel = from_right.reshape((v.shape[0],) + (1,) * (v.ndim - 1))
    return np.where(sel, right, left)


class Shirley(Background):
    r"""Shirley step background (Shirley, Phys. Rev. B 5, 4709 (1972)), fitted actively.

    .. math:: b(x) = c_0 + k \int_{x}^{x_{\rm end}} \sum_j A_j f_j(x')\,dx'

    where x_end is the end of the window on the *low-background* side, so that b rises from
    c_0 on that side by k·(total peak area) towards the high-background side (the side of
    inelastic losses: high binding energy, low kinetic energy). Fitting c_0 and k together with
    the peaks (the "active" Shirley approach, Herrera-Gomez et al., Surf. Interface Anal. 46,
    897 (2014)) avoids the bias of subtracting an iterated background first; the classical
    iterative Shirley of the data is used for EM initialisation.

    ``high_side``: ``"auto"`` (the end of the window where the data are higher), ``"low"`` or
    ``"high"`` (low or high x).
    """

    name = "shirley"
    couples_to_peaks = True

    def __init__(self, high_side: str = "auto", max_iter: int = 50):
        if high_side not in ("auto", "low", "high"):
            raise InputError("shirley high_side must be 'auto', 'low' or 'high'")
        self.high_side = high_side
        self.max_iter = max_iter

    @property
    def param_names(self):
        return ("c0", "k")

    def _side(self, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Per row: True when the background is high at low x (integrate from the right)."""
        if self.high_side == "low":
            return np.ones(y.shape[0], dtype=bool)
        if self.high_side == "high":
            return np.zeros(y.shape[0], dtype=bool)
        lo, hi = _edge_means(y, mask)
        return lo > hi

    def init(self, x, y, mask):
        from_right = self._side(y, mask)
        lo, hi = _edge_means(y, mask)
        low_level = np.where(from_right, hi, lo)
        high_level = np.where(from_right, lo, hi)
        dxh = 0.5 * np.diff(x, axis=-1)
        base = np.repeat(low_level[:, None], y.shape[-1], axis=1)
        scale = max(float(np.abs(y).max()), 1e-300)
        for _ in range(self.max_iter):
            signal = np.where(mask, np.maximum(y - base, 0.0), 0.0)
            s = _cumulative(signal, dxh, from_right)
            total = np.where(from_right, s[:, 0], s[:, -1])
            new = (
                low_level[:, None]
                + (high_level - low_level)[:, None] * s / np.maximum(total, 1e-300)[:, None]
            )
            done = np.allclose(new, base, rtol=1e-7, atol=1e-9 * scale)
            base = new
            if done:
                break
        signal = np.where(mask, np.maximum(y - base, 0.0), 0.0)
        total = np.sum(signal * bin_widths(x), axis=-1)
        k = (high_level - low_level) / np.maximum(total, 1e-300)
        beta = np.stack([low_level, k], axis=-1)
        return beta, base, {"from_right": from_right}

    @staticmethod
    def _s(x, peaks, ctx):
        return _cumulative(peaks, 0.5 * np.diff(x, axis=-1), ctx["from_right"])

    def evaluate(self, x, beta, peaks, ctx):
        return beta[:, :1] + beta[:, 1:2] * self._s(x, peaks, ctx)

    def jacobian(self, x, beta, peaks, ctx):
        return np.stack([np.ones(x.shape), self._s(x, peaks, ctx)], axis=1)

    def peak_operator(self, x, beta, v, ctx):
        k = beta[:, 1].reshape((beta.shape[0],) + (1,) * (v.ndim - 1))
        return k * _cumulative(v, 0.5 * np.diff(x, axis=-1), ctx["from_right"])

    def refine_init(self, x, y, mask, beta, peaks, ctx):
        # linear least squares for c0 and k given a first peak model
        s = self._s(x, peaks, ctx)
        out = beta.copy()
        for b in range(y.shape[0]):
            m = mask[b]
            a = np.stack([np.ones(m.sum()), s[b, m]], axis=1)
            sol, *_ = np.linalg.lstsq(a, y[b, m] - peaks[b, m], rcond=None)
            if np.all(np.isfinite(sol)):
                out[b] = sol
        return out

    def describe(self, x, beta, cov, mask, ctx):
        out = super().describe(x, beta, cov, mask, ctx)
        for b, d in enumerate(out):
            d["high_side"] = "low-x" if bool(ctx["from_right"][b]) else "high-x"
        return out


_REGISTRY: dict[str, Callable[..., Background]] = {
    "none": NoBackground,
    "constant": lambda **kw: Polynomial(0),
    "linear": lambda **kw: Polynomial(1),
    "quadratic": lambda **kw: Polynomial(2),
    "polynomial": lambda degree=2, **kw: Polynomial(degree),
    "shirley": Shirley,
}


def register_background(name: str, factory: Callable[..., Background]) -> None:
    """Make ``factory(**options)`` available as ``get_background(name, **options)``."""
    _REGISTRY[name] = factory


def available_backgrounds() -> list[str]:
    return sorted(_REGISTRY)


def get_background(name: str | Background | None, **options) -> Background:
    """A background from its name (``"none"``, ``"constant"``, ``"linear"``, ``"shirley"``...)."""
    if isinstance(name, Background):
        return name
    key = "none" if name is None else str(name).strip().lower()
    if key not in _REGISTRY:
        raise InputError(
            f"unknown background {name!r}; choose one of {', '.join(available_backgrounds())}"
        )
    return _REGISTRY[key](**options)
