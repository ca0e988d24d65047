"""Speed of the interface-physics solvers (no peer exists; iondyn alone).

Measures, on this machine, the median wall time of
* an equilibrium space-charge profile (Gouy–Chapman at 4 kT/e, Mott–Schottky at 40 kT/e,
  site-saturated accumulation at −40 kT/e, closed blocking cell at 20 kT/e);
* a 60-frequency small-signal impedance of a blocking cell (L = 100 L_D) and of a mixed
  conductor (L = 4000 L_D), including the model set-up;
* a 10-point I–V curve of a bipolar ionic junction and one space-charge TSDC run,
together with the accuracy against the closed form of the same case. Goals (issue):
profile < 0.1 s, 60-frequency impedance < 1 s.

Run: ``.venv/bin/python benchmarks/bench_physics.py [--repeat N]``; results are also written to
``benchmarks/results/physics.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from iondyn.constants import E_CHARGE, EPS0, K_B, thermal_voltage
from iondyn.physics import Contact, Device, Phase, PNPModel, SpaceChargeSolver, Species
from iondyn.physics import analytic as an

T = 298.15
VT = thermal_voltage(T)
C, EPS, D = 1e24, 10.0, 1e-12


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def carrier(phi0, c_max=None, length=None, right="bulk"):
    ph = Phase(
        "A",
        EPS,
        (
            Species("V", 1, C, c_max_m3=c_max, diffusivity_m2_s=D),
            Species("B", -1, C, mobile=False),
        ),
        length_m=length,
    )
    return Device((ph,), T, Contact("blocking", phi0), Contact(right))


def equilibrium_cases(repeat: int) -> list[dict]:
    rows = []
    gc = Device(
        (Phase("A", EPS, (Species("M", 1, C), Species("X", -1, C))),),
        T,
        Contact("blocking", 4 * VT),
        Contact("bulk"),
    )
    ld = an.debye_length(EPS, T, [C], [1])
    cases = [
        ("Gouy–Chapman 4 kT/e", gc, an.grahame_charge(4 * VT, EPS, T, C)),
        ("Mott–Schottky 40 kT/e", carrier(40 * VT), an.mott_schottky_charge(40 * VT, EPS, T, C)),
        (
            "saturated θ∞=0.1, −40 kT/e",
            carrier(-40 * VT, c_max=10 * C),
            an.saturated_accumulation_charge(-40 * VT, EPS, T, 10 * C, 0.1),
        ),
        (
            "closed cell 20 kT/e (L = 200 L_D)",
            carrier(20 * VT, length=200 * ld, right="blocking"),
            None,
        ),
    ]
    for name, dev, q in cases:
        t, res = timed(lambda dev=dev: SpaceChargeSolver().solve(dev), repeat)
        err = None if q is None else abs(res.charge_C_per_m2 / q - 1)
        if q is None:
            a, _ = an.blocking_cell_split(20 * VT, T)
            err = abs(res.interfaces[0]["potential_drops_V"][0] - a) / VT
        rows.append({"case": name, "time_s": t, "nodes": res.mesh["n_nodes"], "error": err})
    return rows


def impedance_cases(repeat: int) -> list[dict]:
    rows = []
    ld = an.debye_length(EPS, T, [C], [1])
    dev = carrier(0.0, length=100 * ld, right="blocking")
    sigma = an.nernst_einstein_conductivity(D, C, T)
    f = np.logspace(-5, 1, 60) / (2 * np.pi * EPS0 * EPS / sigma)
    t, res = timed(lambda: PNPModel(dev).impedance(f), repeat)
    exact = an.blocking_cell_impedance(f, 100 * ld, EPS, sigma, ld)
    rows.append(
        {
            "case": "blocking cell, 60 frequencies",
            "time_s": t,
            "nodes": res.metadata["n_nodes"],
            "error": float(np.max(np.abs(res.z_ohm_m2 / exact - 1))),
        }
    )
    ld2 = an.debye_length(EPS, T, [C, C], [1, 1])
    ph = Phase(
        "MIEC",
        EPS,
        (Species("i", 1, C, diffusivity_m2_s=D), Species("e", -1, C, diffusivity_m2_s=10 * D)),
        length_m=4000 * ld2,
    )
    ct = Contact("ohmic", species=("e",))
    si = an.nernst_einstein_conductivity(D, C, T)
    se = an.nernst_einstein_conductivity(10 * D, C, T)
    dch = an.chemical_diffusivity(si, se, D, 10 * D)
    length = 4000 * ld2
    f = np.logspace(-2, 4, 60) / (2 * np.pi * length**2 / (4 * dch))
    t, res = timed(lambda: PNPModel(Device((ph,), T, ct, ct)).impedance(f), repeat)
    exact = an.jamnik_maier_impedance(f, length, si, se, dch)
    rows.append(
        {
            "case": "mixed conductor (Jamnik–Maier), 60 frequencies",
            "time_s": t,
            "nodes": res.metadata["n_nodes"],
            "error": float(np.max(np.abs(res.z_ohm_m2 / exact - 1))),
        }
    )
    return rows


def transport_cases(repeat: int) -> list[dict]:
    rows = []
    n, ni = 1e24, 1e21
    maj = n / 2 + np.sqrt(n**2 / 4 + ni**2)
    mino = ni**2 / maj
    ld = an.debye_length(EPS, T, [n], [1])

    def phase(name, cm, cx, frame):
        sp = (Species("M", 1, cm, diffusivity_m2_s=D), Species("X", -1, cx, diffusivity_m2_s=D))
        return Phase(name, EPS, (*sp, frame), length_m=500 * ld)

    dev = Device(
        (
            phase("A", maj, mino, Species("Am", -1, n, mobile=False)),
            phase("B", mino, maj, Species("Dp", 1, n, mobile=False)),
        ),
        T,
        Contact("ohmic"),
        Contact("ohmic"),
    )
    v = np.array([-8, -5, -3, -0.5, -0.25, 0.25, 0.5, 3, 5, 8]) * VT
    t, iv = timed(lambda: PNPModel(dev, max_bias_V=8 * VT).iv_curve(v), repeat)
    rows.append(
        {
            "case": "bipolar junction I–V, 10 points",
            "time_s": t,
            "nodes": None,
            "error": abs(iv.rectification_ratio(5 * VT) / np.exp(5.0) - 1),
        }
    )
    eps, length = 60.0, 1e-3
    c = EPS0 * eps * K_B * 181.0 / (E_CHARGE**2 * 1e-18)
    d = 5e-2 * K_B * 298.15 / (E_CHARGE**2 * c)
    ph = Phase(
        "LLZO",
        eps,
        (
            Species("Li", 1, c, diffusivity_m2_s=d, activation_energy_eV=0.40),
            Species("B", -1, c, mobile=False),
        ),
        length_m=length,
    )
    llzo = Device((ph,), 298.15, Contact("blocking"), Contact("blocking"))
    t, res = timed(lambda: PNPModel(llzo, max_bias_V=1e-3).tsdc(1e-3, 250.0, 5 / 60), 1)
    rows.append(
        {
            "case": "space-charge TSDC, LLZO pellet (1 mm, 5 K/min)",
            "time_s": t,
            "nodes": None,
            "error": abs(res.peak_temperature_K - res.predicted_peak_temperature_K),
            "note": f"peak {res.peak_temperature_K:.2f} K, {res.n_steps} steps",
        }
    )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows = equilibrium_cases(args.repeat) + impedance_cases(args.repeat)
    rows += transport_cases(max(1, args.repeat // 2))
    print(f"{'case':52s} {'time / s':>10s} {'nodes':>7s} {'error':>10s}")
    for r in rows:
        nodes = "" if r["nodes"] is None else str(r["nodes"])
        print(f"{r['case']:52s} {r['time_s']:10.4f} {nodes:>7s} {r['error']:10.2e}")
    print(
        "errors: relative (charge, impedance, rectification vs e^V), kT/e (cell split), "
        "K (TSDC peak vs first-order prediction)"
    )
    out = Path(__file__).parent / "results" / "physics.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), "rows": rows},
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
