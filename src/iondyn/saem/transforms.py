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
from functools import lru_cache

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


@lru_cache(maxsize=256)
def _groups(transforms: tuple[Transform, ...]):
    """Index arrays of the identity, log and logit parameters (+ logit bounds), cached."""
    kinds = [t.kind for t in transforms]
    ident = np.array([i for i, k in enumerate(kinds) if k == "identity"], dtype=int)
    log = np.array([i for i, k in enumerate(kinds) if k == "log"], dtype=int)
    lgt = np.array([i for i, k in enumerate(kinds) if k == "logit"], dtype=int)
    lo = np.array([transforms[i].lo for i in lgt], dtype=float)
    hi = np.array([transforms[i].hi for i in lgt], dtype=float)
    return ident, log, lgt, lo, hi


def to_z(theta: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """Natural → unconstrained. ``theta[..., j]`` uses ``transforms[j]``."""
    theta = np.asarray(theta, dtype=float)
    _, log, lgt, lo, hi = _groups(tuple(transforms))
    z = theta.copy()
    if log.size:
        z[..., log] = np.log(np.maximum(theta[..., log], 1e-300))
    if lgt.size:
        u = np.clip((theta[..., lgt] - lo) / (hi - lo), 1e-12, 1 - 1e-12)
        z[..., lgt] = np.log(u) - np.log1p(-u)
    return z


def from_z(z: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """Unconstrained → natural."""
    z = np.asarray(z, dtype=float)
    _, log, lgt, lo, hi = _groups(tuple(transforms))
    theta = z.copy()
    if log.size:
        theta[..., log] = np.exp(np.clip(z[..., log], -_EXP_CLIP, _EXP_CLIP))
    if lgt.size:
        e = np.exp(-np.clip(z[..., lgt], -_EXP_CLIP, _EXP_CLIP))
        theta[..., lgt] = lo + (hi - lo) / (1.0 + e)
    return theta


def jacobian_diag(z: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """dθ/dz elementwise (the transforms are separable, so the Jacobian is diagonal)."""
    z = np.asarray(z, dtype=float)
    _, log, lgt, lo, hi = _groups(tuple(transforms))
    d = np.ones_like(z)
    if log.size:
        d[..., log] = np.exp(np.clip(z[..., log], -_EXP_CLIP, _EXP_CLIP))
    if lgt.size:
        sg = 1.0 / (1.0 + np.exp(-np.clip(z[..., lgt], -_EXP_CLIP, _EXP_CLIP)))
        d[..., lgt] = (hi - lo) * sg * (1.0 - sg)
    return d
