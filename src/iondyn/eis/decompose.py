"""SAEM decomposition of the impedance loss spectrum −Z″(ln ω) into ZARC arcs.

No initial guesses: the loss spectrum of R–ZARC–…–ZARC(–CPE) is a mixture of ZARC loss peaks
(plus the power-law tail of a blocking electrode), which :class:`iondyn.saem.SAEM` decomposes; the
number of arcs is chosen by BIC. The points are weighted by 1/|Z| (proportional errors), so arcs
whose resistances differ by many decades are all seen. The result seeds CNLS fits of equivalent
circuits (:mod:`iondyn.eis.autofit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum, Spectrum
from iondyn.display.summary import Displayable
from iondyn.eis.loss import CPETail, ZarcLoss
from iondyn.errors import DataError, InputError, IondynError
from iondyn.saem import SAEM
from iondyn.saem.result import SpectrumFit

__all__ = ["LossDecomposition", "decompose_loss", "decompose_losses"]


@dataclass(repr=False)
class LossDecomposition(Displayable):
    """Arcs (R, τ, n with errors, in order of decreasing frequency), the electrode tail, the
    BIC table over the candidates and the underlying :class:`SpectrumFit`."""

    source: str | None
    index: int
    arcs: list[dict[str, float]]
    electrode: dict[str, float] | None
    candidates: list[dict[str, Any]]
    fit: SpectrumFit
    dropped_inductive: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def n_arcs(self) -> int:
        return len(self.arcs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "spectrum": self.index,
            "n_arcs": self.n_arcs,
            "arcs": self.arcs,
            "electrode": self.electrode,
            "candidates": self.candidates,
            "quality": self.fit.quality,
            "dropped_inductive_points": self.dropped_inductive,
            "warnings": list(self.warnings),
        }

    def _summary(self) -> Any:
        from iondyn.display.views_results import loss_summary

        return loss_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """The loss spectrum −Z″ against ln ω with every arc (:meth:`SpectrumFit.plot`).
        Returns the axes."""
        return self.fit.plot(ax)

    def to_dataframe(self) -> Any:
        """One row per arc: R, τ, n with their errors and the peak frequency."""
        import pandas as pd

        return pd.DataFrame(self.arcs)


def _loss_spectrum(spectrum: ImpedanceSpectrum) -> tuple[Spectrum, int]:
    """(u = ln ω, −Z″) with σ ∝ |Z|, inductive (−Z″ ≤ 0) points at the high-frequency end
    dropped; returns the spectrum and how many points were dropped."""
    order = np.argsort(spectrum.frequency)
    w = spectrum.omega[order]
    z = spectrum.z[order]
    loss = -z.imag
    keep = np.ones(loss.size, dtype=bool)
    # inductive points (positive Z″) at the high-frequency end are cable/lead artefacts
    i = loss.size - 1
    while i >= 0 and loss[i] <= 0:
        keep[i] = False
        i -= 1
    dropped = int((~keep).sum())
    if keep.sum() < 5:
        raise DataError(
            "fewer than 5 capacitive points (−Z″ > 0): nothing to decompose", spectrum.source
        )
    spec = Spectrum(
        np.log(w[keep]),
        loss[keep],
        np.abs(z[keep]),
        spectrum.source,
        spectrum.index,
        "ln(rad/s)",
        "ohm",
    )
    return spec, dropped


def _finite_or_inf(value: float) -> float:
    return float(value) if np.isfinite(value) else np.inf


def decompose_loss(
    spectrum: ImpedanceSpectrum,
    n_arcs: int | str = "auto",
    max_arcs: int = 4,
    electrode: str = "auto",
    random_state: int = 0,
) -> LossDecomposition:
    """Decompose −Z″(ln ω) into ZARC loss peaks (+ a CPE electrode tail).

    ``electrode``: ``"none"``, ``"cpe"`` or ``"auto"`` (both, the lower BIC wins).
    """
    out = decompose_losses([spectrum], n_arcs, max_arcs, electrode, random_state)[0]
    if isinstance(out, Exception):
        raise out
    return out


def decompose_losses(
    spectra: list[ImpedanceSpectrum],
    n_arcs: int | str | list = "auto",
    max_arcs: int = 4,
    electrode: str | list[str] = "auto",
    random_state: int = 0,
    lm_max_iter: int = 200,
    n_starts: int = 5,
    n_refine: int = 2,
    em_max_iter: int = 30,
) -> list[LossDecomposition | IondynError]:
    """:func:`decompose_loss` for many spectra, batched through one SAEM run per electrode
    option and number of arcs (NumPy's per-call overhead is shared: ≈ 10× less time per
    spectrum for a hundred spectra). ``n_arcs`` and ``electrode`` may be one value or one per
    spectrum. A spectrum that cannot be decomposed gets its :class:`IondynError` in its place
    of the list; the others are unaffected. ``lm_max_iter``, ``n_starts``, ``n_refine`` and
    ``em_max_iter`` are SAEM's (less effort suffices where the decomposition only seeds
    another fit). SAEM draws each spectrum's random starts from its own data's digest, so a
    spectrum's decomposition does not depend on the batch it is in."""
    m = len(spectra)
    per_k = n_arcs if isinstance(n_arcs, list) else [n_arcs] * m
    per_e = electrode if isinstance(electrode, list) else [electrode] * m
    for e in per_e:
        if e not in ("auto", "none", "cpe"):
            raise InputError(f"electrode must be auto, none or cpe, not {e!r}")
    out: list[Any] = [None] * m
    prepared: dict[int, tuple[Spectrum, int, list[str]]] = {}
    for i, s in enumerate(spectra):
        try:
            spec, dropped = _loss_spectrum(s)
        except DataError as exc:
            out[i] = exc
            continue
        points_per_decade = spec.n_points / max((spec.x[-1] - spec.x[0]) / np.log(10), 1e-12)
        warnings = []
        if points_per_decade < 3:
            warnings.append(
                f"only {points_per_decade:.1f} points per decade: arcs closer than about two "
                "decades cannot be resolved"
            )
        prepared[i] = (spec, dropped, warnings)
    # one SAEM batch per (electrode option, number of arcs)
    fits: dict[int, dict[str, Any]] = {i: {} for i in prepared}
    groups: dict[tuple[str, Any], list[int]] = {}
    for i in prepared:
        for opt in ("none", "cpe") if per_e[i] == "auto" else (per_e[i],):
            groups.setdefault((opt, per_k[i]), []).append(i)
    for (opt, k), members in groups.items():
        engine = SAEM(
            ZarcLoss(),
            k,
            max_peaks=max_arcs,
            background=CPETail() if opt == "cpe" else "none",
            likelihood="gaussian",
            random_state=random_state,
            center_margin=0.5,
            lm_max_iter=lm_max_iter,
            n_starts=n_starts,
            n_refine=n_refine,
            em_max_iter=em_max_iter,
        )
        for i, res in zip(members, _saem_fits(engine, [prepared[i][0] for i in members])):
            fits[i][opt] = res
    for i, (_spec, dropped, warnings) in prepared.items():
        ok = {o: f for o, f in fits[i].items() if not isinstance(f, Exception)}
        failed = {o: f for o, f in fits[i].items() if isinstance(f, Exception)}
        if not ok:
            out[i] = next(iter(failed.values()))
            continue
        for opt, exc in failed.items():
            warnings.append(f"decomposition with electrode={opt} failed: {exc.problem}")
        out[i] = _assemble(spectra[i], ok, dropped, warnings)
    return out


