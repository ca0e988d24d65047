"""Property-based fuzzing of the CLI over mutated real files and generated circuit strings.

Every run must end in a result (exit 0) or clean one-line errors (exit 2): no traceback, no
``internal error``, no NumPy ``RuntimeWarning``, and with ``--json`` a strict JSON document
(:func:`cli_harness.check`). The CLI is driven in this process (fast); examples are derandomized
so CI sees the same inputs every time. Budget: about 40 s on one core for the whole module.

Every real text export of tests/data/eis is mutated (the .mpr binary has its own corruption
tests in tests/io/test_eis_biologic_mpr.py); ``eis fit --circuit`` runs both with ``--initial``
and in the decomposition-seeded mode; peak and TSDC files get every mutation and special value.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from cli_harness import check, run_cli
from fuzz_inputs import (
    DATA,
    EIS_FILES,
    MUTATIONS,
    SPECIAL_NUMBERS,
    TSDC_FILE,
    XPS_FILE,
    circuits,
    mutated,
    original,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.circuit import Circuit
from iondyn.eis.guess import initial_guess
from iondyn.errors import CircuitParseError


def fuzz(max_examples: int) -> settings:
    """Reproducible settings: derandomized, no example database, no deadline."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


PEAKS_SPECIALS = SPECIAL_NUMBERS
TSDC_MUTATIONS = MUTATIONS
TSDC_SPECIALS = SPECIAL_NUMBERS

#: Small circuits fitted with a start value for their first parameter (``--initial``).
FIT_CIRCUITS = (
    "R0-p(R1,CPE1)",
    "R0-p(R1,C1)-CPE2",
    "p(R1,CPE1)-W1",
    "R0-ZARC1",
    "L0-R0-p(R1,CPE1)-Wo1",
    "R0-p(R1-Ws1,C1)",
    "HN1-G1",
    "TLM1",
)


@pytest.fixture(scope="module")
def workdir():
    path = Path(tempfile.mkdtemp(prefix="iondyn-fuzz-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _write(workdir: Path, name: str, data: bytes) -> Path:
    path = workdir / name  # the original name: detection and temperature tokens use it
    path.write_bytes(data)
    return path


@st.composite
def eis_file(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(EIS_FILES))
    return name, draw(mutated(original(DATA / "eis" / name)))


@fuzz(400)
@given(case=eis_file(), command=st.sampled_from(("read", "kk", "drt")))
def test_eis_read_kk_drt(workdir, case, command):
    name, data = case
    check(run_cli(["eis", command, _write(workdir, name, data), "--json"]))


@fuzz(100)
@given(
    case=eis_file(),
    circuit=st.sampled_from(FIT_CIRCUITS),
    json=st.booleans(),
    seeded=st.booleans(),
)
def test_eis_fit_circuit(workdir, case, circuit, json, seeded):
    name, data = case
    first = Circuit(circuit).param_names[0]
    argv = ["eis", "fit", _write(workdir, name, data), "--circuit", circuit]
    argv += ([] if seeded else ["--initial", f"{first}=1"]) + (["--json"] if json else [])
    check(run_cli(argv))


def _small_spectrum(n: int = 12) -> ImpedanceSpectrum:
    """A short R0-p(R1,C1) spectrum: fits of any generated circuit stay cheap on it."""
    f = np.geomspace(1e5, 1e-1, n)
    z = 10.0 + 100.0 / (1.0 + 2j * np.pi * f * 1e-4)
    return ImpedanceSpectrum(f, z, source="small.csv")


def _spectrum_file(workdir: Path, name: str, n: int) -> Path:
    s = _small_spectrum(n)
    rows = [f"{f:.17g},{z.real:.17g},{z.imag:.17g}" for f, z in zip(s.frequency, s.z)]
    header = "Frequency (Hz),Z' (ohm),Z'' (ohm)\n"
    return _write(workdir, name, (header + "\n".join(rows) + "\n").encode())


@pytest.fixture(scope="module")
def spectrum_files(workdir) -> tuple[Path, Path]:
    """12 points (fits of up to five parameters) and 3 points (any larger circuit: a FitError
    before the solver starts, so that chains of 40 arcs stay fast)."""
    return _spectrum_file(workdir, "small.csv", 12), _spectrum_file(workdir, "tiny.csv", 3)


@fuzz(250)
@given(text=circuits())
def test_circuit_strings(spectrum_files, text):
    """The parser and the fit on any string: a CircuitParseError, a FitError, or a result."""
    small_file, tiny_file = spectrum_files
    try:
        circuit = Circuit(text)
    except CircuitParseError as exc:
        event("circuit: parse error")
        assert "\n" not in str(exc) and len(str(exc)) < 1000
        outcome = run_cli(["eis", "fit", small_file, "--circuit", text, "--json"])
        assert outcome.code == 2
        check(outcome)
        return
    guess = initial_guess(circuit, _small_spectrum())
    values = np.array([guess[k] for k in circuit.param_names])
    assert np.all(np.isfinite(values)) and np.all(values > 0)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow is harmless
        z = circuit.impedance(2 * np.pi * _small_spectrum().frequency, guess)
    assert np.all(np.isfinite(z))
    data = small_file if circuit.n_params <= 5 else tiny_file
    first = circuit.param_names[0]
    check(run_cli(["eis", "fit", data, "--circuit", text, "--initial", f"{first}=1"]))


@fuzz(120)
@given(data=mutated(original(XPS_FILE), specials=PEAKS_SPECIALS), n=st.sampled_from("12"))
def test_peaks_fit(workdir, data, n):
    check(run_cli(["peaks", "fit", _write(workdir, XPS_FILE.name, data), "--n-peaks", n, "--json"]))


@fuzz(120)
@given(data=mutated(original(TSDC_FILE), mutations=TSDC_MUTATIONS, specials=TSDC_SPECIALS))
def test_tsdc_fit(workdir, data):
    path = _write(workdir, TSDC_FILE.name, data)
    check(run_cli(["tsdc", "fit", path, "--beta", "0.1", "--n-peaks", "1", "--json"]))


def test_the_real_files_pass_the_contract():
    """The unmutated inputs themselves (a baseline: a failure here is not a fuzzing one)."""
    for name in EIS_FILES:
        check(run_cli(["eis", "read", DATA / "eis" / name, "--json"]))
    check(run_cli(["peaks", "fit", XPS_FILE, "--n-peaks", "1", "--json"]))
    check(run_cli(["tsdc", "fit", TSDC_FILE, "--beta", "0.1", "--n-peaks", "1", "--json"]))
