"""The automatic fit finds the BIC optimum (issue 13, item 5a).

Reported: a 46 kΩ arc beside 6.3 MΩ and 30 MΩ arcs (τ ≥ 1.5 decades apart, 1 % noise) was
dropped by ``eis fit --auto`` although the three-arc model's BIC was far lower. The truth
tested here: the automatic fit chooses the lowest BIC = 2N ln(χ²/2N) + k ln 2N among the
*well-determined* candidates (every arc R and the electrode Q known to better than 50 %), so
whenever the true circuit is well determined, the BIC of the result's model can be at most
that of the true circuit fitted to the same data from the truth (``CircuitFitter``) — plus 2,
the usual "not worth mentioning" margin of BIC differences (Kass & Raftery, J. Am. Stat.
Assoc. 90, 773 (1995)).

* 200 pellets of ``random_wide_pellet`` (1–3 arcs, R log-uniform over 1e2–1e8 Ω with no
  determinability filter — small arcs next to huge ones —, τ ≥ 1.5 decades apart inside the
  window, n 0.7–1, half of them with a blocking electrode, 1 % noise), fitted in batches of
  50: every pellet whose true circuit is well determined (169 of the 200 on this seed)
  reaches its BIC + 2. The one exception allowed is not a scan failure: the scan reached the
  true circuit's optimum, but the rule, applied to the scan's covariance, put an error just
  past 50 % where the true fit's is just below (worst relative error > 45 %; 1 such pellet
  in 12,000 draws, none on this seed). Where the true circuit is not well determined it is
  not eligible and no BIC bound follows; there the rule itself is checked — the chosen
  circuit is the well-determined candidate with the lowest BIC.
* The reported kind of case, built from its numbers (46 kΩ, 30 MΩ, 6.3 MΩ arcs, electrode):
  the scan before this fix chose two arcs, 89 BIC units above the true circuit.

This seed has two pellets the scan missed before the fix (nos. 45 and 133: 3 arcs + an
electrode, the fit chose 2 arcs, 140 and 36 BIC units above the true circuit). Over draws
of this generator the scan missed 4 of 1,700 well-determined pellets (seeds 0–9) and 10 of
5,209 (seeds 100–129) before the fix, and none of 10,410 (seeds 0–29 and 100–129) after it
(docs/eis-auto.md).
"""

from __future__ import annotations

import numpy as np
import pytest
from autofit_pellets import circuit_string, frequencies, noisy_spectrum, wide_pellet_cases

from iondyn.eis.arcfit import MAX_REL_ERROR  # the well-determined rule of AutoFitter
from iondyn.eis.autofit import BIC_TIE, AutoFitResult, AutoFitter
from iondyn.eis.fit import CircuitFitter

SEED = 7


def _bic(chi2: float, n_points: int, n_free: int) -> float:
    m = 2 * n_points
    return float(m * np.log(chi2 / m) + n_free * np.log(m))


def _true_circuit(circuit: str, p: dict[str, float], spectrum) -> tuple[float, float]:
    """BIC of the true circuit fitted from the truth (``CircuitFitter``), and the largest
    relative error of its arc resistances and electrode Q (∞ when it did not converge)."""
    fit = CircuitFitter(circuit, weight="modulus", rescue=False).fit(spectrum, p)
    k = circuit.count("p(")
    names = [f"R{j}" for j in range(1, k + 1)]
    if circuit.count("CPE") > k:
        names.append(f"CPE{k + 1}_Q")
    worst = max(fit.errors[n] / abs(fit.parameters[n]) for n in names)
    if not (fit.converged and np.isfinite(worst)):
        worst = np.inf
    return _bic(fit.chi2, spectrum.n_points, fit.n_free), float(worst)


def _result_bic(res: AutoFitResult) -> float:
    return _bic(res.fit.chi2, res.fit.n_points, res.fit.n_free)


