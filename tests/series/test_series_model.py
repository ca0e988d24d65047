"""One circuit for a temperature series, processes followed by continuity, labels by the
capacitance ratio (issue 13, item 1).

* A simulated pellet whose grain-boundary capacitance is only 3× the bulk's (C·L/A = 8e-12 F,
  below the 1e-11 F of a fixed threshold) and whose spectrum at one temperature carries an
  extra small arc that the BIC of that spectrum alone prefers: the series keeps one circuit
  and recovers both activation energies within 0.01 eV, labelled bulk and grain boundary.
* The real 7-temperature series s04147 (Adediwura et al., J. Mater. Chem. A 12, 15847 (2024),
  EISFitpython example 3; pellet D = 0.8 cm, l = 0.21 cm): the authors report bulk
  Ea = 0.5869 ± 0.0163 eV and grain boundary 0.8919 ± 0.0025 eV with (R1‖Q1)-(R2‖Q2)-Q3.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from iondyn.constants import EPS0, K_B_EV
from iondyn.eis.autofit import AutoFitter
from iondyn.eis.simulate import simulate_spectrum
from iondyn.io.impedance import read_impedance
from iondyn.series import fit_temperature_series
from iondyn.series.selection import choose_series_circuit, without_series_resistance
from iondyn.series.tracking import label_tracks, track_arcs

L_CM, A_CM2 = 0.2, 0.5
EA = {"bulk": 0.60, "grain boundary": 0.90}
SIGMA_450 = {"bulk": 5e-6, "grain boundary": 1e-6}
C_F = {"bulk": EPS0 / 100 * 30.0 * A_CM2 / L_CM, "grain boundary": 2e-11}
TEMPS = np.arange(380.0, 521.0, 20.0)
NOISE = 0.005
EXTRA_AT = 460.0  # the temperature whose spectrum holds an extra arc


def _sigma(name: str, t: float) -> float:
    return SIGMA_450[name] * 450.0 / t * math.exp(-EA[name] / K_B_EV * (1 / t - 1 / 450.0))


def _spectrum(t: float, seed: int):
    params = {"R0": 10.0}
    parts = ["R0"]
    arcs = [("bulk", 0.95), ("grain boundary", 0.85)]
    for k, (name, n) in enumerate(arcs, start=1):
        r = L_CM / (_sigma(name, t) * A_CM2)
        params |= {f"R{k}": r, f"CPE{k}_Q": C_F[name] ** n * r ** (n - 1), f"CPE{k}_n": n}
        parts.append(f"p(R{k},CPE{k})")
    k = len(arcs) + 1
    if t == EXTRA_AT:  # a small extra arc between the grain boundary and the electrode
        r, c, n = 3e4, 1e-8, 0.9
        params |= {f"R{k}": r, f"CPE{k}_Q": c**n * r ** (n - 1), f"CPE{k}_n": n}
        parts.append(f"p(R{k},CPE{k})")
        k += 1
    params |= {f"CPE{k}_Q": 1e-6, f"CPE{k}_n": 0.85}
    parts.append(f"CPE{k}")
    return simulate_spectrum(
        "-".join(parts),
        params,
        fmin=0.1,
        fmax=1e7,
        points_per_decade=10,
        noise=NOISE,
        noise_model="modulus",
        seed=seed,
    )


@pytest.fixture(scope="module")
def simulated():
    return [_spectrum(t, seed=40 + i) for i, t in enumerate(TEMPS)]


def test_one_temperature_alone_prefers_an_extra_arc(simulated):
    auto = AutoFitter(thickness_cm=L_CM, area_cm2=A_CM2)
    i = int(np.flatnonzero(TEMPS == EXTRA_AT)[0])
    alone = auto.fit(simulated[i])
    assert alone.fit.circuit.string.count("p(") == 3  # the premise of the test


def test_series_keeps_one_circuit_and_recovers_both_activation_energies(simulated):
    res = fit_temperature_series(simulated, TEMPS, L_CM, A_CM2)
    assert res.model == "series"
    assert res.circuit.count("p(") == 2
    assert {f.auto.fit.circuit.string for f in res.fits} == {res.circuit}
    labels = {p.label: p for p in res.processes if p.arrhenius is not None}
    assert set(labels) == {"bulk", "grain boundary"}  # by the capacitance ratio
    for name, process in labels.items():
        assert abs(process.arrhenius.Ea_eV - EA[name]) < 0.01, (name, process.arrhenius.Ea_eV)
        assert len(process.points) == len(TEMPS)
    # the chosen row of the series table is eligible and has the lowest summed BIC of those
    chosen = [r for r in res.circuit_table if r["chosen"]]
    assert len(chosen) == 1 and chosen[0]["circuit"] == res.circuit
    eligible = [r["bic_sum"] for r in res.circuit_table if r.get("eligible")]
    assert chosen[0]["bic_sum"] == min(eligible)
    for f in res.fits:  # every fit's processes carry the series label
        arcs = [p for p in f.processes if p.get("tau_s")]
        assert [p["label"] for p in arcs][:2] == ["bulk", "grain boundary"]


def test_selection_rule_on_candidate_tables():
    good = {"circuit": "A", "well_determined": True}
    tables = [
        [{**good, "bic": -100.0}, {"circuit": "B", "bic": -130.0, "well_determined": False}],
        [{**good, "bic": -100.0}, {"circuit": "B", "bic": -101.0, "well_determined": False}],
        [{**good, "bic": -100.0}, {"circuit": "B", "bic": -140.0, "well_determined": True}],
    ]
    circuit, table = choose_series_circuit(tables)
    # B has the lower sum but is well determined at 1 of 3 temperatures: not a process
    assert circuit == "A"
    b = next(r for r in table if r["circuit"] == "B")
    assert b["bic_sum"] < -300 and not b["eligible"] and b["n_well_determined"] == 1
    assert without_series_resistance("R0-p(R1,CPE1)-CPE2") == "p(R1,CPE1)-CPE2"
    assert without_series_resistance("p(R1,CPE1)") is None


def test_tracking_by_continuity_not_by_order():
    # two processes whose τ order swaps between temperatures (different Ea): identity follows
    # each one's capacitance and Arrhenius line, not the order of the arcs in the circuit
    def arc(tau, c):
        return {"tau_s": tau, "C_F": c}

    temps = [400.0, 420.0, 440.0, 460.0, 480.0]
    spectra = []
    for t in temps:
        tau_a = 1e-13 * math.exp(0.9 / (K_B_EV * t))  # steep
        tau_b = 1e-8 * math.exp(0.5 / (K_B_EV * t))  # flat: crosses tau_a near 440 K
        spectra.append((t, [arc(tau_a, 5e-12), arc(tau_b, 5e-10)]))
    tracks = track_arcs(spectra)
    assert len(tracks) == 2 and all(len(tr.points) == 5 for tr in tracks)
    for tr in tracks:
        assert len({p["C_F"] for p in tr.points}) == 1
    assert label_tracks(tracks, 0.2, 0.5)
    assert {tr.label for tr in tracks} == {"bulk", "grain boundary"}
    assert next(tr for tr in tracks if tr.label == "bulk").capacitance == 5e-12


def test_no_bulk_when_the_smallest_capacitance_is_not_a_bulk_permittivity():
    tracks = track_arcs([(t, [{"tau_s": 1e-3 / t, "C_F": 5e-9}]) for t in (400.0, 450.0, 500.0)])
    # C·L/A = 2e-9 F: ε_r ≈ 2e4, not a bulk; the arc is a grain boundary, R∞ is the bulk
    assert not label_tracks(tracks, 0.2, 0.5)
    assert tracks[0].label == "grain boundary"


DATA = Path(__file__).parents[1] / "data" / "eis" / "series_s04147"
PUBLISHED = {"bulk": (0.5869, 0.0163), "grain boundary": (0.8919, 0.0025)}


def test_real_series_matches_the_published_activation_energies():
    temps_c = [140, 150, 160, 170, 180, 190, 200]
    spectra = [read_impedance(DATA / f"s04147-{t}deg.txt")[0] for t in temps_c]
    assert [s.temperature_K for s in spectra] == pytest.approx([t + 273.15 for t in temps_c])
    area = math.pi * 0.4**2
    res = fit_temperature_series(spectra, [s.temperature_K for s in spectra], 0.21, area)
    assert res.circuit == "p(R1,CPE1)-p(R2,CPE2)-CPE3"  # the authors' circuit
    # a third arc lowers the summed BIC, but it is a different feature at each temperature
    rejected = [r for r in res.circuit_table if "no single process" in r.get("note", "")]
    assert rejected
    assert all(r["circuit"].count("p(") == 3 for r in rejected)
    for name, (ea, err) in PUBLISHED.items():
        fit = res.process(name).arrhenius
        assert abs(fit.Ea_eV - ea) < math.hypot(err, fit.Ea_eV_err), (name, fit.Ea_eV)
    assert any("extrapolated" in w and "decade" in w for w in res.warnings)


def test_points_off_one_arrhenius_line_are_named():
    from iondyn.series.arrhenius import fit_arrhenius

    t = np.array([400.0, 420.0, 440.0, 460.0, 480.0, 500.0])
    sigma = np.exp(-0.6 / (K_B_EV * t)) / t
    err = 0.01 * sigma
    clean = fit_arrhenius(t, sigma * (1 + 0.01 * np.array([0.3, -0.5, 0.8, -0.2, 0.1, -0.9])), err)
    assert abs(clean.Ea_eV - 0.6) < 0.01 and clean.warnings == []
    mixed = sigma.copy()
    mixed[3] *= 1.3  # one point of another process
    (warning,) = fit_arrhenius(t, mixed, err).warnings
    assert "do not lie on one Arrhenius line" in warning and "460 K" in warning
