"""Data objects shared by every part of iondyn.

* :class:`Spectrum` — one peak spectrum y(x) (XPS, Raman, EELS, any 1-D signal).
* :class:`SpectrumSet` — several spectra, on a common grid or not (maps, series).
* :class:`ImpedanceSpectrum` — frequency (Hz) and complex impedance Z = Z' + iZ'' (Ω).
* :class:`TSDCCurve` — thermally stimulated depolarization current vs temperature (K).

Readers (:mod:`iondyn.io`) and simulators (:mod:`iondyn.physics`, :func:`iondyn.tsdc.simulate`)
produce these objects; the analyses consume them. Constructors validate their input and raise
:class:`iondyn.errors.DataError` naming the source.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display import Displayable, Summary, views
from iondyn.errors import DataError

__all__ = ["ImpedanceSpectrum", "Spectrum", "SpectrumSet", "TSDCCurve"]


def _as_1d(name: str, values: Any, source: str | None, dtype=float) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} is not numeric ({exc})", path=source) from None
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}", path=source)
    return arr


def _jsonable(value: Any) -> Any:
    """Turn NumPy scalars/arrays inside metadata into plain Python for JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


@dataclass(repr=False)
class Spectrum(Displayable):
    """A 1-D spectrum y(x).

    ``x`` must be strictly monotonic (increasing or decreasing) and finite; ``y`` finite.
    ``sigma`` holds optional per-point standard deviations of y (used as weights).
    """

    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None = None
    source: str | None = None
    index: int = 0
    x_unit: str = ""
    y_unit: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x = _as_1d("x", self.x, self.source)
        self.y = _as_1d("y", self.y, self.source)
        if self.x.shape != self.y.shape:
            raise DataError(
                f"x and y differ in length ({self.x.size} vs {self.y.size})", path=self.source
            )
        if self.x.size == 0:
            raise DataError("the spectrum has no points", path=self.source)
        if not (np.all(np.isfinite(self.x)) and np.all(np.isfinite(self.y))):
            raise DataError("the spectrum contains NaN or infinite values", path=self.source)
        if self.sigma is not None:
            self.sigma = _as_1d("sigma", self.sigma, self.source)
            if self.sigma.shape != self.y.shape or np.any(~(self.sigma > 0)):
                raise DataError("sigma must be positive and as long as y", path=self.source)
        if self.x.size > 1:
            d = np.diff(self.x)
            if np.any(d == 0):
                raise DataError("the x axis has duplicate values", path=self.source)
            if not (np.all(d > 0) or np.all(d < 0)):
                raise DataError("the x axis is not monotonic", path=self.source)

    @property
    def n_points(self) -> int:
        return int(self.x.size)

    def sorted(self) -> Spectrum:
        """The same spectrum with x increasing."""
        if self.x.size < 2 or self.x[1] > self.x[0]:
            return self
        return Spectrum(
            self.x[::-1].copy(),
            self.y[::-1].copy(),
            None if self.sigma is None else self.sigma[::-1].copy(),
            self.source,
            self.index,
            self.x_unit,
            self.y_unit,
            dict(self.metadata),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "index": self.index,
            "n_points": self.n_points,
            "x": self.x.tolist(),
            "y": self.y.tolist(),
            "x_unit": self.x_unit,
            "y_unit": self.y_unit,
            "metadata": _jsonable(self.metadata),
        }

    def to_dataframe(self) -> pd.DataFrame:
        df = pd.DataFrame({"x": self.x, "y": self.y})
        if self.sigma is not None:
            df["sigma"] = self.sigma
        return df

    def _summary(self) -> Summary:
        return views.spectrum_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """y against x (a binding-energy axis decreasing); returns the axes."""
        return views.spectrum_plot(self, ax)