def test_the_reported_case_small_arc_beside_megaohm_arcs():
    """46 kΩ (τ = 1 µs, n = 0.85), 30 MΩ (0.1 ms, n = 0.9), 6.3 MΩ (0.1 s, n = 0.95), a
    blocking CPE (n = 0.85) and R0 = 20 Ω, 1 % noise: the three arcs and the electrode are
    found, at the true circuit's BIC."""
    taus, rs, ns = (1e-6, 1e-4, 1e-1), (46e3, 30e6, 6.3e6), (0.85, 0.9, 0.95)
    p = {"R0": 20.0}
    for j, (r, tau, n) in enumerate(zip(rs, taus, ns), start=1):
        p[f"R{j}"], p[f"CPE{j}_Q"], p[f"CPE{j}_n"] = r, (tau / r) ** n * r ** (n - 1), n
    p["CPE4_Q"], p["CPE4_n"] = 1.0 / (0.2 * rs[-1] * (1.0 / taus[-1]) ** 0.85), 0.85
    f_peak = 1.0 / (2 * np.pi * np.array(taus))
    circuit = circuit_string(3, True)
    f = frequencies(10 * f_peak.max(), 0.1 * f_peak.min())
    spectrum = noisy_spectrum(circuit, p, f, seed=1)
    res = AutoFitter().fit(spectrum)
    true_bic, worst = _true_circuit(circuit, p, spectrum)
    assert worst < MAX_REL_ERROR
    assert res.circuit == circuit
    assert _result_bic(res) <= true_bic + 2.0
    # the small arc's R is known to ≈ 30 % only: within three of its standard errors
    assert abs(res.fit.parameters["R1"] - 46e3) < 3 * res.fit.errors["R1"]
    for name, value in (("R2", 30e6), ("R3", 6.3e6)):
        assert res.fit.parameters[name] == pytest.approx(value, rel=0.05)


@pytest.mark.slow
def test_random_wide_pellets_reach_the_bic_of_the_true_circuit():
    cases = wide_pellet_cases(200, seed=SEED)
    fitter = AutoFitter()
    results = []
    for lo in range(0, len(cases), 50):
        results += fitter.fit_many([s for _, _, s in cases[lo : lo + 50]])
    determined, misses, borderline = 0, [], []
    for i, ((circuit, p, spectrum), res) in enumerate(zip(cases, results)):
        assert isinstance(res, AutoFitResult), (i, res)
        true_bic, worst = _true_circuit(circuit, p, spectrum)
        if worst < MAX_REL_ERROR:
            determined += 1
            if _result_bic(res) <= true_bic + 2.0:
                continue
            # not a scan failure: the scan reached the true circuit's optimum, but its own
            # covariance puts an error just past the limit of the rule (the true fit's is
            # just below it), so the rule excluded it
            row = next(c for c in res.candidates if c["circuit"] == circuit)
            if (
                worst > 0.9 * MAX_REL_ERROR
                and row["bic"] <= true_bic + 2.0
                and not row["well_determined"]
            ):
                borderline.append(i)
            else:
                misses.append((i, circuit, res.circuit, _result_bic(res), true_bic))
        else:  # no bound: the true circuit is not eligible; the rule itself is checked
            table = [c for c in res.candidates if c["well_determined"]]
            chosen = next(c for c in res.candidates if c["chosen"])
            assert chosen["well_determined"], (i, chosen)
            # the lowest BIC, or a simpler candidate within BIC_TIE of it
            best = min(c["bic"] for c in table)
            assert chosen["bic"] <= best + BIC_TIE, (i, res.candidates)
            ties = [c for c in table if c["bic"] <= best + BIC_TIE]
            assert chosen["n_free"] == min(c["n_free"] for c in ties), (i, res.candidates)
    assert determined >= 160  # the BIC bound is tested on most of the draws
    assert misses == []
    assert len(borderline) <= 2, borderline
