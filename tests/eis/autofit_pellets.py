"""Random synthetic pellets for the AutoFitter accuracy test and ``benchmarks/bench_autofit.py``.

Independent of iondyn's circuit code (the impedance is written out here with NumPy).

Generator (:func:`random_pellet`), each draw independent, redrawn until it qualifies:

* 2 or 3 arcs R_k‖CPE_k (equally likely), with or without a blocking-electrode CPE (equally
  likely); R_k log-uniform in [1e2, 1e8] Ω, C_k log-uniform in [1e-12, 1e-6] F, n_k uniform in
  [0.7, 1]; Q_k = C_k^{n_k} R_k^{n_k − 1} (Brug), so τ_k = (R_k Q_k)^{1/n_k} = R_k C_k;
  R0 log-uniform in [1, 100] Ω.
* τ separated by ≥ 1.5 decades; peak frequencies 1/(2πτ_k) inside [0.1 Hz, 1 MHz], so that the
  window — the peak frequencies with one decade of margin on each side, at most
  10 MHz → 10 mHz — holds every arc; 10 points per decade, from high to low frequency.
* the electrode CPE: n_e uniform in [0.75, 0.95], Q_e such that |Z_e| at the slowest arc's peak
  (ω = 1/τ_slow) is x · R_slow with x log-uniform in [0.05, 0.5] (a spike that rises out of the
  slowest arc within the window);
* noise: 1 % of |Z| on the real and the imaginary part (``modulus`` noise, the error structure
  of real analysers and the AutoFitter's weights);
* **determinable**: the Cramér–Rao bound of every arc resistance, σ(R_k)/R_k from the Fisher
  matrix of the true circuit at this noise level (all parameters free), is ≤ 1.5 %. A draw
  whose arcs the data cannot determine to 5 % by any method (R's many decades apart, an arc
  buried under a larger neighbour) is redrawn; ≈ 20 % of the raw draws qualify. With
  σ ≤ 1.5 % an efficient estimator misses 5 % (3.3 σ) on ≤ 0.3 % of the cases.
"""

from __future__ import annotations

import numpy as np

from iondyn.data import ImpedanceSpectrum

NOISE = 0.01
MAX_CRB = 0.015


def circuit_string(n_arcs: int, electrode: bool) -> str:
    parts = ["R0"] + [f"p(R{k},CPE{k})" for k in range(1, n_arcs + 1)]
    if electrode:
        parts.append(f"CPE{n_arcs + 1}")
    return "-".join(parts)


def impedance(omega: np.ndarray, p: dict[str, float], n_arcs: int, electrode: bool):
    """Z = R0 + Σ R_k/(1 + R_k Q_k (iω)^{n_k}) [+ 1/(Q_e (iω)^{n_e})]."""
    s = 1j * omega
    z = p["R0"] + 0 * s
    for k in range(1, n_arcs + 1):
        z = z + p[f"R{k}"] / (1 + p[f"R{k}"] * p[f"CPE{k}_Q"] * s ** p[f"CPE{k}_n"])
    if electrode:
        z = z + 1 / (p[f"CPE{n_arcs + 1}_Q"] * s ** p[f"CPE{n_arcs + 1}_n"])
    return z


def cramer_rao(omega, p, n_arcs, electrode, noise=NOISE) -> dict[str, float]:
    """Relative (positive quantities) or absolute (exponents) Cramér–Rao bounds, σ = noise·|Z|
    on each part; Jacobian by forward differences."""
    names = list(p)
    z0 = impedance(omega, p, n_arcs, electrode)
    sig = noise * np.abs(z0)
    rows = []
    for name in names:
        q = dict(p)
        h = 1e-6
        q[name] = p[name] + h if name.endswith("_n") else p[name] * (1 + h)
        d = (impedance(omega, q, n_arcs, electrode) - z0) / h
        rows.append(np.concatenate([d.real / sig, d.imag / sig]))
    jac = np.array(rows)
    cov = np.linalg.inv(jac @ jac.T)
    return {name: float(np.sqrt(cov[i, i])) for i, name in enumerate(names)}


def frequencies(fmax: float, fmin: float, per_decade: int = 10) -> np.ndarray:
    n = round(float(per_decade * np.log10(fmax / fmin))) + 1
    return np.logspace(np.log10(fmax), np.log10(fmin), n)