def _saem_fits(engine: SAEM, specs: list[Spectrum]) -> list[Any]:
    """SAEM fits of the spectra as one batch; when the batch fails, one by one (each
    failure then stays with its spectrum)."""
    # a diverging start of a large-K candidate (an electrode tail steeper than the CPE term
    # allows) overflows its residuals: its cost is inf and it loses; the warning would only
    # reach the user's terminal
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            return list(engine.fit(specs).fits) if len(specs) > 1 else [engine.fit(specs)[0]]
        except DataError as exc:
            if len(specs) == 1:
                return [exc]
        out: list[Any] = []
        for s in specs:
            try:
                out.append(engine.fit(s)[0])
            except DataError as exc:
                out.append(exc)
        return out


def _assemble(spectrum, fits, dropped, warnings) -> LossDecomposition:
    """The decomposition with the lower BIC over the electrode options tried."""
    best = min(fits, key=lambda k: _finite_or_inf(fits[k].quality["bic"]))
    fit = fits[best]
    candidates = []
    for opt, f in fits.items():
        for row in f.bic_table or [{"n_peaks": f.n_peaks, "bic": f.quality["bic"]}]:
            candidates.append({"electrode": opt, "n_arcs": row["n_peaks"], "bic": row["bic"]})
    arcs = []
    for j in range(fit.n_peaks):
        # a centre far outside the window (an unresolved tail) must not overflow exp
        u0 = float(np.clip(fit.peaks["center"][j], -700.0, 700.0))
        area, area_err = fit.peaks["area"][j], fit.peaks["area_err"][j]
        tau = float(np.exp(-u0))
        with np.errstate(over="ignore"):  # an unresolved tail: τ and its error may be inf
            tau_err = float(tau * fit.peaks["center_err"][j])
        arcs.append(
            {
                "R_ohm": float(2.0 * area / np.pi),
                "R_ohm_err": float(2.0 * area_err / np.pi),
                "tau_s": tau,
                "tau_s_err": tau_err,
                "n": float(fit.peaks["n"][j]),
                "n_err": float(fit.peaks["n_err"][j]),
                "f_peak_Hz": float(np.exp(u0) / (2 * np.pi)),
            }
        )
    arcs.sort(key=lambda a: a["tau_s"])
    elec = None
    if best == "cpe":
        bg = fit.background
        elec = {"Q": bg["Q"], "Q_err": bg["Q_err"], "n": bg["n"], "n_err": bg["n_err"]}
    return LossDecomposition(
        spectrum.source,
        spectrum.index,
        arcs,
        elec,
        candidates,
        fit,
        dropped,
        warnings + fit.warnings,
    )
