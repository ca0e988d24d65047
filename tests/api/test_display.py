"""How numbers, names and results are shown (iondyn.display): rounded by their errors,
undetermined values said, round-off shown as 0, words with units."""

from __future__ import annotations

import math

import pytest

from iondyn.display import (
    Param,
    Summary,
    arc_zoom,
    arrhenius_legend,
    clean_zero,
    format_factor,
    format_number,
    format_value,
    is_undetermined,
    quantity_label,
    relative_error_text,
    summary_html,
    summary_text,
)


@pytest.mark.parametrize(
    ("value", "err", "shown"),
    [
        (4113.169, 69.096, "4113 ± 69"),
        (17549.39, 1051.59, "17500 ± 1100"),  # the value rounded where the error is
        (2.805812e-09, 6.006e-10, "2.81e-09 ± 6.0e-10"),
        (0.866162, 0.017183, "0.866 ± 0.017"),
        (269700.77, 538.2, "2.6970e+05 ± 5.4e+02"),
        (1.0, 0.0996, "1.00 ± 0.10"),  # 0.0996 rounds up to 0.10: one decimal fewer
        (-0.03639, 0.001, "-0.0364 ± 0.0010"),
        (170.504089032425, 4.4e-12, "170.50409 ± 4.4e-12"),  # noise-free data: 8 digits
    ],
)
def test_values_are_rounded_by_their_errors(value, err, shown):
    assert format_value(value, err) == shown


@pytest.mark.parametrize(
    ("value", "err", "shown"),
    [
        (1521.0, 3.8e11, "undetermined (± 3.8e+11 s)"),
        (2.15e-12, 110.0, "undetermined (± 110 s)"),
        (2.55e-07, 40.06, "undetermined (± 40 s)"),
        (3.0, math.inf, "undetermined (± ∞ s)"),
    ],
)
def test_an_error_beyond_the_value_is_undetermined(value, err, shown):
    assert is_undetermined(value, err)
    assert format_value(value, err, "s") == shown
    assert relative_error_text(value, err) == "> 100 %"


def test_no_error_fixed_and_positions():
    assert format_value(5.3e-05) == "5.3e-05"
    assert format_value(3.0, 0.0) == "3"  # fixed: no ± 0
    assert not is_undetermined(3.0, 0.0) and not is_undetermined(3.0, None)
    # zero is no special value for a position: a peak at 0.1 ± 0.5 eV is a result
    assert format_value(0.1, 0.5, ratio=False) == "0.10 ± 0.50"
    assert format_value(None) == "–" and format_value(float("nan"), 1.0, missing="-") == "-"
    assert relative_error_text(4113.0, 69.0) == "1.7 %"


def test_round_off_shows_as_zero():
    vt = 0.025693
    assert clean_zero(-3.7185e-16, vt) == 0.0
    assert clean_zero(-0.0363969, vt) == -0.0363969
    assert format_number(-0.0) == "0" and format_number(clean_zero(-1e-20, 1.0)) == "0"
    assert format_number(-3.7185e-16) == "-3.7185e-16"  # without a scale it stays a number


def test_multiplicative_errors_of_tau0():
    assert format_factor(6.71e-10, 0.86, "s") == "6.71e-10 ×/÷ 2.4 s"
    assert format_factor(6.71e-10, 0.86, determined=False) == "undetermined"


def test_names_are_words_with_units():
    assert quantity_label("R_ohm", "Ω") == "R (Ω)"
    assert quantity_label("sigma_S_per_cm", "S/cm") == "σ (S/cm)"
    assert quantity_label("tau0_s", "s") == "τ0 (s)"
    assert quantity_label("sigma_E_eV", "") == "σ_E (eV)"  # the stored unit is empty
    assert quantity_label("center", "eV") == "centre (eV)"
    assert quantity_label("bucci_fieschi_Ea_eV", "eV") == "Ea, Bucci–Fieschi (eV)"
    assert arrhenius_legend("bulk", 0.59704, 0.02531) == "bulk: Ea = 0.597 ± 0.025 eV"


def test_arc_zoom_finds_the_arcs_beside_an_electrode_spike():
    from iondyn.eis.simulate import simulate_spectrum

    arcs = {"R0": 50.0, "R1": 1e4, "CPE1_Q": 1e-10, "CPE1_n": 0.95}
    spike = simulate_spectrum("R0-p(R1,CPE1)-CPE2", arcs | {"CPE2_Q": 1e-6, "CPE2_n": 0.9})
    window = arc_zoom(spike.frequency, spike.z.real, spike.z.imag)
    assert window is not None
    x0, x1, top = window
    assert x0 < 60 and 1e4 < x1 < 1.2e4 and 4e3 < top < 7e3  # the arc's size, not the spike's
    alone = simulate_spectrum("R0-p(R1,CPE1)", arcs)
    assert arc_zoom(alone.frequency, alone.z.real, alone.z.imag) is None


def test_summaries_show_parameters_verdict_and_warnings_but_no_arrays():
    s = Summary(
        "Thing",
        "file.csv [0]: R0-p(R1,C1)",
        ["61 points"],
        [Param("R0", 2.5e-7, 40.0, "Ω"), Param("R1", 4113.2, 69.1, "Ω")],
        tables=[("peaks", ["peak", "centre"], [["1", "710.95 ± 0.12"]])],
        misfit={"verdict": "misfit", "rms_relative": 0.04, "reasons": ["runs test z = -10"]},
        warnings=["<b>escaped</b>"],
    )
    text = summary_text(s)
    assert "R0 = undetermined (± 40 Ω)" in text and "R1 = 4113 ± 69 Ω" in text
    assert "residuals: MISFIT (rms 4 %" in text and "warning: <b>escaped</b>" in text
    page = summary_html(s)
    assert "⚠ undetermined (± 40)" in page and "4113 ± 69" in page and "MISFIT" in page
    assert "&lt;b&gt;escaped&lt;/b&gt;" in page and "<b>escaped" not in page
    assert "array(" not in text and len(text.splitlines()) < 12  # no dump of the fields
