"""Low-level text helpers shared by every reader: decoding, line splitting, number parsing.

Instrument files come in UTF-8 (with or without a byte-order mark), Windows-1252/Latin-1
(``°``, ``µ``, ``²``) and with ``\\n``, ``\\r\\n`` or even ``\\r\\r\\n`` line ends. Readers call
:func:`read_text` once and work on the decoded lines.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np

from iondyn.errors import FileFormatError

__all__ = [
    "MAX_TEXT_BYTES",
    "check_input_file",
    "guess_delimiter",
    "is_binary",
    "parse_number",
    "parse_numeric_row",
    "read_bytes",
    "read_lines",
    "read_text",
    "special_file_kind",
]

#: Files larger than this are refused by text readers (a guard against pointing at a disk image).
MAX_TEXT_BYTES = 512 * 1024 * 1024


def check_input_file(path: str | Path, max_bytes: int = MAX_TEXT_BYTES) -> int:
    """Size in bytes of ``path`` if it is a regular file of at most ``max_bytes``.

    Raises :class:`FileFormatError` naming the file otherwise: no such file, a directory, or a
    special file (FIFO, character or block device such as ``/dev/zero``, socket), which would
    block or never end. Only ``stat`` is called, so nothing is opened.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileFormatError("no such file", path=str(path)) from None
    except PermissionError:
        raise FileFormatError("permission denied", path=str(path)) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise FileFormatError(f"cannot read file ({_reason(exc)})", str(path)) from None
    _check_mode(path, st.st_mode)
    if st.st_size > max_bytes:
        raise FileFormatError(
            f"file too large ({st.st_size} bytes; the limit is {max_bytes})", str(path)
        )
    return int(st.st_size)


def special_file_kind(path: str | Path) -> str | None:
    """``"a named pipe"``, ``"a character device"``, … when ``path`` exists and is neither a
    regular file nor a directory (reading it could block or never end); ``None`` otherwise,
    missing paths included. Only ``stat`` is called."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return _kind(mode)


def _check_mode(path: str | Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise FileFormatError("is a directory, not a file", path=str(path))
    if not stat.S_ISREG(mode):
        raise FileFormatError(f"not a regular file ({_kind(mode)})", path=str(path))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)


def read_bytes(path: str | Path, max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """Read a whole regular file of at most ``max_bytes``, turning OS errors into
    :class:`FileFormatError` naming the file.

    Directories, FIFOs, devices (``/dev/zero``) and sockets are refused before anything is
    read (:func:`check_input_file`); the file is opened non-blocking and checked again on the
    open descriptor, and never more than ``max_bytes`` are read, so a file that grows or a
    special file swapped in meanwhile cannot hang or exhaust memory.
    """
    check_input_file(path, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileFormatError("no such file", path=str(path)) from None
    except PermissionError:
        raise FileFormatError("permission denied", path=str(path)) from None
    except IsADirectoryError:
        raise FileFormatError("is a directory, not a file", path=str(path)) from None
    except OSError as exc:
        raise FileFormatError(f"cannot read file ({_reason(exc)})", str(path)) from None
    try:
        st = os.fstat(fd)
        _check_mode(path, st.st_mode)
        data = bytearray()
        chunk = min(st.st_size, max_bytes) + 1  # the whole file in one read, usually
        while len(data) <= max_bytes:
            block = os.read(fd, max(chunk, 1 << 20))
            if not block:
                break
            data += block
    except OSError as exc:
        raise FileFormatError(f"cannot read file ({_reason(exc)})", str(path)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise FileFormatError(f"file too large (more than {max_bytes} bytes)", str(path))
    return bytes(data)


def is_binary(data: bytes) -> bool:
    """Heuristic: NUL bytes or many control characters in the first 4 kB mean binary."""
    head = data[:4096]
    if b"\x00" in head:
        return True
    if not head:
        return False
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control / len(head) > 0.05


def decode(data: bytes) -> str:
    """Decode bytes: UTF-8 (BOM stripped) first, else Windows-1252, else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_text(path: str | Path, allow_binary: bool = False) -> str:
    """Read and decode a text file; raise :class:`FileFormatError` for empty or binary files."""
    data = read_bytes(path)
    if not data.strip():
        raise FileFormatError("the file is empty", path=str(path))
    if not allow_binary and is_binary(data):
        raise FileFormatError("binary file, not a text export", path=str(path))
    return decode(data)


_LINE_SPLIT = re.compile(r"\r*\n|\r")


def read_lines(path: str | Path) -> list[str]:
    """Decoded lines without line terminators (handles ``\\r\\n``, ``\\r\\r\\n`` and ``\\r``)."""
    text = read_text(path)
    lines = _LINE_SPLIT.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def guess_delimiter(lines: list[str]) -> str | None:
    """The most consistent delimiter among tab, semicolon, comma and whitespace (``None``).

    A comma is only taken as a delimiter when it is not a decimal comma: lines that split into
    the same number of fields on ``;`` or tab take precedence.
    """
    sample = [ln for ln in lines if ln.strip()][:50]
    if not sample:
        return None
    for delim in ("\t", ";"):
        counts = {ln.count(delim) for ln in sample}
        if len(counts) == 1 and next(iter(counts)) > 0:
            return delim
    counts = {ln.count(",") for ln in sample}
    if len(counts) == 1 and next(iter(counts)) > 0:
        # "1,5 2,3" (decimal commas, whitespace-separated) vs "1.5,2.3"
        fields_ws = {len(ln.split()) for ln in sample}
        if len(fields_ws) == 1 and next(iter(fields_ws)) > 1:
            if all(re.fullmatch(r"[-+]?\d+,\d+([eE][-+]?\d+)?", f) for f in sample[0].split()):
                return None
        return ","
    return None


_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eEdD][-+]?\d+)?$")


def parse_number(token: str) -> float:
    """Parse one numeric token, accepting a decimal comma and Fortran ``D`` exponents.

    Raises ``ValueError`` for anything that is not a number (``nan``/``inf`` included, so that
    callers decide explicitly what to do with them).
    """
    t = token.strip().strip('"').strip("'")
    if not t:
        raise ValueError("empty field")
    low = t.lower()
    if low in ("nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
        return float(low)
    if not _NUMBER.match(t):
        raise ValueError(f"not a number: {token!r}")
    return float(t.replace(",", ".").replace("D", "e").replace("d", "e"))


def parse_numeric_row(line: str, delimiter: str | None) -> list[float]:
    """Split ``line`` on ``delimiter`` (whitespace when ``None``) and parse every field."""
    fields = line.split() if delimiter is None else line.split(delimiter)
    fields = [f for f in fields if f.strip() != ""] if delimiter is not None else fields
    return [parse_number(f) for f in fields]


def numeric_block(
    lines: list[str], start: int, delimiter: str | None, min_columns: int = 2
) -> tuple[np.ndarray, int]:
    """Parse consecutive numeric rows from ``start``; return (array, index after the block)."""
    rows: list[list[float]] = []
    i = start
    width = None
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            if rows:
                break
            i += 1
            continue
        try:
            row = parse_numeric_row(line, delimiter)
        except ValueError:
            break
        if len(row) < min_columns or (width is not None and len(row) != width):
            break
        width = len(row)
        rows.append(row)
        i += 1
    return np.asarray(rows, dtype=float).reshape(len(rows), width or 0), i