def _draw(rng: np.random.Generator, min_arcs: int, sep_decades: float):
    """One raw draw (k, electrode, parameters, frequencies) with ``min_arcs``–3 arcs, or None
    when its arcs are closer than ``sep_decades`` or peak outside [0.1 Hz, 1 MHz]."""
    k = int(rng.integers(min_arcs, 4))
    electrode = bool(rng.integers(0, 2))
    r = 10 ** rng.uniform(2, 8, k)
    c = 10 ** rng.uniform(-12, -6, k)
    n = rng.uniform(0.7, 1.0, k)
    r0 = 10 ** rng.uniform(0, 2)
    ne, x = rng.uniform(0.75, 0.95), 10 ** rng.uniform(np.log10(0.05), np.log10(0.5))
    order = np.argsort(r * c)
    r, c, n = r[order], c[order], n[order]
    tau = r * c
    if np.any(np.diff(np.log10(tau)) < sep_decades):
        return None
    f_peak = 1 / (2 * np.pi * tau)
    if f_peak.max() > 1e6 or f_peak.min() < 0.1:
        return None
    p = {"R0": float(r0)}
    for j in range(k):
        p[f"R{j + 1}"] = float(r[j])
        p[f"CPE{j + 1}_Q"] = float(c[j] ** n[j] * r[j] ** (n[j] - 1))
        p[f"CPE{j + 1}_n"] = float(n[j])
    if electrode:
        p[f"CPE{k + 1}_Q"] = float(1 / (x * r[-1] * (1 / tau[-1]) ** ne))
        p[f"CPE{k + 1}_n"] = float(ne)
    f = frequencies(min(1e7, 10 * f_peak.max()), max(1e-2, 0.1 * f_peak.min()))
    return k, electrode, p, f


def random_pellet(rng: np.random.Generator, sep_decades: float = 1.5, max_crb: float = MAX_CRB):
    """(circuit, parameters, frequencies) of one qualifying draw (module docstring)."""
    while True:
        draw = _draw(rng, 2, sep_decades)
        if draw is None:
            continue
        k, electrode, p, f = draw
        crb = cramer_rao(2 * np.pi * f, p, k, electrode)
        if max(crb[f"R{j}"] for j in range(1, k + 1)) > max_crb:
            continue
        return circuit_string(k, electrode), p, f


def noisy_spectrum(circuit: str, p, f, seed: int, noise: float = NOISE) -> ImpedanceSpectrum:
    """The pellet's spectrum with ``noise`` · |Z| Gaussian noise on each part."""
    k = circuit.count("p(")
    electrode = circuit.count("CPE") > k
    z0 = impedance(2 * np.pi * f, p, k, electrode)
    g = np.random.default_rng(seed)
    z = z0 + noise * np.abs(z0) * (g.standard_normal(f.size) + 1j * g.standard_normal(f.size))
    return ImpedanceSpectrum(f, z, source=f"pellet-{seed}")


def pellet_cases(n: int, seed: int, stride: int = 100_000) -> list:
    """``n`` (circuit, parameters, noisy spectrum) of ``random_pellet``; the noise of pellet i
    is seeded ``seed · stride + i``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        circuit, p, f = random_pellet(rng)
        out.append((circuit, p, noisy_spectrum(circuit, p, f, seed=seed * stride + i)))
    return out


def recovered(result, circuit: str, p, rtol: float = 0.05) -> bool:
    """The right circuit and every arc resistance within ``rtol``."""
    if result.circuit != circuit:
        return False
    names = [n for n in p if n.startswith("R") and n != "R0"]
    return all(abs(result.fit.parameters[n] / p[n] - 1) < rtol for n in names)


# ---- wide pellets (issue 13, item 5a): every draw kept, small arcs beside huge ones --------


def random_wide_pellet(rng: np.random.Generator, sep_decades: float = 1.5):
    """(circuit, parameters, frequencies) of one pellet with 1–3 arcs (equally likely), with or
    without a blocking electrode (equally likely): R_k log-uniform in [1e2, 1e8] Ω, C_k in
    [1e-12, 1e-6] F, n_k uniform in [0.7, 1], R0 in [1, 100] Ω, τ ≥ ``sep_decades`` apart, peak
    frequencies in [0.1 Hz, 1 MHz], the electrode and the window as in :func:`random_pellet`
    — but no determinability filter: an arc a thousand times smaller than its neighbour is
    kept (whether the data determine it is for the test to find out)."""
    while True:
        draw = _draw(rng, 1, sep_decades)
        if draw is None:
            continue
        k, electrode, p, f = draw
        return circuit_string(k, electrode), p, f


def wide_pellet_cases(n: int, seed: int, stride: int = 1000) -> list:
    """``n`` (circuit, parameters, noisy spectrum) of :func:`random_wide_pellet`; the noise of
    pellet i is seeded ``seed · stride + i``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        circuit, p, f = random_wide_pellet(rng)
        out.append((circuit, p, noisy_spectrum(circuit, p, f, seed=seed * stride + i)))
    return out
