"""Regressions of the fuzzing campaign of issue 12 (part 4): each input used to end in an
internal error, a hang, an out-of-memory or NumPy warnings beside a result; each must now be a
one-line ``iondyn: error: …`` with exit code 2 (or a clean result)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest
from cli_harness import check, run_cli, run_cli_with_timeout, strict_json

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.circuit import MAX_NESTING, Circuit
from iondyn.eis.fit import CircuitFitter
from iondyn.eis.fit_stats import covariance_from_jacobian
from iondyn.eis.guess import initial_guess
from iondyn.errors import ConfigError, DataError, FileFormatError
from iondyn.io.eis_common import FREQUENCY_MAX_HZ, IMPEDANCE_MAX_OHM
from iondyn.io.impedance import read_impedance
from iondyn.io.spectra import read_spectra
from iondyn.io.text import read_bytes
from iondyn.io.tsdc import read_tsdc
from iondyn.physics.config import load_config

DATA = Path(__file__).resolve().parents[1] / "data"
CSV = DATA / "eis" / "exampleData.csv"  # headerless f, Z', Z'' (66 rows, 3.2 mHz – 10 kHz)
TSDC = DATA / "tsdc" / "OHA_1.csv"
XPS = DATA / "xps" / "GFET0126_25V_C1s.txt"
TIMEOUT_S = 30.0


def _one_error(outcome, *fragments: str) -> None:
    """Exit 2 with exactly one ``iondyn: error:`` line containing every fragment."""
    check(outcome)
    assert outcome.code == 2
    errors = [ln for ln in outcome.err.splitlines() if ln.startswith("iondyn: error:")]
    assert len(errors) == 1, outcome.err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def _edited_csv(tmp_path: Path, row: int, column: int, value: str, name="exampleData.csv"):
    rows = [ln.split(",") for ln in CSV.read_text().splitlines()]
    rows[row][column] = value
    path = tmp_path / name
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    return path


def _arc_chain(n: int) -> str:
    return "-".join(f"p(R{k},C{k})" for k in range(1, n + 1))


# --- circuits --------------------------------------------------------------------------------


def test_deeply_nested_circuit_is_a_nesting_limit_error():
    text = "R0"
    for k in range(1, 301):
        text = f"p({text},C{k})"
    for extra in ([], ["--json"]):
        outcome = run_cli(["eis", "fit", CSV, "--circuit", text, *extra])
        _one_error(outcome, "nesting limit", f"more than {MAX_NESTING} deep")
        assert len(outcome.err) < 500  # the 3000-character string is not quoted in full
        if extra:
            assert "nesting limit" in strict_json(outcome.out)["error"]["message"]
    _one_error(run_cli(["eis", "fit", CSV, "--circuit", "p(" * 400 + "R1"]), "nesting limit")


def _tiny_peak_spectrum(n_rows: int) -> ImpedanceSpectrum:
    """exampleData.csv with a −Z″ maximum of 5e-324 Ω between two inductive points: a chain of
    30 arcs takes every maximum, and its R = ΔR·h/Σh used to underflow to 0 (C = τ/R)."""
    data = np.loadtxt(CSV, delimiter=",")[:n_rows]
    data[9, 2] = data[11, 2] = 1e-3
    data[10, 1:] = 1e-3, -5e-324
    return ImpedanceSpectrum.from_arrays(*data.T, source="tiny-peak.csv")


def test_chain_of_30_arcs_start_values_are_finite():
    chain = _arc_chain(30)
    for rows in (30, 66):
        guess = initial_guess(chain, _tiny_peak_spectrum(rows))
        values = np.array(list(guess.values()))
        assert np.all(np.isfinite(values)) and np.all(values > 0)
    spectrum = _tiny_peak_spectrum(66)  # 132 values for 60 parameters: the fit runs
    res = CircuitFitter(chain, max_nfev=3, rescue=False).fit(spectrum)
    assert res.circuit.n_params == 60 and np.isfinite(res.chi2)


def test_chain_of_30_arcs_cli(tmp_path):
    """Used to be ``internal error: ZeroDivisionError`` (guess.py, C = τ/R with R = 0)."""
    s = _tiny_peak_spectrum(30)  # 60 values for 60 parameters: a clean FitError, quickly
    path = tmp_path / "tiny-peak.csv"
    rows = [f"{f:.17g},{z.real:.17g},{z.imag:.17g}" for f, z in zip(s.frequency, s.z)]
    path.write_text("\n".join(rows) + "\n")
    for extra in ([], ["--initial", "R1=0.01"]):
        outcome = run_cli(["eis", "fit", path, "--circuit", _arc_chain(30), *extra])
        check(outcome)
        assert outcome.code == 2


# --- value ranges at read time -------------------------------------------------------------


@pytest.mark.parametrize("command", ["read", "kk", "drt"])
def test_frequency_of_1e308_is_rejected_at_read_time(tmp_path, command):
    path = _edited_csv(tmp_path, 3, 0, "1e308")
    _one_error(
        run_cli(["eis", command, path, "--json"]), f"{path}:4: frequency 1e+308 Hz", "outside"
    )
    with pytest.raises(DataError) as info:
        read_impedance(path)
    assert info.value.line == 4 and f"{FREQUENCY_MAX_HZ:g}" in str(info.value)


@pytest.mark.parametrize("value", ["1e-320", "5e-324", "1e14"])
def test_absurd_low_and_high_frequencies(tmp_path, value):
    path = _edited_csv(tmp_path, 0, 0, value)
    _one_error(run_cli(["eis", "kk", path]), ":1: frequency", "outside the accepted range")


def test_impedance_of_1e300_is_rejected_in_eis_fit(tmp_path):
    path = _edited_csv(tmp_path, 3, 1, "1e300")
    outcome = run_cli(["eis", "fit", path, "--circuit", "R0-p(R1,CPE1)-CPE2", "--json"])
    _one_error(outcome, f"{path}:4: |Z| = 1e+300", f"{IMPEDANCE_MAX_OHM:g}")
    assert strict_json(outcome.out)["results"] == []


def test_zero_impedance_row_is_rejected(tmp_path):
    rows = CSV.read_text().splitlines()
    rows[5] = rows[5].split(",")[0] + ",0,0"
    path = tmp_path / "zeros.csv"
    path.write_text("\n".join(rows) + "\n")
    _one_error(run_cli(["eis", "read", path]), ":6: |Z| = 0")


def test_unit_factor_overflow_is_an_error_without_numpy_warnings(tmp_path):
    path = tmp_path / "mohm.csv"
    path.write_text("Frequency (Hz),Z' (MOhm),Z'' (MOhm)\n100,1e305,-1\n10,1,-1\n1,1,-1\n")
    _one_error(run_cli(["eis", "read", path]), "mohm.csv:2: |Z| = inf")


def test_temperature_column_out_of_range_is_not_used(tmp_path):
    lines = ["Frequency (Hz),Z' (ohm),Z'' (ohm),Temperature (K)"]
    lines += [f"{10.0**k},{100 + k},-{10 + k},1e308" for k in range(5, -1, -1)]
    path = tmp_path / "temp.csv"
    path.write_text("\n".join(lines) + "\n")
    outcome = run_cli(["eis", "read", path, "--json"])
    check(outcome)
    spectrum = strict_json(outcome.out)["spectra"][0]
    assert any("not used" in w for w in spectrum["metadata"]["warnings"])
    assert read_impedance(path)[0].temperature_K is None


def test_fit_statistics_do_not_print_numpy_warnings():
    """A real file where a parameter runs to its automatic limit: the covariance in linear
    units overflows; it used to print NumPy warnings beside the result (fit_stats.py)."""
    path = DATA / "eis" / "PEIS_LPSCl_IonBlocking_-25C.txt"
    outcome = run_cli(["eis", "fit", path, "--circuit", "R0-p(R1,CPE1)", "--json"])
    check(outcome)
    assert outcome.code == 0
    with np.errstate(all="raise"):  # the same overflow, directly: a parameter scale of 1e300
        unc = covariance_from_jacobian(np.eye(3), np.array([1e300, 1.0, 1e-300]), 1.0)
    assert np.isinf(unc.covariance[0, 0]) and unc.errors[1] == 1.0


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        (1, "1e308", "current 1e+308 nA/cm2 is beyond"),
        (0, "1e308", "temperature 1e+308 °C is above"),
    ],
)
def test_tsdc_values_out_of_range(tmp_path, column, value, fragment):
    rows = [ln.split(",") for ln in TSDC.read_text().splitlines()]
    rows[20][column] = value
    path = tmp_path / "OHA_1.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    _one_error(run_cli(["tsdc", "fit", path, "--beta", "0.1"]), f"{path}:21: {fragment}")


def test_tsdc_denormal_current_is_read_as_zero(tmp_path):
    rows = [ln.split(",") for ln in TSDC.read_text().splitlines()]
    rows[20][1] = "5e-324"
    path = tmp_path / "OHA_1.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    curve = read_tsdc(path, beta=0.1)
    assert curve.current[19] == 0.0


def test_tsdc_heating_rate_stated_in_the_file_is_range_checked(tmp_path):
    path = tmp_path / "OHA_1.csv"
    path.write_text("# heating rate: 1e308 K/s\n" + TSDC.read_text())
    with pytest.raises(DataError, match="heating rate 1e\\+308 K/s"):
        read_tsdc(path)
    assert read_tsdc(path, beta=0.1).beta_K_per_s == 0.1  # a given rate overrides the file's


# --- special files -------------------------------------------------------------------------


def _commands(path: Path) -> list[list]:
    return [
        ["eis", "read", path],
        ["eis", "kk", path, "--json"],
        ["eis", "fit", path, "--circuit", "R0-p(R1,C1)"],
        ["tsdc", "fit", path, "--beta", "0.1"],
        ["peaks", "fit", path],
        ["simulate", "scl", path],
    ]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this platform")
def test_dev_zero_is_refused_at_once():
    """Used to read /dev/zero until MemoryError (16 s)."""
    for argv in _commands(Path("/dev/zero")):
        outcome = run_cli_with_timeout(argv, TIMEOUT_S)
        assert outcome is not None, f"iondyn {' '.join(map(str, argv))} did not finish"
        _one_error(outcome, "/dev/zero: not a regular file (a character device)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_fifo_is_refused_without_blocking(tmp_path):
    """Used to hang in open() waiting for a writer."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    try:
        for argv in _commands(fifo):
            outcome = run_cli_with_timeout(argv, TIMEOUT_S)
            assert outcome is not None, f"iondyn {' '.join(map(str, argv))} hangs on a FIFO"
            _one_error(outcome, "pipe.csv: not a regular file (a named pipe)")
    finally:  # release a reader that might still block (a failed run), then remove the pipe
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def _in_thread(func, *args):
    """func(*args) in a daemon thread: its exception, or None; "hang" after TIMEOUT_S."""
    box: list = []

    def target():
        try:
            func(*args)
            box.append(None)
        except Exception as exc:
            box.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(TIMEOUT_S)
    return box[0] if box else "hang"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_readers_refuse_special_files_themselves(tmp_path):
    """The shared readers (not only the CLI's guard) refuse a FIFO and /dev/zero."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    paths = [fifo] + ([Path("/dev/zero")] if os.path.exists("/dev/zero") else [])
    readers = [read_impedance, read_tsdc, read_spectra, read_bytes, load_config]
    try:
        for path in paths:
            for reader in readers:
                exc = _in_thread(reader, path)
                assert isinstance(exc, FileFormatError | ConfigError), (reader, path, exc)
                assert "not a regular file" in str(exc) and "\n" not in str(exc)
    finally:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


def test_size_limit_of_the_shared_reader(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"1 2\n" * 100)
    assert read_bytes(path, max_bytes=400) == b"1 2\n" * 100
    with pytest.raises(FileFormatError, match="file too large"):
        read_bytes(path, max_bytes=399)
    with pytest.raises(FileFormatError, match="is a directory"):
        read_bytes(tmp_path)
    with pytest.raises(FileFormatError, match="no such file"):
        read_bytes(tmp_path / "missing.txt")


def test_circuit_at_the_nesting_limit_still_works():
    text = "R0"
    for k in range(1, MAX_NESTING + 1):
        text = f"p({text},C{k})"
    c = Circuit(text)
    z = c.impedance(np.array([1.0, 1e3]), np.ones(c.n_params))
    assert np.all(np.isfinite(z))


# --- found by the fuzzing in other readers and analyses (fixed after the campaign) -----------


def test_seeded_circuit_fit_with_a_collapsing_series_cpe_is_a_result(tmp_path):
    # solid.py: Q^(1/n) with n → 0 raised OverflowError; it is computed in logarithms now
    outcome = run_cli(
        ["eis", "fit", DATA / "eis" / "exampleDataBioLogic.mpt", "--circuit", "R0-p(R1,CPE1)-CPE2"]
    )
    check(outcome)
    assert outcome.code == 0


def test_novocontrol_with_an_absurd_diameter_is_refused(tmp_path):
    lines = (DATA / "eis" / "novocontrol_Example2a.txt").read_text(encoding="latin-1").split("\n")
    lines[1] = lines[1].replace("1.300e+01", "1e308")
    path = tmp_path / "novocontrol_Example2a.txt"
    path.write_text("\n".join(lines), encoding="latin-1")
    _one_error(run_cli(["eis", "kk", path]), "sample geometry out of range")


@pytest.mark.parametrize("value", ["NaN", "inf", "1e12"])
def test_versastudio_corrupt_segment_count(tmp_path, value):
    raw = (DATA / "eis" / "exampleDataVersaStudio.par").read_bytes().decode("utf-8")
    assert "Segments=1" in raw
    path = tmp_path / "exampleDataVersaStudio.par"
    path.write_bytes(raw.replace("Segments=1", f"Segments={value}", 1).encode("utf-8"))
    outcome = run_cli_with_timeout(["eis", "read", path], TIMEOUT_S)
    check(outcome)
    assert outcome.code == 0  # the segments are read as they come


def test_peak_spectrum_values_beyond_1e20_are_refused(tmp_path):
    rows = XPS.read_text().splitlines()
    rows[145] = rows[145].split()[0] + " 1e30"
    path = tmp_path / "xps.txt"
    path.write_text("\n".join(rows) + "\n")
    _one_error(run_cli(["peaks", "fit", path, "--n-peaks", "1"]), f"{path}:146", "beyond ±1e+20")


def test_vamas_sniffing_refuses_a_fifo(tmp_path):
    from iondyn.io.vamas import is_vamas_file

    fifo = tmp_path / "pipe.vms"
    os.mkfifo(fifo)
    done: list[BaseException] = []

    def call():
        try:
            is_vamas_file(fifo)
        except BaseException as exc:
            done.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(TIMEOUT_S)
    assert not worker.is_alive() and isinstance(done[0], FileFormatError)
