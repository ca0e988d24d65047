"""The spectrum model refined in stage 2: K components plus a background.

    m(x) = Σ_k A_k f(x | θ_k) + b(x | β [, peaks])

Parameters of one spectrum are packed as [A_1, θ_1, …, A_K, θ_K, β] (natural units). The
model returns m and its Jacobian ∂m/∂p with shape (B, n_params, N), chaining the Shirley
background's dependence on the peaks when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iondyn.saem.background import Background
from iondyn.saem.components.base import Component, Window
from iondyn.saem.transforms import IDENTITY, LOG, Transform

__all__ = ["MixtureModel", "take_rows"]


def take_rows(obj: Any, rows: np.ndarray) -> Any:
    """Select rows of an array, of every array in a dict, or of both arrays of a window."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return {k: take_rows(v, rows) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(take_rows(v, rows) for v in obj)
    arr = np.asarray(obj)
    if arr.ndim == 0:
        return arr
    return arr[rows]


@dataclass
class MixtureModel:
    """K copies of ``component`` plus ``background`` (see the module docstring)."""

    component: Component
    n_peaks: int
    background: Background
    positive_areas: bool = True
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        names = []
        for k in range(self.n_peaks):
            names.append(f"p{k + 1}_area")
            names += [f"p{k + 1}_{n}" for n in self.component.param_names]
        names += [f"bg_{n}" for n in self.background.param_names]
        self.names = names

    @property
    def block(self) -> int:
        """Parameters per peak (area + shape)."""
        return 1 + self.component.n_params

    @property
    def n_params(self) -> int:
        return self.n_peaks * self.block + self.background.n_params

    @property
    def transforms(self) -> tuple[Transform, ...]:
        t: list[Transform] = []
        for _ in range(self.n_peaks):
            t.append(LOG if self.positive_areas else IDENTITY)
            t += list(self.component.transforms)
        t += list(self.background.transforms)
        return tuple(t)

    def unpack(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """p (B, n_params) → areas (B, K), θ (B, K, P), β (B, Pb)."""
        kb = self.n_peaks * self.block
        peaks = p[:, :kb].reshape(p.shape[0], self.n_peaks, self.block)
        return peaks[..., 0], peaks[..., 1:], p[:, kb:]

    def pack(self, areas: np.ndarray, theta: np.ndarray, beta: np.ndarray) -> np.ndarray:
        peaks = np.concatenate([areas[..., None], theta], axis=-1)
        return np.concatenate([peaks.reshape(areas.shape[0], -1), beta], axis=-1)

    def components(self, x: np.ndarray, p: np.ndarray, window: Window) -> np.ndarray:
        """Each peak's contribution A_k f_k(x), (B, K, N)."""
        areas, theta, _ = self.unpack(p)
        return areas[..., None] * self.component.pdf(x, theta, window)

    def evaluate(
        self, x: np.ndarray, p: np.ndarray, ctx: dict, window: Window, jacobian: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """m (B, N) and, when asked, ∂m/∂p (B, n_params, N)."""
        areas, theta, beta = self.unpack(p)
        if jacobian:
            f, grad = self.component.pdf_grad(x, theta, window)
        else:
            f = self.component.pdf(x, theta, window)
        peaks = np.sum(areas[..., None] * f, axis=1)
        bg = self.background.evaluate(x, beta, peaks, ctx)
        m = peaks + bg
        if not jacobian:
            return m, None
        b, k, n = f.shape
        jp = np.empty((b, k, self.block, n))
        jp[:, :, 0, :] = f
        jp[:, :, 1:, :] = areas[..., None, None] * grad
        jp = jp.reshape(b, k * self.block, n)
        if self.background.couples_to_peaks:
            jp = jp + self.background.peak_operator(x, beta, jp, ctx)
        jb = self.background.jacobian(x, beta, peaks, ctx)
        return m, np.concatenate([jp, jb], axis=1)
