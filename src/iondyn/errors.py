"""Exceptions raised by iondyn.

Every exception derives from :class:`IondynError`. Messages are single lines that name the
file (or the position in a circuit string) and the problem, so the CLI can print them as they
are. Library code raises these; only the CLI turns them into exit codes.
"""

from __future__ import annotations

__all__ = [
    "CircuitParseError",
    "ConfigError",
    "ConvergenceError",
    "DataError",
    "FileFormatError",
    "FitError",
    "InputError",
    "IondynError",
    "SolverError",
    "StoreError",
]


class IondynError(Exception):
    """Base class of every error iondyn raises on purpose."""


class InputError(IondynError, ValueError):
    """Bad input data or arguments.

    ``path`` (when known) is the offending file and ``line`` the 1-based line number; both are
    folded into the message as ``path:line: problem``.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = message
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            message = f"{where}: {message}"
        super().__init__(message)


class FileFormatError(InputError):
    """A file could not be read or its format was not recognised."""


class DataError(InputError):
    """Data that were read but cannot be analysed (NaN, non-monotonic axis, all zeros, ...)."""


class CircuitParseError(InputError):
    """An equivalent-circuit string is not valid; ``position`` is the 0-based offending index."""

    def __init__(self, message: str, circuit: str | None = None, position: int | None = None):
        self.circuit = circuit
        self.position = position
        if circuit is not None and position is not None:
            message = f"{message} at position {position} in {circuit!r}"
        elif circuit is not None:
            message = f"{message} in {circuit!r}"
        super().__init__(message)


class ConfigError(InputError):
    """A configuration file or option is invalid (unknown key, wrong unit, bad value)."""


class FitError(IondynError):
    """A fit could not be set up or produced no usable result."""


class ConvergenceError(FitError):
    """An iterative solver did not converge; the message carries the final residual."""


class SolverError(IondynError):
    """A physics solver failed (non-convergent Newton, unresolvable mesh, ...)."""


class StoreError(IondynError):
    """The results store cannot be opened, is locked by another run, or is corrupt."""
