"""AutoFitter accuracy (issue 5) and the blocking-cell physics round trip (issue 6).

Known truth, stated tolerances, no initial guesses anywhere:

* 200 random pellets (generator and "determinable" criterion in ``autofit_pellets.py``: 2–3
  arcs ≥ 1.5 decades apart, R 1e2–1e8 Ω, C 1e-12–1e-6 F, n 0.7–1, with or without an electrode
  CPE, 1 % noise): the right circuit and every R within 5 % in ≥ 98 % (≥ 196/200, fixed seed);
* two arcs only 0.7 decades apart: resolved (two arcs chosen) with both R within 15 %. The
  Cramér–Rao bound decides what is possible: at 1 % noise, 10 points/decade, equal R and
  n = 1 give σ(R)/R = 7 % (n = 0.9: 15 %, n = 0.8: 33 % — no method can reach 15 % there), so
  the 1 % test uses Debye arcs (n = 1, expected ≥ 9/10 within 2σ); a second test uses 0.1 %
  noise with n in [0.85, 1], R within a factor 3 and σ(R)/R ≤ 5 % (15 % = 3σ: all must pass);
* the PNP small-signal impedance of a blocking cell (L = 1000 L_D): bulk resistance L/σ and
  double-layer capacitance ε/(2L_D) within 2 % (the exact low-frequency limit is
  (L − 3L_D)/σ, 0.3 % below L/σ, see docs/physics.md §6);
* the demo pellet series (``simulate_pellet_series(seed=5)``): all six spectra come out
  ``R0-p(R1,CPE1)-p(R2,CPE2)-CPE3`` (two of them were lost by a loosened scan once), and
  seeding the scan from the SAEM decomposition gives the same fits.
"""

from __future__ import annotations

import numpy as np
import pytest
from autofit_pellets import (
    cramer_rao,
    frequencies,
    impedance,
    noisy_spectrum,
    random_pellet,
    recovered,
)

from iondyn.constants import EPS0
from iondyn.data import ImpedanceSpectrum
from iondyn.eis.autofit import AutoFitter

PELLET_CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"


@pytest.mark.slow
def test_random_pellets_right_circuit_and_resistances():
    rng = np.random.default_rng(2024)
    fitter = AutoFitter()
    ok = 0
    for i in range(200):
        circuit, p, f = random_pellet(rng)
        spectrum = noisy_spectrum(circuit, p, f, seed=10_000 + i)
        ok += recovered(fitter.fit(spectrum), circuit, p, rtol=0.05)
    assert ok >= 196


def _two_close_arcs(rng, n_range, noise, max_crb):
    """Two arcs 0.7 decades apart, R within a factor 3 of each other (see module doc)."""
    while True:
        tau1 = 10 ** rng.uniform(-6, -1)
        tau = np.array([tau1, tau1 * 10**0.7])
        r = 10 ** rng.uniform(2, 7) * np.array([1.0, 10 ** rng.uniform(-0.5, 0.5)])
        n = rng.uniform(*n_range, 2)
        p = {"R0": float(10 ** rng.uniform(0, 2))}
        for k in range(2):
            c = tau[k] / r[k]
            p[f"R{k + 1}"] = float(r[k])
            p[f"CPE{k + 1}_Q"] = float(c ** n[k] * r[k] ** (n[k] - 1))
            p[f"CPE{k + 1}_n"] = float(n[k])
        f_peak = 1 / (2 * np.pi * tau)
        f = frequencies(10 * f_peak.max(), 0.1 * f_peak.min())
        crb = cramer_rao(2 * np.pi * f, p, 2, False, noise)
        if max(crb["R1"], crb["R2"]) <= max_crb:
            return p, f


def test_arcs_0p7_decades_apart_debye_at_1_percent_noise():
    rng = np.random.default_rng(7)
    fitter = AutoFitter()
    ok = 0
    for i in range(10):
        p, f = _two_close_arcs(rng, (1.0, 1.0), 0.01, max_crb=0.08)
        spectrum = noisy_spectrum("R0-p(R1,CPE1)-p(R2,CPE2)", p, f, seed=i, noise=0.01)
        ok += recovered(fitter.fit(spectrum), "R0-p(R1,CPE1)-p(R2,CPE2)", p, rtol=0.15)
    assert ok >= 9


