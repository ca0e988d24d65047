"""Numbers with errors and names with units, as iondyn shows them everywhere (see
:mod:`iondyn.display`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "MISSING",
    "QUANTITIES",
    "arc_zoom",
    "arrhenius_legend",
    "clean_zero",
    "format_factor",
    "format_number",
    "format_value",
    "is_undetermined",
    "quantity_label",
    "relative_error_text",
]

#: Shown for a missing or non-finite number.
MISSING = "–"

#: Numbers smaller than this fraction of their scale are round-off (see :func:`clean_zero`).
ROUNDOFF = 1e-9

#: At most this many significant digits of a value, however small its error (noise-free data).
MAX_DIGITS = 8

#: Fixed notation for values from 1e-3 up to (not including) 1e5; scientific otherwise.
_FIXED_RANGE = (-3, 5)


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def clean_zero(value: float, scale: float | None = None, rel: float = ROUNDOFF) -> float:
    """``value``, or 0.0 when it is round-off: ``|value| ≤ rel·|scale|`` (a computation that is
    zero by construction, e.g. the potential drop over an empty layer), and never ``-0.0``."""
    v = float(value)
    if scale is not None and _finite(scale) and abs(v) <= rel * abs(float(scale)):
        return 0.0
    return 0.0 if v == 0 else v


def format_number(value: Any, sig: int = 5, missing: str = MISSING) -> str:
    """A number alone with ``sig`` significant digits; ``-0`` is ``0``."""
    if not _finite(value):
        return missing
    v = clean_zero(float(value))
    text = f"{v:.{sig}g}"
    return "0" if text in ("-0", "0", "-0.0") else text


def is_undetermined(value: Any, err: Any) -> bool:
    """True when the standard error is at least the value's magnitude (or infinite): the data
    do not determine the value. A fixed parameter (error 0) or no error is not undetermined."""
    if err is None or not _finite(value):
        return False
    try:
        e = float(err)
    except (TypeError, ValueError):
        return False
    if math.isnan(e):
        return False
    return math.isinf(e) or (e > 0 and e >= abs(float(value)))


def _round_to(x: float, exponent: int) -> float:
    """``x`` rounded to a multiple of 10**exponent."""
    return round(x, -exponent) if exponent <= 0 else round(x / 10**exponent) * 10**exponent


def format_value(
    value: Any,
    err: Any = None,
    unit: str = "",
    *,
    digits: int = 2,
    missing: str = MISSING,
    ratio: bool = True,
) -> str:
    """``value ± err`` with ``digits`` significant digits on the error and the value rounded to
    the same place; ``undetermined (± err)`` when the error reaches the value (``ratio=False``
    for quantities where zero is no special value, e.g. a position); ``unit`` appended."""
    suffix = f" {unit}" if unit else ""
    if not _finite(value):
        return missing
    v = float(value)
    if (
        err is None
        or (_finite(err) and float(err) == 0)
        or (not _finite(err) and not is_undetermined(v, err))
    ):
        return format_number(v, missing=missing) + suffix
    e = float(err)
    if ratio and is_undetermined(v, e):
        shown = "∞" if math.isinf(e) else _sig_text(e, digits)
        return f"undetermined (± {shown}{suffix})"
    if math.isinf(e) or e < 0:
        return format_number(v, missing=missing) + suffix
    e_exp = math.floor(math.log10(e))
    q = e_exp - (digits - 1)  # decimal exponent of the last digit shown
    e_r = _round_to(e, q)
    if e_r >= 10 ** (e_exp + 1):  # 0.0996 → 0.10: one digit fewer after rounding up
        q += 1
        e_r = _round_to(e, q)
    v_exp = math.floor(math.log10(abs(v))) if v != 0 else e_exp
    if v_exp - q >= MAX_DIGITS:  # a relative error below 1e-8: round-off, not the data
        q = v_exp - (MAX_DIGITS - 1)
        v_r = clean_zero(_round_to(v, q))
        err_text = f"{e:.{digits - 1}e}"
    else:
        v_r = clean_zero(_round_to(v, q))
        err_text = ""
    v_exp = math.floor(math.log10(abs(v_r))) if v_r != 0 else e_exp
    lo, hi = _FIXED_RANGE
    if lo <= v_exp < hi and -q <= 10:
        decimals = max(0, -q)
        text = f"{v_r:.{decimals}f} ± {err_text or f'{e_r:.{decimals}f}'}"
    else:
        mantissa = max(0, v_exp - q)
        text = f"{v_r:.{mantissa}e} ± {err_text or f'{e_r:.{digits - 1}e}'}"
    return text + suffix


def _sig_text(x: float, digits: int = 2) -> str:
    """``x`` with ``digits`` significant digits, fixed notation from 1e-3 to 1e5."""
    if x == 0 or not math.isfinite(x):
        return format_number(x)
    exp = math.floor(math.log10(abs(x)))
    lo, hi = _FIXED_RANGE
    q = exp - (digits - 1)
    if abs(_round_to(x, q)) >= 10 ** (exp + 1):  # 0.0996 → 0.10
        exp, q = exp + 1, q + 1
    if lo <= exp < hi:
        return f"{_round_to(x, q):.{max(0, -q)}f}"
    return f"{x:.{digits - 1}e}"


def arrhenius_legend(label: str, ea_eV: Any, ea_err: Any) -> str:
    """The legend entry of a process in every Arrhenius plot (command line, report,
    notebooks): ``bulk: Ea = 0.597 ± 0.025 eV``."""
    if not _finite(ea_eV):
        return label
    return f"{label}: Ea = {format_value(ea_eV, ea_err, 'eV')}"


def arc_zoom(
    frequency: Sequence[float], z_real: Sequence[float], z_imag: Sequence[float]
) -> tuple[float, float, float] | None:
    """The window (Z′ from, Z′ to, −Z″ top) that shows the arcs of a spectrum whose
    low-frequency electrode spike dwarfs them, or ``None`` when the whole spectrum already
    shows them.

    From the lowest frequency up, −Z″ falls while the points climb the spike; the arcs are the
    points above the first minimum (the valley between them and the spike). A zoom is proposed
    when the spike is more than 3× taller, and wider, than the arcs."""
    points = sorted(zip(frequency, z_real, z_imag))
    loss = [-zi for _, _, zi in points]
    if len(points) < 8:
        return None
    k = 0
    while k + 1 < len(loss) and loss[k + 1] < loss[k]:
        k += 1
    arcs = points[k:]
    if k == 0 or len(arcs) < 5:
        return None
    top_all = max(loss)
    top_arcs = max(-zi for _, _, zi in arcs)
    x_lo = min(zr for _, zr, _ in arcs)
    x_hi = max(zr for _, zr, _ in arcs)
    width = x_hi - x_lo
    if width <= 0 or top_all < 3 * max(top_arcs, 0.5 * width):
        return None
    pad = 0.05 * width
    return float(x_lo - pad), float(x_hi + pad), float(max(top_arcs, 0.0) + pad)


def format_factor(value: Any, ln_err: Any, unit: str = "", *, determined: bool = True) -> str:
    """A positive quantity known on a log scale (τ0 from ln τ0): ``3.2e-13 ×/÷ 3.9 s``;
    ``undetermined`` when ``determined`` is False (e.g. τ0 of an undetermined Ea) or the factor
    is not finite."""
    suffix = f" {unit}" if unit else ""
    if not _finite(value):
        return MISSING
    if ln_err is None or (_finite(ln_err) and float(ln_err) == 0):
        return format_number(value) + suffix
    factor = math.exp(min(float(ln_err), 700.0)) if _finite(ln_err) else math.inf
    if not determined or not math.isfinite(factor) or factor > 1e300:
        return "undetermined"
    return f"{float(value):.3g} ×/÷ {_sig_text(factor)}{suffix}"


def relative_error_text(value: Any, err: Any) -> str:
    """``1.7 %``, or ``> 100 %`` for an undetermined value, ``–`` without an error."""
    if not (_finite(value) and err is not None) or (_finite(err) and float(err) == 0):
        return MISSING
    if is_undetermined(value, err):
        return "> 100 %"
    if not _finite(err):
        return MISSING
    return f"{100 * abs(float(err) / float(value)):.2g} %"


# ------------------------------------------------------------------ names with units
#: Stored names → (words, unit). Names not listed keep themselves, their unit appended.
QUANTITIES: dict[str, tuple[str, str]] = {
    "R_ohm": ("R", "Ω"),
    "C_F": ("C", "F"),
    "n": ("n", ""),
    "tau_s": ("τ", "s"),
    "f_peak_Hz": ("f_peak", "Hz"),
    "sigma_S_per_cm": ("σ", "S/cm"),
    "conductance_S": ("G", "S"),
    "eps_r": ("ε_r", ""),
    "temperature_K": ("T", "K"),
    "T_K": ("T", "K"),
    "Tm_K": ("Tm", "K"),
    "Ea_eV": ("Ea", "eV"),
    "tau0_s": ("τ0", "s"),
    "ln_tau0": ("ln τ0", ""),
    "sigma_E_eV": ("σ_E", "eV"),
    "initial_rise_Ea_eV": ("Ea, initial rise", "eV"),
    "bucci_fieschi_Ea_eV": ("Ea, Bucci–Fieschi", "eV"),
    "fwhm_K": ("FWHM", "K"),
    "center": ("centre", ""),
    "fwhm": ("FWHM", ""),
    "area": ("area", ""),
    "height": ("height", ""),
    "frequency_factor_per_s": ("s = 1/τ0", "1/s"),
    "R_inf_ohm": ("R∞", "Ω"),
    "R_pol_ohm": ("R_pol", "Ω"),
    "C_series_F": ("C_s", "F"),
    "L_H": ("L", "H"),
    "mu": ("μ", ""),
    "chi2_reduced": ("χ²_red", ""),
    "r2": ("R²", ""),
}


def quantity_label(name: str, unit: str | None = None) -> str:
    """Words with a unit for a stored name: ``R_ohm`` → ``R (Ω)``; ``unit`` (the stored one)
    wins over the table's when given."""
    words, default_unit = QUANTITIES.get(name, (name.replace("_", " "), ""))
    u = unit if unit else default_unit
    return f"{words} ({u})" if u else words
