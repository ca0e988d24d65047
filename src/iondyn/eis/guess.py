"""A simple start for circuit fits, read off the data: :func:`initial_guess`.

This heuristic is meant to be replaced by the automatic loss-spectrum decomposition (SAEM) behind
``iondyn eis fit --auto``; it only has to land every parameter within about a decade of the
optimum for ordinary series-of-arcs circuits. What it does, on the spectrum ordered by frequency:

1. R∞ = Z′ at the highest frequency (at least 10⁻³·max|Z|): the first top-level resistor.
2. The top-level series elements are sorted into resistors, inductors, *blocking* elements
   without a dc path (C, CPE, W) and *arcs* (parallel blocks and the distributed elements ZARC,
   HN, G, Wo, Ws, TLM).
3. The arcs share ΔR = Z′_dc − R∞, where Z′_dc is Z′ at the lowest frequency, or — with a blocking
   element — at the most resistive point (phase closest to 0) below the highest tenth of the
   frequencies. Arc k gets the k-th highest-frequency maximum of −Z″(log f) as its
   characteristic frequency ω_k = 1/τ_k (missing maxima are spread log-uniformly) and a share of
   ΔR proportional to the height of its maximum. Inside an arc: R = R_k (divided among its
   resistors), C = τ_k/R_k, Q = τ_k^n/R_k with n = 0.9, distributed elements (R_k, τ_k).
4. Blocking elements share X = −Z″ at the lowest frequency: C = 1/(ωX), CPE Q = sin(nπ/2)/(Xωⁿ)
   with n = 0.9, W σ = X√ω. An inductor gets L = Z″/ω at the highest frequency when Z″ > 0 there.
"""

from __future__ import annotations

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.circuit import Circuit, Element, Node, Parallel, Series, parse_circuit
from iondyn.errors import DataError

__all__ = ["initial_guess"]

_N0 = 0.9
_MIN_SHARE = 1e-6
_TINY = 1e-300  # positive start values are kept in [_TINY, _HUGE]
_HUGE = 1e300
_BLOCKING = ("C", "CPE", "W")


def initial_guess(circuit: str | Circuit, spectrum: ImpedanceSpectrum) -> dict[str, float]:
    """Start values for every parameter of ``circuit`` from ``spectrum`` (see module doc).

    Every value is finite; positive quantities lie in [10⁻³⁰⁰, 10³⁰⁰]. Raises
    :class:`~iondyn.errors.DataError` when the impedance is zero at every frequency.
    """
    circuit = parse_circuit(circuit)
    with np.errstate(all="ignore"):
        guess = _guess(circuit, spectrum)
    out = {}
    for name in circuit.param_names:
        v = float(guess[name])
        if circuit.param_kinds[name] == "positive":
            v = min(max(v, _TINY), _HUGE) if v == v else circuit.defaults[name]
        elif not (np.isfinite(v) and 0.0 < v <= 1.0):
            v = circuit.defaults[name]
        out[name] = v
    return out