@dataclass(repr=False)
class SpectrumSet(Displayable):
    """An ordered collection of spectra (a series, a map, a batch of files)."""

    spectra: list[Spectrum]

    def __post_init__(self) -> None:
        self.spectra = list(self.spectra)
        if not self.spectra:
            raise DataError("a spectrum set needs at least one spectrum")

    def __len__(self) -> int:
        return len(self.spectra)

    def __iter__(self) -> Iterator[Spectrum]:
        return iter(self.spectra)

    def __getitem__(self, i: int) -> Spectrum:
        return self.spectra[i]

    def _summary(self) -> Summary:
        return views.spectrum_set_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """Every spectrum on the same axes; returns the axes."""
        return views.spectrum_set_plot(self, ax)

    @property
    def common_grid(self) -> bool:
        """True when every spectrum has the same x values."""
        x0 = self.spectra[0].x
        return all(s.x.shape == x0.shape and np.array_equal(s.x, x0) for s in self.spectra[1:])

    @classmethod
    def from_matrix(
        cls,
        x: Sequence[float] | np.ndarray,
        y: np.ndarray,
        source: str | None = None,
        x_unit: str = "",
        y_unit: str = "",
        labels: Sequence[str] | None = None,
    ) -> SpectrumSet:
        """Spectra sharing the grid ``x``; ``y`` has shape (n_spectra, n_points)."""
        y = np.atleast_2d(np.asarray(y, dtype=float))
        spectra = []
        for i, row in enumerate(y):
            meta = {} if labels is None else {"label": labels[i]}
            spectra.append(Spectrum(x, row, None, source, i, x_unit, y_unit, meta))
        return cls(spectra)