def test_arcs_0p7_decades_apart_at_0p1_percent_noise():
    rng = np.random.default_rng(8)
    fitter = AutoFitter()
    for i in range(10):
        p, f = _two_close_arcs(rng, (0.85, 1.0), 0.001, max_crb=0.05)
        spectrum = noisy_spectrum("R0-p(R1,CPE1)-p(R2,CPE2)", p, f, seed=100 + i, noise=0.001)
        result = fitter.fit(spectrum)
        assert recovered(result, "R0-p(R1,CPE1)-p(R2,CPE2)", p, rtol=0.15), (p, result.circuit)


def test_blocking_cell_bulk_resistance_and_layer_capacitance():
    from iondyn.physics import Contact, Device, Phase, PNPModel, Species
    from iondyn.physics import analytic as an

    temp, conc, eps, diff = 298.15, 1e24, 10.0, 1e-12
    ld = an.debye_length(eps, temp, [conc], [1])
    species = (Species("V", 1, conc, diffusivity_m2_s=diff), Species("B", -1, conc, mobile=False))
    phase = Phase("A", eps, species, length_m=1000 * ld)
    device = Device((phase,), temp, Contact("blocking"), Contact("blocking"))
    sigma = an.nernst_einstein_conductivity(diff, conc, temp)
    tau = EPS0 * eps / sigma
    f = np.logspace(-6, 1, 71) / (2 * np.pi * tau)  # bulk arc and electrode spike
    area = 1e-4
    spectrum = PNPModel(device).impedance(f).to_spectrum(area_m2=area)
    result = AutoFitter().fit(spectrum)
    params = result.fit.parameters
    k = result.circuit.count("p(")
    assert result.circuit.endswith(f"-CPE{k + 1}")  # the blocking electrode is found
    bulk = max(params[f"R{j}"] for j in range(1, k + 1))
    assert bulk == pytest.approx(phase.length_m / (sigma * area), rel=0.02)
    assert params[f"CPE{k + 1}_n"] > 0.99
    assert params[f"CPE{k + 1}_Q"] == pytest.approx(EPS0 * eps * area / (2 * ld), rel=0.02)


def test_demo_pellet_series_all_two_arcs_and_electrode(tmp_path):
    from iondyn.demo import simulate_pellet_series
    from iondyn.io.impedance import read_impedance

    paths, _ = simulate_pellet_series(tmp_path, seed=5)
    fitter = AutoFitter()
    for path in paths:
        assert fitter.fit(read_impedance(path)[0]).circuit == PELLET_CIRCUIT, path.name


def test_result_dict_layout():
    rng = np.random.default_rng(3)
    circuit, p, f = random_pellet(rng)
    result = AutoFitter().fit(noisy_spectrum(circuit, p, f, seed=1))
    d = result.to_dict()
    assert d["auto"] is True
    assert {"candidates", "decomposition", "warnings"} <= set(d)
    assert set(d["decomposition"]) == {"arcs", "electrode", "candidates"}
    chosen = [c for c in d["candidates"] if c["chosen"]]
    assert len(chosen) == 1 and chosen[0]["circuit"] == result.circuit
    keys = {"circuit", "bic", "chi2", "n_free", "converged", "well_determined", "chosen"}
    assert all(keys <= set(c) for c in d["candidates"])
    # the model of the returned parameters reproduces the data to the noise level
    z = impedance(
        2 * np.pi * f,
        result.fit.parameters,
        result.circuit.count("p("),
        result.circuit.count("CPE") > result.circuit.count("p("),
    )
    spectrum = noisy_spectrum(circuit, p, f, seed=1)
    rel = np.abs(z - spectrum.z) / np.abs(spectrum.z)
    assert np.sqrt(np.mean(rel**2)) < 0.02
    assert isinstance(spectrum, ImpedanceSpectrum)


def test_seeding_from_the_decomposition_gives_the_same_answer(tmp_path):
    from iondyn.demo import simulate_pellet_series
    from iondyn.io.impedance import read_impedance

    paths, _ = simulate_pellet_series(tmp_path, seed=5, temperatures_C=[250.0, 350.0])
    for path in paths:
        spectrum = read_impedance(path)[0]
        fast = AutoFitter(seed_from_decomposition=False).fit(spectrum)
        seeded = AutoFitter().fit(spectrum)  # the default: decomposition first, seeds the scan
        assert fast.circuit == seeded.circuit == PELLET_CIRCUIT
        # decomposed afterwards, at the winner's K: as many arcs as the chosen circuit has
        assert fast.decomposition.n_arcs == 2 and fast.decomposition.electrode is not None
        for name in ("R1", "R2", "CPE3_Q"):
            assert fast.fit.parameters[name] == pytest.approx(seeded.fit.parameters[name], rel=1e-4)
