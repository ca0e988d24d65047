"""Parameter transforms between natural and unconstrained coordinates.

The EM accelerator and the Levenberg–Marquardt refinement work in unconstrained coordinates z;
components and backgrounds declare, per parameter, how their natural value θ maps to z:

* ``identity``: θ = z
* ``log``: θ = exp(z) (positive quantities: widths, τ0, resistances)
* ``logit``: θ = lo + (hi − lo)/(1 + e^(−z)) (bounded quantities: mixing fraction, exponent n)

All functions act elementwise on arrays of any shape with the parameter on the last axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Transform", "from_z", "jacobian_diag", "to_z"]

_EXP_CLIP = 700.0


@dataclass(frozen=True)
class Transform:
    """How one parameter maps to unconstrained coordinates."""

    kind: str = "identity"  # identity | log | logit
    lo: float = 0.0
    hi: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("identity", "log", "logit"):
            raise ValueError(f"unknown transform {self.kind!r}")
        if self.kind == "logit" and not self.hi > self.lo:
            raise ValueError("logit transform needs hi > lo")


IDENTITY = Transform("identity")
LOG = Transform("log")


def logit(lo: float = 0.0, hi: float = 1.0) -> Transform:
    return Transform("logit", lo, hi)


def to_z(theta: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """Natural → unconstrained. ``theta[..., j]`` uses ``transforms[j]``."""
    theta = np.asarray(theta, dtype=float)
    z = np.empty_like(theta)
    for j, t in enumerate(transforms):
        v = theta[..., j]
        if t.kind == "identity":
            z[..., j] = v
        elif t.kind == "log":
            z[..., j] = np.log(np.maximum(v, 1e-300))
        else:
            u = np.clip((v - t.lo) / (t.hi - t.lo), 1e-12, 1 - 1e-12)
            z[..., j] = np.log(u) - np.log1p(-u)
    return z


def from_z(z: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """Unconstrained → natural."""
    z = np.asarray(z, dtype=float)
    theta = np.empty_like(z)
    for j, t in enumerate(transforms):
        v = z[..., j]
        if t.kind == "identity":
            theta[..., j] = v
        elif t.kind == "log":
            theta[..., j] = np.exp(np.clip(v, -_EXP_CLIP, _EXP_CLIP))
        else:
            theta[..., j] = t.lo + (t.hi - t.lo) / (
                1.0 + np.exp(-np.clip(v, -_EXP_CLIP, _EXP_CLIP))
            )
    return theta


def jacobian_diag(z: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """dθ/dz elementwise (the transforms are separable, so the Jacobian is diagonal)."""
    z = np.asarray(z, dtype=float)
    d = np.empty_like(z)
    for j, t in enumerate(transforms):
        v = z[..., j]
        if t.kind == "identity":
            d[..., j] = 1.0
        elif t.kind == "log":
            d[..., j] = np.exp(np.clip(v, -_EXP_CLIP, _EXP_CLIP))
        else:
            s = 1.0 / (1.0 + np.exp(-np.clip(v, -_EXP_CLIP, _EXP_CLIP)))
            d[..., j] = (t.hi - t.lo) * s * (1.0 - s)
    return d
