"""Inputs of the CLI fuzz tests: the real test files, their mutations and circuit strings.

Hypothesis strategies built from the files in ``tests/data`` (impedance exports, the TSDC curve
OHA_1.csv, the XPS spectrum GFET0126_25V_C1s.txt): truncation, byte flips, a number replaced by
a special value (NaN, ±inf, 1e308, 1e-320, …), lines dropped or repeated, junk bytes, other
encodings and line ends. Circuit strings are drawn from the grammar (elements, series, parallel
blocks), deep nesting, long arc chains and junk.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import strategies as st

DATA = Path(__file__).resolve().parents[1] / "data"

#: File-name prefixes left out of the mutations (none: every text export is fuzzed).
EXCLUDED_PREFIXES: tuple[str, ...] = ()

#: Impedance files the mutations start from: the text exports of tests/data/eis.
EIS_FILES = sorted(
    p.name
    for p in (DATA / "eis").iterdir()
    if p.is_file()
    and p.name != "NOTICE.md"
    and p.suffix.lower() != ".mpr"
    and not (EXCLUDED_PREFIXES and p.name.startswith(EXCLUDED_PREFIXES))
)
TSDC_FILE = DATA / "tsdc" / "OHA_1.csv"
XPS_FILE = DATA / "xps" / "GFET0126_25V_C1s.txt"

#: Values a corrupted or hostile file may hold where a number is expected.
SPECIAL_NUMBERS = (
    "NaN",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e300",
    "-1e300",
    "1e999",
    "1e-320",
    "-1e-320",
    "5e-324",
    "0",
    "-0",
    "0.0",
    "1e-9",
    "1e13",
    "1e15",
    "-1",
    "9" * 400,
    "",
    "1,5",
    "0x10",
    "1e",
    "--1",
    "1.0.0",
)

_NUMBER = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?")

_cache: dict[Path, bytes] = {}


def original(path: Path) -> bytes:
    """The bytes of ``path`` (read once per session)."""
    if path not in _cache:
        _cache[path] = path.read_bytes()
    return _cache[path]


def _truncate(data: bytes, draw, specials: tuple[str, ...]) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _flip(data: bytes, draw, specials: tuple[str, ...]) -> bytes:
    if not data:
        return data
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]


def _special_number(data: bytes, draw, specials: tuple[str, ...]) -> bytes:
    spans = [m.span() for m in _NUMBER.finditer(data)]
    if not spans:
        return data
    a, b = spans[draw(st.integers(0, len(spans) - 1))]
    return data[:a] + draw(st.sampled_from(specials)).encode() + data[b:]


def _special_column(data: bytes, draw, specials: tuple[str, ...]) -> bytes:
    """The same special value in place of the k-th number of every line (a whole column)."""
    value = draw(st.sampled_from(specials)).encode()
    k = draw(st.integers(0, 3))
    out = []
    for line in data.split(b"\n"):
        spans = [m.span() for m in _NUMBER.finditer(line)]
        if len(spans) > k:
            a, b = spans[k]
            line = line[:a] + value + line[b:]
        out.append(line)
    return b"\n".join(out)


def _lines(data: bytes, draw, specials: tuple[str, ...]) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data
    i = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(("drop", "repeat", "swap", "blank")))
    if how == "drop":
        del lines[i]
    elif how == "repeat":
        lines.insert(i, lines[i])
    elif how == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i] = b""
    return b"\n".join(lines)


def _junk(data: bytes, draw, specials: tuple[str, ...]) -> bytes:
    i = draw(st.integers(0, len(data)))
    junk = draw(
        st.sampled_from((b"\x00", b"\xff\xfe", b"\r", b"\r\r\n", b"\t", b";", b",", b'"', b"\xc2"))
        | st.binary(min_size=1, max_size=8)
        | st.text(max_size=4).map(lambda t: t.encode("utf-8"))
    )
    return data[:i] + junk + data[i:]


def _encoding(data: bytes, draw, specials: tuple[str, ...]) -> bytes:
    text = data.decode("utf-8", errors="replace")
    how = draw(st.sampled_from(("utf-16", "utf-8-sig", "latin-1", "crlf", "cr", "cp1252")))
    if how == "crlf":
        return data.replace(b"\n", b"\r\n")
    if how == "cr":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    return text.encode(how, errors="replace")


MUTATIONS = {
    "truncate": _truncate,
    "flip": _flip,
    "special_number": _special_number,
    "special_column": _special_column,
    "lines": _lines,
    "junk": _junk,
    "encoding": _encoding,
}


@st.composite
def mutated(
    draw,
    data: bytes,
    max_mutations: int = 3,
    mutations: tuple[str, ...] = tuple(MUTATIONS),
    specials: tuple[str, ...] = SPECIAL_NUMBERS,
) -> bytes:
    """``data`` with one to ``max_mutations`` of ``mutations`` applied in turn, special values
    drawn from ``specials``."""
    # special values are what reaches the analyses (most other mutations stop the reader):
    # drawn three times as often
    names = (
        sorted(mutations) + [m for m in ("special_number", "special_column") if m in mutations] * 2
    )
    for _ in range(draw(st.integers(1, max_mutations))):
        name = draw(st.sampled_from(names))
        data = MUTATIONS[name](data, draw, specials)
    return data


# --- circuit strings -----------------------------------------------------------------------------

ELEMENT_TYPES = ("R", "C", "L", "CPE", "W", "Wo", "Ws", "G", "HN", "ZARC", "TLM")


@st.composite
def grammar_circuit(draw, max_depth: int = 3) -> str:
    """A circuit string from the grammar (may still be invalid: names used twice)."""
    counter = iter(range(10_000))

    def element() -> str:
        kind = draw(st.sampled_from(ELEMENT_TYPES))
        if draw(st.booleans()):
            kind = kind.lower()
        return f"{kind}{next(counter)}"

    def node(depth: int) -> str:
        if depth >= max_depth or draw(st.integers(0, 2)) == 0:
            return element()
        if draw(st.booleans()):
            n = draw(st.integers(2, 3))
            return "-".join(node(depth + 1) for _ in range(n))
        n = draw(st.integers(2, 3))
        return "p(" + ",".join(node(depth + 1) for _ in range(n)) + ")"

    return node(0)


def nested(depth: int) -> str:
    """``p(p(p(…R0…,C2),C1)`` with ``depth`` parallel blocks."""
    text = "R0"
    for k in range(1, depth + 1):
        text = f"p({text},C{k})"
    return text


def arc_chain(n: int, series_r: bool = True) -> str:
    """``R0-p(R1,C1)-…-p(Rn,Cn)``."""
    arcs = [f"p(R{k},C{k})" for k in range(1, n + 1)]
    return "-".join((["R0"] if series_r else []) + arcs)


JUNK_CIRCUITS = (
    "",
    " ",
    "p(",
    ")",
    "p()",
    "p(R1)",
    "p(R1,,C1)",
    "R",
    "R1-",
    "-R1",
    "R1--C1",
    "R1 C1",
    "R1-R1",
    "X1",
    "__import__('os').system('id')",
    "R1;C1",
    "R1\x00",
    "Ｒ1",
    "p(p(p(p(",
    ")))",
    "R" + "9" * 500,
)


def circuits() -> st.SearchStrategy[str]:
    """Valid and invalid circuit strings: grammar pieces, nesting, chains and junk."""
    return st.one_of(
        grammar_circuit(),
        st.integers(1, 400).map(nested),
        st.integers(1, 40).map(arc_chain),
        st.sampled_from(JUNK_CIRCUITS),
        st.text(alphabet="pRCLWEZAHNTGos0123456789(),- ", max_size=40),
        st.text(max_size=20),
    )