def _guess(circuit: Circuit, spectrum: ImpedanceSpectrum) -> dict[str, float]:
    data = spectrum.sorted(descending=True)
    omega = data.omega
    z = data.z
    zmax = float(np.max(np.abs(z)))
    if not zmax > 0:
        raise DataError(
            "the impedance is zero at every frequency: nothing to fit", path=spectrum.source
        )
    r_inf = max(float(z.real[0]), 1e-3 * zmax)

    top = list(circuit.root.children) if isinstance(circuit.root, Series) else [circuit.root]
    resistors = [n for n in top if isinstance(n, Element) and n.symbol == "R"]
    inductors = [n for n in top if isinstance(n, Element) and n.symbol == "L"]
    blocking = [n for n in top if isinstance(n, Element) and n.symbol in _BLOCKING]
    arcs = [n for n in top if n not in resistors and n not in inductors and n not in blocking]

    # resistive limit of the arcs
    n_pts = omega.size
    if blocking and n_pts > 3:
        region = slice(max(1, n_pts // 10), n_pts)
        phase = np.abs(np.angle(z[region]))
        i_dc = region.start + int(np.argmin(phase))
    else:
        i_dc = n_pts - 1
    delta_r = max(float(z.real[i_dc]) - r_inf, 1e-2 * r_inf)

    guess: dict[str, float] = {}
    for node in resistors:
        guess[node.name] = r_inf / len(resistors)
    for node in inductors:
        x_hf = float(z.imag[0])
        guess[node.name] = (x_hf if x_hf > 0 else 1e-3 * abs(z[0])) / omega[0]

    for node, (r_k, tau_k) in zip(
        arcs, _arc_slots(omega[: i_dc + 1], z[: i_dc + 1], len(arcs), delta_r)
    ):
        _assign(node, r_k, tau_k, guess)

    if blocking:
        x_lf = float(-z.imag[-1])
        x_lf = (x_lf if x_lf > 0 else zmax) / len(blocking)
        w_lf = float(omega[-1])
        for node in blocking:
            if node.symbol == "C":
                guess[node.name] = 1.0 / (w_lf * x_lf)
            elif node.symbol == "CPE":
                guess[f"{node.name}_Q"] = np.sin(_N0 * np.pi / 2) / (x_lf * w_lf**_N0)
                guess[f"{node.name}_n"] = _N0
            else:  # W
                guess[f"{node.name}_sigma"] = x_lf * np.sqrt(w_lf)

    for name in circuit.param_names:  # anything the rules above did not reach
        guess.setdefault(name, circuit.defaults[name])
    return guess


def _arc_slots(
    omega: np.ndarray, z: np.ndarray, n_arcs: int, delta_r: float
) -> list[tuple[float, float]]:
    """(R_k, τ_k) for ``n_arcs`` arcs, highest frequency first."""
    if n_arcs == 0:
        return []
    loss = -z.imag
    peaks = [
        i
        for i in range(1, loss.size - 1)
        if loss[i] > 0 and loss[i] >= loss[i - 1] and loss[i] > loss[i + 1]
    ]
    peaks = sorted(sorted(peaks, key=lambda i: -loss[i])[:n_arcs])  # by frequency, high first
    w_peaks = [float(omega[i]) for i in peaks]
    # a tiny maximum (noise, or a value such as 1e-320) takes at least 1e-6 of the largest:
    # its arc's R = ΔR·h/Σh must not underflow to 0 (C = τ/R would divide by zero)
    top = max((float(loss[i]) for i in peaks), default=0.0)
    heights = [max(float(loss[i]), _MIN_SHARE * top) for i in peaks]
    if len(peaks) < n_arcs:  # spread the missing ones log-uniformly over the arc region
        grid = np.geomspace(omega[0], omega[-1], n_arcs + 2)[1:-1]
        for w in grid:
            if len(w_peaks) >= n_arcs:
                break
            if all(abs(np.log(w / wp)) > 1.0 for wp in w_peaks):
                w_peaks.append(float(w))
                heights.append(float(np.mean(heights)) if heights else 1.0)
        while len(w_peaks) < n_arcs:  # a decade apart below the last (never down to 0)
            w_peaks.append(max(float(w_peaks[-1]) / 10.0, _TINY))
            heights.append(heights[-1] if heights else 1.0)
        order = np.argsort(w_peaks)[::-1]
        w_peaks = [w_peaks[i] for i in order]
        heights = [heights[i] for i in order]
    total = sum(heights)
    if not (np.isfinite(total) and total > 0):  # overflowing heights: share ΔR equally
        heights, total = [1.0] * len(heights), float(len(heights))
    return [
        (max(delta_r * (h / total), _TINY), 1.0 / max(w, _TINY)) for h, w in zip(heights, w_peaks)
    ]


def _assign(node: Node, r_k: float, tau_k: float, guess: dict[str, float]) -> None:
    """Values for every element inside one arc of resistance r_k and time constant tau_k."""
    leaves = _leaves(node)
    n_r = sum(1 for e in leaves if e.symbol == "R") or 1
    for e in leaves:
        name, s = e.name, e.symbol
        if s == "R":
            guess[name] = r_k / n_r
        elif s == "C":
            guess[name] = tau_k / r_k
        elif s == "L":
            guess[name] = 1e-2 * r_k * tau_k
        elif s == "CPE":
            guess[f"{name}_Q"] = tau_k**_N0 / r_k
            guess[f"{name}_n"] = _N0
        elif s == "W":
            guess[f"{name}_sigma"] = r_k / np.sqrt(tau_k)
        elif s == "TLM":
            guess[f"{name}_R"] = r_k
            guess[f"{name}_Q"] = tau_k**_N0 / r_k
            guess[f"{name}_n"] = _N0
        else:  # Wo, Ws, G, ZARC, HN: (R, tau[, exponents])
            guess[f"{name}_R"] = r_k
            guess[f"{name}_tau"] = tau_k
            for suffix in ("n", "alpha", "beta"):
                if any(p.suffix == suffix for p in e.type.parameters):
                    guess[f"{name}_{suffix}"] = _N0


def _leaves(node: Node) -> list[Element]:
    if isinstance(node, Element):
        return [node]
    assert isinstance(node, Series | Parallel)
    out: list[Element] = []
    for child in node.children:
        out += _leaves(child)
    return out
