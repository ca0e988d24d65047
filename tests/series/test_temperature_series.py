"""Temperature series of a simulated LLZO-like pellet: automatic fits, process tracking and
Arrhenius laws, through the library and through ``iondyn eis series``.

Truth: σ_bulk T = A_b exp(−0.35 eV/kT), σ_gb T = A_gb exp(−0.45 eV/kT) with σ_bulk(298.15 K) =
1e-6 S/cm and σ_gb(298.15 K) = 5e-7 S/cm (apparent, pellet geometry), ε_r = 60 (bulk),
C_gb = 100 C_bulk, n = 0.95 / 0.85, a blocking electrode CPE (Q = 5 µF s^(n−1), n = 0.8),
R∞ = 20 Ω of leads; L = 0.1 cm, A = 0.5 cm². Eight temperatures 250–400 K, 10 MHz – 0.1 Hz at
10 points per decade, 1 % proportional noise. The arc frequencies f = σ/(2π ε0 ε_r) do not
depend on the geometry: the bulk arc moves from about 1.8 kHz (250 K) to 1.3 MHz (400 K),
the grain boundary from about 4 Hz to 17 kHz, so both stay inside the window. (A
1e-4 S/cm LLZO would put the bulk arc at 300 MHz at 400 K, outside any analyser.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from iondyn.cli import main
from iondyn.constants import EPS0, K_B_EV
from iondyn.eis.simulate import simulate_spectrum
from iondyn.io.impedance import read_impedance
from iondyn.series import fit_temperature_series
from iondyn.series.temperature import check_temperatures

CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
L_CM, A_CM2 = 0.1, 0.5
EA_BULK, EA_GB = 0.35, 0.45
SIGMA_BULK_298 = 1e-6
TEMPERATURES = np.linspace(250.0, 400.0, 8)


def _sigma(sigma_298: float, ea: float, t: float) -> float:
    """σ(T) from σT = A exp(−Ea/kT) through σ(298.15 K)."""
    return sigma_298 * 298.15 / t * np.exp(-ea / K_B_EV * (1 / t - 1 / 298.15))


def pellet_params(t: float) -> dict[str, float]:
    rb = L_CM / (_sigma(SIGMA_BULK_298, EA_BULK, t) * A_CM2)
    rg = L_CM / (_sigma(5e-7, EA_GB, t) * A_CM2)
    cb = EPS0 / 100 * 60.0 * A_CM2 / L_CM
    cg = 100 * cb
    return {
        "R0": 20.0,
        "R1": rb,
        "CPE1_Q": cb**0.95 * rb ** (0.95 - 1),  # C = (R^(1−n) Q)^(1/n)
        "CPE1_n": 0.95,
        "R2": rg,
        "CPE2_Q": cg**0.85 * rg ** (0.85 - 1),
        "CPE2_n": 0.85,
        "CPE3_Q": 5e-6,
        "CPE3_n": 0.8,
    }


@pytest.fixture(scope="module")
def series_dir(tmp_path_factory) -> Path:
    """Eight CSV files and a manifest in °C (header ``temperature_C``, relative paths)."""
    folder = tmp_path_factory.mktemp("llzo")
    (folder / "data").mkdir()
    lines = ["file,temperature_C"]
    for i, t in enumerate(TEMPERATURES):
        s = simulate_spectrum(CIRCUIT, pellet_params(t), noise=0.01, seed=10 + i)
        s.to_dataframe().to_csv(folder / "data" / f"T{i}.csv", index=False)
        lines.append(f"data/T{i}.csv,{t - 273.15:.6f}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder


def _files(folder: Path) -> list[str]:
    return [str(folder / "data" / f"T{i}.csv") for i in range(len(TEMPERATURES))]


def test_library_recovers_both_activation_energies(series_dir):
    files = _files(series_dir)
    spectra = [read_impedance(f)[0] for f in files]
    order = [3, 0, 7, 1, 6, 2, 5, 4]  # any order: the series is sorted by temperature
    res = fit_temperature_series([spectra[i] for i in order], TEMPERATURES[order], L_CM, A_CM2)
    assert [f.T_K for f in res.fits] == pytest.approx(list(TEMPERATURES))
    assert all(f.auto.circuit == CIRCUIT for f in res.fits)
    bulk, gb = res.process("bulk"), res.process("grain boundary")
    assert len(bulk.points) == len(gb.points) == 8
    assert bulk.arrhenius.Ea_eV == pytest.approx(EA_BULK, abs=0.01)
    assert gb.arrhenius.Ea_eV == pytest.approx(EA_GB, abs=0.01)
    assert 0 < bulk.arrhenius.Ea_eV_err < 0.01 and 0 < gb.arrhenius.Ea_eV_err < 0.01
    sigma, err = bulk.sigma_at[298.15]
    assert sigma == pytest.approx(SIGMA_BULK_298, rel=0.05) and err > 0
    for p in bulk.points:  # each point: σ within 3 % of the truth at its temperature
        assert p["sigma_S_per_cm"] == pytest.approx(
            _sigma(SIGMA_BULK_298, EA_BULK, p["T_K"]), rel=0.03
        )
    df = res.to_dataframe()
    assert len(df) == 16 and set(df["label"]) == {"bulk", "grain boundary"}
    d = res.to_dict()
    assert {p["label"] for p in d["processes"]} == {"bulk", "grain boundary"}
    assert len(d["fits"]) == 8 and all(f["start"] == "series" for f in d["fits"])


def test_cli_manifest_in_celsius_json_and_plot(series_dir, tmp_path, capsys):
    png = tmp_path / "arrhenius.png"
    args = ["eis", "series", "--manifest", str(series_dir / "manifest.csv")]
    args += ["--thickness-cm", str(L_CM), "--area-cm2", str(A_CM2), "--json", "--plot", str(png)]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    procs = {p["label"]: p for p in doc["processes"]}
    assert set(procs) == {"bulk", "grain boundary"}
    assert procs["bulk"]["Ea_eV"] == pytest.approx(EA_BULK, abs=0.01)
    assert procs["grain boundary"]["Ea_eV"] == pytest.approx(EA_GB, abs=0.01)
    assert procs["bulk"]["Ea_eV_err"] > 0 and procs["bulk"]["prefactor_S_K_per_cm"] > 0
    at = procs["bulk"]["sigma_S_per_cm_at"]["298.15"]
    assert at == pytest.approx(SIGMA_BULK_298, rel=0.05)
    points = procs["bulk"]["points"]
    assert [p["T_K"] for p in points] == pytest.approx(list(TEMPERATURES), abs=1e-5)
    assert all(p["sigma_S_per_cm"] > 0 for p in points)
    assert len(doc["fits"]) == 8 and isinstance(doc["warnings"], list)
    assert doc["fits"][0]["source"] == str(series_dir / "data" / "T0.csv")
    assert doc["plots"] == [str(png)] and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_three_files_temperatures_in_celsius_text(series_dir, capsys):
    files = _files(series_dir)
    pick = [0, 4, 7]
    temps = ",".join(f"{TEMPERATURES[i] - 273.15:.4f}" for i in pick)
    # "=" because the list starts with a minus sign (−23.15 °C), which argparse would otherwise
    # take for an option
    args = ["eis", "series", *[files[i] for i in pick], f"--temperatures-K={temps}"]
    args += ["--temperature-unit", "C", "--thickness-cm", str(L_CM), "--area-cm2", str(A_CM2)]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "bulk" in out and "grain boundary" in out and "Ea (eV)" in out
    assert "250.00" in out and "400.00" in out  # the temperatures, converted to K


@pytest.mark.parametrize(
    ("temps", "message"), [("300,350", "2 temperature(s) given for 3 file(s)")]
)
def test_temperature_count_mismatch_exit_2(series_dir, capsys, temps, message):
    files = _files(series_dir)[:3]
    args = ["eis", "series", *files, "--temperatures-K", temps]
    code = main([*args, "--thickness-cm", "0.1", "--area-cm2", "0.5"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("iondyn: error:") and message in err and err.count("\n") == 1


def test_manifest_and_files_together_or_neither_exit_2(series_dir, capsys):
    base = ["eis", "series", "--thickness-cm", "0.1", "--area-cm2", "0.5"]
    code = main([*base, _files(series_dir)[0]])
    err = capsys.readouterr().err
    assert code == 2 and "--temperatures-K or --manifest" in err and err.count("\n") == 1
    code = main([*base, _files(series_dir)[0], "--manifest", str(series_dir / "manifest.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "either on the command line or in the manifest" in err


def test_manifest_with_a_bad_header_names_the_file(tmp_path, capsys):
    bad = tmp_path / "m.csv"
    bad.write_text("name,T\na.csv,300\n")
    code = main(["eis", "series", "--manifest", str(bad), "--thickness-cm", "1", "--area-cm2", "1"])
    err = capsys.readouterr().err
    assert code == 2 and str(bad) in err and "file and temperature" in err


def test_check_temperatures_units():
    assert check_temperatures([25.0, -23.15], "C") == pytest.approx([298.15, 250.0])
    assert check_temperatures([300.0], "K") == [300.0]
    with pytest.raises(ValueError, match="not above 0 K"):
        check_temperatures([-300.0], "C")


def test_thermal_shift_and_warm_start_reach_the_neighbours_optimum():
    """The shift s of Z_T(ω) ≈ s·Z_prev(sω) lies between the bulk and grain-boundary
    resistance ratios, and the warm fit from the shifted neighbour reaches the χ² of a fit
    started at the truth (relative 1e-6)."""
    from iondyn.eis.autofit import AutoFitter
    from iondyn.eis.fit import CircuitFitter
    from iondyn.series.point_fits import _thermal_shift, _warm_fit

    p300, p350 = pellet_params(300.0), pellet_params(350.0)
    s300 = simulate_spectrum(CIRCUIT, p300, noise=0.01, seed=1)
    s350 = simulate_spectrum(CIRCUIT, p350, noise=0.01, seed=2)
    prev = CircuitFitter(CIRCUIT).fit(s300, p300)
    ratios = sorted([p350["R1"] / p300["R1"], p350["R2"] / p300["R2"]])
    s = _thermal_shift(s350, prev)
    assert ratios[0] / 1.3 < s < ratios[1] * 1.3
    auto = AutoFitter(thickness_cm=L_CM, area_cm2=A_CM2)
    fresh = auto.fit(s350)
    warm = _warm_fit(auto, s350, prev, fresh)
    best = CircuitFitter(CIRCUIT).fit(s350, p350)
    assert warm.fit.circuit.string == CIRCUIT
    assert warm.fit.chi2 <= best.chi2 * (1 + 1e-6)
    assert {p["label"] for p in warm.processes} >= {"bulk", "grain boundary"}


def test_library_rejects_mismatched_lengths():
    s = simulate_spectrum(CIRCUIT, pellet_params(300.0))
    with pytest.raises(ValueError, match="2 temperature"):
        fit_temperature_series([s], [300.0, 310.0], L_CM, A_CM2)
