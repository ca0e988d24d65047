r"""Mean-squared displacements by FFT: the numerical kernels (pure NumPy, leading batch axis).

For a trajectory r(t), t = 0 … F − 1 (unwrapped), the time-averaged MSD at lag m frames is

.. math::

    \mathrm{MSD}(m) = \frac{1}{F - m} \sum_{t=0}^{F-m-1} |r(t+m) - r(t)|^2
                    = S_1(m) - 2 S_2(m),

with :math:`S_1(m) = \frac{1}{F-m}\sum_{t=0}^{F-m-1} (|r(t)|^2 + |r(t+m)|^2)` (two running sums)
and :math:`S_2(m) = \frac{1}{F-m}\sum_{t=0}^{F-m-1} r(t)\cdot r(t+m)` (an autocorrelation, one
FFT of length 2F; Wiener–Khinchin). This is the fast correlation algorithm of Kneller, Keiner,
Kneller & Schiller, Comput. Phys. Commun. 91, 191 (1995) (nMOLDYN) and Calandrini, Pellegrini,
Calligari, Hinsen & Kneller, Collection SFN 12, 201 (2011): O(F log F) per particle instead of
O(F²), every lag at once.

* **tracer** MSD: the mean over the N ions of their own MSDs;
* **collective** (centre-of-mass, "charge") MSD: the MSD of the summed displacement
  R(t) = Σ_i r_i(t), divided by N, so that D_σ = lim MSD_coll / (2 d t) and the Haven ratio is
  H_R = D* / D_σ (Murch, Solid State Ionics 7, 177 (1982)).

Positions are taken relative to the first frame before the FFT, which keeps the sums small
(no loss of digits for ions far from the origin).
"""

from __future__ import annotations

import numpy as np
from scipy import fft as _fft

__all__ = ["msd_direct", "msd_fft"]


def msd_fft(positions: np.ndarray) -> np.ndarray:
    """Time-averaged MSD of every trajectory of a batch, at every lag, by FFT.

    ``positions``: (batch, F, d) unwrapped coordinates (float). Returns (batch, F) with
    MSD(0) = 0; the squared displacements are summed over the d components given (pass only
    x and y for an in-plane MSD). Memory: about 2 × batch × F × d complex numbers.
    """
    x = np.asarray(positions, dtype=float)
    if x.ndim != 3:
        raise ValueError("positions must have shape (batch, frames, dims)")
    b, f, _ = x.shape
    if f == 0:
        return np.zeros((b, 0))
    x = x - x[:, :1, :]
    counts = np.arange(f, 0, -1, dtype=float)  # F − m
    sq = np.einsum("btd,btd->bt", x, x)
    csum = np.concatenate([np.zeros((b, 1)), np.cumsum(sq, axis=1)], axis=1)
    m = np.arange(f)
    # Σ_{t<F−m} |r(t)|² + Σ_{t≥m} |r(t)|²
    s1 = csum[:, f - m] + (csum[:, f : f + 1] - csum[:, m])
    n = _fft.next_fast_len(2 * f, real=True)
    spec = _fft.rfft(x, n=n, axis=1)
    power = (spec.real**2 + spec.imag**2).sum(axis=2)
    s2 = _fft.irfft(power, n=n, axis=1)[:, :f]
    out = (s1 - 2.0 * s2) / counts
    out[:, 0] = 0.0
    return np.maximum(out, 0.0)


def msd_direct(positions: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """The same MSD by direct summation at the given lags (a reference for tests; O(F) per
    lag). ``positions``: (batch, F, d); returns (batch, len(lags))."""
    x = np.asarray(positions, dtype=float)
    out = np.empty((x.shape[0], len(lags)))
    for k, lag in enumerate(np.asarray(lags, dtype=int)):
        if lag == 0:
            out[:, k] = 0.0
            continue
        d = x[:, lag:, :] - x[:, :-lag, :]
        out[:, k] = np.einsum("btd,btd->bt", d, d).mean(axis=1)
    return out