@dataclass(repr=False)
class ImpedanceSpectrum(Displayable):
    """An impedance spectrum.

    ``frequency`` in Hz (positive), ``z`` complex in Ω with the physics sign convention
    Z = Z' + iZ'' (Z'' < 0 for capacitive behaviour). Points keep the order of the file.
    Metadata fields used by the analyses have attributes of their own; anything else read from
    the file lives in ``metadata``.
    """

    frequency: np.ndarray
    z: np.ndarray
    source: str | None = None
    index: int = 0
    temperature_K: float | None = None
    instrument: str | None = None
    area_cm2: float | None = None
    thickness_cm: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.frequency = _as_1d("frequency", self.frequency, self.source)
        self.z = _as_1d("impedance", self.z, self.source, dtype=complex)
        if self.frequency.shape != self.z.shape:
            raise DataError(
                f"frequency and impedance differ in length "
                f"({self.frequency.size} vs {self.z.size})",
                path=self.source,
            )
        if self.frequency.size == 0:
            raise DataError("the impedance spectrum has no points", path=self.source)
        if not (np.all(np.isfinite(self.frequency)) and np.all(np.isfinite(self.z))):
            raise DataError("the impedance spectrum contains NaN or infinite values", self.source)
        if np.any(self.frequency <= 0):
            raise DataError("frequencies must be positive (found zero or negative)", self.source)
        if np.unique(self.frequency).size != self.frequency.size:
            raise DataError("the spectrum has duplicated frequencies", path=self.source)

    @classmethod
    def from_arrays(
        cls, frequency: Any, z_real: Any, z_imag: Any, **kwargs: Any
    ) -> ImpedanceSpectrum:
        """Build from Z' and Z'' arrays (Z'' in the physics convention, negative capacitive)."""
        z = np.asarray(z_real, dtype=float) + 1j * np.asarray(z_imag, dtype=float)
        return cls(np.asarray(frequency, dtype=float), z, **kwargs)

    @property
    def n_points(self) -> int:
        return int(self.frequency.size)

    @property
    def omega(self) -> np.ndarray:
        """Angular frequency ω = 2πf in rad/s."""
        return 2.0 * np.pi * self.frequency

    @property
    def z_real(self) -> np.ndarray:
        return self.z.real

    @property
    def z_imag(self) -> np.ndarray:
        return self.z.imag

    def sorted(self, descending: bool = True) -> ImpedanceSpectrum:
        """A copy ordered by frequency (high to low by default, as instruments sweep)."""
        order = np.argsort(self.frequency)
        if descending:
            order = order[::-1]
        return self._replace(self.frequency[order], self.z[order])

    def _replace(self, frequency: np.ndarray, z: np.ndarray) -> ImpedanceSpectrum:
        return ImpedanceSpectrum(
            frequency.copy(),
            z.copy(),
            self.source,
            self.index,
            self.temperature_K,
            self.instrument,
            self.area_cm2,
            self.thickness_cm,
            dict(self.metadata),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of ``iondyn eis read --json``."""
        meta = dict(self.metadata)
        for key in ("temperature_K", "instrument", "area_cm2", "thickness_cm"):
            value = getattr(self, key)
            if value is not None:
                meta[key] = value
        return {
            "source": self.source,
            "index": self.index,
            "n_points": self.n_points,
            "frequency_Hz": self.frequency.tolist(),
            "z_real_ohm": self.z.real.tolist(),
            "z_imag_ohm": self.z.imag.tolist(),
            "metadata": _jsonable(meta),
        }

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "frequency_Hz": self.frequency,
                "z_real_ohm": self.z.real,
                "z_imag_ohm": self.z.imag,
            }
        )

    def _summary(self) -> Summary:
        return views.impedance_spectrum_summary(self)

    def plot(self, ax: Any = None, kind: str = "nyquist", zoom: bool = True) -> Any:
        """Nyquist (equal axes; with ``zoom`` an inset on the arcs beside an electrode spike)
        or ``bode``; returns the axes (a new figure when ``ax`` is None)."""
        return views.impedance_spectrum_plot(self, ax, kind, zoom)


@dataclass(repr=False)
class TSDCCurve(Displayable):
    """A thermally stimulated depolarization current curve.

    ``temperature_K`` strictly increasing (a heating run), ``current`` in ``current_unit``
    (``"A"``, ``"nA/cm2"``, ...; kept as read so results carry the same unit),
    ``beta_K_per_s`` the heating rate when known.
    """

    temperature_K: np.ndarray
    current: np.ndarray
    current_unit: str = "A"
    beta_K_per_s: float | None = None
    source: str | None = None
    index: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.temperature_K = _as_1d("temperature", self.temperature_K, self.source)
        self.current = _as_1d("current", self.current, self.source)
        if self.temperature_K.shape != self.current.shape:
            raise DataError("temperature and current differ in length", path=self.source)
        if self.temperature_K.size == 0:
            raise DataError("the TSDC curve has no points", path=self.source)
        if not (np.all(np.isfinite(self.temperature_K)) and np.all(np.isfinite(self.current))):
            raise DataError("the TSDC curve contains NaN or infinite values", path=self.source)
        if np.any(self.temperature_K <= 0):
            raise DataError("temperatures must be above 0 K", path=self.source)
        if self.temperature_K.size > 1 and np.any(np.diff(self.temperature_K) <= 0):
            raise DataError(
                "temperatures must increase strictly (repeated values or a cooling segment)",
                path=self.source,
            )
        if self.beta_K_per_s is not None and not self.beta_K_per_s > 0:
            raise DataError("the heating rate must be positive", path=self.source)

    @property
    def n_points(self) -> int:
        return int(self.temperature_K.size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "index": self.index,
            "n_points": self.n_points,
            "temperature_K": self.temperature_K.tolist(),
            "current": self.current.tolist(),
            "current_unit": self.current_unit,
            "beta_K_per_s": self.beta_K_per_s,
            "metadata": _jsonable(self.metadata),
        }

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"temperature_K": self.temperature_K, f"current_{self.current_unit}": self.current}
        )

    def _summary(self) -> Summary:
        return views.tsdc_curve_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """Current against temperature; returns the axes."""
        return views.tsdc_curve_plot(self, ax)
