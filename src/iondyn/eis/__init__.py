"""Impedance spectroscopy: equivalent circuits, automatic fits, Lin-KK and the DRT.

>>> from iondyn.eis import AutoFitter, CircuitFitter, LinKK, DRT
>>> auto = AutoFitter(thickness_cm=0.1, area_cm2=0.785).fit(spectrum)   # no initial guesses
>>> fit = CircuitFitter("R0-p(R1,CPE1)-CPE2").fit(spectrum)             # a circuit of yours
>>> kk, drt = LinKK().fit(spectrum), DRT().fit(spectrum)

* :class:`CircuitFitter` (:mod:`iondyn.eis.fit`) — CNLS fit of a circuit string (parsed by
  :class:`Circuit`, never evaluated) with standard errors and correlations:
  :class:`CircuitFitResult`; ``docs/eis-circuits.md``;
* :class:`AutoFitter` (:mod:`iondyn.eis.autofit`) — the circuit and its start values chosen
  automatically (SAEM decomposition of the loss spectrum, BIC), with process labels, σ and ε_r
  (:func:`interpret`): :class:`AutoFitResult`; ``docs/eis-auto.md``;
* :class:`LinKK` (:mod:`iondyn.eis.kk`) — Kramers–Kronig validity: :class:`KKResult`;
  :class:`DRT` (:mod:`iondyn.eis.drt`) — distribution of relaxation times: :class:`DRTResult`;
  ``docs/eis-kk-drt.md``;
* :func:`simulate_spectrum` — a circuit's spectrum with noise; :func:`decompose_loss` — the
  SAEM decomposition alone.

Every result shows itself as a table (``repr``, notebooks), has ``.plot(ax=None)`` and
``.to_dataframe()``. Temperature series are in :mod:`iondyn.series`, readers in
:mod:`iondyn.io`. The names are imported on first use.
"""

import importlib as _importlib

_EXPORTS = {
    "AutoFitResult": "autofit",
    "AutoFitter": "autofit",
    "Circuit": "circuit",
    "CircuitFitResult": "fit_result",
    "CircuitFitter": "fit",
    "DRT": "drt",
    "DRTResult": "drt_result",
    "KKResult": "kk_result",
    "LinKK": "kk",
    "LossDecomposition": "decompose",
    "arc_circuit": "autofit",
    "decompose_loss": "decompose",
    "interpret": "solid",
    "parse_circuit": "circuit",
    "seed_circuit": "autofit",
    "simulate_spectrum": "simulate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(_importlib.import_module(f"iondyn.eis.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'iondyn.eis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
