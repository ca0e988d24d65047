"""Synthetic impedance spectra: a circuit on a frequency grid, optionally with Gaussian noise.

Used by tests, benchmarks and the demo. Noise models (relative level ε, independent standard
normal draws N₁, N₂ per point):

* ``proportional`` (default): Z = Z′(1 + εN₁) + iZ″(1 + εN₂) — σ(Z′) = ε|Z′|, σ(Z″) = ε|Z″|,
  matched by the ``proportional`` fit weight;
* ``modulus``: Z = Z′ + ε|Z|N₁ + i(Z″ + ε|Z|N₂) — σ = ε|Z| on both parts, matched by the
  ``modulus`` fit weight (closer to the error structure of real analysers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.circuit import Circuit, parse_circuit
from iondyn.errors import InputError

__all__ = ["NOISE_MODELS", "log_frequencies", "simulate_replicas", "simulate_spectrum"]

NOISE_MODELS = ("proportional", "modulus")


def log_frequencies(fmax: float, fmin: float, points_per_decade: float = 10) -> np.ndarray:
    """Log-spaced frequencies (Hz) from ``fmax`` down to ``fmin``, both included, as analysers
    sweep (10 MHz → 0.1 Hz at 10 points/decade gives 81 points)."""
    if not (fmax > 0 and fmin > 0 and fmax != fmin):
        raise InputError(f"need two different positive frequencies, got {fmax} and {fmin}")
    if not points_per_decade > 0:
        raise InputError("points_per_decade must be positive")
    decades = abs(np.log10(fmax / fmin))
    n = round(float(decades) * points_per_decade) + 1
    return np.logspace(np.log10(fmax), np.log10(fmin), n)


def _noisy(z: np.ndarray, noise: float, model: str, rng: np.random.Generator) -> np.ndarray:
    """Add noise to z of shape (n_sets, n_omega)."""
    n1 = rng.standard_normal(z.shape)
    n2 = rng.standard_normal(z.shape)
    if model == "proportional":
        return z.real * (1.0 + noise * n1) + 1j * z.imag * (1.0 + noise * n2)
    scale = noise * np.abs(z)
    return z + scale * n1 + 1j * scale * n2


def _prepare(
    circuit: str | Circuit,
    frequency: Any,
    fmin: float,
    fmax: float,
    points_per_decade: float,
    noise: float,
    noise_model: str,
) -> tuple[Circuit, np.ndarray]:
    if noise_model not in NOISE_MODELS:
        raise InputError(f"unknown noise model {noise_model!r} (use one of {NOISE_MODELS})")
    if not (np.isfinite(noise) and noise >= 0):
        raise InputError(f"the noise level must be a non-negative number, got {noise}")
    circuit = parse_circuit(circuit)
    if frequency is None:
        frequency = log_frequencies(fmax, fmin, points_per_decade)
    frequency = np.asarray(frequency, dtype=float)
    if frequency.ndim != 1 or frequency.size == 0 or not np.all(frequency > 0):
        raise InputError("frequency must be a non-empty 1-D array of positive values (Hz)")
    return circuit, frequency


def simulate_replicas(
    circuit: str | Circuit,
    params: Mapping[str, float] | np.ndarray,
    n_replicas: int,
    frequency: Any = None,
    *,
    fmin: float = 0.1,
    fmax: float = 1e7,
    points_per_decade: float = 10,
    noise: float = 0.01,
    noise_model: str = "proportional",
    seed: int | None = None,
    source: str = "simulated",
) -> list[ImpedanceSpectrum]:
    """``n_replicas`` noisy copies of one model spectrum (one batched draw; spectrum ``index`` =
    replica number). The noise-free model is evaluated once."""
    circuit, frequency = _prepare(
        circuit, frequency, fmin, fmax, points_per_decade, noise, noise_model
    )
    if int(n_replicas) < 1:
        raise InputError("n_replicas must be at least 1")
    z0 = circuit.impedance_at(frequency, params)
    if z0.ndim != 1:
        raise InputError("simulate one parameter set at a time (params of shape (n_params,))")
    rng = np.random.default_rng(seed)
    z = _noisy(np.broadcast_to(z0, (int(n_replicas), z0.size)), noise, noise_model, rng)
    meta = {
        "circuit": circuit.string,
        "parameters": circuit.array_to_params(circuit.params_to_array(params)[0]),
        "noise": noise,
        "noise_model": noise_model,
        "seed": seed,
    }
    return [
        ImpedanceSpectrum(frequency.copy(), row, source=source, index=i, metadata=dict(meta))
        for i, row in enumerate(z)
    ]


def simulate_spectrum(
    circuit: str | Circuit,
    params: Mapping[str, float] | np.ndarray,
    frequency: Any = None,
    *,
    fmin: float = 0.1,
    fmax: float = 1e7,
    points_per_decade: float = 10,
    noise: float = 0.0,
    noise_model: str = "proportional",
    seed: int | None = None,
    source: str = "simulated",
) -> ImpedanceSpectrum:
    """Evaluate ``circuit`` at ``params`` on ``frequency`` (Hz; default ``fmax`` → ``fmin`` at
    ``points_per_decade``) and add Gaussian noise of relative level ``noise`` (0.01 = 1 %).

    The circuit, parameters and noise settings are kept in ``metadata``.
    """
    return simulate_replicas(
        circuit,
        params,
        1,
        frequency,
        fmin=fmin,
        fmax=fmax,
        points_per_decade=points_per_decade,
        noise=noise,
        noise_model=noise_model,
        seed=seed,
        source=source,
    )[0]
